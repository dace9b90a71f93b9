"""Parsing and syntax-error inspection shared by context building and diagnostics.

Error counts let the post-processor reject completions that break the file; the
issue list (with code-point columns, since tree-sitter reports UTF-8 byte columns)
feeds diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec

__all__ = [
    "SyntaxIssue",
    "byte_col_to_char",
    "char_col_to_byte",
    "count_errors",
    "errors_touch",
    "parse",
    "syntax_errors",
]

_MAX_SHOWN = 24  # longest token text quoted in a message


@dataclass(frozen=True)
class SyntaxIssue:
    """One syntax problem; lines 0-based, columns in code points, end exclusive."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    message: str
    missing: bool = False  # a token the parser had to invent (zero-width range)


def parse(text: str | bytes, spec: LanguageSpec) -> tree_sitter.Tree:
    """Parse a whole document with the calling thread's parser for `spec`."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    tree = spec.parser().parse(data)
    if tree is None:  # only with a timeout or no language, neither of which we set
        raise RuntimeError(f"tree-sitter failed to parse {spec.name} text")
    return tree


def count_errors(text_or_tree: str | bytes | tree_sitter.Tree, spec: LanguageSpec) -> int:
    """Number of ERROR and MISSING nodes; subtrees free of errors are skipped."""
    tree = text_or_tree if isinstance(text_or_tree, tree_sitter.Tree) else parse(text_or_tree, spec)
    if not tree.root_node.has_error:
        return 0
    count = 0
    cursor = tree.walk()
    while True:
        node = cursor.node
        if node is not None:
            if node.is_error or node.is_missing:
                count += 1
            if node.has_error and cursor.goto_first_child():
                continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return count


def errors_touch(tree: tree_sitter.Tree, first: int, last: int) -> bool:
    """Whether an ERROR or MISSING node overlaps rows first..last."""
    cursor = tree.walk()
    while True:
        node = cursor.node
        descend = False
        if node is not None and node.start_point.row <= last and node.end_point.row >= first:
            if node.is_error or node.is_missing:
                return True
            descend = node.has_error
        if descend and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return False


def byte_col_to_char(line: bytes, byte_col: int) -> int:
    """Code-point column of a UTF-8 byte column within one line."""
    return len(line[:byte_col].decode("utf-8", "replace"))


def char_col_to_byte(line: str, char_col: int) -> int:
    """UTF-8 byte column of a code-point column within one line."""
    return len(line[:char_col].encode("utf-8", "surrogatepass"))


def _shown(token: bytes) -> str:
    text = token.decode("utf-8", "replace")
    text = text.splitlines()[0] if text.strip() else text
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


class _Lines:
    """Maps tree-sitter points (row, byte column) to code-point columns."""

    def __init__(self, source: bytes) -> None:
        self._lines = source.split(b"\n")

    def col(self, row: int, byte_col: int) -> int:
        if row >= len(self._lines):
            return 0
        return byte_col_to_char(self._lines[row], byte_col)

    def line_end(self, row: int) -> int:
        line = self._lines[row] if row < len(self._lines) else b""
        return len(line.rstrip(b"\r").decode("utf-8", "replace"))


def _source_of(tree: tree_sitter.Tree) -> bytes:
    # The root node starts after leading whitespace; rebuild that padding (ASCII
    # whitespace in every grammar we ship) so rows and byte columns line up.
    root = tree.root_node
    row, col = root.start_point
    return b"\n" * row + b" " * col + (root.text or b"")


def _issue(lines: _Lines, node: tree_sitter.Node, message: str, *, missing: bool) -> SyntaxIssue:
    (srow, scol), (erow, ecol) = node.start_point, node.end_point
    start = lines.col(srow, scol)
    if erow > srow:  # keep the range tight: only the first line of a multi-line error
        erow, end = srow, max(lines.line_end(srow), start)
    else:
        end = lines.col(erow, ecol)
    return SyntaxIssue(srow, start, erow, end, message, missing)


def _is_token(node: tree_sitter.Node) -> bool:
    """A single-line leaf the parser skipped: punctuation, keyword or unknown character."""
    return (
        node.child_count == 0
        and (not node.is_named or node.is_error)
        and node.start_point.row == node.end_point.row
        and bool((node.text or b"").strip())
    )


def _unexpected(lines: _Lines, node: tree_sitter.Node) -> SyntaxIssue:
    message = f"Syntax error: unexpected `{_shown(node.text or b'')}`"
    return _issue(lines, node, message, missing=False)


def _error_issue(lines: _Lines, node: tree_sitter.Node) -> SyntaxIssue:
    """Narrow an ERROR node to the token most likely at fault."""
    children = node.children
    if not children:  # a character the lexer could not place at all
        text = node.text or b""
        if text.strip() and node.start_point.row == node.end_point.row:
            return _unexpected(lines, node)
        return _issue(lines, node, "Syntax error", missing=False)
    # An unbalanced closing bracket among the skipped tokens is the usual culprit.
    depth = 0
    for child in children:
        if child.type in ("(", "[", "{"):
            depth += 1
        elif child.type in (")", "]", "}") and _is_token(child):
            if depth == 0:
                return _unexpected(lines, child)
            depth -= 1
    # Otherwise the tokens the parser skipped last end up as the ERROR's last children.
    if _is_token(children[-1]):
        return _unexpected(lines, children[-1])
    text = node.text or b""
    single_line = node.start_point.row == node.end_point.row
    if single_line and len(text) <= _MAX_SHOWN and text.strip():
        return _unexpected(lines, node)
    return _issue(lines, node, "Syntax error", missing=False)


def _missing_message(node: tree_sitter.Node) -> str:
    kind = node.type
    return f"Missing `{kind}`" if not node.is_named else f"Missing {kind.replace('_', ' ')}"


def outermost_problems(tree: tree_sitter.Tree) -> Iterator[tree_sitter.Node]:
    """MISSING and ERROR nodes, in document order, not descending into an ERROR node (the
    problems nested in one are noise)."""
    cursor = tree.walk()
    while True:
        node = cursor.node
        descend = False
        if node is not None:
            if node.is_missing or node.is_error:
                yield node
            else:
                descend = node.has_error
        if descend and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def syntax_errors(tree: tree_sitter.Tree, text: str | bytes | None = None) -> list[SyntaxIssue]:
    """Outermost ERROR nodes and all MISSING nodes, in document order.

    Pass the parsed `text` when available; otherwise it is rebuilt from the tree.
    MISSING tokens get a zero-width range at the place they were expected.
    """
    root = tree.root_node
    if not root.has_error:
        return []
    if text is None:
        source = _source_of(tree)
    else:
        source = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    lines = _Lines(source)
    return [
        _issue(lines, node, _missing_message(node), missing=True)
        if node.is_missing
        else _error_issue(lines, node)
        for node in outermost_problems(tree)
    ]
