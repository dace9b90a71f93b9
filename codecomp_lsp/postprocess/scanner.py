"""A tiny resumable lexer that tracks brackets while skipping strings and comments.

Post-processing works on fragments (a window of the file plus a model completion) where a
real parser is too strict; bracket structure is all the cleaning rules need, and it must be
cheap enough to re-run for every candidate cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codecomp_lsp.context.languages import LexSyntax, spec_named

OPENERS: dict[str, str] = {"(": ")", "[": "]", "{": "}"}
CLOSERS: dict[str, str] = {")": "(", "]": "[", "}": "{"}

# A char literal such as 'a', '\n', '\'', '\u{1F600}' (Rust/C/Go/Java); anything else
# starting with ' in those languages is a lifetime or a label and is not a string.
_CHAR_LITERAL = re.compile(r"'(?:\\.|\\[^'\n]{1,10}|[^'\\\n])'")


# Unknown languages: accept the common comment and string forms.
_DEFAULT = LexSyntax(line_comments=("//", "#"), quotes=('"', "'", "`"))


def syntax_for(language: str | None) -> LexSyntax:
    """The lexical syntax for a canonical language name (its language module's `lexer`), or a
    permissive default."""
    spec = spec_named((language or "").lower())
    return spec.lexer if spec is not None and spec.lexer is not None else _DEFAULT


@dataclass
class ScanState:
    """Where the lexer stands after some text; copy it to try alternatives from one prefix."""

    stack: list[str] = field(default_factory=list)  # open brackets, innermost last
    string: str | None = None  # delimiter of the string being read
    block_comment: bool = False
    line_comment: bool = False
    strays: int = 0  # closers that matched no opener (not popped)
    broken_strings: int = 0  # single-line strings cut off by a newline

    def copy(self) -> ScanState:
        """An independent copy."""
        return ScanState(
            list(self.stack),
            self.string,
            self.block_comment,
            self.line_comment,
            self.strays,
            self.broken_strings,
        )

    @property
    def in_code(self) -> bool:
        """Whether the next character is code (not inside a string or comment)."""
        return self.string is None and not self.block_comment and not self.line_comment

    def problems(self) -> int:
        """A count of bracket and string damage, only meaningful relative to another state."""
        unterminated = 1 if self.string is not None else 0
        return self.strays + len(self.stack) + self.broken_strings + unterminated


@dataclass(frozen=True)
class BracketEvent:
    """A bracket seen in code: `kind` is "open", "close" or "stray" (matched nothing)."""

    pos: int  # index in the scanned text
    char: str
    kind: str
    depth: int  # stack size after the event


def scan(text: str, syntax: LexSyntax, state: ScanState) -> list[BracketEvent]:
    """Advance `state` over `text` and return the brackets met in code, in order."""
    events: list[BracketEvent] = []
    i, n = 0, len(text)
    while i < n:
        if state.line_comment:
            j = text.find("\n", i)
            if j < 0:
                break
            state.line_comment = False
            i = j + 1
        elif state.block_comment:
            end = syntax.block_comment[1] if syntax.block_comment else "*/"
            j = text.find(end, i)
            if j < 0:
                break
            state.block_comment = False
            i = j + len(end)
        elif state.string is not None:
            i = _skip_string(text, i, syntax, state)
        else:
            c = text[i]
            if c in OPENERS:
                state.stack.append(c)
                events.append(BracketEvent(i, c, "open", len(state.stack)))
                i += 1
            elif c in CLOSERS:
                if state.stack and state.stack[-1] == CLOSERS[c]:
                    state.stack.pop()
                    events.append(BracketEvent(i, c, "close", len(state.stack)))
                else:
                    state.strays += 1
                    events.append(BracketEvent(i, c, "stray", len(state.stack)))
                i += 1
            elif c.isalnum() or c.isspace():
                i += 1
            else:
                i = _start_token(text, i, syntax, state)
    return events


def _start_token(text: str, i: int, syntax: LexSyntax, state: ScanState) -> int:
    """Enter a comment or string starting at `i`, or step over one plain character."""
    if any(text.startswith(marker, i) for marker in syntax.line_comments):
        state.line_comment = True
        return i
    if syntax.block_comment and text.startswith(syntax.block_comment[0], i):
        state.block_comment = True
        return i + len(syntax.block_comment[0])
    if text[i] == "'" and syntax.char_literals:
        match = _CHAR_LITERAL.match(text, i)
        return match.end() if match else i + 1
    for quote in syntax.quotes:
        if text.startswith(quote, i):
            state.string = quote
            return i + len(quote)
    return i + 1


def _skip_string(text: str, i: int, syntax: LexSyntax, state: ScanState) -> int:
    """Read string content from `i` until its delimiter, a newline (single-line) or the end."""
    delim = state.string or ""
    raw = delim in syntax.raw_quotes
    multiline = delim in syntax.multiline_quotes
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and not raw:
            i += 2
        elif text.startswith(delim, i):
            state.string = None
            return i + len(delim)
        elif c == "\n" and not multiline:
            state.string = None
            state.broken_strings += 1
            return i + 1
        else:
            i += 1
    return n
