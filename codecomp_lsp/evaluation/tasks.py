"""Evaluation tasks: a document, a cursor, and the line the user would have typed."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LineTask:
    """Complete line `line` of `text` from the cursor at `character` (after its indentation).

    `text` already has the target line's content removed (only the indentation is
    left) and, for next-line tasks, everything after it too.
    """

    task_id: str
    kind: str  # "next-line", "fim-line" or "humaneval"
    language: str
    uri: str
    text: str
    line: int
    character: int
    target: str  # the removed content of the line (after the indentation), no trailing spaces
    extra: dict = field(default_factory=dict, compare=False)
    # "line": the rest of one line; "block": several whole lines from the cursor on; "span": any
    # run of characters from the cursor, across lines or inside one.
    extent: str = "line"

    @property
    def offset(self) -> int:
        """The cursor as an offset into `text`."""
        lines = self.text.split("\n")
        return sum(len(row) + 1 for row in lines[: self.line]) + self.character

    def filled(self, prediction: str) -> str:
        """`text` with the prediction inserted at the cursor (its first line only for "line")."""
        if self.extent == "line":
            prediction = prediction.split("\n", 1)[0]
        at = self.offset
        return self.text[:at] + prediction + self.text[at:]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def line_tasks_from_files(
    files: Iterable[dict], *, kind: str, per_file: int, limit: int, seed: int
) -> list[LineTask]:
    """Pick `per_file` non-blank lines (not the first) in each file, deterministically.

    `kind` "next-line" drops everything after the line (left-to-right completion);
    "fim-line" keeps the rest of the file as the suffix (infilling).
    """
    rng = random.Random(seed)
    tasks: list[LineTask] = []
    for record in files:
        lines = record["text"].split("\n")
        candidates = [i for i in range(1, len(lines)) if lines[i].strip()]
        for i in sorted(rng.sample(candidates, min(per_file, len(candidates)))):
            indent = _indent(lines[i])
            before = lines[:i] + [indent]
            after = lines[i + 1 :] if kind == "fim-line" else []
            uri = f"file:///eval/{record['package']}/{record['path']}"
            tasks.append(
                LineTask(
                    task_id=f"{record['package']}/{record['path']}:{i}",
                    kind=kind,
                    language=record["language"],
                    uri=uri,
                    text="\n".join(before + after),
                    line=i,
                    character=len(indent),
                    target=lines[i].strip(),
                )
            )
            if len(tasks) >= limit:
                return tasks
    return tasks


def exact_match(prediction: str, target: str) -> bool:
    """Equal but for whitespace at either end and at the ends of lines."""

    def norm(text: str) -> str:
        return "\n".join(row.rstrip() for row in text.strip().split("\n"))

    return norm(prediction) == norm(target)


def edit_similarity(prediction: str, target: str) -> float:
    """1 − Levenshtein distance ÷ the longer length (1.0 for two empty strings)."""
    a, b = prediction.strip(), target.strip()
    if not a and not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


CONFIDENCE_THRESHOLDS = (-100.0, -2.0, -1.5, -1.0, -0.75, -0.5, -0.35, -0.25, -0.15, -0.1)


def confidence_curve(
    confidences: list[float | None], passed: list[bool], thresholds=CONFIDENCE_THRESHOLDS
) -> list[dict]:
    """What `minConfidence` at each threshold would do to these answers: the share of tasks
    still shown an answer, the pass rate of those shown, and the passing answers it hides. A
    task without an answer (no score) is shown nothing at any threshold."""
    total = len(passed)
    curve = []
    for threshold in thresholds:
        shown = [
            ok
            for c, ok in zip(confidences, passed, strict=True)
            if c is not None and c >= threshold
        ]
        hidden_passing = sum(
            ok for c, ok in zip(confidences, passed, strict=True) if c is not None and c < threshold
        )
        curve.append(
            {
                "threshold": threshold,
                "shown": round(len(shown) / total, 4) if total else 0.0,
                "pass_rate_shown": round(sum(shown) / len(shown), 4) if shown else 0.0,
                "passing_hidden": hidden_passing,
            }
        )
    return curve
