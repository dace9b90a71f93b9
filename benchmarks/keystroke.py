"""Keystroke latency with and without KV-cache reuse, measured in one run.

Erases a real line deep in a real source file and types it back one character at a time, asking for
a completion after every keystroke through the same path the server uses (context → prompt → engine
→ post-processing). Each keystroke is run warm (prefix cache on) and then cold (reuse off) at the
same position, so the ratio compares like with like on the same machine at the same moment.

    python benchmarks/keystroke.py --model PATH [--file F --line N] [--out results/x.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sysconfig
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    from transformers.utils import logging as hf_logging

    from codecomp_lsp.engine.engine import Engine
    from codecomp_lsp.features.completion import (
        CompletionQuery,
        CompletionService,
        DocumentSnapshot,
    )
    from codecomp_lsp.settings import Settings

    hf_logging.disable_progress_bar()
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument(
        "--file", default=str(Path(sysconfig.get_paths()["stdlib"]) / "argparse.py")
    )
    parser.add_argument("--line", type=int, default=1400, help="0-based line to retype")
    parser.add_argument("--prompt-tokens", type=int, default=1536)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--keystrokes", type=int, default=40)
    parser.add_argument(
        "--cold-every", type=int, default=5, help="run a cold request every N keystrokes"
    )
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--out")
    args = parser.parse_args()

    text = Path(args.file).read_text(encoding="utf-8")
    lines = text.split("\n")
    target = lines[args.line]
    indent = target[: len(target) - len(target.lstrip())]
    typed = target[len(indent) :][: args.keystrokes]
    settings = Settings(
        model=args.model,
        dtype=args.dtype,
        maxPromptTokens=args.prompt_tokens,
        maxNewTokens=args.max_new_tokens,
        multiline="never",
        candidates=1,
        timeBudgetMs=0,
    )
    engine = Engine()
    started = time.perf_counter()
    engine.load(settings)
    engine.ready.wait()
    if engine.state != "ready":
        raise SystemExit(engine.error)
    load_s = time.perf_counter() - started
    warm_service = CompletionService(engine, lambda: settings)
    cold_settings = replace(settings, kvReuse=False)
    cold_service = CompletionService(engine, lambda: cold_settings)
    uri = Path(args.file).resolve().as_uri()

    def ask(service: CompletionService, partial: str, typed_ahead: bool = False):
        doc_lines = lines[: args.line] + [indent + partial] + lines[args.line + 1 :]
        doc = DocumentSnapshot(uri, "\n".join(doc_lines), "python")
        query = CompletionQuery(doc, args.line, len(indent) + len(partial), automatic=False)
        t0 = time.perf_counter()
        if typed_ahead:  # as the server does: the suggestion on screen answers matching keystrokes
            hit = service.typed_ahead(query)
            if hit is not None:
                return hit, (time.perf_counter() - t0) * 1000
        outcome = engine.submit(lambda: service.complete(query), key=uri).future.result()
        return outcome, (time.perf_counter() - t0) * 1000

    # The first request of the session fills the cache: that is the cold start a user meets once.
    first, first_ms = ask(warm_service, "")
    warm_ms, warm_ttft, cold_ms, cold_ttft, all_ms = [], [], [], [], []
    prompt_tokens = reused_tokens = generated = hits = 0
    decode_ms_per_token = []
    for i in range(1, len(typed) + 1):
        outcome, ms = ask(warm_service, typed[:i], typed_ahead=True)
        all_ms.append(ms)
        if outcome.typed_ahead:
            hits += 1
            continue
        r = outcome.result
        warm_ms.append(ms)
        warm_ttft.append(r.first_token_ms)
        prompt_tokens += r.prompt_tokens
        reused_tokens += r.reused_tokens
        generated += r.generated_tokens
        if r.generated_tokens > 1:
            decode_ms_per_token.append((r.total_ms - r.first_token_ms) / (r.generated_tokens - 1))
        if len(warm_ms) % args.cold_every == 0:
            outcome_c, ms_c = ask(cold_service, typed[:i])
            cold_ms.append(ms_c)
            cold_ttft.append(outcome_c.result.first_token_ms)
    info = engine.describe()
    med = statistics.median
    rows = [
        ("model", info["model"]),
        ("device / dtype", f"{info['device']} / {info['dtype']}"),
        ("machine", f"{platform.machine()}, {os.cpu_count()} cores"),
        ("file / line", f"{Path(args.file).name}:{args.line}, {len(typed)} keystrokes"),
        ("prompt tokens per request", f"{first.result.prompt_tokens}"),
        ("model load", f"{load_s:.1f} s"),
        ("first request of the session (empty cache)", f"{first_ms:.0f} ms"),
        ("cold request, reuse off: p50 latency", f"{med(cold_ms):.0f} ms"),
        ("cold request, reuse off: p50 first token", f"{med(cold_ttft):.0f} ms"),
        ("keystrokes answered by typed-ahead (no model)", f"{hits}/{len(typed)}"),
        ("every keystroke: p50 / p95 latency", f"{med(all_ms):.1f} / {pct(all_ms, 95):.0f} ms"),
        (
            "warm keystroke running the model: p50 / p95",
            f"{med(warm_ms):.0f} / {pct(warm_ms, 95):.0f} ms",
        ),
        (
            "warm keystroke: p50 / p95 first token",
            f"{med(warm_ttft):.0f} / {pct(warm_ttft, 95):.0f} ms",
        ),
        ("warm ÷ cold, latency (p50, model keystrokes)", f"{med(warm_ms) / med(cold_ms):.3f}"),
        ("warm ÷ cold, latency (p50, every keystroke)", f"{med(all_ms) / med(cold_ms):.3f}"),
        ("warm ÷ cold, first token (p50)", f"{med(warm_ttft) / med(cold_ttft):.3f}"),
        (
            "prompt tokens served from the KV cache while typing",
            f"{reused_tokens / prompt_tokens:.1%} ({reused_tokens}/{prompt_tokens})",
        ),
        ("tokens generated per model keystroke (mean)", f"{generated / max(1, len(warm_ms)):.1f}"),
        (
            "decode ms/token (p50)",
            f"{med(decode_ms_per_token):.1f}" if decode_ms_per_token else "-",
        ),
    ]
    table = "| measure | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(
            f"# Keystroke latency: KV reuse on vs off\n\n`{' '.join(os.sys.argv)}`\n\n{table}\n",
            encoding="utf-8",
        )
    engine.worker.shutdown(wait=True)


if __name__ == "__main__":
    main()
