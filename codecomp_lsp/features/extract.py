"""Extract function, built by the server: the selection's lines become a new top-level function
whose parameters are the locals it reads and whose return values are the names it binds for
later code; the model only names it.

A 0.5B model asked to write the extraction itself gives the enclosing function back (on
HumanEval solutions: no call to a new function in 6 of 6 tries), so the part that must be right is done here,
from the tree-sitter name facts (`refactor_check.Selection`), and the result still goes through
`check_extract`. A selection the construction cannot keep equivalent is refused with the reason:
it yields or awaits, declares `global`/`nonlocal`, breaks or continues a loop outside it, uses
`this`/`arguments` (JavaScript), or returns from the function somewhere other than at its end.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import tree_sitter

from codecomp_lsp.context.indent import detect_indent_unit
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.names import (
    JS_FUNCTIONS,
    PY_FUNCTIONS,
    Role,
    function_scope,
    is_identifier,
)
from codecomp_lsp.context.names import occurrences as name_occurrences
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.features.refactor_check import Selection, line_bytes

__all__ = ["Extraction", "build_extraction", "function_name", "plan_extraction"]

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_PY_LOOPS = frozenset({"for_statement", "while_statement"})
_JS_LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
_PY_SCOPES = PY_FUNCTIONS | {"class_definition"}
_JS_SCOPES = JS_FUNCTIONS | {"class_declaration", "class"}


@dataclass(frozen=True)
class Extraction:
    """How the selection becomes a function: what it takes, what it gives back."""

    params: tuple[str, ...]
    returns: tuple[str, ...]
    tail_return: bool  # the selection ends its function and returns: the call is returned
    declare: str = ""  # JavaScript: the keyword the returned names were declared with here


def _walk_selection(node: tree_sitter.Node, start: int, end: int, out: list, loops: int, python):
    """(node, loops around it inside the selection) for nodes of the selection outside nested
    functions and classes, which keep their own control flow."""
    scopes = _PY_SCOPES if python else _JS_SCOPES
    loop_kinds = _PY_LOOPS if python else _JS_LOOPS | {"switch_statement"}
    for child in node.children:
        if child.end_byte <= start or child.start_byte >= end:
            continue
        inside = child.start_byte >= start and child.end_byte <= end
        if inside:
            out.append((child, loops))
            if child.type in scopes:
                continue
        _walk_selection(
            child, start, end, out, loops + (inside and child.type in loop_kinds), python
        )


def plan_extraction(text: str, spec: LanguageSpec, facts: Selection) -> Extraction | str:
    """The extraction of lines facts.first..last, or why it cannot be built equivalently."""
    python = spec.name == "python"
    root = parsed(text, spec).tree.root_node
    start, end = line_bytes(text.encode("utf-8", "surrogatepass"), facts.first, facts.last)
    found: list[tuple[tree_sitter.Node, int]] = []
    _walk_selection(root, start, end, found, 0, python)
    returns = False
    for node, loops in found:
        kind = node.type
        if kind in ("yield", "yield_expression", "await", "await_expression"):
            return "the selection yields or awaits"
        if kind in ("global_statement", "nonlocal_statement"):
            return "the selection declares global or nonlocal names"
        if kind in ("break_statement", "continue_statement"):
            labelled = not python and node.child_by_field_name("label") is not None
            if loops == 0 or labelled:
                return "the selection breaks or continues a loop around it"
        if kind == "return_statement":
            returns = True
        if not python and kind in ("this", "super"):
            return "the selection uses `this`, which a top-level function does not have"
        if not python and kind == "identifier" and node.text == b"arguments":
            return "the selection uses `arguments`"
    scope = function_scope(root, start, spec.name)
    tail = False
    if returns:
        if scope is None or scope.end_point.row > facts.last:
            return "the selection returns from the function before its end"
        tail = True
    bound_outside = _bound_outside(root, spec.name, scope, start, end)
    params = [n for n in facts.names.free if n in facts.scope_locals or n in facts.names.bound]
    outside = list(facts.outside)
    # A name given back that may have had a value before keeps it when a path leaves it alone.
    params += [n for n in outside if n in bound_outside and n not in params]
    declare = ""
    if outside and not python:
        kinds = {_declared_with(root, name, start, end) for name in outside}
        if len(kinds) > 1:
            return "the selection declares some of the names it gives back and not others"
        declare = kinds.pop()
    return Extraction(tuple(params), tuple(outside), tail, declare)


def _bound_outside(
    root: tree_sitter.Node, language: str, scope: tree_sitter.Node | None, start: int, end: int
) -> set[str]:
    """Names bound in the selection's scope outside the selection."""
    where = scope if scope is not None else root
    return {
        o.name
        for o in name_occurrences(where, language)
        if o.role is not Role.USE and not start <= o.start < end
    }


def _declared_with(root: tree_sitter.Node, name: str, start: int, end: int) -> str:
    """ "const"/"let"/"var" if the selection declares `name`, else "" (assigned only)."""
    for o in name_occurrences(root, "javascript", start, end):
        if o.name != name or o.role is Role.USE:
            continue
        node = o.node.parent
        while node is not None and node.type not in ("lexical_declaration", "variable_declaration"):
            if node.type in ("statement_block", "program") or node.type in JS_FUNCTIONS:
                node = None
                break
            node = node.parent
        if node is not None and node.child_count:
            keyword_node = node.children[0]
            return (keyword_node.text or b"").decode() or "let"
    return ""


def function_name(answer: str, spec: LanguageSpec, taken: frozenset[str] | set[str]) -> str:
    """The first identifier of the model's answer that can name the new function, made unique
    with a numeric suffix; a conventional name when the answer holds none."""
    python = spec.name == "python"
    skip = {"def", "function", "python", "javascript", "typescript", "name", "the", "a"}
    chosen = ""
    for word in _IDENT.findall(answer.replace("`", " ")):
        if word.lower() in skip or not is_identifier(word, spec.name):
            continue
        chosen = word
        break
    if not chosen:
        chosen = "new_function" if python else "newFunction"
    name, n = chosen, 2
    while name in taken:
        name, n = f"{chosen}_{n}" if python else f"{chosen}{n}", n + 1
    return name


def build_extraction(
    text: str, spec: LanguageSpec, facts: Selection, plan: Extraction, name: str
) -> tuple[list[str], list[str]]:
    """(the new function's lines at column 0, the call site's lines at column 0)."""
    lines = text.split("\n")
    unit = detect_indent_unit(lines, facts.first)
    body = textwrap.dedent("\n".join(lines[facts.first : facts.last + 1])).strip("\n")
    inner = [(unit + row).rstrip() if row.strip() else "" for row in body.split("\n")]
    args = ", ".join(plan.params)
    call = f"{name}({args})"
    if spec.name == "python":
        function = [f"def {call}:", *inner]
        if plan.returns:
            function.append(f"{unit}return {', '.join(plan.returns)}")
            site = f"{', '.join(plan.returns)} = {call}"
        else:
            site = f"return {call}" if plan.tail_return else call
        return function, [site]
    function = [f"function {call} {{", *inner]
    if plan.returns:
        value = plan.returns[0] if len(plan.returns) == 1 else f"[{', '.join(plan.returns)}]"
        function.append(f"{unit}return {value};")
        site = f"{plan.declare} {value} = {call};".lstrip()
    else:
        site = f"return {call};" if plan.tail_return else f"{call};"
    function.append("}")
    return function, [site]
