"""Cold start: from starting the server process to its first completion, per way of giving the model.

Each run spawns `codecomp-lsp`, initializes, opens a file and sends one invoked inline request at
once (it waits for the load); it records the seconds to the `initialize` answer, to the model being
ready (the engine's own load time from `codecomp/stats`) and to that first answer. Runs alternate
between the variants so that a slower moment of the machine does not land on one of them.

    python benchmarks/coldstart.py --variant gguf=PATH.gguf --variant converted=qwen2.5-coder-0.5b \
        --runs 3 --out benchmarks/results/coldstart-qwen2.5-coder-0.5b.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from common import ensure_repo_on_path, machine_description, markdown_table, summarize
from lsp_client import LspClient

ensure_repo_on_path()

SOURCE = Path(__file__).resolve().parent.parent / "examples" / "average.ts"


async def one_run(model: str | None) -> dict[str, float | str]:
    started = time.perf_counter()
    args = [sys.executable, "-m", "codecomp_lsp", "--log-level", "WARNING"]
    args += ["--model", model] if model else []
    client = await LspClient.start(*args, stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ))
    try:
        await client.initialize({"window": {"workDoneProgress": True}}, {})
        initialized = time.perf_counter() - started
        text = SOURCE.read_text()
        lines = text.rstrip("\n").split("\n")
        uri = SOURCE.as_uri()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "typescript", "version": 1, "text": text}},
        )
        answer = await client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": len(lines) - 1, "character": len(lines[-1])},
                "context": {"triggerKind": 1},
            },
            timeout=600,
        )
        first = time.perf_counter() - started
        info = await client.request("codecomp/stats", {})
        items = (answer or {}).get("items") or []
        return {
            "initialize": initialized,
            "first": first,
            "model": str(info.get("model")),
            "state": str(info.get("modelState")),
            "load": float(info.get("modelLoadSeconds") or 0.0),
            "text": items[0]["insertText"] if items else "",
        }
    finally:
        await client.shutdown()


def _load_seconds_hint() -> str:
    return (
        "`first` includes Python start-up and imports, the model load (and, for a GGUF, its "
        "de-quantization and tokenizer build), and one completion."
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--variant", action="append", required=True, help="LABEL=MODEL ('' = default)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", help="write the markdown table here")
    args = parser.parse_args()
    variants = [v.split("=", 1) for v in args.variant]
    results: dict[str, list[dict]] = {label: [] for label, _ in variants}
    for run in range(args.runs):
        for label, model in variants:
            result = await one_run(model or None)
            results[label].append(result)
            print(
                f"run {run + 1} {label}: first answer {result['first']:.1f} s "
                f"({result['model']}, {result['state']}): {result['text']!r}",
                file=sys.stderr,
            )
    rows = []
    for label, model in variants:
        firsts = summarize(r["first"] for r in results[label])
        inits = summarize(r["initialize"] for r in results[label])
        last = results[label][-1]
        rows.append(
            [
                label,
                model or "(no model setting)",
                last["model"],
                f"{inits['p50']:.2f}",
                f"{firsts['p50']:.1f}",
                f"{min(r['first'] for r in results[label]):.1f}–{firsts['max']:.1f}",
                f"{summarize(r['load'] for r in results[label])['p50']:.2f}",
                repr(last["text"])[:40],
            ]
        )
    table = markdown_table(
        [
            "variant",
            "--model",
            "answered by",
            "initialize s",
            "first answer s (p50)",
            "range",
            "model load s (engine, p50)",
            "first answer",
        ],
        rows,
    )
    report = (
        f"# Cold start to the first completion\n\n{machine_description()}; {args.runs} runs per "
        f"variant, alternating; {time.strftime('%Y-%m-%d')}.\n\n{table}\n\n{_load_seconds_hint()}\n"
    )
    print(report)
    if args.out:
        Path(args.out).write_text(report)


if __name__ == "__main__":
    asyncio.run(main())
