"""Turn a raw model completion into the text to insert at the cursor, or nothing.

The order matters: the extent is decided first (line or block), then repetition is cut, then
the tail that the text after the cursor already holds, and only then stray closers: balancing
first would drop the `])` of `s.split(' ')])` before the line's own `lit(' ')])` could be seen
to repeat it, leaving a duplicated `lit(' ')`.
"""

from __future__ import annotations

from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.postprocess.brackets import balance_brackets
from codecomp_lsp.postprocess.indentation import reindent, strip_first_line_indent
from codecomp_lsp.postprocess.overlap import (
    duplicates_following,
    strip_after_overlap,
    strip_suffix_overlap,
)
from codecomp_lsp.postprocess.repetition import cut_repetition
from codecomp_lsp.postprocess.truncate import (
    DEFAULT_MAX_LINES,
    cut_unfinished,
    cut_unfinished_line,
    first_line,
    truncate_block,
)
from codecomp_lsp.postprocess.whitespace import strip_trailing_whitespace
from codecomp_lsp.stages import Stage


def clean_completion(
    raw: str,
    ctx: CursorContext,
    *,
    max_lines: int = DEFAULT_MAX_LINES,
    cut_off: bool = False,
    off: frozenset[Stage] = frozenset(),
) -> str | None:
    """The cleaned completion for insertion between `line_prefix` and `line_suffix`, or None.

    `cut_off`: decoding stopped at the token cap or the deadline, not at an end of its own; a
    block that did not reach its end is cut back to its last complete line, a line to its last
    complete expression. `off`: stages
    skipped (to measure them); deciding the extent is not a stage, it defines the answer."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if Stage.INDENTATION not in off:
        text = strip_first_line_indent(text, ctx)
    if ctx.multiline:
        if Stage.INDENTATION not in off:
            text = reindent(text, ctx)
        block = truncate_block(text, ctx, max_lines=max_lines)
        if cut_off and block == text:  # the block had not ended when decoding stopped
            block = cut_unfinished(block, ctx)
        text = block
    else:
        line = first_line(text)
        if cut_off and "\n" not in text.lstrip("\n"):  # the line had not ended either
            line = cut_unfinished_line(line, ctx) or ""
        text = line
    if Stage.REPETITION not in off:
        text = cut_repetition(text, ctx)
    if Stage.SUFFIX_OVERLAP not in off:
        text = strip_suffix_overlap(text, ctx)
    if Stage.BRACKETS not in off:
        text = balance_brackets(text, ctx)
    if Stage.SUFFIX_OVERLAP not in off and ctx.multiline:
        text = strip_after_overlap(text, ctx)
    text = strip_trailing_whitespace(text, ctx)
    if not text.strip():
        return None
    if Stage.DUPLICATE_CHECK not in off and duplicates_following(text, ctx):
        return None
    return text
