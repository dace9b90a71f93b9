"""Cut the document around the cursor into the pieces the prompt is built from.

The `before` window starts on a line snapped to a fixed step and depends only on the
lines above the cursor, so the prompt prefix (and the model's KV cache) survives
typing on the current line and moving down a few lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import tree_sitter

from codecomp_lsp.context.blocks import BlockFacts, block_facts
from codecomp_lsp.context.indent import detect_indent_unit, indent_width, leading_ws
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.syntax import parse
from codecomp_lsp.context.tokens import cached_count
from codecomp_lsp.context.types import CursorContext

__all__ = ["extract_context", "split_lines"]

_CLOSERS = ")]}"
_ONLY_CLOSERS = re.compile(r"\s*[)\]}]*\s*[;,]?\s*")
_CUT_LOOKBACK = 8  # lines the `after` window may give back to end on a natural boundary
_MIDWORD_RIGHT = 3  # more word characters than this to the right means "inside a word"


def split_lines(text: str) -> list[str]:
    """Lines without terminators; "\\r\\n" endings count as "\\n"."""
    lines = text.split("\n")
    return [line.removesuffix("\r") for line in lines]


def _before_start(
    lines: list[str], line: int, count: Callable[[str], int], budget: int, step: int
) -> int:
    first = line
    used = 0
    for index in range(line - 1, -1, -1):
        used += cached_count(count, lines[index] + "\n")
        if used > budget:
            break
        first = index
    else:
        return 0
    # Snap up so the start only moves when `first` crosses a multiple of `step`.
    return min(-(-first // step) * step, line)


def _good_cut(lines: list[str], end: int) -> bool:
    """Whether ending `after` before line `end` ends on a blank line or a top-level item."""
    following = lines[end]
    if not following.strip():
        return True
    return following[0] not in " \t" and following[0] not in _CLOSERS


def _after_end(lines: list[str], line: int, count: Callable[[str], int], budget: int) -> int:
    end = line + 1
    used = 0
    for index in range(line + 1, len(lines)):
        used += cached_count(count, lines[index] + "\n")
        if used > budget:
            break
        end = index + 1
    else:
        return len(lines)
    lowest = max(line + 1, end - min(_CUT_LOOKBACK, (end - line - 1) // 4))
    for candidate in range(end, lowest, -1):
        if _good_cut(lines, candidate):
            return candidate
    return end


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _mid_word(line_prefix: str, line_suffix: str) -> bool:
    if not line_prefix or not line_suffix:
        return False
    if not (_is_word(line_prefix[-1]) and _is_word(line_suffix[0])):
        return False
    right = 0
    for char in line_suffix:
        if not _is_word(char):
            break
        right += 1
    return right > _MIDWORD_RIGHT


def _next_nonblank(lines: list[str], line: int) -> str | None:
    for index in range(line + 1, len(lines)):
        if lines[index].strip():
            return lines[index]
    return None


def _block_at_cursor(
    facts: BlockFacts | None,
    lines: list[str],
    line: int,
    line_prefix: str,
    unit: str,
    *,
    closer_here: bool,
) -> tuple[bool, str | None]:
    """Multiline decision for a line holding only whitespace and closing brackets."""
    following = "}" if closer_here else _next_nonblank(lines, line)
    if facts is not None and facts.opener:
        header_ws = leading_ws(lines[facts.header_line])
        # An editor that already indented the line knows the file's style best.
        deeper = indent_width(line_prefix) > indent_width(header_ws)
        block_ws = line_prefix if deeper else header_ws + unit
        empty = facts.empty
        if empty is None:  # the tree could not tell: look at the next code line
            empty = (
                following is None
                or following.lstrip()[:1] in tuple(_CLOSERS)
                or indent_width(leading_ws(following)) < indent_width(block_ws)
            )
        return (True, block_ws) if empty else (False, None)
    # Not right after a header: a block is wanted at the end of a block or of the file.
    if following is None or following.lstrip()[:1] in tuple(_CLOSERS):
        return True, line_prefix
    if indent_width(leading_ws(following)) < indent_width(line_prefix):
        return True, line_prefix
    return False, None


def _decide(
    spec: LanguageSpec | None,
    tree_of: Callable[[], tree_sitter.Tree | None],
    lines: list[str],
    line: int,
    character: int,
    unit: str,
) -> tuple[bool, str | None]:
    """Whether a block is wanted at the cursor, and its indentation. The tree is asked for only
    after a `:` or on a blank line: typing inside a line of code never parses."""
    text = lines[line]
    line_prefix, line_suffix = text[:character], text[character:]
    if line_prefix.strip():
        stripped = line_prefix.rstrip()
        if stripped.endswith("{") and _ONLY_CLOSERS.fullmatch(line_suffix):
            return True, leading_ws(text) + unit
        if stripped.endswith(":") and not line_suffix.strip():
            facts = block_facts(spec, tree_of(), lines, line, len(stripped))
            if facts.opener:
                return True, leading_ws(text) + unit
        return False, None
    closer_here = bool(line_suffix.strip())
    if closer_here and not _ONLY_CLOSERS.fullmatch(line_suffix):
        return False, None  # cursor in the indentation of a line of code
    facts = block_facts(spec, tree_of(), lines, line, character)
    return _block_at_cursor(facts, lines, line, line_prefix, unit, closer_here=closer_here)


def extract_context(
    text: str,
    line: int,
    character: int,
    spec: LanguageSpec | None,
    *,
    count_tokens: Callable[[str], int],
    prefix_budget: int,
    suffix_budget: int,
    line_step: int = 16,
    tree: tree_sitter.Tree | Callable[[], tree_sitter.Tree] | None = None,
) -> CursorContext:
    """Windows, cursor-line split and block facts for a cursor at (line, character).

    `tree`, when given, must be the parse of `text` by `spec`'s grammar, or a function returning
    it (called only if the block decision needs the tree); without it the text is parsed here
    when needed. `before`/`after` use "\\n" line endings; the cursor line's own
    "\\n" belongs to neither `line_suffix` nor `after`.
    """
    lines = split_lines(text)
    line = max(0, min(line, len(lines) - 1))
    current = lines[line]
    character = max(0, min(character, len(current)))
    line_prefix, line_suffix = current[:character], current[character:]

    start = _before_start(lines, line, count_tokens, max(0, prefix_budget), max(1, line_step))
    end = _after_end(lines, line, count_tokens, max(0, suffix_budget))
    before = "".join(f"{row}\n" for row in lines[start:line])
    after = "\n".join(lines[line + 1 : end])
    if line + 1 < end < len(lines):
        after += "\n"

    def tree_of() -> tree_sitter.Tree | None:
        if spec is None:
            return None
        if tree is None:
            return parse(text, spec)
        return tree() if callable(tree) else tree

    unit = detect_indent_unit(lines, line, spec.default_indent if spec else "    ")
    multiline, block_indent = _decide(spec, tree_of, lines, line, character, unit)

    return CursorContext(
        language=spec.name if spec else None,
        before=before,
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        after=after,
        line=line,
        character=character,
        before_start_line=start,
        after_end_line=end,
        multiline=multiline,
        indent=leading_ws(line_prefix),
        block_indent=block_indent,
        mid_word=_mid_word(line_prefix, line_suffix),
    )
