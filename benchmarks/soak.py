"""Soak: the long versions of the reliability tests, against the real server and a real model.

1. fuzz: ≥ 10,000 generated messages (tests/e2e/fuzz_messages.py) — sent, requests unanswered,
   malformed server messages, crashes, tracebacks, popups; then a completion must still work.
2. storm: 50 edits/s for 60 s on one document, an automatic inline request after each and a
   cancel of the one before (tests/e2e/storm.py) — answered, cancelled, stale, latency p50/p95,
   RSS start/max/end and its slope over the last 30 s, the first request after the storm.
3. documents: 20 documents edited in turn, an automatic request after each edit — how long the
   newest request waits, how many older ones gave way.
4. huge files: a 10 MB file and a 1 MB single-line file opened and edited while another document
   gets completions — that document's latency p50 with them ÷ without, and the event loop's worst
   lag (server/loopwatch.py).
5. faults: each model fault (benchmarks/soak_faults.py) and what the user saw.

    python benchmarks/soak.py --model PATH [--fuzz 10000] [--storm-seconds 60] [--out F]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, fmt, machine_description, markdown_table, summarize
from benchmarks.soak_faults import model_faults
from tests.e2e.raw_client import RawServer, encode, frame
from tests.e2e.storm import storm


def _start(model: str) -> RawServer:
    server = RawServer(model, "--log-level", "WARNING")
    server.initialize({"window": {"workDoneProgress": True}})
    server.wait_ready(600)
    return server


def fuzz(model: str, count: int) -> dict[str, Any]:
    from hypothesis import HealthCheck, given, seed, settings

    from tests.e2e.fuzz_messages import Mirror, messages, mirrored_edit

    server = _start(model)
    counter, sent, owed_total, missing = [0], [0], [0], []
    mirror, rnd = Mirror(), random.Random(1)
    began = time.monotonic()

    def round_(k: int) -> None:
        @seed(k)
        @settings(
            max_examples=max(10, count // 12),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(batch=messages(counter))
        def send(batch: list) -> None:
            for message in batch:
                if message.mirror_edit:
                    for edit in mirrored_edit(rnd, mirror):
                        server.send_bytes(frame(encode(edit)))
                else:
                    server.send_bytes(message.data)
            sent[0] += len(batch)
            owed = [m.answer_id for m in batch if m.answer_id is not None]
            for msg_id in owed:
                server.expect(msg_id)
            owed_total[0] += len(owed)
            answered = server.wait_for(owed, 60)
            missing.extend(i for i in owed if i not in answered)
            if not server.alive():
                raise RuntimeError("the server died")

        send()

    k = 0
    while sent[0] < count and server.alive():
        round_(k)
        k += 1
    seconds = time.monotonic() - began
    alive = server.alive()
    after = None
    if alive:
        uri = "file:///soak/after.py"
        server.open_document(uri, "def add(a, b):\n    return a", "python")
        answer = server.complete(uri, 1, 12)
        after = "result" in answer
    report = {
        "messages": sent[0],
        "requests": owed_total[0],
        "unanswered": len(missing),
        "malformed": len(server.malformed),
        "crashed": not alive,
        "tracebacks": server.tracebacks(),
        "popups": len(server.popups()),
        "popup_kinds": Counter(m.split(":")[0][:60] for m in server.popups()).most_common(4),
        "malformed_samples": [m[:200].decode("utf-8", "replace") for m in server.malformed[:3]],
        "seconds": round(seconds, 1),
        "completion_after": after,
    }
    report["exit_code"] = server.close()
    return report


def typing_storm(model: str, seconds: float) -> dict[str, Any]:
    server = _start(model)
    result = storm(server, seconds=seconds, rate=50)
    rss = [mb for _, mb in result.rss_mb]
    lat = summarize(result.latencies_ms)
    report = {
        "edits": result.edits,
        "edits_per_s": round(result.edits / result.seconds, 1),
        "requests": result.requests,
        "answered": result.answered,
        "cancelled": result.cancelled,
        "unanswered": len(result.unanswered),
        "errors": len(result.errors),
        "stale": len(result.stale),
        "latency_p50_ms": lat["p50"],
        "latency_p95_ms": lat["p95"],
        "rss_start_mb": round(rss[0]),
        "rss_max_mb": round(max(rss)),
        "rss_end_mb": round(rss[-1]),
        "rss_slope_mb_per_min_last_30s": round(result.rss_slope_mb_per_min(), 2),
        "after_storm_ms": round(result.after_storm_ms or 0),
    }
    report["exit_code"] = server.close()
    report["tracebacks"] = server.tracebacks()
    return report


def documents(model: str, count: int = 20, rounds: int = 3) -> dict[str, Any]:
    server = _start(model)
    uris = [f"file:///soak/doc_{i}.py" for i in range(count)]
    head = "import os\n\n\ndef helper_{i}(path):\n    return os.path.basename(path)\n\n\ndef main_{i}():\n    name = helper_{i}("
    for i, uri in enumerate(uris):
        server.open_document(uri, head.replace("{i}", str(i)))
    waits, last_ids = [], []
    stats0 = server.call("codecomp/stats")["result"]
    for r in range(rounds):
        for i, uri in enumerate(uris):
            text = head.replace("{i}", str(i))
            line = text.count("\n")
            col = len(text.split("\n")[-1]) + r
            server.insert(uri, 2 + r, line, col, "'")
            msg_id = server.inline(uri, line, col + 1, invoked=False)
            last_ids.append((msg_id, time.monotonic()))
            time.sleep(0.25)  # a user moving between documents, four keystrokes a second
    answers = server.wait_for([i for i, _ in last_ids], 120)
    for msg_id, at in last_ids:
        if msg_id in answers:
            waits.append((server.arrived[msg_id] - at) * 1000)
    newest_id, newest_at = last_ids[-1]
    stats1 = server.call("codecomp/stats")["result"]
    lat = summarize(waits)
    report = {
        "documents": count,
        "requests": len(last_ids),
        "answered": len(answers),
        "superseded": stats1["superseded"] - stats0["superseded"],
        "wait_p50_ms": lat["p50"],
        "wait_p95_ms": lat["p95"],
        "wait_max_ms": lat["max"],
        "newest_wait_ms": round((server.arrived.get(newest_id, newest_at) - newest_at) * 1000),
        "cache_mb": round(stats1["cacheBytes"] / 2**20, 1),
    }
    report["exit_code"] = server.close()
    return report


def huge_files(model: str, samples: int = 15) -> dict[str, Any]:
    server = _start(model)
    small = "file:///soak/small.py"
    text = "import os\n\n\ndef size_of(path):\n    return os.path.getsize(path)\n\n\nprint(size_of("
    server.open_document(small, text, "python")
    line, col = text.count("\n"), len(text.split("\n")[-1])

    def latencies(edit_huge: bool) -> list[float]:
        out = []
        for k in range(samples):
            if edit_huge:
                for uri, at in ((big, 100_000), (minified, 500_000)):
                    server.notify(
                        "textDocument/didChange",
                        {
                            "textDocument": {"uri": uri, "version": 10 + k},
                            "contentChanges": [
                                {
                                    "range": {
                                        "start": {"line": 0, "character": at},
                                        "end": {"line": 0, "character": at},
                                    },
                                    "text": "x",
                                }
                            ],
                        },
                    )
            started = time.monotonic()
            server.complete(small, line, col)
            out.append((time.monotonic() - started) * 1000)
        return out

    big, minified = "file:///soak/big.py", "file:///soak/minified.js"
    baseline = latencies(False)
    row = "value_{0} = compute(value_{0}, 'some text to make the line longer')\n"
    big_text = "".join(row.format(i) for i in range(150_000))[: 10 << 20]
    mini_text = "var a=1;" * ((1 << 20) // 8)
    opened = time.monotonic()
    server.open_document(big, big_text, "python")
    server.open_document(minified, mini_text, "javascript")
    during = latencies(True)
    open_s = time.monotonic() - opened
    b, d = summarize(baseline), summarize(during)
    report = {
        "big_mb": round(len(big_text) / 2**20, 1),
        "minified_mb": round(len(mini_text) / 2**20, 1),
        "baseline_p50_ms": b["p50"],
        "with_huge_p50_ms": d["p50"],
        "ratio_p50": round(d["p50"] / b["p50"], 2) if b["p50"] else None,
        "worst_ms": d["max"],
        "seconds_with_huge_files": round(open_s, 1),
        "loop_lag_max_ms": server.call("codecomp/stats")["result"]["loopLagMaxMs"],
    }
    report["exit_code"] = server.close()
    return report


def _model_name(spec: str) -> str:
    path = Path(spec)
    return f"{path.parent.name}/{path.name}" if path.name == "converted" else path.name


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--fuzz", type=int, default=10_000)
    p.add_argument("--storm-seconds", type=float, default=60)
    p.add_argument("--only", nargs="*", default=["fuzz", "storm", "documents", "huge", "faults"])
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    results: dict[str, Any] = {}
    if "fuzz" in args.only:
        results["fuzz"] = fuzz(args.model, args.fuzz)
        print("fuzz", results["fuzz"], flush=True)
    if "storm" in args.only:
        results["storm"] = typing_storm(args.model, args.storm_seconds)
        print("storm", results["storm"], flush=True)
    if "documents" in args.only:
        results["documents"] = documents(args.model)
        print("documents", results["documents"], flush=True)
    if "huge" in args.only:
        results["huge"] = huge_files(args.model)
        print("huge", results["huge"], flush=True)
    if "faults" in args.only:
        results["faults"] = model_faults(args.model)
        print("faults", results["faults"], flush=True)
    cmd = " ".join(["python benchmarks/soak.py", *(argv if argv is not None else sys.argv[1:])])
    doc = [
        f"# Soak\n\n`{cmd}`\n\n- machine: {machine_description()}\n- model: `{_model_name(args.model)}`\n"
    ]
    for name, values in results.items():
        if isinstance(values, list):  # one row per case
            columns = list(values[0])
            rows = [[str(row[c]).replace("|", "/") for c in columns] for row in values]
            doc.append(f"\n## {name}\n\n" + markdown_table(columns, rows) + "\n")
            continue
        doc.append(
            f"\n## {name}\n\n"
            + markdown_table(
                ["measure", "value"],
                [[k, fmt(v, "", 1) if isinstance(v, float) else v] for k, v in values.items()],
            )
            + "\n"
        )
    out = Path(args.out) if args.out else RESULTS / "soak.md"
    out.write_text("".join(doc), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"report: {out}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
