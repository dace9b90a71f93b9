"""`codecomp`: the command line — a completion at a file position, with its timings."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from codecomp_lsp import __version__
from codecomp_lsp.evaluation.command import add_eval_command


def _complete(args: argparse.Namespace) -> int:
    from codecomp_lsp.context.languages import language_for
    from codecomp_lsp.engine.engine import Engine
    from codecomp_lsp.features.completion import (
        CompletionQuery,
        CompletionService,
        DocumentSnapshot,
    )
    from codecomp_lsp.settings import parse_settings

    path = Path(args.file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"codecomp: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    if b"\x00" in raw[:65536]:
        print(f"codecomp: {path} looks binary; not completing", file=sys.stderr)
        return 2
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not 0 <= args.line < len(lines):
        print(f"codecomp: line {args.line} out of range (0..{len(lines) - 1})", file=sys.stderr)
        return 2
    character = len(lines[args.line]) if args.character is None else args.character
    if not 0 <= character <= len(lines[args.line]):
        print(
            f"codecomp: character {character} out of range (0..{len(lines[args.line])})",
            file=sys.stderr,
        )
        return 2

    raw_settings = {
        "model": args.model,
        "device": args.device,
        "dtype": args.dtype,
        "candidates": args.candidates,
    }
    raw_settings |= {"maxNewTokens": args.max_new_tokens} if args.max_new_tokens else {}
    raw_settings["timeBudgetMs"] = args.time_budget_ms  # someone at a prompt waits for the answer
    if args.multiline:
        raw_settings["multiline"] = args.multiline
    parsed = parse_settings({k: v for k, v in raw_settings.items() if v is not None})
    for message in parsed.errors:
        print(f"codecomp: {message}", file=sys.stderr)
    settings = parsed.settings
    from codecomp_lsp.modelstore.progress import ProgressBar

    engine = Engine()
    bar = ProgressBar(settings.model or "the default model")
    engine.load(settings, on_progress=lambda s, d, t: s != "load" and bar(s, d, t))
    engine.ready.wait()
    bar.finish_line()
    if engine.state != "ready":
        print(f"codecomp: {engine.error}", file=sys.stderr)
        return 1
    if engine.error:  # the chosen model failed; the built-in one answers
        print(f"codecomp: {engine.error}", file=sys.stderr)
    service = CompletionService(engine, lambda: settings)
    spec = language_for(None, str(path))
    doc = DocumentSnapshot(path.resolve().as_uri(), text, spec.name if spec else None)
    query = CompletionQuery(
        doc=doc,
        line=args.line,
        character=character,
        candidates=settings.candidates,
        automatic=False,
        feature="cli",
    )
    started = time.perf_counter()
    outcome = engine.submit(lambda: service.complete(query), key=doc.uri).future.result()
    elapsed = (time.perf_counter() - started) * 1000
    result = outcome.result
    info = engine.describe()
    report = {
        "file": str(path),
        "line": args.line,
        "character": character,
        "model": info["model"],
        "modelReason": info["choiceReason"],
        "modelError": info["error"],
        "device": info["device"],
        "dtype": info["dtype"],
        "template": info["template"],
        "multiline": outcome.context.multiline if outcome.context else None,
        "suggestions": [s.text for s in outcome.suggestions],
        "reason": outcome.reason,
        "promptTokens": result.prompt_tokens if result else 0,
        "reusedTokens": result.reused_tokens if result else 0,
        "generatedTokens": result.generated_tokens if result else 0,
        "firstTokenMs": round(result.first_token_ms, 1) if result else None,
        "latencyMs": round(elapsed, 1),
        "loadSeconds": round(engine.loaded.load_seconds, 2) if engine.loaded else None,
    }
    engine.worker.shutdown(wait=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if not outcome.suggestions:
        print(f"(no suggestion: {outcome.reason or 'empty'})")
    for i, suggestion in enumerate(outcome.suggestions):
        head = lines[args.line][:character]
        print(f"--- suggestion {i + 1} ---")
        print(
            f"{head}\x1b[2m{suggestion.text}\x1b[0m"
            if sys.stdout.isatty()
            else f"{head}{suggestion.text}"
        )
    print(
        f"--- {report['model']} on {report['device']} ({report['dtype']}, {report['template']} template): "
        f"{report['promptTokens']} prompt tokens, {report['reusedTokens']} reused, "
        f"{report['generatedTokens']} generated, first token {report['firstTokenMs']} ms, "
        f"total {report['latencyMs']} ms (model load {report['loadSeconds']} s; "
        f"{report['modelReason']})"
    )
    return 0


def _data(args: argparse.Namespace) -> int:
    from codecomp_lsp.training.data.build import build_corpus

    logging.getLogger("codecomp_lsp").setLevel(logging.INFO)
    stats = build_corpus(Path(args.out), set(args.languages.split(",")))
    print((Path(args.out) / "report.md").read_text())
    return 0 if sum(stats.kept_files.values()) else 1


def _recipe(args: argparse.Namespace):  # noqa: ANN202 - lazy import keeps `--help` fast
    from dataclasses import replace

    from codecomp_lsp.training.recipes import FromScratch, ModelShape

    shape = ModelShape()
    shape = replace(
        shape,
        **{
            k: v
            for k, v in {
                "hidden_size": args.hidden_size,
                "layers": args.layers,
                "context": args.context,
                "vocab_size": args.vocab_size,
            }.items()
            if v is not None
        },
    )
    recipe = FromScratch(shape=shape)
    overrides = {"total_tokens": args.tokens, "batch_size": args.batch_size, "lr": args.lr}
    return replace(recipe, **{k: v for k, v in overrides.items() if v is not None})


def _train(args: argparse.Namespace) -> int:
    from codecomp_lsp.training.trainer import export_model, train_run

    recipe = _recipe(args)
    result = train_run(
        Path(args.corpus),
        Path(args.run_dir),
        recipe,
        device=args.device,
        max_minutes=args.max_minutes,
    )
    print(json.dumps(result, indent=1))
    if args.export:
        export_model(Path(args.run_dir), Path(args.export), recipe)
        print(f"exported to {args.export}")
    return 0


def _finetune(args: argparse.Namespace) -> int:
    from codecomp_lsp.engine.loader import default_model_path
    from codecomp_lsp.evaluation.run import score_files
    from codecomp_lsp.training.finetune import finetune
    from codecomp_lsp.training.recipes import FineTune, LoRA

    repo = Path(args.repo).resolve()
    from codecomp_lsp.modelstore.store import ModelStoreError

    try:
        base, base_name = _finetune_base(args.base) if args.base else (default_model_path(), None)
    except (OSError, ValueError, ModelStoreError) as exc:
        print(f"codecomp: {exc}", file=sys.stderr)
        return 2
    if base is None or not base.is_dir():
        print("codecomp: no base model directory (pass --base)", file=sys.stderr)
        return 2
    out = (
        Path(args.out)
        if args.out
        else Path.home() / ".cache" / "codecomp" / "finetuned" / repo.name
    )
    if args.feedback and not Path(args.feedback).expanduser().is_file():
        print(f"codecomp: no feedback log at {args.feedback}", file=sys.stderr)
        return 2
    tuned = {
        "minutes": args.minutes,
        "eval_limit": args.eval_limit,
        **{k: v for k, v in (("context", args.context), ("batch_size", args.batch_size)) if v},
        **({"lr": args.lr} if args.lr else {}),
    }
    recipe = (
        LoRA(**tuned, merge=args.merge, **({"rank": args.rank} if args.rank else {}))
        if args.lora
        else FineTune(**tuned)
    )
    try:
        report = finetune(
            repo,
            base,
            out,
            recipe,
            log=lambda m: print(m, file=sys.stderr),
            score=score_files if args.eval_limit > 0 else None,
            feedback=Path(args.feedback).expanduser() if args.feedback else None,
            base_name=base_name,
        )
    except ValueError as exc:
        print(f"codecomp: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1))
    print(f"\nfine-tuned model: {out}\nuse it with: codecomp-lsp --model {out}")
    return 0


def _finetune_base(spec: str) -> tuple[Path, str | None]:
    """A `--base` folder, or a catalog name (pulled first if need be) that a saved adapter then
    names as its base, so it serves on any machine that has that model."""
    from codecomp_lsp.engine.loader import pick_device, pick_dtype
    from codecomp_lsp.modelstore.catalog import load_catalog
    from codecomp_lsp.modelstore.pull import pull
    from codecomp_lsp.modelstore.resolve import choose_model

    if load_catalog().get(spec) is None:
        return Path(spec).expanduser(), None
    device = pick_device("auto")
    choice = choose_model(spec, device.type)
    if choice.needs_pull and choice.entry is not None:
        print(f"pulling {spec}", file=sys.stderr)
        return pull(choice.entry, pick_dtype("auto", device)), spec
    return Path(choice.spec), spec


def _add_recipe_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tokens", type=int, help="training tokens (sets the schedule length)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--hidden-size", type=int)
    parser.add_argument("--layers", type=int)
    parser.add_argument("--context", type=int)
    parser.add_argument("--vocab-size", type=int)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codecomp", description="codecomp command line")
    parser.add_argument("--version", action="version", version=f"codecomp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    from codecomp_lsp import models_cli as model_commands

    model_commands.add_parser(sub)
    complete = sub.add_parser(
        "complete", help="print the completion at FILE:LINE:CHARACTER (0-based)"
    )
    complete.add_argument("file")
    complete.add_argument("--line", type=int, required=True, help="0-based line")
    complete.add_argument(
        "--character", type=int, help="0-based column in characters (default: end of line)"
    )
    complete.add_argument(
        "--model",
        help="catalog name, model directory, .gguf file or hub id "
        "(default: the best pulled catalog model, else codecomp-tiny)",
    )
    complete.add_argument("--device", default=None)
    complete.add_argument("--dtype", default=None)
    complete.add_argument("--candidates", type=int, default=1)
    complete.add_argument("--max-new-tokens", type=int, default=None)
    complete.add_argument(
        "--time-budget-ms",
        type=int,
        default=0,
        help="stop decoding after this long (default 0: the whole answer; a cold first forward "
        "on a slow CPU can take longer than the editor's 5 s budget)",
    )
    complete.add_argument("--multiline", choices=["auto", "always", "never"], default=None)
    complete.add_argument("--json", action="store_true", help="print a JSON report")
    complete.set_defaults(func=_complete)

    data = sub.add_parser("data", help="build the training corpus (downloads from PyPI and npm)")
    data.add_argument("--out", default="data/corpus")
    data.add_argument("--languages", default="python,javascript,typescript")
    data.set_defaults(func=_data)

    train = sub.add_parser("train", help="train codecomp-tiny (resumes from RUN_DIR)")
    train.add_argument("--corpus", default="data/corpus")
    train.add_argument("--run-dir", default="data/run")
    train.add_argument("--device", default=None, help="cuda or cpu (default: cuda when present)")
    train.add_argument("--max-minutes", type=float, help="stop (with a checkpoint) after this long")
    train.add_argument("--export", help="write the trained model here as a Hugging Face model")
    _add_recipe_args(train)
    train.set_defaults(func=_train)

    add_eval_command(sub)

    tune = sub.add_parser("finetune", help="adapt the model to a repository's own code")
    tune.add_argument("repo", help="the repository folder")
    tune.add_argument(
        "--base",
        help="a catalog name (e.g. qwen2.5-coder-0.5b, pulled if need be) or a model directory "
        "to start from (default: codecomp-tiny)",
    )
    tune.add_argument(
        "--out", help="where to write the result (default: ~/.cache/codecomp/finetuned/NAME)"
    )
    tune.add_argument("--minutes", type=float, default=5.0, help="training time budget")
    tune.add_argument(
        "--lora",
        action="store_true",
        help="train a LoRA adapter, saved alone (serve it with --model OUT)",
    )
    tune.add_argument(
        "--merge",
        action="store_true",
        help="with --lora: save a full model with the adapter merged",
    )
    tune.add_argument("--rank", type=int, help="with --lora: the adapter's rank (default 16)")
    tune.add_argument("--context", type=int, help="training window in tokens (default 512)")
    tune.add_argument("--batch-size", type=int, help="windows per step (default 4)")
    tune.add_argument("--lr", type=float, help="peak learning rate (default 3e-4)")
    tune.add_argument(
        "--eval-limit",
        type=int,
        default=100,
        help="held-out completion tasks per kind scored before and after (0: none)",
    )
    tune.add_argument(
        "--feedback",
        metavar="LOG",
        help="a feedbackLog JSONL file: accepted suggestions become training examples, "
        "rejected ones held-out negatives",
    )
    tune.set_defaults(func=_finetune)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    if args.command == "models":
        from codecomp_lsp.models_cli import run

        sys.exit(run(args))
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
