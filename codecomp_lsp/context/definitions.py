"""Index of the top-level and class-level definitions of a document.

Definitions from other open files are what the model most often needs to call code
correctly; long ones are shortened to their signature and docstring (or a skeleton of
member signatures for classes) so several fit in the prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

from codecomp_lsp.context.indent import leading_ws
from codecomp_lsp.context.languages import DefinitionRules, LanguageSpec
from codecomp_lsp.context.treesitter import (
    NAME_LEAVES,
    follow_declarators,
    has_function_declarator,
    last_row,
    node_text,
)

__all__ = ["MAX_LINES", "Definition", "index_definitions"]

MAX_LINES = 20  # longest definition text kept, header line for members included


@dataclass(frozen=True)
class Definition:
    """A named definition; `text` is ready to show (shortened, owner header prepended)."""

    names: tuple[str, ...]
    line: int  # first line of `text` in the document (comments and decorators included)
    text: str
    owner: int | None = None  # index of the enclosing class definition in the index


def _declarator_step(node: tree_sitter.Node) -> tree_sitter.Node | None:
    if node.type == "qualified_identifier":
        return node.child_by_field_name("name")
    return node.child_by_field_name("declarator") or node.child_by_field_name("name")


def _declarator_name(node: tree_sitter.Node | None) -> str | None:
    """Follow a C/C++/Java declarator chain (pointer, function, init ...) to its name."""
    leaf = follow_declarators(node, _declarator_step, NAME_LEAVES)
    return node_text(leaf) if leaf is not None else None


def _names(node: tree_sitter.Node, *, member: bool) -> list[str]:
    kind = node.type
    if kind == "expression_statement":  # python `NAME = value` at module level
        assignment = node.named_children[0] if node.named_children else None
        if assignment is not None and assignment.type == "assignment":
            left = assignment.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                return [node_text(left)]
        return []
    if kind == "type_alias_statement":
        first = node.named_children[0] if node.named_children else None
        return [node_text(first)] if first is not None else []
    if kind in ("lexical_declaration", "variable_declaration"):
        return [
            node_text(child.child_by_field_name("name"))
            for child in node.named_children
            if child.type == "variable_declarator"
            and (name := child.child_by_field_name("name")) is not None
            and name.type == "identifier"
        ]
    if kind in ("type_declaration", "const_declaration", "var_declaration"):
        return [
            node_text(name)
            for spec in node.named_children
            for name in spec.children_by_field_name("name")
        ]
    if kind == "impl_item":
        return []
    in_cpp_class = node.parent is not None and node.parent.type == "field_declaration_list"
    if member and in_cpp_class and kind in ("field_declaration", "declaration"):
        declarators = node.children_by_field_name("declarator")
        if not any(has_function_declarator(d) for d in declarators):
            return []  # keep methods, not data members
    name = node.child_by_field_name("name")
    if name is not None:
        return [_declarator_name(name) or node_text(name)]
    names = [_declarator_name(d) for d in node.children_by_field_name("declarator")]
    if kind == "type_definition":
        inner = node.child_by_field_name("type")
        if inner is not None and inner.child_by_field_name("body") is not None:
            names.append(node_text(inner.child_by_field_name("name")))
    return [name for name in names if name]


def _walk_defs(
    node: tree_sitter.Node, rules: DefinitionRules, kinds: frozenset[str]
) -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(definition, node whose range to show) among the children of `node`."""
    for child in node.named_children:
        kind = child.type
        if kind in rules.wrappers:
            for inner, _ in _walk_defs(child, rules, kinds):
                yield inner, child
        elif kind in kinds:
            yield child, child
        elif kind in rules.scopes:
            yield from _walk_defs(child, rules, kinds)


def _leading_extras_row(node: tree_sitter.Node) -> int:
    """First row of the comments / attributes glued to the top of a definition."""
    row = node.start_point.row
    prev = node.prev_named_sibling
    while prev is not None and ("comment" in prev.type or prev.type == "attribute_item"):
        trailing = prev.prev_sibling  # a comment at the end of a code line is not ours
        if (
            last_row(prev) < row - 1
            or node.start_point.row - prev.start_point.row > 10
            or (trailing is not None and last_row(trailing) == prev.start_point.row)
        ):
            break
        row = prev.start_point.row
        prev = prev.prev_named_sibling
    return row


class _Renderer:
    """Turns definitions into short texts, given the document's lines."""

    def __init__(self, lines: list[str], spec: LanguageSpec) -> None:
        self.lines = lines
        self.spec = spec

    def _elision(self, row: int, header_ws: str) -> str:
        """A `...` line indented like the body that starts at `row`."""
        ws = header_ws + self.spec.default_indent
        for line in self.lines[row : row + 8]:
            if line.strip():
                if len(leading_ws(line)) > len(header_ws):
                    ws = leading_ws(line)
                break
        return ws + ("..." if self.spec.indent_based else f"{self.spec.line_comment} ...")

    def _header_end(self, node: tree_sitter.Node, body: tree_sitter.Node) -> int:
        """Last row of the signature (through the `{` or `:` that opens the body)."""
        if self.spec.indent_based:
            return max(node.start_point.row, body.start_point.row - 1)
        return body.start_point.row

    def _docstring_end(self, body: tree_sitter.Node | None) -> int | None:
        if body is None or not self.spec.indent_based or not body.named_children:
            return None
        first = body.named_children[0]
        children = first.named_children
        if first.type == "expression_statement" and children and children[0].type == "string":
            return first.end_point.row
        return None

    def _closing(self, node: tree_sitter.Node) -> list[str]:
        last = self.lines[last_row(node)]
        if self.spec.brace_based and last.lstrip().startswith("}"):
            return [last]
        return []

    def render(
        self,
        node: tree_sitter.Node,
        start_row: int,
        members: list[tree_sitter.Node],
    ) -> str:
        lines = self.lines
        end_row = last_row(node)
        if end_row - start_row + 1 <= MAX_LINES:
            return "\n".join(lines[start_row : end_row + 1])
        body = node.child_by_field_name("body")
        closing = self._closing(node)
        header_ws = leading_ws(lines[node.start_point.row])
        if body is None:  # no body to elide (a long struct type or literal): truncate
            head = lines[start_row : start_row + MAX_LINES - 1 - len(closing)]
            elision = self._elision(start_row + len(head), header_ws)
            return "\n".join([*head, elision, *closing])
        head_end = self._header_end(node, body)
        doc_end = self._docstring_end(body)
        if doc_end is not None and doc_end - start_row < MAX_LINES - 2:
            head_end = doc_end
        head = lines[start_row : head_end + 1]
        middle: list[str] = []
        for member in members:
            first = lines[member.start_point.row]
            if last_row(member) > member.start_point.row:
                if first.rstrip().endswith(":") and self.spec.indent_based:
                    first = first.rstrip() + " ..."
                elif first.rstrip().endswith("{"):
                    first = first.rstrip() + " ... }"
            if member.start_point.row > head_end:
                middle.append(first)
        room = MAX_LINES - len(closing) - 1
        if not middle or len(head) + len(middle) > room:
            middle = middle[: max(0, room - len(head))]
            middle.append(self._elision(head_end + 1, header_ws))
        return "\n".join((head + middle)[: MAX_LINES - len(closing)] + closing)


def _member_defs(
    node: tree_sitter.Node, rules: DefinitionRules
) -> list[tuple[tree_sitter.Node, tree_sitter.Node]]:
    body = node.child_by_field_name("body")
    if body is None:
        return []
    return list(_walk_defs(body, rules, rules.members))


def index_definitions(
    tree: tree_sitter.Tree, lines: list[str], spec: LanguageSpec
) -> tuple[Definition, ...]:
    """Top-level and class-level definitions of a parsed document, in document order."""
    rules = spec.definitions
    if rules is None:
        return ()
    renderer = _Renderer(lines, spec)
    out: list[Definition] = []
    for node, shown in _walk_defs(tree.root_node, rules, rules.defs):
        names = _names(node, member=False)
        members = _member_defs(node, rules) if node.type in rules.classes else []
        if names:
            start = _leading_extras_row(shown)
            text = renderer.render(node, start, [m for m, _ in members])
            out.append(Definition(tuple(names), start, text))
        owner = len(out) - 1 if names else None
        header = lines[node.start_point.row]
        for member, member_shown in members:
            member_names = _names(member, member=True)
            if not member_names:
                continue
            start = _leading_extras_row(member_shown)
            text = renderer.render(member, start, [])
            if member.start_point.row != node.start_point.row:
                text = f"{header}\n{text}"
            out.append(Definition(tuple(member_names), start, text, owner))
    return tuple(out)
