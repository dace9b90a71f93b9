"""Indentation facts: the file's indent unit and comparable indent widths.

Block completions must be indented like the rest of the file, so the unit is detected
from the file itself rather than assumed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

__all__ = ["code_lines", "detect_indent_unit", "indent_width", "leading_ws"]

_TAB_WIDTH = 4
_SCAN_LINES = 200  # lines scanned on each side of the cursor: enough to see the habit, and cheap


def leading_ws(line: str) -> str:
    """The spaces and tabs a line starts with."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def code_lines(text: str, comments: tuple[str, ...]) -> Iterator[tuple[int, str]]:
    """(line number from 1, line) of the lines of `text` that are neither blank nor start with
    one of `comments`, read one at a time: the text after a cursor can be hundreds of lines, and
    its readers stop after the first few."""
    start = number = 0
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        number += 1
        row = text[start:end]
        stripped = row.strip()
        if stripped and not stripped.startswith(comments):
            yield number, row
        start = end + 1


def indent_width(ws: str) -> int:
    """Visual width of indentation, so tab- and space-indented lines can be compared."""
    return len(ws.expandtabs(_TAB_WIDTH))


def detect_indent_unit(lines: Sequence[str], center: int = 0, default: str = "    ") -> str:
    """The file's indent step: "\\t" for tab-indented files, else the most common space step."""
    tabs = spaces = 0
    steps: Counter[int] = Counter()
    previous = 0
    for line in lines[max(0, center - _SCAN_LINES) : center + _SCAN_LINES]:
        body = line.lstrip(" \t")
        if not body or body.startswith("*"):  # blank lines and ` * ` block-comment rows
            continue
        ws = line[: len(line) - len(body)]
        if ws.startswith("\t"):
            tabs += 1
            continue
        if ws:
            spaces += 1
        width = len(ws)
        if 1 < width - previous <= 8:
            steps[width - previous] += 1
        previous = width
    if tabs > spaces:
        return "\t"
    if steps:
        # Most frequent step; ties go to the smaller one so the result is stable.
        step = min(steps, key=lambda s: (-steps[s], s))
        return " " * step
    return default
