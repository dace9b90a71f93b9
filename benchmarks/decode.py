"""Decode speed per precision and with speculative decoding, on the engine's own path.

For each variant the model is loaded as the server loads it (`quantization` none / int8 / int4 / auto),
then a warm cache of the prompt (a window of a stdlib file, as a completion prompt would be) and
greedy decoding of `--tokens` tokens, `--runs` times at different cursor positions; reported:
prefill ms, decode ms per generated token, forward passes per token, draft acceptance. Variants
run one after another in one process, so a busier moment of the machine shows up as spread.

    python benchmarks/decode.py --model qwen2.5-coder-0.5b --out benchmarks/results/decode-qwen2.5-coder-0.5b.md
"""

from __future__ import annotations

import argparse
import json
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
    ("int4, plain", "int4", False),
    ("int4, speculative", "int4", True),
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


def run_transformers(model: str, args) -> dict:
    """Plain transformers: `generate()` greedy on the dense model as our loader loads it; decode
    time = a 1-token generate subtracted from a full one (both prefill the same prompt)."""
    import torch

    from codecomp_lsp.engine.loader import load_model
    from codecomp_lsp.modelstore.resolve import choose_model

    loaded = load_model(choose_model(model, "cpu").spec)
    rows = []
    for ids in prompts(loaded.tokenizer, args.runs, args.prompt_tokens):
        tensor = torch.tensor([ids])
        times = {}
        with torch.inference_mode():
            for new in (1, args.tokens):
                started = time.perf_counter()
                out = loaded.model.generate(
                    tensor, max_new_tokens=new, min_new_tokens=new, do_sample=False
                )
                times[new] = (time.perf_counter() - started) * 1000
        generated = out.shape[1] - len(ids)
        rows.append(
            {
                "decode_ms_per_token": (times[args.tokens] - times[1]) / max(1, generated - 1),
                "forwards_per_token": 1.0,
                "drafted": 0,
                "accepted": 0,
                "tokens": out[0, len(ids) :].tolist(),
            }
        )
    return {"rows": rows, "precision": {}, "dtype": str(loaded.dtype)}


def run_llama_server(binary: str, gguf: str, model: str, args) -> dict:
    """llama.cpp's llama-server on the GGUF: the same prompt tokens to /completion, greedy, its
    own per-token decode timing (`timings.predicted_per_token_ms`), the prompt cached first."""
    import urllib.request

    from benchmarks.peer_llamacpp import start_llama_server
    from codecomp_lsp.engine.loader import load_tokenizer
    from codecomp_lsp.modelstore.resolve import choose_model

    tokenizer, _ = load_tokenizer(choose_model(model, "cpu").spec)
    rows = []
    log_path = Path("benchmarks/work/llama-server-decode.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with start_llama_server(binary, gguf, log_path, ctx=4096, threads=2) as (url, _):
        for ids in prompts(tokenizer, args.runs, args.prompt_tokens):
            timings = {}
            for _ in range(2):  # the first run caches the prompt
                body = {
                    "prompt": ids,
                    "n_predict": args.tokens,
                    "temperature": 0,
                    "top_k": 1,
                    "cache_prompt": True,
                    "ignore_eos": True,
                }
                request = urllib.request.Request(
                    f"{url}/completion",
                    data=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=600) as response:
                    answer = json.load(response)
                timings = answer["timings"]
            rows.append(
                {
                    "decode_ms_per_token": timings["predicted_per_token_ms"],
                    "forwards_per_token": 1.0,
                    "drafted": 0,
                    "accepted": 0,
                    "tokens": answer.get("tokens", []),
                }
            )
    return {"rows": rows, "precision": {}, "dtype": Path(gguf).name}


def _peer_ratio(results: dict) -> str:
    peer = next((k for k in results if k.startswith("llama.cpp")), None)
    if peer is None:
        return ""
    theirs = summarize(r["decode_ms_per_token"] for r in results[peer]["rows"])["p50"]
    lines = ["\nOurs ÷ llama.cpp, decode ms/token p50 (same run; target ≤ 0.8):\n"]
    for label in results:
        if label != peer and not label.startswith("plain"):
            ours = summarize(r["decode_ms_per_token"] for r in results[label]["rows"])["p50"]
            lines.append(f"- {label}: {ours / theirs:.2f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--prompt-tokens", type=int, default=1024)
    parser.add_argument("--out")
    parser.add_argument(
        "--llama-server", help="llama-server binary (scripts/build-llama-server.sh)"
    )
    parser.add_argument("--gguf", help="the GGUF llama-server loads (the model's own file)")
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument(
        "--partial",
        help="JSON file of finished variants: read (they are not run again) and written after each",
    )
    args = parser.parse_args()
    partial = Path(args.partial) if args.partial else None
    results = json.loads(partial.read_text()) if partial and partial.exists() else {}
    jobs = [
        (label, lambda q=q, spec=spec: run_variant(args.model, q, spec, args))
        for label, q, spec in VARIANTS
    ]
    if not args.skip_transformers:
        jobs.append(
            ("plain transformers generate() (dense)", lambda: run_transformers(args.model, args))
        )
    if args.llama_server and args.gguf:
        jobs.append(
            (
                f"llama.cpp llama-server ({Path(args.gguf).name}, 2 threads)",
                lambda: run_llama_server(args.llama_server, args.gguf, args.model, args),
            )
        )
    variants = [(label, "", False) for label, _ in jobs]
    for label, job in jobs:
        if label not in results:
            results[label] = job()
            if partial:
                partial.parent.mkdir(parents=True, exist_ok=True)
                partial.write_text(json.dumps(results))
        ms = summarize(r["decode_ms_per_token"] for r in results[label]["rows"])
        print(f"{label}: {ms['p50']:.1f} ms/token", file=sys.stderr)
    base = summarize(r["decode_ms_per_token"] for r in results["dense, plain"]["rows"])["p50"]
    table = []
    for label, _, _ in variants:
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
        + _peer_ratio(results)
    )
    print(report)
    if args.out:
        Path(args.out).write_text(report)
        if plot(results, Path(args.out).with_suffix(".png"), machine_description()):
            print(f"plot: {Path(args.out).with_suffix('.png')}", file=sys.stderr)


def plot(results: dict, path: Path, machine: str) -> bool:
    """Decode ms/token per variant (p50, with each run's value as a dot), llama.cpp marked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)", file=sys.stderr)
        return False
    labels = list(results)
    values = [[r["decode_ms_per_token"] for r in results[k]["rows"]] for k in labels]
    medians = [summarize(v)["p50"] for v in values]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(labels) + 1.5))
    colors = ["tab:orange" if k.startswith("llama.cpp") else "tab:blue" for k in labels]
    ax.barh(range(len(labels)), medians, color=colors, alpha=0.8)
    for i, runs in enumerate(values):
        ax.plot(runs, [i] * len(runs), "k.", markersize=4)
    ax.set_yticks(range(len(labels)), [k.split(" (")[0] for k in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("decode ms per token (p50 bar, runs as dots; lower is better)")
    ax.set_title(f"Decode speed, {machine}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


if __name__ == "__main__":
    main()
