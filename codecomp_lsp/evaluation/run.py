"""`codecomp eval`: the same tasks through each completer, scored side by side."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from codecomp_lsp.evaluation.completers import Completer, ModelCompleter
from codecomp_lsp.evaluation.humaneval import (
    check_all,
    humaneval_block_tasks,
    humaneval_span_tasks,
    humaneval_tasks,
    humaneval_typed_tasks,
    load_problems,
    sample_tasks,
)
from codecomp_lsp.evaluation.tasks import (
    LineTask,
    confidence_curve,
    edit_similarity,
    exact_match,
    line_tasks_from_files,
)
from codecomp_lsp.postprocess.references import made_only_of_unknown_names

SUFFIX_LANGUAGE = {".py": "python", ".js": "javascript", ".ts": "typescript"}


@dataclass(frozen=True)
class EvalPlan:
    heldout: Path | None  # heldout.jsonl.gz from `codecomp data`, or a folder of source files
    heldout_limit: int = 500
    humaneval_limit: int | None = None  # None: all single-line tasks
    languages: tuple[str, ...] = ("python",)
    seed: int = 0
    humaneval_sample: int | None = None  # a seeded sample of the single-line tasks instead
    block_limit: int = 0  # multi-line tasks (a seeded sample); 0: none
    span_limit: int = 0  # random-span tasks (a seeded sample); 0: none
    typed_limit: int = 0  # single-line tasks with the first word typed (a seeded sample)


HUMANEVAL_SETS = ("humaneval", "humaneval-typed", "humaneval-block", "humaneval-span")


def heldout_files(source: Path, languages: tuple[str, ...]) -> Iterator[dict]:
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            language = SUFFIX_LANGUAGE.get(path.suffix)
            if path.is_file() and language in languages:
                text = path.read_text(encoding="utf-8", errors="replace")
                yield {
                    "package": source.name,
                    "path": path.relative_to(source).as_posix(),
                    "language": language,
                    "text": text,
                }
        return
    from codecomp_lsp.training.data.build import read_corpus

    for record in read_corpus(source):
        if record["language"] in languages:
            yield record


def build_tasks(plan: EvalPlan) -> dict[str, list[LineTask]]:
    tasks: dict[str, list[LineTask]] = {}
    if plan.heldout is not None:
        files = list(heldout_files(plan.heldout, plan.languages))
        for kind in ("next-line", "fim-line"):
            tasks[kind] = line_tasks_from_files(
                files, kind=kind, per_file=2, limit=plan.heldout_limit, seed=plan.seed
            )
    if plan.humaneval_limit != 0 or plan.block_limit or plan.span_limit or plan.typed_limit:
        problems = load_problems()
    if plan.humaneval_limit != 0:
        lines = humaneval_tasks(problems, plan.humaneval_limit)
        tasks["humaneval"] = sample_tasks(lines, plan.humaneval_sample, plan.seed)
    if plan.typed_limit:
        tasks["humaneval-typed"] = humaneval_typed_tasks(problems, plan.typed_limit, plan.seed)
    if plan.block_limit:
        tasks["humaneval-block"] = humaneval_block_tasks(problems, plan.block_limit, plan.seed)
    if plan.span_limit:
        tasks["humaneval-span"] = humaneval_span_tasks(problems, plan.span_limit, plan.seed)
    return tasks


def evaluate(
    completer: Completer,
    tasks: dict[str, list[LineTask]],
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Predictions and scores of one completer on every task set."""
    report: dict = {"completer": completer.name, "sets": {}}
    problems = load_problems() if set(HUMANEVAL_SETS) & set(tasks) else {}
    for kind, items in tasks.items():
        predictions: list[str] = []
        confidences: list[float | None] = []  # the model's own, where the completer has one
        started = time.perf_counter()
        for i, task in enumerate(items):
            predictions.append(
                completer.complete(task.text, task.line, task.character, task.uri, task.extent)
            )
            confidences.append(getattr(completer, "last_score", None))
            if progress:
                progress(kind, i + 1, len(items))
        seconds = time.perf_counter() - started
        scores: dict = {
            "tasks": len(items),
            "exact_match": _mean(
                exact_match(p, t.target) for p, t in zip(predictions, items, strict=True)
            ),
            "edit_similarity": _mean(
                edit_similarity(p, t.target) for p, t in zip(predictions, items, strict=True)
            ),
            "ms_per_task": round(1000 * seconds / max(1, len(items)), 1),
        }
        passed: list[bool] | None = None
        if kind in HUMANEVAL_SETS:
            passed = check_all(items, predictions, problems)
            scores["pass@1"] = _mean(passed)
            scores["problems"] = len({t.extra["problem"] for t in items})
        report["sets"][kind] = scores
        rows = [
            {"id": t.task_id, "target": t.target, "prediction": p}
            for t, p in zip(items, predictions, strict=True)
        ]
        for row, ok in zip(rows, passed or [], strict=False):
            row["passed"] = ok
        for row, confidence in zip(rows, confidences, strict=True):
            if confidence is not None:
                row["confidence"] = round(confidence, 4)
        if passed is not None and any(c is not None for c in confidences):
            scores["confidence_curve"] = confidence_curve(confidences, passed)
        # What the reference check would hold back were each answer a lone automatic one.
        held = [
            made_only_of_unknown_names(p, t.text, t.language) if p else False
            for p, t in zip(predictions, items, strict=True)
        ]
        scores["held_back"] = sum(held)
        if passed is not None:
            scores["held_back_passed"] = sum(h and ok for h, ok in zip(held, passed, strict=True))
        for row, hold in zip(rows, held, strict=True):
            row["held_back"] = hold
        report.setdefault("predictions", {})[kind] = rows
    return report


def score_files(model: Path | str, files: list[dict], limit: int, seed: int) -> dict:
    """Next-line and middle-line scores of a model directory (or adapter folder) on some source
    files (`limit` tasks a kind, spread over the files, at least 3 a file) without the timings:
    `codecomp finetune`'s before/after."""
    per_file = max(3, -(-limit // max(1, len(files))))
    tasks = {
        kind: line_tasks_from_files(files, kind=kind, per_file=per_file, limit=limit, seed=seed)
        for kind in ("next-line", "fim-line")
    }
    completer = ModelCompleter(str(model))
    try:
        report = evaluate(completer, tasks)
    finally:
        completer.close()
    return {
        kind: {k: v for k, v in s.items() if k != "ms_per_task"}
        | {"predictions": report["predictions"][kind]}
        for kind, s in report["sets"].items()
    }


def _mean(values) -> float:  # noqa: ANN001 - any iterable of bools/floats
    values = list(values)
    return round(sum(float(v) for v in values) / len(values), 4) if values else 0.0


SET_TITLES = {
    "humaneval": "HumanEval line",
    "humaneval-typed": "HumanEval line, first word typed,",
    "humaneval-block": "HumanEval multi-line",
    "humaneval-span": "HumanEval span",
}


def render_table(reports: list[dict]) -> str:
    order = (*HUMANEVAL_SETS, "next-line", "fim-line")
    kinds = [k for k in order if any(k in r["sets"] for r in reports)]
    header = ["model"]
    for kind in kinds:
        title = SET_TITLES.get(kind)
        header += (
            [f"{title} pass@1", f"{title} EM"] if title else [f"{kind} EM", f"{kind} edit sim."]
        )
    header.append("ms / completion")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for report in reports:
        row = [report["completer"]]
        times = []
        for kind in kinds:
            s = report["sets"].get(kind)
            if s is None:
                row += ["–", "–"]
                continue
            times.append(s["ms_per_task"])
            if kind in SET_TITLES:
                row += [f"{100 * s['pass@1']:.1f}%", f"{100 * s['exact_match']:.1f}%"]
            else:
                row += [f"{100 * s['exact_match']:.1f}%", f"{s['edit_similarity']:.3f}"]
        row.append(f"{sum(times) / len(times):.0f}" if times else "–")
        lines.append("| " + " | ".join(row) + " |")
    counts = {k: next(r["sets"][k]["tasks"] for r in reports if k in r["sets"]) for k in kinds}
    lines.append("")
    lines.append("Tasks: " + ", ".join(f"{k} {n}" for k, n in counts.items()) + ".")
    held = [
        f"{r['completer']} {k} {s['held_back']} ({s.get('held_back_passed', '?')} passed)"
        for r in reports
        for k, s in r["sets"].items()
        if s.get("held_back")
    ]
    curves = [
        (r["completer"], k, s["confidence_curve"])
        for r in reports
        for k, s in r["sets"].items()
        if s.get("confidence_curve")
    ]
    for completer, kind, curve in curves:
        lines.append("")
        lines.append(
            f"`minConfidence` on {completer}, {kind} (automatic requests would show this share, "
            "at this pass rate):"
        )
        lines.append("")
        lines.append("| minConfidence | shown | pass rate of shown | passing answers hidden |")
        lines.append("|---|---|---|---|")
        for point in curve:
            lines.append(
                f"| {point['threshold']:g} | {100 * point['shown']:.1f}% | "
                f"{100 * point['pass_rate_shown']:.1f}% | {point['passing_hidden']} |"
            )
    if held:
        lines.append(
            "Answers the reference check would hold back as lone automatic suggestions (made "
            "only of names nothing defines): " + "; ".join(held) + "."
        )
    return "\n".join(lines) + "\n"


def save(reports: list[dict], out: Path) -> None:
    """The reports as JSON; gzipped when the name ends in .gz (as benchmarks/results keeps them)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(reports, indent=1).encode()
    out.write_bytes(gzip.compress(data, mtime=0) if out.suffix == ".gz" else data)
