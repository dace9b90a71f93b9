"""Small tree-sitter helpers shared by the symbol outline, hover and the definition index.

Tree-sitter reports points as (row, UTF-8 byte column); the context layer speaks (line,
code-point column). `Source` converts between the two for one document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import tree_sitter

from codecomp_lsp.context.syntax import byte_col_to_char, char_col_to_byte
from codecomp_lsp.context.types import Span

__all__ = [
    "NAME_LEAVES",
    "Source",
    "follow_declarators",
    "has_function_declarator",
    "last_row",
    "node_text",
    "walk",
]

# Leaf node types that are the name of a definition (the end of a declarator chain).
# `context.symbols` also accepts a few more leaves as names (see `outline.SYMBOL_NAME_LEAVES`).
NAME_LEAVES = frozenset(
    {
        "identifier",
        "type_identifier",
        "field_identifier",
        "property_identifier",
        "private_property_identifier",
        "namespace_identifier",
        "destructor_name",
        "operator_name",
    }
)


def node_text(node: tree_sitter.Node | None) -> str:
    """The source text of `node` ("" for None)."""
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


def last_row(node: tree_sitter.Node) -> int:
    """Last row holding text of `node` (preprocessor nodes end after their newline)."""
    row, col = node.end_point
    return row - 1 if col == 0 and row > node.start_point.row else row


def walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """`node` and all its descendants, in document order."""
    cursor = node.walk()
    while True:
        current = cursor.node
        if current is not None:
            yield current
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def follow_declarators(
    node: tree_sitter.Node | None,
    step: Callable[[tree_sitter.Node], tree_sitter.Node | None],
    leaves: frozenset[str] = NAME_LEAVES,
) -> tree_sitter.Node | None:
    """Follow a C/C++/Java declarator chain (pointer, function, init ...) down to its name leaf.

    `step` takes a node that is not a leaf to the next node of the chain (None: no name)."""
    for _ in range(16):
        if node is None:
            return None
        if node.type in leaves:
            return node
        node = step(node)
    return None


def has_function_declarator(node: tree_sitter.Node | None) -> bool:
    """Whether a C/C++ declarator chain declares a function (`int f(void)`, `int (*f)(int)`)."""
    for _ in range(16):
        if node is None:
            return False
        if node.type == "function_declarator":
            return True
        node = node.child_by_field_name("declarator")
    return False


class Source:
    """A document as bytes and lines, for byte <-> code-point conversions of node positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self.byte_lines = self.data.split(b"\n")
        self.lines = text.split("\n")

    def col(self, row: int, byte_col: int) -> int:
        if row >= len(self.byte_lines):
            return 0
        return byte_col_to_char(self.byte_lines[row], byte_col)

    def span(self, node: tree_sitter.Node) -> Span:
        (sr, sc), (er, ec) = node.start_point, node.end_point
        return sr, self.col(sr, sc), er, self.col(er, ec)

    def between(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")

    def indent_before(self, node: tree_sitter.Node) -> str:
        """The whitespace before `node` on its first line ("" when code precedes it)."""
        row, byte_col = node.start_point
        before = (
            self.byte_lines[row][:byte_col].decode("utf-8", "replace")
            if row < len(self.byte_lines)
            else ""
        )
        return before if not before.strip() else ""

    def point(self, line: int, col: int) -> tuple[int, int]:
        line = max(0, min(line, len(self.lines) - 1))
        return line, char_col_to_byte(self.lines[line], col)
