"""Trailing whitespace is noise in a suggestion and shows up as lint in the user's file."""

from __future__ import annotations

from codecomp_lsp.context.types import CursorContext


def strip_trailing_whitespace(completion: str, ctx: CursorContext) -> str:
    """Strip each line's trailing whitespace and drop trailing blank lines.

    The last line is left alone when code follows on the cursor line: its end is not a
    line end there (`a ` before a suffix `+ b` keeps its space, and the indentation before
    an auto-inserted `}` stays).
    """
    lines = completion.split("\n")
    code_follows = bool(ctx.line_suffix.strip())
    last = lines.pop() if code_follows else None
    lines = [line.rstrip() for line in lines]
    if last is not None:
        return "\n".join([*lines, last])
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
