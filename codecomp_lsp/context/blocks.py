"""Is the cursor right after a block opener, and is that block still empty?

A cursor in the empty body of `def f():` or `if (x) {` wants a whole block, not the
rest of a line. The syntax tree tells a header colon from a slice or a dict colon and
sees whether the block already has statements; text heuristics cover missing trees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.syntax import byte_col_to_char, char_col_to_byte

__all__ = ["BlockFacts", "block_facts"]

_PY_HEADER_NODES = frozenset(
    {
        "function_definition",
        "class_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "with_statement",
        "match_statement",
        "case_clause",
    }
)
_PY_HEADER_LINE = re.compile(
    r"\s*(?:async\s+)?(?:def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b"
)
_LOOKBACK_LINES = 200  # how far up to look for the token before the cursor


@dataclass(frozen=True)
class BlockFacts:
    """What precedes the cursor: a block opener (on `header_line`) and whether its body is empty.

    `empty` is None when the tree cannot tell (no tree, or a parse error around it).
    """

    opener: bool
    header_line: int = 0
    empty: bool | None = None


_NOT_OPENER = BlockFacts(False)


def _last_char_before(lines: list[str], line: int, col: int) -> tuple[int, int] | None:
    """(line, column) of the last non-whitespace character before (line, col)."""
    for row in range(line, max(-1, line - _LOOKBACK_LINES), -1):
        text = lines[row][:col] if row == line else lines[row]
        stripped = text.rstrip()
        if stripped:
            return row, len(stripped) - 1
    return None


def _textual(spec: LanguageSpec | None, lines: list[str], row: int, col: int) -> BlockFacts:
    char = lines[row][col]
    if char == "{":
        return BlockFacts(True, row)
    if char == ":" and (spec is None or (spec.indent_based and _PY_HEADER_LINE.match(lines[row]))):
        return BlockFacts(True, row)
    return _NOT_OPENER


def _is_comment(node: tree_sitter.Node) -> bool:
    return "comment" in node.type


def _has_content(nodes: list[tree_sitter.Node]) -> bool:
    return any(n.is_named and not n.is_missing and not _is_comment(n) for n in nodes)


def _in_error(node: tree_sitter.Node) -> bool:
    parent = node.parent
    return node.is_error or (parent is not None and parent.is_error)


def _from_tree(
    spec: LanguageSpec, token: tree_sitter.Node, lines: list[str], row: int, col: int
) -> BlockFacts:
    parent = token.parent
    if parent is None or _in_error(token):
        return _textual(spec, lines, row, col)
    siblings = parent.children
    after = [n for n in siblings if n.start_byte >= token.end_byte]
    if token.type == "{":
        inside: list[tree_sitter.Node] = []
        for node in after:
            if node.type == "}":
                break
            inside.append(node)
        return BlockFacts(True, row, not _has_content(inside))
    if token.type == ":" and spec.indent_based and parent.type in _PY_HEADER_NODES:
        body = next((n for n in after if n.type == "block"), None)
        return BlockFacts(True, row, None if body is None else not _has_content(body.children))
    return _NOT_OPENER


def block_facts(
    spec: LanguageSpec | None,
    tree: tree_sitter.Tree | None,
    lines: list[str],
    line: int,
    col: int,
) -> BlockFacts:
    """Facts about the last token before (line, col), skipping whitespace and comments."""
    position = _last_char_before(lines, line, col)
    for _ in range(_LOOKBACK_LINES):  # each round steps over one comment
        if position is None:
            return _NOT_OPENER
        row, char_col = position
        if spec is None or tree is None:
            return _textual(spec, lines, row, char_col)
        start = char_col_to_byte(lines[row], char_col)
        end = char_col_to_byte(lines[row], char_col + 1)
        token = tree.root_node.descendant_for_point_range((row, start), (row, end))
        if token is None:
            return _textual(spec, lines, row, char_col)
        if not _is_comment(token):
            return _from_tree(spec, token, lines, row, char_col)
        crow, cbyte = token.start_point
        ccol = byte_col_to_char(lines[crow].encode("utf-8", "surrogatepass"), cbyte)
        position = _last_char_before(lines, crow, ccol)
    return _NOT_OPENER
