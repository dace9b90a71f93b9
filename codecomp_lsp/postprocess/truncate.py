"""Decide where a completion ends: the line, or the block the cursor is in.

Models keep generating past the point the user wants (the next function, the rest of the
file); stopping at the end of the current block keeps suggestions short and relevant.
"""

from __future__ import annotations

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.postprocess.brackets import prefix_state, state_after
from codecomp_lsp.postprocess.indentation import leading_ws, width
from codecomp_lsp.postprocess.scanner import scan, syntax_for

DEFAULT_MAX_LINES = 16


def first_line(completion: str) -> str:
    """The completion up to its first newline (single-line mode)."""
    return completion.split("\n", 1)[0]


def truncate_block(
    completion: str, ctx: CursorContext, *, max_lines: int = DEFAULT_MAX_LINES
) -> str:
    """Keep the completion up to the end of the block at the cursor, at most `max_lines` lines.

    An empty first line (cursor at the end of a block header) is not counted.
    """
    lines = completion.split("\n")
    limit = max_lines + 1 if not lines[0].strip() else max_lines
    lines = lines[: max(limit, 1)]
    spec = spec_by_name(ctx.language)
    if spec is not None and spec.indent_based:
        return "\n".join(_indent_block(lines, ctx))
    return _brace_block(lines, ctx)


def _indent_block(lines: list[str], ctx: CursorContext) -> list[str]:
    """Lines up to the first one indented less than the block body, outside brackets/strings."""
    body = _body_width(lines, ctx)
    if body is None:
        return lines
    syntax = syntax_for(ctx.language)
    state = state_after(ctx.language, ctx.before)
    base = len(state.stack)
    scan(ctx.line_prefix + lines[0] + "\n", syntax, state)
    for i in range(1, len(lines)):
        line = lines[i]
        free = state.in_code and len(state.stack) <= base
        if free and line.strip() and width(leading_ws(line)) < body:
            return lines[:i]
        scan(line + "\n", syntax, state)
    return lines


def _body_width(lines: list[str], ctx: CursorContext) -> int | None:
    """Indentation of the block body: `block_indent`, else the first generated line's."""
    if ctx.block_indent is not None:
        return width(ctx.block_indent)
    if lines[0].strip():
        return width(leading_ws(ctx.line_prefix + lines[0]))
    for line in lines[1:]:
        if line.strip():
            return width(leading_ws(line))
    return None


def _brace_block(lines: list[str], ctx: CursorContext) -> str:
    """Text up to where the depth drops below the cursor's, or a block the completion opened closes.

    `} else {` stops right after the `}`; `});` is kept whole.
    """
    syntax = syntax_for(ctx.language)
    state = prefix_state(ctx)
    base = len(state.stack)
    text = "\n".join(lines)
    offset = 0
    opened = False
    for i, line in enumerate(lines):
        segment = line if i == len(lines) - 1 else line + "\n"
        events = scan(segment, syntax, state)
        end = offset + len(line)
        below = [e for e in events if e.depth < base]
        if below:
            if len(state.stack) < base:
                return text[:end]
            return text[: offset + below[0].pos + 1]
        if i == 0:
            opened = len(state.stack) > base
        elif opened and len(state.stack) <= base:
            return text[:end]
        offset += len(segment)
    return text


def cut_unfinished(completion: str, ctx: CursorContext) -> str:
    """A block the model was still writing when its token budget or time ran out, cut back to its
    last complete line: the line being written goes, then the comment and blank lines before it
    (a block that ends on the first half of a comment, or on a comment announcing code that never
    came, is worse than a shorter one). A single line is kept as it is."""
    lines = completion.split("\n")
    if len(lines) < 2:
        return completion
    spec = spec_by_name(ctx.language)
    markers = (spec.line_comment,) if spec is not None else ("#", "//")
    lines = lines[:-1]
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith(markers)):
        lines.pop()
    return "\n".join(lines)


# A line cut here still needs its continuation: an operator, a separator or an opener.
_DANGLING = tuple("+-*/%=<>&|^~!,.:([{\\")
# Python lines that are only complete once their header ends with ":".
_PY_HEADERS = {"if", "elif", "else", "for", "while", "try", "except", "finally", "with"}
_PY_HEADERS |= {"def", "class", "async", "match", "case"}


def _open_header(line: str, language: str | None) -> bool:
    if language != "python":
        return False
    words = line.split(None, 1)
    return bool(words) and words[0].rstrip(":") in _PY_HEADERS and not line.rstrip().endswith(":")


def cut_unfinished_line(completion: str, ctx: CursorContext) -> str | None:
    """A single line the model was still writing when its time or tokens ran out: kept if it is
    complete (every bracket and string it opened closed, nothing dangling, a Python header
    ended by its `:`), else cut back to the last point where it is (`total = sum(values) /
    len(` → `total = sum(values)`), else dropped — a shorter complete answer or none, never a
    truncated one (`S1 =`, `for`, `if text[i] == " "` were shown under a 1 s budget)."""
    syntax = syntax_for(ctx.language)
    start = prefix_state(ctx)
    base = len(start.stack)

    def complete(text: str) -> bool:
        state = start.copy()
        scan(text, syntax, state)
        if not (state.in_code and len(state.stack) <= base and state.strays == start.strays):
            return False
        line = (ctx.line_prefix + text).rstrip()
        if ctx.language == "python" and line.endswith(":"):
            return True  # a block header (or `else:`), finished
        return not line.endswith(_DANGLING) and not _open_header(line, ctx.language)

    if complete(completion):
        return completion
    ends = [
        i + 1
        for i, ch in enumerate(completion)
        if ch in ")]}\"'`" and (i + 1 == len(completion) or not completion[i + 1].isalnum())
    ]
    for end in reversed(ends):
        if complete(completion[:end]):
            return completion[:end]
    return None
