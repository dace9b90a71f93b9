"""The cursor context handed from the `context` layer to `prompt` and `postprocess`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Snippet:
    """A definition from another open document, shown to the model ahead of the current file."""

    path: str  # file path (or uri) shown in the header comment
    text: str  # the definition's source text, already headed by its path as a comment


@dataclass(frozen=True)
class CursorContext:
    """Everything the prompt builder and the post-processor need to know about the cursor.

    All columns are in Python str indices (code points), not UTF-16 units.
    The prompt is laid out so that typing on the current line only appends tokens:
    `[snippets][fim_prefix] before [fim_suffix] line_suffix + after [fim_middle] line_prefix`.
    """

    language: str | None  # canonical language name ("python", "typescript", ...) or None
    before: str  # windowed text of the lines before the cursor line (ends with "\n" or is "")
    line_prefix: str  # the cursor line up to the cursor
    line_suffix: str  # the cursor line after the cursor (without its "\n")
    after: str  # windowed text of the lines after the cursor line (starts after the line's "\n")
    line: int  # cursor line (0-based)
    character: int  # cursor column in code points
    before_start_line: int  # first line included in `before` (snapped to a fixed step)
    after_end_line: int  # one past the last line included in `after`
    multiline: bool  # whether a block (several lines) is wanted rather than the rest of the line
    indent: (
        str  # indentation of the cursor line (leading whitespace of line_prefix or of the block)
    )
    block_indent: str | None = None  # expected indentation of a new block body, when multiline
    mid_word: bool = False  # cursor is inside a word with more than a few characters to its right
    snippets: tuple[Snippet, ...] = field(default_factory=tuple)
