"""Merge `codecomp eval --out` JSON files (plain or .gz) into one markdown quality table.

python benchmarks/quality.py benchmarks/results/eval-*.json.gz --out benchmarks/results/quality.md
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from codecomp_lsp.evaluation.run import HUMANEVAL_SETS, render_table
from codecomp_lsp.evaluation.tasks import edit_similarity, exact_match


def load(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return json.load(handle)


def rescore(predictions: list[dict], limit: int, ms_per_task: float) -> dict:
    """Scores of the first `limit` line tasks (task sampling is deterministic, so the first N
    tasks of a longer run are exactly the tasks of a shorter one)."""
    chosen = predictions[:limit]
    n = len(chosen)
    return {
        "tasks": n,
        "exact_match": round(sum(exact_match(p["prediction"], p["target"]) for p in chosen) / n, 4),
        "edit_similarity": round(
            sum(edit_similarity(p["prediction"], p["target"]) for p in chosen) / n, 4
        ),
        "ms_per_task": ms_per_task,
    }


def merge(paths: list[Path], heldout_limit: int | None = None) -> list[dict]:
    """One report per completer, its task sets gathered from every file."""
    merged: dict[str, dict] = {}
    for path in paths:
        for report in load(path):
            name = report["completer"]
            into = merged.setdefault(name, {"completer": name, "sets": {}})
            for kind, scores in report["sets"].items():
                if heldout_limit is not None and kind not in HUMANEVAL_SETS:
                    predictions = report["predictions"][kind]
                    scores = rescore(predictions, heldout_limit, scores["ms_per_task"])
                into["sets"][kind] = scores
    return list(merged.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--heldout-limit", type=int, help="score the first N held-out line tasks")
    args = parser.parse_args()
    table = render_table(merge(args.files, args.heldout_limit))
    print(table)
    if args.out:
        args.out.write_text(table)


if __name__ == "__main__":
    main()
