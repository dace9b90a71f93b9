"""Decode speed per precision and with speculative decoding, on the engine's own path.

For each variant the model is loaded as the server loads it (`quantization` none / int8 / auto),
then a warm cache of the prompt (a window of a stdlib file, as a completion prompt would be) and
greedy decoding of `--tokens` tokens, `--runs` times at different cursor positions; reported:
prefill ms, decode ms per generated token, forward passes per token, draft acceptance. Variants
run one after another in one process, so a busier moment of the machine shows up as spread.

    python benchmarks/decode.py --model qwen2.5-coder-0.5b --out benchmarks/results/decode-qwen2.5-coder-0.5b.md
"""

from __future__ import annotations

import argparse
import sys
import sysconfig
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine_description, markdown_table, summarize

VARIANTS = (
    ("dense, plain", "none", False),
    ("dense, speculative", "none", True),
    ("int8, plain", "int8", False),
    ("int8, speculative", "int8", True),
    ("auto (calibrated), speculative", "auto", True),
)


def prompts(tokenizer, count: int, length: int) -> list[list[int]]:
    source = (Path(sysconfig.get_paths()["stdlib"]) / "argparse.py").read_text()
    ids = tokenizer(source)["input_ids"]
    step = max(1, (len(ids) - length) // max(1, count))
    return [ids[i * step : i * step + length] for i in range(count)]


def run_variant(model: str, quantization: str, speculative: bool, args) -> dict:
    from dataclasses import replace

    from codecomp_lsp.engine.decoder import GenerationRequest
    from codecomp_lsp.engine.engine import Engine
    from codecomp_lsp.settings import Settings

    engine = Engine()
    settings = replace(Settings(), model=model, quantization=quantization, speculative=speculative)
    engine.load(settings)
    engine.ready.wait()
    if engine.state != "ready" or engine.loaded is None:
        raise SystemExit(f"model did not load: {engine.error}")
    loaded, decoder = engine.require()
    rows = []
    for i, ids in enumerate(prompts(loaded.tokenizer, args.runs, args.prompt_tokens)):
        request = GenerationRequest(key=f"p{i}", prompt_ids=ids, max_new_tokens=args.tokens)
        engine.worker.submit(lambda r=request: decoder.run(r)).future.result()  # warm the cache
        started = time.perf_counter()
        again = GenerationRequest(key=request.key, prompt_ids=ids, max_new_tokens=args.tokens)
        result = engine.worker.submit(lambda r=again: decoder.run(r)).future.result()
        wall = (time.perf_counter() - started) * 1000
        generated = max(1, result.generated_tokens)
        rows.append(
            {
                "decode_ms_per_token": (wall - result.prefill_ms) / generated,
                "forwards_per_token": result.forwards / generated,
                "drafted": result.drafted_tokens,
                "accepted": result.accepted_tokens,
                "tokens": result.candidates[0].token_ids,
            }
        )
    precision = engine.precision.describe() if engine.precision else {}
    engine.worker.shutdown(wait=True)
    return {"rows": rows, "precision": precision, "dtype": str(loaded.dtype)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--prompt-tokens", type=int, default=1024)
    parser.add_argument("--out")
    args = parser.parse_args()
    results = {}
    for label, quantization, speculative in VARIANTS:
        results[label] = run_variant(args.model, quantization, speculative, args)
        ms = summarize(r["decode_ms_per_token"] for r in results[label]["rows"])
        print(f"{label}: {ms['p50']:.1f} ms/token", file=sys.stderr)
    base = summarize(r["decode_ms_per_token"] for r in results["dense, plain"]["rows"])["p50"]
    table = []
    for label, _, _ in VARIANTS:
        rows = results[label]["rows"]
        ms = summarize(r["decode_ms_per_token"] for r in rows)
        drafted = sum(r["drafted"] for r in rows)
        accepted = sum(r["accepted"] for r in rows)
        plain = f"{label.split(',')[0]}, plain"
        if label.endswith("speculative") and plain in results:
            same = all(
                a["tokens"] == b["tokens"]
                for a, b in zip(rows, results[plain]["rows"], strict=True)
            )
            identical = "yes" if same else "no"
        else:
            identical = "-"
        table.append(
            [
                label,
                f"{ms['p50']:.1f}",
                f"{ms['max']:.1f}",
                f"{base / ms['p50']:.2f}×" if ms["p50"] else "-",
                f"{summarize(r['forwards_per_token'] for r in rows)['p50']:.2f}",
                f"{accepted}/{drafted}" if drafted else "-",
                identical,
            ]
        )
    auto = results["auto (calibrated), speculative"]["precision"]
    report = (
        f"# Decode speed: {args.model}\n\n{machine_description()}; {time.strftime('%Y-%m-%d')}; "
        f"{args.runs} prompts of {args.prompt_tokens} tokens from argparse.py, {args.tokens} "
        f"tokens greedy each, prompt cached (decode only).\n\n"
        + markdown_table(
            [
                "variant",
                "decode ms/token p50",
                "max",
                "speed-up vs dense plain",
                "forwards/token",
                "drafts accepted",
                "same tokens as its plain run",
            ],
            table,
        )
        + f"\n\n`auto` chose: {auto}\n"
    )
    print(report)
    if args.out:
        Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
