"""Cut degenerate repetition, a typical failure of small models.

A line said three times in a row, a token run like `self.self.self.`, or a replay of the
lines just above the cursor is almost never what the user wants; keeping the first copy and
dropping the rest is cheap and safe.
"""

from __future__ import annotations

import re

from codecomp_lsp.context.types import CursorContext

MIN_REPEATS = 3  # copies in a row that count as degenerate
MAX_RUN_TOKENS = 8  # longest token run checked within a line
MAX_CHUNK_LINES = 8  # longest block of lines checked for a replay
BEFORE_LINES = 32  # lines above the cursor considered

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"[A-Za-z_]")


def cut_repetition(completion: str, ctx: CursorContext) -> str:
    """The completion cut where a repetition starts (one copy of the repeated part is kept)."""
    completion = _cut_token_runs(completion, ctx.line_prefix)
    lines = completion.split("\n")
    cut = _repeated_lines(lines, ctx)
    if cut is None:
        return completion
    return "\n".join(lines[:cut])


def _cut_token_runs(completion: str, line_prefix: str) -> str:
    """Cut at the second copy of a token run repeated `MIN_REPEATS` times within one line."""
    start = 0
    for index, line in enumerate(completion.split("\n")):
        head = line_prefix if index == 0 else ""
        pos = _token_run_start(head + line, len(head))
        if pos is not None:
            return completion[: start + max(pos - len(head), 0)]
        start += len(line) + 1
    return completion


def _token_run_start(line: str, min_end: int) -> int | None:
    """Offset of the second copy of the first repeated run whose last copy ends after `min_end`."""
    tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(line)]
    words = [t[2] for t in tokens]
    for t in range(len(words)):
        for k in range(2, MAX_RUN_TOKENS + 1):
            end = t + MIN_REPEATS * k
            if end > len(words):
                break
            run = words[t : t + k]
            if not any(_WORD.match(w) for w in run):
                continue
            copies = (words[t + c * k : t + (c + 1) * k] for c in range(1, MIN_REPEATS))
            if tokens[end - 1][1] > min_end and all(copy == run for copy in copies):
                return tokens[t + k][0]
    return None


def _significant(line: str) -> bool:
    return bool(_WORD.search(line))


def _repeated_lines(lines: list[str], ctx: CursorContext) -> int | None:
    """Index of the completion line where a repeated line or replayed block starts."""
    before = ctx.before.split("\n")[:-1][-BEFORE_LINES:]
    full = [ctx.line_prefix + lines[0], *lines[1:]]
    # Non-blank lines only: (index in the completion or -1 for `before`, text without trailing ws).
    seq = [(-1, line.rstrip()) for line in before if line.strip()]
    first = len(seq)
    seq += [(i, line.rstrip()) for i, line in enumerate(full) if line.strip()]
    keys = [text for _, text in seq]
    for j in range(first, len(seq)):
        if j >= 2 and keys[j] == keys[j - 1] == keys[j - 2] and _significant(keys[j]):
            run = j - 2
            while run > 0 and keys[run - 1] == keys[j]:
                run -= 1
            return seq[max(run + 1, first)][0]
        for m in range(2, MAX_CHUNK_LINES + 1):
            if j < m:
                break
            length = min(m, len(seq) - j)
            chunk = keys[j : j + length]
            if length < 2 or sum(map(_significant, chunk)) < 2:
                continue
            if chunk == keys[j - m : j - m + length]:
                return seq[j][0]
    return None
