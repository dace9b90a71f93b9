"""Quick fixes for syntax errors: candidate repairs of the broken line(s), kept only if they parse.

Candidates come from two places and are ranked together:
- the parser: insert the token tree-sitter reports MISSING, close the bracket that is never
  closed, end the unterminated string, add the header's `:`, drop an unexpected token;
- the model: the enclosing line(s) are cut out and regenerated with fill-in-the-middle, several
  samples decoded as one batch.

Every candidate is applied to the whole document and parsed; it survives only if no ERROR or
MISSING node touches the repaired lines afterwards and the document has fewer errors than before.
Survivors are ranked by errors left, then by how little they change, then by model confidence.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from codecomp_lsp.context.indent import detect_indent_unit, leading_ws
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.syntax import count_errors, errors_touch, parse
from codecomp_lsp.engine.decoder import CacheSlot, Finish
from codecomp_lsp.features.diagnostics import PY_HEADER, Problem, code_end
from codecomp_lsp.features.modelio import ModelIO, TextChange, diff_change
from codecomp_lsp.postprocess.scanner import OPENERS, ScanState, scan, syntax_for

__all__ = ["Fix", "QuickFixService", "Repair", "parser_repairs", "rank_repairs", "verify_repair"]

MAX_FIXES = 3
MAX_REGION_LINES = 6
_PREVIEW_CHARS = 60


@dataclass(frozen=True)
class Repair:
    """Replace lines first..last (inclusive) of the document by `text` (no trailing newline)."""

    first: int
    last: int
    text: str
    source: str  # "parser" or "model"
    score: float = 0.0  # model: mean token log-probability


@dataclass(frozen=True)
class Fix:
    title: str
    change: TextChange
    errors_after: int
    source: str


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMENT_START = re.compile(r"^\s*(#|//|/\*|\*)")


def keeps_identifiers(original: str, repaired: str) -> bool:
    """Every name the broken code used is still there as code, outside comments."""
    code = "\n".join(row for row in repaired.split("\n") if not _COMMENT_START.match(row))
    return set(_IDENTIFIER.findall(original)) <= set(_IDENTIFIER.findall(code))


def _apply(lines: list[str], repair: Repair) -> list[str]:
    return lines[: repair.first] + repair.text.split("\n") + lines[repair.last + 1 :]


def verify_repair(
    lines: list[str], repair: Repair, spec: LanguageSpec, baseline_errors: int
) -> int | None:
    """Errors left in the document after `repair`, or None when the repair is rejected.

    Rejected: no change, an error on the repaired lines, or more errors than before.
    """
    new_lines = _apply(lines, repair)
    if new_lines == lines:
        return None
    tree = parse("\n".join(new_lines), spec)
    errors = count_errors(tree, spec)
    if errors == 0:
        return 0
    # Not "fewer": tree-sitter often folds a second, unrelated error into the first one's node,
    # so fixing the first leaves the count unchanged. The repaired lines must be clean, though.
    if errors > baseline_errors:
        return None
    if errors_touch(tree, repair.first, repair.first + repair.text.count("\n")):
        return None
    return errors


def _closers(line: str, spec: LanguageSpec) -> str:
    """The closing brackets this line leaves open, innermost first."""
    state = ScanState()
    scan(line, syntax_for(spec.name), state)
    return "".join(OPENERS[c] for c in reversed(state.stack))


def parser_repairs(lines: list[str], problem: Problem, spec: LanguageSpec) -> list[Repair]:
    """Deterministic candidate repairs for `problem`; unverified (see `verify_repair`)."""
    row = problem.start_line
    if row >= len(lines):
        return []
    line = lines[row]
    texts: list[str] = []

    def insert(col: int, token: str) -> None:
        texts.append(line[:col] + token + line[col:])

    if problem.insert and problem.code == "missing-token":
        if problem.insert == "}" and problem.start_col >= len(line.rstrip()):
            # A block left open at the end of its last line: close it on a line of its own.
            ws = leading_ws(line)
            unit = detect_indent_unit(lines, row, spec.default_indent)
            outer = ws[: -len(unit)] if ws.endswith(unit) else ""
            texts.append(line.rstrip() + "\n" + outer + "}")
        insert(problem.start_col, problem.insert)
    if problem.code == "unexpected-token" and problem.start_line == problem.end_line:
        texts.append(line[: problem.start_col] + line[problem.end_col :])
    end = code_end(line, spec)
    code = line[:end]
    closers = _closers(line, spec)
    if problem.code == "unterminated-string":
        state = ScanState()
        scan(line, syntax_for(spec.name), state)
        quote = state.string or line[problem.start_col : problem.start_col + 1]
        stripped = code.rstrip(")]};,:")
        if len(stripped) < len(code):
            insert(len(stripped), quote)
        insert(end, quote)
    elif closers:
        insert(end, closers)
        for char in ":{;,":
            if code.endswith(char):
                body = code[:-1].rstrip()
                insert(len(body), closers)
        if problem.insert and problem.insert != closers:
            insert(end, problem.insert)
    if spec.indent_based and PY_HEADER.match(line) and end and not code.endswith(":"):
        insert(end, ":")
        if closers:
            texts.append(code + closers + ":" + line[end:])
    if spec.brace_based and end and not code.endswith((";", "{", "}", ",", "(", "[")):
        insert(end, ";")
    unique = list(dict.fromkeys(t for t in texts if t != line))
    return [Repair(row, row, text, "parser") for text in unique]


def _cost(old: str, new: str) -> int:
    """Characters changed, whitespace aside (re-indenting or a line break costs nothing)."""
    old, new = "".join(old.split()), "".join(new.split())
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return len(old) + len(new) - 2 * same


def rank_repairs(
    lines: list[str], repairs: list[Repair], spec: LanguageSpec, *, limit: int = MAX_FIXES
) -> list[tuple[Repair, int]]:
    """Verified repairs with the errors they leave, best first, at most `limit`, no duplicates."""
    baseline = count_errors("\n".join(lines), spec)
    scored = []
    seen: set[tuple[int, int, str]] = set()
    for order, repair in enumerate(repairs):
        key = (repair.first, repair.last, repair.text)
        if key in seen:
            continue
        seen.add(key)
        errors = verify_repair(lines, repair, spec, baseline)
        if errors is None:
            continue
        old = "\n".join(lines[repair.first : repair.last + 1])
        scored.append(((errors, _cost(old, repair.text), -repair.score, order), repair, errors))
    scored.sort(key=lambda item: item[0])
    return [(repair, errors) for _, repair, errors in scored[:limit]]


def _preview(lines: list[str], repair: Repair) -> str:
    old = lines[repair.first : repair.last + 1]
    new = repair.text.split("\n")
    shown = next(
        (n for i, n in enumerate(new) if i >= len(old) or n != old[i]), new[0] if new else ""
    )
    shown = " ".join(shown.split())
    if not shown:
        return "remove the line" if len(new) < len(old) else "edit"
    return shown if len(shown) <= _PREVIEW_CHARS else shown[: _PREVIEW_CHARS - 1] + "…"


def to_fix(lines: list[str], repair: Repair, errors: int) -> Fix | None:
    old = "\n".join(lines[repair.first : repair.last + 1])
    change = diff_change(old, repair.text)
    if change is None:
        return None
    # Region coordinates -> document coordinates.
    change = TextChange(
        change.start_line + repair.first,
        change.start_col,
        change.end_line + repair.first,
        change.end_col,
        change.new_text,
    )
    title = f"Fix syntax: {_preview(lines, repair)}"
    return Fix(title, change, errors, repair.source)


class QuickFixService:
    """Quick fixes per problem, cached per document text."""

    def __init__(self, io: ModelIO) -> None:
        self.io = io
        self._cache: OrderedDict[tuple[str, int, int, tuple, bool], list[Fix]] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, uri: str, text: str, problem: Problem, model: bool) -> tuple:
        return (uri, len(text), hash(text), problem.key, model)

    def cached(self, uri: str, text: str, problem: Problem, model: bool) -> list[Fix] | None:
        """Fixes computed before for this text (with or without model candidates)."""
        with self._lock:
            return self._cache.get(self._key(uri, text, problem, model))

    def _store(self, key: tuple, fixes: list[Fix]) -> None:
        with self._lock:
            self._cache[key] = fixes
            while len(self._cache) > 64:
                self._cache.popitem(last=False)

    def fixes(
        self,
        uri: str,
        text: str,
        spec: LanguageSpec,
        problem: Problem,
        *,
        model: bool,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> list[Fix]:
        """Up to three verified fixes. With `model`, call on the model thread."""
        key = self._key(uri, text, problem, model)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        lines = text.split("\n")
        repairs = parser_repairs(lines, problem, spec)
        complete = True
        if model:
            try:
                found, complete = self._model_repairs(lines, problem, spec, cancel, deadline)
                repairs += found
            except TimeoutError:
                complete = False
        ranked = rank_repairs(lines, repairs, spec)
        fixes = [f for f in (to_fix(lines, r, e) for r, e in ranked) if f is not None]
        if complete:
            self._store(key, fixes)
        return fixes

    def _model_repairs(
        self,
        lines: list[str],
        problem: Problem,
        spec: LanguageSpec,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> tuple[list[Repair], bool]:
        """Model candidates, and whether decoding finished within the deadline."""
        settings = self.io.settings()
        first = problem.start_line
        last = min(problem.end_line, first + MAX_REGION_LINES - 1, len(lines) - 1)
        count = last - first + 1
        indent = leading_ws(lines[first])
        hole = lines[:first] + [indent] + lines[last + 1 :]
        ctx = self.io.fim_context("\n".join(hole), first, len(indent), spec, multiline=True)
        ids = self.io.fim_ids(ctx)
        stop: Callable[[str], bool] = lambda text: text.count("\n") >= count  # noqa: E731
        result = self.io.generate(
            ids,
            key=CacheSlot.QUICKFIX,
            max_new_tokens=min(settings.codeActionMaxNewTokens, 48 * count + 16),
            candidates=settings.quickFixCandidates,
            stop_check=stop,
            cancel=cancel,
            deadline=deadline,
        )
        repairs = []
        for candidate in result.candidates:
            body = "\n".join((indent + candidate.text).split("\n")[:count])
            body = "\n".join(row.rstrip() for row in body.split("\n"))
            if not body.strip() or self.io.filter_output(body) is None:
                continue
            if not keeps_identifiers("\n".join(lines[first : last + 1]), body):
                continue  # a syntax fix must not delete the user's code (e.g. turn it into a comment)
            repairs.append(Repair(first, last, body, "model", candidate.mean_logprob))
        return repairs, all(c.finish != Finish.DEADLINE for c in result.candidates)
