"""Which names a stretch of code reads from outside and which it binds, from tree-sitter.

A rewrite of a selection must keep both: a name read before anything in the selection binds it
comes from outside (a free name), and a name the selection binds that later code reads is what it
defines for outside. Every identifier of the parse is classified as a binding (an assignment or
declaration target, a parameter, an import, a loop variable) or a use; attributes, keyword
argument names, object keys and module paths are not names of the scope and are skipped.

Order matters, not only membership: `x = x + 1` reads the outer `x` before binding its own, so a
binding counts from the end of its statement (parameters and comprehension variables from the
start of their function or comprehension). Languages with binding rules here: Python, JavaScript,
TypeScript (and TSX).
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import tree_sitter

from codecomp_lsp.context.treesitter import node_text

__all__ = [
    "JS_RESERVED",
    "NAMED_LANGUAGES",
    "PY_BUILTINS",
    "Names",
    "Occurrence",
    "Role",
    "function_scope",
    "is_identifier",
    "occurrences",
]

NAMED_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx"})
# Names every Python scope can read without binding them.
PY_BUILTINS = (
    frozenset(dir(builtins))
    | frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | {"self", "cls", "__name__", "__file__", "__doc__"}
)
PY_FUNCTIONS = frozenset({"function_definition", "lambda"})
# Words a JavaScript/TypeScript name cannot be (reserved words, and the few that mean a value).
JS_RESERVED = frozenset(
    {
        *("break", "case", "catch", "class", "const", "continue", "debugger", "default"),
        *("delete", "do", "else", "export", "extends", "false", "finally", "for", "function"),
        *("if", "import", "in", "instanceof", "new", "null", "return", "super", "switch"),
        *("this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield"),
        *("let", "static", "enum", "await", "async", "of", "undefined", "arguments"),
    }
)
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*\Z")
JS_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "function_expression",
        "function",
        "generator_function",
        "arrow_function",
        "method_definition",
    }
)
_PY_PATTERNS = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "list_splat_pattern",
        "parenthesized_expression",
    }
)
_PY_PARAMS = frozenset(
    {
        "parameters",
        "lambda_parameters",
        "default_parameter",
        "typed_parameter",
        "typed_default_parameter",
        "list_splat_pattern",
        "dictionary_splat_pattern",
    }
)
_JS_PATTERNS = frozenset(
    {"object_pattern", "array_pattern", "pair_pattern", "assignment_pattern", "rest_pattern"}
)
_JS_PARAMS = frozenset({"formal_parameters", "required_parameter", "optional_parameter"})
_JS_NAME_LEAVES = frozenset(
    {"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"}
)
_JS_TYPE_DECLS = frozenset(
    {"interface_declaration", "type_alias_declaration", "enum_declaration", "class_declaration"}
)


class Role(Enum):
    USE = "use"
    BIND = "bind"
    BOTH = "both"  # `x += 1`, `i++`: reads and rebinds


@dataclass(frozen=True)
class Occurrence:
    name: str
    role: Role
    start: int  # byte offset of the identifier
    at: int  # byte offset from which a binding counts (its statement's end); `start` for a use
    node: tree_sitter.Node


@dataclass(frozen=True)
class Names:
    """The names of a byte range: `free` in order of first use, `bound`, and every name read."""

    free: tuple[str, ...]
    bound: frozenset[str]
    used: frozenset[str]

    @staticmethod
    def of(found: list[Occurrence]) -> Names:
        first_bind: dict[str, int] = {}
        for o in found:
            if o.role is not Role.USE:
                first_bind[o.name] = min(first_bind.get(o.name, o.at), o.at)
        free: list[str] = []
        for o in sorted(found, key=lambda o: o.start):
            reads = o.role is not Role.BIND
            if reads and o.name not in free and o.start < first_bind.get(o.name, 1 << 62):
                free.append(o.name)
        used = frozenset(o.name for o in found if o.role is not Role.BIND)
        return Names(tuple(free), frozenset(first_bind), used)


def _field_is(node: tree_sitter.Node, parent: tree_sitter.Node, field: str) -> bool:
    child = parent.child_by_field_name(field)
    return child is not None and child.id == node.id


_Role = tuple[Role, int] | None  # (role, byte from which a binding counts); None: not a name


def _use(node: tree_sitter.Node) -> _Role:
    return Role.USE, node.start_byte


def _python_params_owner(parent: tree_sitter.Node) -> tree_sitter.Node | None:
    owner: tree_sitter.Node | None = parent
    while owner is not None and owner.type in _PY_PARAMS:
        owner = owner.parent
    return owner if owner is not None and owner.type in PY_FUNCTIONS else None


def _python_role(node: tree_sitter.Node) -> _Role:
    parent = node.parent
    if parent is None:
        return _use(node)
    kind = parent.type
    if kind == "attribute" and _field_is(node, parent, "attribute"):
        return None
    if kind == "keyword_argument" and _field_is(node, parent, "name"):
        return None
    if kind in ("global_statement", "nonlocal_statement"):
        return None
    if kind == "dotted_name":
        outer = parent.parent
        first = bool(parent.named_children) and parent.named_children[0].id == node.id
        if outer is not None and outer.type == "import_statement" and first:
            return Role.BIND, outer.end_byte  # `import os.path` binds `os`
        names = outer.children_by_field_name("name") if outer is not None else []
        if outer is not None and outer.type == "import_from_statement":
            return (Role.BIND, outer.end_byte) if any(c.id == parent.id for c in names) else None
        if outer is not None and outer.type in ("decorator", "type"):
            return _use(node) if first else None
        return None  # a module path
    if kind == "aliased_import":
        return (Role.BIND, parent.end_byte) if _field_is(node, parent, "alias") else None
    if kind in ("function_definition", "class_definition") and _field_is(node, parent, "name"):
        return Role.BIND, node.start_byte  # visible in its own body (recursion)
    if kind == "as_pattern_target":
        return Role.BIND, node.end_byte
    before = node.prev_sibling
    if kind == "except_clause" and before is not None and before.type == "as":
        return Role.BIND, node.end_byte
    if kind == "augmented_assignment" and _field_is(node, parent, "left"):
        return Role.BOTH, parent.end_byte
    if kind == "named_expression" and _field_is(node, parent, "name"):
        return Role.BIND, parent.end_byte
    if kind in _PY_PARAMS:
        owner = _python_params_owner(parent)
        if owner is not None:
            if kind in ("default_parameter", "typed_default_parameter"):
                if not _field_is(node, parent, "name"):
                    return _use(node)  # a default value
            elif kind == "typed_parameter" and before is not None:
                return _use(node)  # part of the type
            return Role.BIND, owner.start_byte
    target, owner = node, parent
    while owner is not None and owner.type in _PY_PATTERNS:
        target, owner = owner, owner.parent
    if owner is None:
        return _use(node)
    if owner.type == "assignment" and _field_is(target, owner, "left"):
        return Role.BIND, owner.end_byte
    if owner.type == "for_statement" and _field_is(target, owner, "left"):
        return Role.BIND, node.end_byte
    if owner.type == "for_in_clause" and _field_is(target, owner, "left"):
        comprehension = owner.parent
        return Role.BIND, (comprehension or owner).start_byte
    return _use(node)


def _js_role(node: tree_sitter.Node) -> _Role:
    parent = node.parent
    if node.type == "shorthand_property_identifier_pattern":
        return _js_pattern_role(node, parent)
    if parent is None:
        return _use(node)
    kind = parent.type
    if kind in ("import_specifier", "namespace_import", "import_clause"):
        alias = parent.child_by_field_name("alias")
        if kind == "import_specifier" and alias is not None and alias.id != node.id:
            return None  # `a` in `{ a as b }`: the other module's name
        return Role.BIND, parent.end_byte
    if kind == "export_specifier":
        return _use(node) if _field_is(node, parent, "name") else None
    if kind in JS_FUNCTIONS and _field_is(node, parent, "name"):
        return Role.BIND, node.start_byte
    if kind in _JS_TYPE_DECLS and _field_is(node, parent, "name"):
        return Role.BIND, node.start_byte
    if kind == "type_parameter" and _field_is(node, parent, "name"):
        return Role.BIND, parent.start_byte
    if kind == "arrow_function" and _field_is(node, parent, "parameter"):
        return Role.BIND, parent.start_byte
    if kind == "catch_clause" and _field_is(node, parent, "parameter"):
        return Role.BIND, parent.start_byte
    if kind == "augmented_assignment_expression" and _field_is(node, parent, "left"):
        return Role.BOTH, parent.end_byte
    if kind == "update_expression":
        return Role.BOTH, parent.end_byte
    return _js_pattern_role(node, parent)


def _js_pattern_role(node: tree_sitter.Node, parent: tree_sitter.Node | None) -> _Role:
    target, owner = node, parent
    while owner is not None and owner.type in _JS_PATTERNS:
        if owner.type == "assignment_pattern" and not _field_is(target, owner, "left"):
            return _use(node)  # a default value
        if owner.type == "pair_pattern" and not _field_is(target, owner, "value"):
            return None  # the key of `{ key: name }`
        target, owner = owner, owner.parent
    if owner is None:
        return _use(node)
    if owner.type == "variable_declarator" and _field_is(target, owner, "name"):
        return Role.BIND, owner.end_byte
    if owner.type in _JS_PARAMS:
        if owner.type != "formal_parameters" and not _field_is(target, owner, "pattern"):
            return _use(node)  # a type annotation or a default value
        function = owner.parent if owner.type == "formal_parameters" else owner.parent
        while function is not None and function.type not in JS_FUNCTIONS:
            function = function.parent
        return Role.BIND, (function or owner).start_byte
    if owner.type == "assignment_expression" and _field_is(target, owner, "left"):
        return Role.BIND, owner.end_byte
    if owner.type == "for_in_statement" and _field_is(target, owner, "left"):
        return Role.BIND, owner.start_byte
    if node.type == "shorthand_property_identifier_pattern":
        return Role.BIND, node.end_byte
    return _use(node)


def occurrences(
    root: tree_sitter.Node, language: str, start: int = 0, end: int | None = None
) -> list[Occurrence]:
    """Every name occurrence within bytes start..end of `root`, in document order."""
    python = language == "python"
    leaves = frozenset({"identifier"}) if python else _JS_NAME_LEAVES | {"type_identifier"}
    end = root.end_byte if end is None else end
    out: list[Occurrence] = []
    for node in _within(root, start, end):
        if node.type not in leaves:
            continue
        found = _python_role(node) if python else _js_role(node)
        if found is not None:
            role, at = found
            out.append(Occurrence(node_text(node), role, node.start_byte, at, node))
    return out


def _within(root: tree_sitter.Node, start: int, end: int) -> Iterator[tree_sitter.Node]:
    """The nodes lying wholly within bytes start..end, not entering subtrees outside it."""
    cursor = root.walk()
    while True:
        node = cursor.node
        descend = False
        if node is not None and node.end_byte > start and node.start_byte < end:
            if node.start_byte >= start and node.end_byte <= end:
                yield node
            descend = True
        if descend and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def is_identifier(name: str, language: str) -> bool:
    """Whether `name` can name a variable or function of `language` we write (Python's soft
    keywords are left out too: `match`, `case`, `type` read as syntax)."""
    if not _IDENTIFIER.match(name):
        return False
    if language == "python":
        return "$" not in name and not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
    return name not in JS_RESERVED


def function_scope(root: tree_sitter.Node, byte: int, language: str) -> tree_sitter.Node | None:
    """The innermost function around byte offset `byte`, or None at module level."""
    kinds = PY_FUNCTIONS if language == "python" else JS_FUNCTIONS
    node: tree_sitter.Node | None = root.descendant_for_byte_range(byte, byte)
    while node is not None:
        if node.type in kinds and node.start_byte < byte:
            return node
        node = node.parent
    return None
