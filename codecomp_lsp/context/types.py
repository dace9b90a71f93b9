"""Data handed out by the `context` layer: the cursor context (to `prompt` and `postprocess`)
and the symbols hover and code actions work on."""

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


Span = tuple[int, int, int, int]  # start line, start column, end line, end column (code points)


@dataclass(frozen=True)
class Symbol:
    """A definition: enough to show it, and to prompt a model about it."""

    name: str
    kind: str  # function, method, class, struct, interface, enum, type, variable, field, ...
    signature: str  # the header (or the short declaration) as written, dedented
    docstring: str | None
    container: str | None  # enclosing class / impl / receiver type
    span: Span  # the definition node
    name_span: Span
    body: Span | None  # the block after the header, when there is one
    doc_span: Span | None  # where the docstring or doc comment is
    top_line: int  # first line of the definition including decorators, doc comments, `export`
    local: bool  # defined inside a function body
    uri: str = ""
    scope: Span | None = None  # locals: the function they are visible in

    @property
    def header(self) -> str:
        """`(kind) Container.name`, the title line of a hover."""
        owner = f"{self.container}." if self.container else ""
        return f"({self.kind}) {owner}{self.name}"


@dataclass(frozen=True)
class HoverTarget:
    """What the cursor is on: a definition, a call or another reference, and what it resolves to."""

    role: str  # "definition", "call" or "reference"
    name: str
    range: Span  # the identifier under the cursor (or the definition's name)
    symbol: Symbol | None  # None: a call to something not defined in any open document
    expression: str = ""  # for calls: the call expression as written (shortened)
    line_text: str = ""  # the line under the cursor, for prompts
