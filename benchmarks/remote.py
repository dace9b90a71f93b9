"""Typing replay through the in-process engine vs a shared vLLM vs a shared llama-server, on the same
model and machine; then several users typing at once into one engine.

Each run is benchmarks/replay.py's keystroke replay (real server over stdio, an incremental
didChange and an automatic inline request per keystroke, cancels when the next keystroke comes
first) with the `backend` setting switched. The prefix-cache hit rate is the engine's own: vLLM's
`vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total` on /metrics (32-token blocks), and
llama-server's `timings.cache_n` per answer (summed by our `codecomp/stats` as reusedTokens).
With `--users N`, N servers (N editors) type N different files at once against one engine.

    python benchmarks/remote.py --model CONVERTED_DIR --gguf FILE.gguf --vllm-python PY
        --llama-server BIN [--users 4] [--out benchmarks/results/remote-NAME.md]

VLLM_PYTHON and LLAMA_SERVER come from scripts/setup-engines.sh. Engines run one at a time, so that
no two compete for the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, fmt, machine_description, markdown_table
from benchmarks.engines import Engine, start_llama_server, start_vllm
from benchmarks.replay import WARM, Run, make_plan, run_ours, summarize_run
from benchmarks.replay import parse_args as replay_args

# Files of the standard library the users type into (a function body deep in each).
USER_FILES = ("argparse.py", "difflib.py", "textwrap.py", "configparser.py", "tarfile.py")


def _plan(name: str, lines: int) -> Any:
    path = Path(sysconfig.get_paths()["stdlib"]) / name
    return make_plan(path.read_text(encoding="utf-8"), str(path), None, lines)


def _args(args: argparse.Namespace, file: str, settings: dict[str, Any]) -> argparse.Namespace:
    argv = ["--model", args.model, "--file", file, "--lines", str(args.lines), "--modes", "warm"]
    argv += ["--debounce-ms", str(args.debounce_ms), "--no-limits", "--no-plot"]
    argv += ["--time-budget-ms", str(args.time_budget_ms)]
    for name, value in settings.items():
        argv += ["--setting", f"{name}={json.dumps(value)}"]
    return replay_args(argv)


def _vllm_counters(engine: Engine | None) -> tuple[float, float]:
    if engine is None or not engine.url.endswith("/v1"):
        return 0.0, 0.0
    return (
        engine.metric("vllm:prefix_cache_queries_total"),
        engine.metric("vllm:prefix_cache_hits_total"),
    )


async def _replays(
    args: argparse.Namespace, users: int, settings: dict[str, Any], engine: Engine | None
) -> dict[str, Any]:
    """`users` replays at once, each its own server and file; figures per user and overall."""
    logs = Path(tempfile.mkdtemp(prefix="codecomp-remote-"))
    plans = [_plan(USER_FILES[i % len(USER_FILES)], args.lines) for i in range(users)]
    queries, hits = _vllm_counters(engine)
    started = time.perf_counter()
    for i in range(users):
        (logs / str(i)).mkdir()
    runs: list[Run] = await asyncio.gather(
        *(
            run_ours(plan, _args(args, plan.path, settings), WARM, logs / str(i))
            for i, plan in enumerate(plans)
        )
    )
    wall = time.perf_counter() - started
    queries2, hits2 = _vllm_counters(engine)
    summaries = [summarize_run(run) for run in runs]
    prompt = sum(s["prompt_total"] or 0 for s in summaries)
    reused = sum(s["reused_total"] or 0 for s in summaries)
    engine_rate = (hits2 - hits) / (queries2 - queries) if queries2 > queries else None
    return {
        "users": users,
        "wall_s": wall,
        "summaries": summaries,
        "reuse_reported": reused / prompt if prompt else None,
        "engine_hit_rate": engine_rate,
        "files": [Path(p.path).name for p in plans],
        "keystrokes": [len(p.keystrokes) for p in plans],
    }


def _row(name: str, result: dict[str, Any]) -> list[str]:
    s = result["summaries"]
    p50 = [x["latency_model"]["p50"] for x in s]
    p95 = [x["latency_model"]["p95"] for x in s]
    ttft = [x["ttft"]["p50"] for x in s]
    shown = sum(x["by_status"].get("shown", 0) for x in s)
    superseded = sum(x["by_status"].get("superseded", 0) for x in s)
    rate = result["engine_hit_rate"]
    reported = result["reuse_reported"]
    return [
        name,
        str(result["users"]),
        str(sum(result["keystrokes"])),
        " / ".join(fmt(v, " ms") for v in p50),
        " / ".join(fmt(v, " ms") for v in p95),
        " / ".join(fmt(v, " ms") for v in ttft),
        f"{shown} / {superseded}",
        "–" if rate is None else f"{rate:.1%}",
        "– (closed before vLLM reports it)" if name == "vLLM" else f"{reported:.1%}",
    ]


def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    results: dict[str, Any] = {}
    logs = Path(tempfile.mkdtemp(prefix="codecomp-engines-"))
    local = {"model": args.model}
    print("remote: local engine …", file=sys.stderr)
    results["local"] = asyncio.run(_replays(args, 1, local, None))
    engines = (
        (
            "llamacpp",
            "llama-server",
            lambda: start_llama_server(
                args.llama_server, Path(args.gguf), logs / "llama.log", args.users
            ),
        ),
        (
            "openai",
            "vLLM",
            lambda: start_vllm(args.vllm_python, Path(args.model), logs / "vllm.log"),
        ),
    )
    names = {"local": "local (in-process)"}
    for backend, title, start in engines:  # one at a time: no two engines share the cores
        engine = start()
        try:
            settings = {"backend": backend, "endpoint": engine.url}
            for users in (1, args.users):
                print(f"remote: {title}, {users} user(s) …", file=sys.stderr)
                results[f"{backend}-{users}"] = asyncio.run(_replays(args, users, settings, engine))
                names[f"{backend}-{users}"] = title
        finally:
            engine.stop()
    header = [
        "engine",
        "users",
        "keystrokes",
        "model-run p50 (per user)",
        "p95",
        "first token p50",
        "shown / superseded",
        "engine's prefix-cache hit rate (vLLM /metrics)",
        "prompt tokens reused (our stats: local cache, llama-server cache_n, vLLM cached_tokens)",
    ]
    table = markdown_table(header, [_row(names[k], v) for k, v in results.items()])
    return table, results


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="the converted model folder (local and vLLM)")
    p.add_argument("--gguf", required=True, help="the same model as GGUF (llama-server)")
    p.add_argument("--vllm-python", required=True)
    p.add_argument("--llama-server", required=True)
    p.add_argument("--users", type=int, default=4)
    p.add_argument("--lines", type=int, default=4, help="lines typed per user")
    p.add_argument("--debounce-ms", type=float, default=75)
    p.add_argument(
        "--time-budget-ms",
        type=int,
        default=30000,
        help="timeBudgetMs for every run: lifted, so that a slow first prompt completes and "
        "the replay measures typing on a warm engine rather than the 5 s default cutting it",
    )
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    table, results = run(args)
    cmd = " ".join(["python benchmarks/remote.py", *(argv if argv is not None else sys.argv[1:])])
    doc = f"# Typing replay: local vs shared engines\n\n`{cmd}`\n\n{machine_description()}\n\n{table}\n"
    print(doc)
    out = Path(args.out) if args.out else RESULTS / f"remote-{Path(args.model).parent.name}.md"
    out.write_text(doc, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    print(f"report: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
