"""The checks a model's rewrite of a selection must pass before anyone sees it, and its edits.

Pure functions over document texts: the selection is whole lines `first..last`; a rewrite is the
whole document after the change. What is checked, with tree-sitter (`context.names`):
- the document still parses (no more errors, none on the rewritten lines);
- every free name of the selection (read from outside) is still read from outside, and every
  name it binds that later code in its scope reads is still bound, same spelling;
- a rename changes only names local to the selection, consistently, and nothing else;
- an extracted function parses as one definition, the call site calls it, and every local of the
  code it came from that it reads is a parameter.
The first failure is returned as one sentence for the user. `line_changes` turns an accepted
rewrite into the few line edits that differ (difflib), not one replacement of the selection.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.names import (
    JS_FUNCTIONS,
    PY_FUNCTIONS,
    Names,
    Occurrence,
    Role,
    function_scope,
    occurrences,
)
from codecomp_lsp.context.parsed import error_count, parsed
from codecomp_lsp.context.syntax import count_errors, errors_touch, parse
from codecomp_lsp.context.treesitter import walk
from codecomp_lsp.features.modelio import TextChange, offset_to_point
from codecomp_lsp.postprocess.references import known_names

__all__ = [
    "Selection",
    "check_extract",
    "check_rename",
    "check_rewrite",
    "line_changes",
    "replace_lines",
    "selection_facts",
]

_NAME_LEAVES = frozenset({"identifier", "shorthand_property_identifier", "type_identifier"})
_NAME_LEAVES |= {"shorthand_property_identifier_pattern"}
_FUNCTIONS = PY_FUNCTIONS | JS_FUNCTIONS


@dataclass(frozen=True)
class Selection:
    """What a selection (lines first..last) reads and defines, as the rewrite must keep them."""

    first: int
    last: int
    names: Names
    outside: tuple[str, ...]  # bound here and read after it in its scope
    scope_locals: frozenset[str]  # bound anywhere in the enclosing function (empty at top level)
    module_names: frozenset[str]  # bound at module level, and the language's builtins

    @property
    def renamable(self) -> frozenset[str]:
        """Names the selection binds that nothing outside it sees or supplies."""
        return self.names.bound - set(self.names.free) - set(self.outside)


def line_bytes(data: bytes, first: int, last: int) -> tuple[int, int]:
    """Byte range of lines first..last of `data` (the last line's newline excluded)."""
    start = 0
    for _ in range(first):
        start = data.index(b"\n", start) + 1
    end = start
    for _ in range(last - first + 1):
        nl = data.find(b"\n", end)
        end = len(data) if nl < 0 else nl + 1
    return start, end - 1 if end > start and data[end - 1 : end] == b"\n" else end


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def selection_facts(
    text: str, spec: LanguageSpec, first: int, last: int, *, module: bool = True
) -> Selection:
    """The facts of lines first..last; without `module`, no module names (a cheaper listing)."""
    root = parsed(text, spec).tree.root_node  # the document's shared parse
    start, end = line_bytes(_encode(text), first, last)
    language = spec.name
    names = Names.of(occurrences(root, language, start, end))
    scope = function_scope(root, start, language)
    scope_end = scope.end_byte if scope is not None else root.end_byte
    after = Names.of(occurrences(root, language, end, scope_end))
    outside = tuple(sorted(n for n in names.bound if n in after.used))
    scope_locals: frozenset[str] = frozenset()
    if scope is not None:
        scope_locals = Names.of(occurrences(scope, language)).bound
    top: set[str] = set()
    if module:
        top = {o.name for o in _module_bindings(root, language)} | known_names((), language)
    return Selection(first, last, names, outside, scope_locals, frozenset(top))


def _module_bindings(root: tree_sitter.Node, language: str) -> list[Occurrence]:
    """Bindings outside every function: what a new top-level function can read."""
    out = []
    for found in occurrences(root, language):
        if found.role is Role.USE:
            continue
        node = found.node.parent
        named = node.child_by_field_name("name") if node is not None else None
        if node is not None and named is not None and named.id == found.node.id:
            node = node.parent  # a function's own name lives in the scope around it
        while node is not None and node.type not in _FUNCTIONS:
            node = node.parent
        if node is None:
            out.append(found)
    return out


def replace_lines(text: str, first: int, last: int, new_lines: list[str]) -> str:
    lines = text.split("\n")
    return "\n".join(lines[:first] + new_lines + lines[last + 1 :])


def _region_names(root: tree_sitter.Node, data: bytes, first: int, last: int, lang: str) -> Names:
    start, end = line_bytes(data, first, last)
    return Names.of(occurrences(root, lang, start, end))


def check_parse(old: str, new: str, spec: LanguageSpec, rows: list[tuple[int, int]]) -> str | None:
    """Why `new` (the document with rows first..last rewritten) does not parse, or None."""
    tree, before = parse(new, spec), parsed(old, spec)  # the document's own parse is shared
    if count_errors(tree, spec) > error_count(before) or any(
        errors_touch(tree, a, b) for a, b in rows
    ):
        return "the rewrite does not parse"
    if spec.name == "python" and _empty_blocks(tree) > _empty_blocks(before.tree):
        return "the rewrite does not parse"  # tree-sitter takes `if x:` with no body at the end
    return None


def _empty_blocks(tree: tree_sitter.Tree) -> int:
    return sum(
        1 for node in walk(tree.root_node) if node.type == "block" and not node.named_children
    )


def _kept(selection: Selection, names: Names, *, where: str = "the rewrite") -> str | None:
    """Why `names` (of the rewritten lines) lose a name the selection reads or defines."""
    for name in selection.names.free:
        if name not in names.free:
            return f"the rewrite no longer uses `{name}`"
    return _defines(selection, names, where)


def _defines(selection: Selection, names: Names, where: str) -> str | None:
    for name in selection.outside:
        if name not in names.bound:
            return f"{where} no longer defines `{name}`, which later code uses"
    return None


def check_rewrite(
    old: str, spec: LanguageSpec, selection: Selection, new_lines: list[str]
) -> tuple[str, str | None]:
    """(the document with the selection replaced by `new_lines`, why it is refused or None)."""
    new = replace_lines(old, selection.first, selection.last, new_lines)
    if new == old:
        return new, "the model left the code as it was"
    last = selection.first + len(new_lines) - 1
    failure = check_parse(old, new, spec, [(selection.first, last)])
    if failure is None:
        root = parse(new, spec).root_node
        names = _region_names(root, _encode(new), selection.first, last, spec.name)
        failure = _kept(selection, names)
    return new, failure


def _leaves(root: tree_sitter.Node, data: bytes, first: int, last: int) -> list[tree_sitter.Node]:
    start, end = line_bytes(data, first, last)
    out = []
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None and node.end_byte > start and node.start_byte < end:
            if node.child_count == 0 or node.type in ("string", "template_string"):
                if "comment" not in node.type and node.start_byte >= start:
                    out.append(node)
            elif cursor.goto_first_child():
                continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return out


def check_rename(
    old: str, spec: LanguageSpec, selection: Selection, new_lines: list[str]
) -> tuple[str, str | None]:
    """As `check_rewrite`, and only names local to the selection changed, one for one."""
    new, failure = check_rewrite(old, spec, selection, new_lines)
    if failure is not None:
        return new, failure
    last = selection.first + len(new_lines) - 1
    before = _leaves(
        parsed(old, spec).tree.root_node, _encode(old), selection.first, selection.last
    )
    after = _leaves(parse(new, spec).root_node, _encode(new), selection.first, last)
    if [n.type for n in before] != [n.type for n in after]:
        return new, "the rewrite changes more than names"
    renamable = selection.renamable
    taken = selection.names.used | selection.names.bound | selection.module_names
    taken |= selection.scope_locals
    mapping: dict[str, str] = {}
    for a, b in zip(before, after, strict=True):
        old_text, new_text = a.text or b"", b.text or b""
        if old_text == new_text and old_text.decode() not in mapping:
            continue
        name, renamed = old_text.decode("utf-8", "replace"), new_text.decode("utf-8", "replace")
        if a.type not in _NAME_LEAVES:
            return new, "the rewrite changes more than names"
        if name not in renamable:
            if name not in selection.names.used | selection.names.bound:
                return new, "the rewrite changes more than names"  # an attribute, a key
            return new, f"the rewrite renames `{name}`, which is not local to the selection"
        if mapping.setdefault(name, renamed) != renamed:
            return new, f"the rewrite renames `{name}` inconsistently"
        if renamed != name and renamed in taken:
            return new, f"the rewrite renames `{name}` to `{renamed}`, a name already in use"
    if len(set(mapping.values())) < len(mapping):
        return new, "the rewrite gives two names the same new name"
    return new, None


def check_extract(
    old: str,
    spec: LanguageSpec,
    selection: Selection,
    function_lines: list[str],
    call_lines: list[str],
    insert_at: int,
) -> tuple[str, str | None]:
    """The document with the function inserted before line `insert_at` (above the selection) and
    the selection replaced by `call_lines`, and why it is refused or None."""
    gap = [""] * (2 if spec.indent_based else 1)
    block = function_lines + gap
    body = replace_lines(old, selection.first, selection.last, call_lines).split("\n")
    new = "\n".join(body[:insert_at] + block + body[insert_at:])
    shift = len(block)
    call_first = selection.first + shift
    call_last = call_first + len(call_lines) - 1
    fn_last = insert_at + len(function_lines) - 1
    failure = check_parse(old, new, spec, [(insert_at, fn_last), (call_first, call_last)])
    if failure is not None:
        return new, failure
    data = _encode(new)
    root = parse(new, spec).root_node
    start, end = line_bytes(data, insert_at, fn_last)
    fn_node = root.descendant_for_byte_range(start, end)
    while fn_node is not None and fn_node.parent is not None and fn_node.parent.id != root.id:
        fn_node = fn_node.parent
    kinds = ("function_definition",) if spec.name == "python" else ("function_declaration",)
    name_node = fn_node.child_by_field_name("name") if fn_node is not None else None
    if fn_node is None or fn_node.type not in kinds or name_node is None:
        return new, "the rewrite has no new function before the call"
    if fn_node.start_byte > start or fn_node.end_byte < end:
        return new, "the new function is not one definition"
    name = (name_node.text or b"").decode("utf-8", "replace")
    if any(node.type == "this" for node in walk(fn_node)):
        return new, "the new function uses `this`, which a top-level function does not have"
    if name in selection.module_names or name in selection.scope_locals:
        return new, f"the new function's name `{name}` is already in use"
    call = _region_names(root, data, call_first, call_last, spec.name)
    if name not in call.free:
        return new, f"the rewritten code does not call `{name}`"
    inner = Names.of(occurrences(fn_node, spec.name))
    for used in inner.free:
        if used == name:
            continue
        if used in selection.scope_locals or used not in selection.module_names:
            return new, f"the new function reads `{used}` without taking it as a parameter"
    for used in selection.names.free:
        if used not in call.free and used not in inner.free:
            return new, f"the rewrite no longer uses `{used}`"
    return new, _defines(selection, call, "the call site")


def line_changes(old: str, new: str) -> list[TextChange]:
    """The line edits that turn `old` into `new`: only the runs of lines that differ."""
    a = old.split("\n")
    b = new.split("\n")
    # Every line keeps its newline, so a run of lines is a plain text range (the end included).
    a = [line + "\n" for line in a[:-1]] + [a[-1]]
    b = [line + "\n" for line in b[:-1]] + [b[-1]]
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    out = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = offset_to_point(old, starts[i1])
        end = offset_to_point(old, starts[i2])
        out.append(TextChange(*start, *end, "".join(b[j1:j2])))
    return out
