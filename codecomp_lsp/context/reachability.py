"""Lines that must not end their block: on an empty line with more statements after it at the
same indentation, a `return` (or `raise`, `break`, `continue`, `throw`) would make those
statements unreachable — code the user wrote and kept below the cursor. The model proposes one
anyway when it ignores the suffix (HumanEval: `return max_depth` where `max_depth = 0` belongs,
the loop below still to run), so the first token of such an answer is not allowed there
(`GenerationRequest.banned_first`); its next choice answers instead."""

from __future__ import annotations

from codecomp_lsp.context.indent import code_lines
from codecomp_lsp.context.types import CursorContext

ENDINGS: dict[str, tuple[str, ...]] = {
    "python": ("return", "raise", "break", "continue"),
    "javascript": ("return", "throw", "break", "continue"),
    "typescript": ("return", "throw", "break", "continue"),
    "java": ("return", "throw", "break", "continue"),
    "c": ("return", "break", "continue"),
    "cpp": ("return", "throw", "break", "continue"),
    "go": ("return", "break", "continue"),
    "rust": ("return", "break", "continue"),
}

# A next line starting so continues the statement or closes the block: the code after the
# cursor's line is not a statement that a `return` would cut off.
_CLAUSES = ("elif", "else", "except", "finally", "case", "default", "catch", "}", ")", "]")
_COMMENTS = ("#", "//", "/*", "*")


def _next_statement(after: str) -> str | None:
    """The first line below that is not blank or a comment."""
    return next((row for _, row in code_lines(after, _COMMENTS)), None)


def block_continues(ctx: CursorContext) -> bool:
    """The cursor sits on an empty line (nothing typed) and the next statement below is at the
    same indentation and is not a clause of the same statement or a closing bracket."""
    if ctx.multiline or ctx.line_prefix.strip() or ctx.line_suffix.strip():
        return False
    following = _next_statement(ctx.after)
    if following is None:
        return False
    indent = ctx.line_prefix if ctx.line_prefix else ctx.indent
    if len(following) - len(following.lstrip()) != len(indent):
        return False
    word = following.strip()
    return not any(
        word.startswith(clause)
        and (
            len(word) == len(clause)
            or not (word[len(clause)].isalnum() or word[len(clause)] == "_")
        )
        for clause in _CLAUSES
    )


def forbidden_endings(ctx: CursorContext) -> tuple[str, ...]:
    """The keywords the answer at this cursor must not start with (none where it may)."""
    words = ENDINGS.get(ctx.language or "", ())
    return words if words and block_continues(ctx) else ()
