"""The scanner's fast paths (plain code and string bodies skipped by regular expressions) decide
exactly as the character-by-character loop they replaced, on random fragments of every language."""

from __future__ import annotations

import random

import pytest

from codecomp_lsp.context.languages import LexSyntax
from codecomp_lsp.postprocess.scanner import (
    _CHAR_LITERAL,
    CLOSERS,
    OPENERS,
    BracketEvent,
    ScanState,
    scan,
    syntax_for,
)

# The loop as it was before the fast paths (one character per step), kept as the reference.


def _reference_scan(text: str, syntax: LexSyntax, state: ScanState) -> list[BracketEvent]:
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
            i = _ref_skip_string(text, i, syntax, state)
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
                i = _ref_start_token(text, i, syntax, state)
    return events


def _ref_start_token(text: str, i: int, syntax: LexSyntax, state: ScanState) -> int:
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


def _ref_skip_string(text: str, i: int, syntax: LexSyntax, state: ScanState) -> int:
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


ALPHABET = ["(", ")", "{", "}", "[", "]", "'", '"', '"""', "'''", "`", "#", "//", "/*", "*/",
            "\\", "\n", "a", " ", "r'", "x", "é", "_", "$", "${", "1", "\t", "--", ";", "'a'"]  # fmt: skip
LANGUAGES = ["python", "rust", "javascript", "typescript", "go", "c", "cpp", "java", None]


def _snapshot(state: ScanState) -> tuple:
    return (state.stack, state.string, state.block_comment, state.line_comment, state.strays,
            state.broken_strings)  # fmt: skip


@pytest.mark.parametrize("seed", range(300))
def test_the_fast_scanner_matches_the_reference(seed: int) -> None:
    rnd = random.Random(seed)
    syntax = syntax_for(rnd.choice(LANGUAGES))
    fast, reference = ScanState(), ScanState()
    for _ in range(rnd.randrange(1, 4)):  # resumed over several fragments, as prefix_state does
        text = "".join(rnd.choice(ALPHABET) for _ in range(rnd.randrange(0, 60)))
        assert scan(text, syntax, fast) == _reference_scan(text, syntax, reference), text
        assert _snapshot(fast) == _snapshot(reference), text


def test_an_unusual_syntax_matches_the_reference() -> None:
    syntax = LexSyntax(line_comments=("--", ";"), block_comment=("{-", "-}"), quotes=("'",))
    for seed in range(100):
        rnd = random.Random(seed)
        text = "".join(rnd.choice(ALPHABET) for _ in range(80))
        fast, reference = ScanState(), ScanState()
        assert scan(text, syntax, fast) == _reference_scan(text, syntax, reference), text
        assert _snapshot(fast) == _snapshot(reference), text
