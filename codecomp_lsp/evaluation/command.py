"""`codecomp eval`: its options and what it runs (the harness itself is in `run`)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path


def run_eval(args: argparse.Namespace) -> int:
    from codecomp_lsp.evaluation.ablation import render_ablation, variants
    from codecomp_lsp.evaluation.run import EvalPlan, build_tasks, evaluate, render_table, save

    heldout = Path(args.heldout) if args.heldout else None
    if heldout is not None and not heldout.exists():
        print(
            f"codecomp: no held-out split at {heldout} (build it with `codecomp data`); "
            "evaluating HumanEval only",
            file=sys.stderr,
        )
        heldout = None
    plan = EvalPlan(
        heldout=heldout,
        heldout_limit=args.heldout_limit,
        humaneval_limit=args.humaneval_limit,
        languages=tuple(args.languages.split(",")),
        humaneval_sample=args.humaneval_sample,
        block_limit=args.block_limit,
        span_limit=args.span_limit,
        typed_limit=args.typed_limit,
    )
    try:
        extra_rows = variants(args.ablate, args.budgets, args.variant)
    except ValueError as exc:
        print(f"codecomp: {exc}", file=sys.stderr)
        return 2
    tasks = build_tasks(plan)
    reports = []
    ablations: list[str] = []
    for spec in args.models.split(","):
        try:
            completer = _completer(spec, args)
        except (OSError, RuntimeError) as exc:
            print(f"codecomp: cannot evaluate {spec}: {exc}", file=sys.stderr)
            return 2
        print(f"evaluating {completer.name} …", file=sys.stderr)

        def progress(kind: str, done: int, total: int) -> None:
            if done == total or done % 50 == 0:
                print(f"  {kind}: {done}/{total}", file=sys.stderr)

        base = evaluate(completer, tasks, progress)
        reports.append(base)
        if extra_rows and hasattr(completer, "configure"):
            rows = []
            for label, changes in extra_rows:
                completer.configure(label, **changes)
                print(f"evaluating {completer.name} …", file=sys.stderr)
                rows.append(evaluate(completer, tasks, progress))
            reports += rows
            ablations.append(render_ablation(base, rows))
        if hasattr(completer, "close"):
            completer.close()
    table = render_table(reports)
    print(table)
    for text in ablations:
        print(text)
    if args.report:
        Path(args.report).write_text(table + "\n" + "\n".join(ablations), encoding="utf-8")
    if args.out:
        save(reports, Path(args.out))
    return 0


def _completer(spec: str, args: argparse.Namespace):  # noqa: ANN202
    if spec == "ngram":
        from codecomp_lsp.evaluation.ngram import NgramCompleter

        if not (Path(args.ngram_run) / "train.bin").exists():
            raise FileNotFoundError(
                f"the n-gram baseline needs {args.ngram_run}/train.bin (made by `codecomp train`)"
            )
        return NgramCompleter.from_run(Path(args.ngram_run))
    if spec.startswith("raw:"):
        from codecomp_lsp.evaluation.raw import RawCompleter

        return RawCompleter(
            spec[4:] or None, device=args.device or "auto", quantization=args.quantization
        )
    from codecomp_lsp.evaluation.completers import ModelCompleter

    completer = ModelCompleter(
        None if spec == "default" else spec,
        device=args.device or "auto",
        server_defaults=args.server_defaults,
        quantization=args.quantization,
    )
    if args.candidates > 1:
        completer.base = replace(completer.base, candidates=args.candidates)
    if args.setting:
        from codecomp_lsp.settings import parse_settings

        parsed = parse_settings(dict(args.setting), completer.base)
        if parsed.errors:
            raise RuntimeError("; ".join(parsed.errors))
        completer.base = parsed.settings
    return completer


def _setting(text: str) -> tuple[str, object]:
    """NAME=JSON (a bare word is a string): `multiline=always`, `maxNewTokens=96`."""
    import json

    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def add_eval_command(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser("eval", help="score models on held-out code and HumanEval infilling")
    evaluate.add_argument(
        "--models",
        default="default",
        help="comma-separated: default (no model setting: the best pulled model, else "
        "codecomp-tiny), ngram, a catalog name, or a model directory / .gguf; raw:NAME is that "
        "model alone (its FIM format, greedy, no context windows or post-processing)",
    )
    evaluate.add_argument(
        "--quantization",
        default="auto",
        choices=["auto", "none", "int8", "int4"],
        help="weight precision",
    )
    evaluate.add_argument(
        "--server-defaults",
        action="store_true",
        help="complete with a server's default settings (multi-line where the syntax says, the "
        "5 s time budget) instead of single-line with the budget lifted",
    )
    evaluate.add_argument(
        "--heldout",
        default="data/corpus/heldout.jsonl.gz",
        help="held-out split from `codecomp data`, or a folder of source files; '' to skip",
    )
    evaluate.add_argument("--heldout-limit", type=int, default=500)
    evaluate.add_argument(
        "--humaneval-limit", type=int, default=None, help="first N single-line tasks; 0 skips"
    )
    evaluate.add_argument(
        "--humaneval-sample", type=int, default=None, help="a seeded sample of N single-line tasks"
    )
    evaluate.add_argument(
        "--block-limit", type=int, default=0, help="N multi-line HumanEval tasks (seeded sample)"
    )
    evaluate.add_argument(
        "--typed-limit",
        type=int,
        default=0,
        help="N single-line HumanEval tasks with the line's first word typed (seeded sample)",
    )
    evaluate.add_argument(
        "--span-limit", type=int, default=0, help="N random-span HumanEval tasks (seeded sample)"
    )
    evaluate.add_argument(
        "--ablate",
        default="",
        help="'all' or comma-separated pipeline stages: also score each switched off in turn",
    )
    evaluate.add_argument(
        "--budgets", default="", help="comma-separated seconds: also score at these time budgets"
    )
    evaluate.add_argument(
        "--candidates", type=int, default=1, help="candidates a completion ranks (parse check)"
    )
    evaluate.add_argument(
        "--setting",
        action="append",
        type=_setting,
        default=[],
        help="NAME=VALUE: a server setting for the model rows (repeatable), e.g. multiline=always",
    )
    evaluate.add_argument(
        "--variant",
        action="append",
        type=_setting,
        default=[],
        help="NAME=VALUE: also score each model row with this setting changed (repeatable), "
        "e.g. candidates=1 beside --candidates 3",
    )
    evaluate.add_argument("--report", help="write the tables (and ablation examples) as Markdown")
    evaluate.add_argument("--languages", default="python")
    evaluate.add_argument(
        "--ngram-run",
        default="data/run",
        help="run dir whose tokenizer and train.bin the n-gram uses",
    )
    evaluate.add_argument("--device", default=None)
    evaluate.add_argument("--out", help="write predictions and scores as JSON")
    evaluate.set_defaults(func=run_eval)
