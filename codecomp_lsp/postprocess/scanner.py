"""A tiny resumable lexer that tracks brackets while skipping strings and comments.

Post-processing works on fragments (a window of the file plus a model completion) where a
real parser is too strict; bracket structure is all the cleaning rules need, and it must be
cheap enough to re-run for every candidate cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

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
            # Plain code (names, numbers, spaces, operators that start nothing) is skipped in C:
            # only a bracket or the first character of a comment, string or char literal acts.
            match = _code_marks(syntax).search(text, i)
            if match is None:
                break
            i = match.start()
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
            else:
                i = _start_token(text, i, syntax, state)
    return events


@lru_cache(maxsize=64)
def _code_marks(syntax: LexSyntax) -> re.Pattern[str]:
    """The characters that can change the state in code: brackets and the first character of a
    comment marker, string delimiter or char literal (never a letter, digit or space, which the
    scanner steps over)."""
    starts = set(OPENERS) | set(CLOSERS)
    starts.update(marker[0] for marker in syntax.line_comments if marker)
    starts.update(quote[0] for quote in syntax.quotes if quote)
    if syntax.block_comment:
        starts.add(syntax.block_comment[0][0])
    if syntax.char_literals:
        starts.add("'")
    marks = sorted(c for c in starts if not (c.isalnum() or c.isspace()))
    return re.compile("[" + "".join(re.escape(c) for c in marks) + "]")


@lru_cache(maxsize=64)
def _string_marks(delim: str, raw: bool, multiline: bool) -> re.Pattern[str]:
    """Inside a string: what can end it (its delimiter's first character, a newline unless it may
    span lines) or escape the next character (a backslash unless it is raw)."""
    marks = {delim[0]} if delim else set()
    if not raw:
        marks.add("\\")
    if not multiline:
        marks.add("\n")
    if not marks:  # an empty delimiter ends the string at once, as `startswith("")` does
        return re.compile("(?s).")
    return re.compile("[" + "".join(re.escape(c) for c in sorted(marks)) + "]")


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
    marks = _string_marks(delim, raw, multiline)
    while i < n:
        match = marks.search(text, i)
        if match is None:
            return n
        i = match.start()
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
