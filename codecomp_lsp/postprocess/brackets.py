"""Keep a completion's brackets consistent with the code around the cursor.

Models often write the closing `)` or `}` that the editor already auto-inserted after the
cursor, or close more than the prefix opened. Cutting the completion before such a closer
is safer than guessing which character to delete.
"""

from __future__ import annotations

from functools import lru_cache

from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.postprocess.scanner import ScanState, scan, syntax_for


@lru_cache(maxsize=32)
def _state_after(language: str | None, text: str) -> ScanState:
    state = ScanState()
    scan(text, syntax_for(language), state)
    return state


def state_after(language: str | None, text: str) -> ScanState:
    """The lexer state after `text` (cached: the same window is scanned for every rule)."""
    return _state_after(language, text).copy()


def prefix_state(ctx: CursorContext) -> ScanState:
    """The lexer state at the cursor.

    `before` (whole lines, unchanged while typing on a line) is scanned once and cached; only the
    cursor line's prefix is scanned per keystroke. No token of the scanner spans a newline, so
    resuming after `before`'s last "\n" is the same as scanning the concatenation.
    """
    if not ctx.before.endswith("\n"):
        return state_after(ctx.language, ctx.before + ctx.line_prefix)
    state = state_after(ctx.language, ctx.before)
    scan(ctx.line_prefix, syntax_for(ctx.language), state)
    return state


def following_text(ctx: CursorContext) -> str:
    """The document text after the cursor, as far as the context window shows it."""
    return ctx.line_suffix + "\n" + ctx.after


def bracket_problems(completion: str, ctx: CursorContext) -> int:
    """Bracket/string damage of the window with `completion` inserted; compare, don't read."""
    state = prefix_state(ctx)
    scan(completion + following_text(ctx), syntax_for(ctx.language), state)
    return state.problems()


def balance_brackets(completion: str, ctx: CursorContext) -> str:
    """Cut before the first closer that matches nothing, or that the text after already has.

    A closer that pops an opener of the prefix is kept unless cutting before it leaves the
    whole window better balanced (the suffix supplies that closer). A `}` with nothing open
    in a window that starts below the top of the file may close a block opened above it: it
    is kept unless the text after the cursor starts with `}` itself.
    """
    syntax = syntax_for(ctx.language)
    state = prefix_state(ctx)
    lowest = len(state.stack)
    problems: int | None = None
    for event in scan(completion, syntax, state):
        if event.kind == "open":
            continue
        if event.kind == "stray":
            if _closes_unseen_block(event.char, event.depth, ctx):
                continue
            return completion[: event.pos]
        if event.depth >= lowest:
            continue  # closes an opener of the completion itself
        lowest = event.depth
        if problems is None:
            problems = bracket_problems(completion, ctx)
        if bracket_problems(completion[: event.pos], ctx) < problems:
            return completion[: event.pos]
    return completion


def _closes_unseen_block(char: str, depth: int, ctx: CursorContext) -> bool:
    """Whether a stray `}` may close a block opened above the window, not yet closed below."""
    above_window = char == "}" and depth == 0 and ctx.before_start_line > 0
    return above_window and not following_text(ctx).lstrip().startswith(char)
