"""Variants of one model's pipeline scored on the same tasks: each stage switched off in turn,
other time budgets, more candidates — and the tasks each change wins or loses, so a stage's
row comes with real examples of what it does."""

from __future__ import annotations

from collections.abc import Sequence

from codecomp_lsp.evaluation.tasks import exact_match
from codecomp_lsp.settings import parse_settings
from codecomp_lsp.stages import STAGES, parse_stages

MAX_EXAMPLE_CHARS = 120


def variants(
    ablate: str, budgets: str, settings: Sequence[tuple[str, object]] = ()
) -> list[tuple[str, dict]]:
    """(label, settings changes) per variant: `ablate` is "all" or comma-separated stage names;
    `budgets` comma-separated seconds (each a `timeBudgetMs`); `settings` one row per
    (name, value) changed."""
    out: list[tuple[str, dict]] = []
    if ablate:
        stages = STAGES if ablate == "all" else sorted(parse_stages(ablate.split(",")))
        out += [(f"without {stage.value}", {"disabledStages": (stage,)}) for stage in stages]
    for seconds in filter(None, (b.strip() for b in budgets.split(","))):
        out.append((f"budget {seconds} s", {"timeBudgetMs": int(float(seconds) * 1000)}))
    for name, value in settings:
        errors = parse_settings({name: value}).errors
        if errors:
            raise ValueError("; ".join(errors))
        out.append((f"with {name}={value}", {name: value}))
    return out


def _short(text: str) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= MAX_EXAMPLE_CHARS else text[: MAX_EXAMPLE_CHARS - 1] + "…"


def _good(row: dict) -> bool:
    """Passed its tests where a set runs them, else an exact match."""
    if "passed" in row:
        return bool(row["passed"])
    return exact_match(row["prediction"], row["target"])


def changed_tasks(base: dict, variant: dict, kind: str) -> tuple[list[dict], list[dict]]:
    """Tasks the variant loses (the base got them right, the variant does not) and wins."""
    rows = {r["id"]: r for r in base["predictions"].get(kind, [])}
    lost, won = [], []
    for row in variant["predictions"].get(kind, []):
        ref = rows.get(row["id"])
        if ref is None:
            continue
        if _good(ref) and not _good(row):
            lost.append({**row, "base": ref["prediction"]})
        elif _good(row) and not _good(ref):
            won.append({**row, "base": ref["prediction"]})
    return lost, won


def render_ablation(base: dict, others: list[dict], examples: int = 3) -> str:
    """Per variant and task set: pass@1 (or EM) against the base, the tasks lost and won, and a
    few of each with both predictions."""
    lines = [
        "| variant | set | pass@1 | EM | Δ pass@1 | lost | won |",
        "|---|---|---|---|---|---|---|",
    ]
    detail: list[str] = []
    for variant in [base, *others]:
        for kind, scores in variant["sets"].items():
            ref = base["sets"][kind]
            score = scores.get("pass@1", scores["exact_match"])
            delta = score - ref.get("pass@1", ref["exact_match"])
            lost, won = changed_tasks(base, variant, kind) if variant is not base else ([], [])
            lines.append(
                f"| {variant['completer']} | {kind} | {100 * score:.1f}% "
                f"| {100 * scores['exact_match']:.1f}% | {100 * delta:+.1f} | {len(lost)} "
                f"| {len(won)} |"
            )
            for title, rows in (("lost", lost), ("won", won)):
                for row in rows[:examples]:
                    detail.append(
                        f"- {variant['completer']}, {kind} {title} `{row['id']}`: target "
                        f"`{_short(row['target'])}`; full pipeline `{_short(row['base'])}`; "
                        f"variant `{_short(row['prediction'])}`"
                    )
    return "\n".join(lines) + "\n\n" + "\n".join(detail) + ("\n" if detail else "")
