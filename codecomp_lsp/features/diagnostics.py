"""Syntax diagnostics from tree-sitter, with messages sharpened where the parser is vague.

tree-sitter reports an ERROR node where it gave up, and a MISSING node where it invented a token.
For brace languages that is usually precise (`Missing ")"`); for Python it is often a whole line
marked "Syntax error". A light lexer then looks for the usual cause on that line — a bracket that
is never closed, a string that never ends, a block header without its colon — and narrows the
message and the range to it, as CPython's own messages do.

Positions are (line, code-point column) on text with "\\n" line endings.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.context.syntax import SyntaxIssue, outermost_problems, syntax_errors
from codecomp_lsp.postprocess.scanner import OPENERS, ScanState, scan, syntax_for

__all__ = ["DiagnosticsScheduler", "Problem", "code_end", "find_problems", "problems_in_tree"]

MAX_PROBLEMS = 100  # per document: a file of garbage does not need a thousand squiggles
_SCAN_LINES = 2000  # how far a bracket is followed to see whether it closes
PY_HEADER = re.compile(
    r"\s*(?:async\s+)?(?:def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b"
)
_MISSING_TOKEN = re.compile(r"^Missing `(.+)`$")


@dataclass(frozen=True)
class Problem:
    """One syntax problem; `insert` is the token a parser-derived repair would insert at start."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    message: str
    code: (
        str  # missing-token, unclosed-bracket, unterminated-string, unexpected-token, syntax-error
    )
    insert: str | None = None

    @property
    def key(self) -> tuple[int, int, int, int, str]:
        return (self.start_line, self.start_col, self.end_line, self.end_col, self.message)


def _state(text: str, spec: LanguageSpec) -> ScanState:
    state = ScanState()
    scan(text, syntax_for(spec.name), state)
    return state


def code_end(line: str, spec: LanguageSpec) -> int:
    """Column after the last code character of a line (before a trailing comment)."""
    code = line
    if _state(line, spec).line_comment:
        for marker in syntax_for(spec.name).line_comments:
            pos = line.find(marker)
            while pos >= 0:
                if _state(line[:pos], spec).in_code:
                    code = line[:pos]
                    break
                pos = line.find(marker, pos + 1)
            if code is not line:
                break
    return len(code.rstrip())


def _unclosed_opener(lines: list[str], row: int, spec: LanguageSpec) -> tuple[int, str] | None:
    """(column, bracket) of the innermost opener on `row` that nothing after it closes."""
    syntax = syntax_for(spec.name)
    state = ScanState()
    events = scan(lines[row], syntax, state)
    # This line's openers still open at its end, innermost last.
    open_cols: list[tuple[int, str]] = []
    for event in events:
        if event.kind == "open":
            open_cols.append((event.pos, event.char))
        elif event.kind == "close" and open_cols:
            open_cols.pop()
    if not open_cols:
        return None
    depth = len(state.stack)
    scan("\n", syntax, state)
    for following in lines[row + 1 : row + 1 + _SCAN_LINES]:
        scan(following + "\n", syntax, state)
        if len(state.stack) < depth:
            return None  # closed further down: a multi-line expression
    return open_cols[-1]


def _broken_string(line: str, spec: LanguageSpec) -> int | None:
    """Column of the quote of a single-line string that the line never closes."""
    state = _state(line, spec)
    delim = state.string
    if delim is None or delim in syntax_for(spec.name).multiline_quotes:
        return None
    pos = line.rfind(delim)
    while pos >= 0:
        if _state(line[:pos], spec).in_code:
            return pos
        pos = line.rfind(delim, 0, pos)
    return None


def _row_problem(lines: list[str], row: int, spec: LanguageSpec) -> Problem | None:
    """The usual suspects on one line: an unterminated string, an unclosed bracket, a header
    without its colon."""
    line = lines[row] if row < len(lines) else ""
    quote = _broken_string(line, spec)
    if quote is not None:
        return Problem(
            row, quote, row, len(line), "Syntax error: unterminated string", "unterminated-string"
        )
    opener = _unclosed_opener(lines, row, spec)
    if opener is not None:
        col, char = opener
        message = f"Syntax error: `{char}` is never closed"
        return Problem(row, col, row, col + 1, message, "unclosed-bracket", OPENERS[char])
    if spec.indent_based and PY_HEADER.match(line):
        end = code_end(line, spec)
        if end and not line[:end].endswith(":"):
            return Problem(row, end, row, end, "Missing `:`", "missing-token", ":")
    return None


def _refine(
    issue: SyntaxIssue, lines: list[str], spec: LanguageSpec, error_end_row: int | None
) -> Problem:
    span = (issue.start_line, issue.start_col, issue.end_line, issue.end_col)
    if issue.missing:
        token = _MISSING_TOKEN.match(issue.message)
        return Problem(*span, issue.message, "missing-token", token.group(1) if token else None)
    specific = issue.message.startswith("Syntax error: unexpected")
    found = _row_problem(lines, issue.start_line, spec)
    if found is None and not specific and error_end_row is not None:
        # A vague ERROR over several lines: the first line with a recognisable cause.
        last = min(error_end_row, issue.start_line + 200, len(lines) - 1)
        for row in range(issue.start_line + 1, last + 1):
            found = _row_problem(lines, row, spec)
            if found is not None:
                break
    if found is not None:
        return found
    if specific:
        return Problem(*span, issue.message, "unexpected-token")
    return Problem(*span, "Syntax error: invalid syntax", "syntax-error")


def _error_rows(tree: tree_sitter.Tree) -> dict[int, int]:
    """Start row -> end row of the outermost ERROR nodes."""
    rows: dict[int, int] = {}
    for node in outermost_problems(tree):
        if node.is_error:
            start, end = node.start_point.row, node.end_point.row
            rows[start] = max(rows.get(start, start), end)
    return rows


def problems_in_tree(tree: tree_sitter.Tree, text: str, spec: LanguageSpec) -> list[Problem]:
    """The problems of an already parsed document."""
    if not tree.root_node.has_error:
        return []
    lines = text.split("\n")
    error_rows = _error_rows(tree)
    out: list[Problem] = []
    seen: set[tuple[int, int, int, int, str]] = set()
    for issue in syntax_errors(tree, text):
        problem = _refine(issue, lines, spec, error_rows.get(issue.start_line))
        if problem.key in seen:
            continue
        seen.add(problem.key)
        out.append(problem)
        if len(out) >= MAX_PROBLEMS:
            break
    return out


def find_problems(text: str, spec: LanguageSpec | None, uri: str | None = None) -> list[Problem]:
    """Syntax problems of a document ("\\n" line endings), in document order.

    With the document's `uri`, its tree is reparsed incrementally from the last version's.
    """
    if spec is None:
        return []
    base = ("document", uri) if uri is not None else None
    tree = parsed(text, spec, base=base).tree  # shared with code actions
    return problems_in_tree(tree, text, spec)


class DiagnosticsScheduler:
    """Debounces diagnostics per document: each edit restarts the document's timer.

    `publish(uri)` is awaited when a document has been quiet for the delay; it does the work
    (and checks the version it computed against, since edits may have arrived meanwhile).
    """

    def __init__(self, publish: Callable[[str], Awaitable[None]]) -> None:
        self._publish = publish
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def schedule(self, uri: str, delay_ms: int) -> None:
        self.cancel(uri)
        loop = asyncio.get_running_loop()
        self._timers[uri] = loop.call_later(max(0, delay_ms) / 1000, self._fire, uri)

    def _fire(self, uri: str) -> None:
        self._timers.pop(uri, None)
        task = asyncio.ensure_future(self._publish(uri))
        self._tasks[uri] = task
        task.add_done_callback(lambda t, u=uri: self._done(u, t))

    def _done(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(uri) is task:
            self._tasks.pop(uri, None)

    def cancel(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    def pending(self, uri: str) -> bool:
        return uri in self._timers or uri in self._tasks
