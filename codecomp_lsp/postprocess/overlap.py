"""Drop the part of a completion that the document already has after the cursor.

The model does not know where its text ends and the existing code resumes, so it often
re-types the suffix (`)`, `;`, the next line). Inserting that would duplicate code, the
most common complaint about AI completion.
"""

from __future__ import annotations

from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.postprocess.brackets import bracket_problems, following_text

MIN_MATCHED_LINES = 2  # lines that must match `after` when the completion goes on past them
# A repeated suffix this long is no coincidence even where the cut falls inside a word
# (`s.split(' ')])` before `lit(' ')])`); shorter ones there are (`total` before `al)`).
MIN_MIDWORD_OVERLAP = 6


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def strip_suffix_overlap(completion: str, ctx: CursorContext) -> str:
    """Remove the longest tail of the completion that `line_suffix` starts with.

    The cut must not split a word unless the overlap is long, and must not leave the
    brackets worse than before (`print(` + `foo()` + `)` keeps its `)`).
    """
    suffix = ctx.line_suffix
    last = completion.rsplit("\n", 1)[-1]
    problems: int | None = None
    for k in range(min(len(last), len(suffix)), 0, -1):
        overlap = suffix[:k]
        if not completion.endswith(overlap) or not overlap.strip():
            continue
        head = ctx.line_prefix + completion[:-k]
        if head and _is_word(head[-1]) and _is_word(overlap[0]) and k < MIN_MIDWORD_OVERLAP:
            continue
        if k < len(suffix) and _is_word(overlap[-1]) and _is_word(suffix[k]):
            continue
        if problems is None:
            problems = bracket_problems(completion, ctx)
        if bracket_problems(completion[:-k], ctx) <= problems:
            return completion[:-k]
    return completion


def strip_after_overlap(completion: str, ctx: CursorContext) -> str:
    """Cut where the completion's lines start repeating the first lines of `after`.

    Applies when the rest of the cursor line is blank: the completion's last lines then sit
    right above `after`. Lines are compared without indentation; brackets must not get worse.
    """
    if ctx.line_suffix.strip():
        return completion
    lines = completion.split("\n")
    after = [line.strip() for line in ctx.after.split("\n") if line.strip()]
    if not after:
        return completion
    problems: int | None = None
    start = 0 if not ctx.line_prefix.strip() else 1
    for i in range(start, len(lines)):
        tail = [line.strip() for line in lines[i:] if line.strip()]
        if not tail or not lines[i].strip():
            continue
        matched = 0
        while matched < min(len(tail), len(after)) and tail[matched] == after[matched]:
            matched += 1
        if matched < len(tail) and matched < MIN_MATCHED_LINES:
            continue
        if problems is None:
            problems = bracket_problems(completion, ctx)
        cut = "\n".join(lines[:i])
        if bracket_problems(cut, ctx) <= problems:
            return cut
    return completion


def duplicates_following(completion: str, ctx: CursorContext) -> bool:
    """Whether inserting the completion would only re-type the text already after the cursor."""
    return following_text(ctx).startswith(completion)
