"""Working ahead, measured through the real server: the first completion in a file just opened,
and the completion right after accepting a suggestion, with `backgroundPrefill` on and off.

For each of `--files` unseen stdlib modules of about `--tokens` tokens, one line in the middle of
a function body is emptied to its indentation (the user is about to write it). The client opens
the file and reports the cursor there (`codecomp/cursor`, as our VS Code and Neovim clients do),
waits `--pause-s` (a user reading before typing), types the line's first character and asks for
an automatic inline completion: the latency of that answer is the first-completion figure. Then
it waits `--pause-s` again, accepts the suggestion (a didChange inserting it) and asks at its end:
the after-accept figure. Each mode runs against a fresh server; the machine should be quiet.

    python benchmarks/ahead.py --model qwen2.5-coder-0.5b --out benchmarks/results/ahead-qwen2.5-coder-0.5b.md
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
from tests.e2e.raw_client import RawServer


def pick_files(count: int, tokens: int, tokenizer) -> list[tuple[Path, str, int]]:
    """(path, text, line to empty) for `count` stdlib modules of tokens×[0.8, 1.2] tokens."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    chosen = []
    for path in sorted(stdlib.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not 0.8 * tokens <= len(tokenizer(text)["input_ids"]) <= 1.2 * tokens:
            continue
        lines = text.split("\n")
        middle = len(lines) // 2
        for line in [*range(middle, len(lines)), *range(middle - 1, 0, -1)]:
            body = lines[line]
            indent = len(body) - len(body.lstrip(" "))
            stripped = body.strip()
            if indent >= 8 and len(stripped) >= 12 and not stripped.startswith(("#", '"', "'")):
                chosen.append((path, text, line))
                break
        if len(chosen) == count:
            break
    return chosen


def _wait_idle(server: RawServer, timeout: float) -> None:
    """Until the server has no queued background work left (or timeout)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        stats = server.call("codecomp/stats")["result"]
        now = (stats["backgroundPrefills"], stats["prefetches"])
        if now == last:
            return
        last = now
        time.sleep(0.5)


def run_mode(model: str, files, ahead: bool, pause: float) -> list[dict]:
    server = RawServer(model, "--log-level", "WARNING")
    rows = []
    try:
        server.initialize(backgroundPrefill=ahead, multiline="never", timeBudgetMs=0)
        server.wait_ready(900)
        for index, (path, text, line) in enumerate(files):
            uri = f"file:///ahead/{index}/{path.name}"
            lines = text.split("\n")
            original = lines[line]
            indent = len(original) - len(original.lstrip(" "))
            lines[line] = original[:indent]
            server.open_document(uri, "\n".join(lines))
            server.notify(
                "codecomp/cursor",
                {"textDocument": {"uri": uri}, "position": {"line": line, "character": indent}},
            )
            time.sleep(pause)
            server.insert(uri, 2, line, indent, original[indent])
            started = time.monotonic()
            answer = server.complete(uri, line, indent + 1, invoked=False, timeout=600)
            first_ms = (time.monotonic() - started) * 1000
            stats = server.call("codecomp/stats")["result"]
            items = answer.get("result", {}).get("items", [])
            row = {"file": path.name, "line": line, "first_ms": first_ms, "shown": bool(items)}
            if items:
                shown = items[0]["insertText"]
                time.sleep(pause)
                server.insert(uri, 3, line, indent + 1, shown)
                started = time.monotonic()
                server.complete(uri, line, indent + 1 + len(shown), invoked=False, timeout=600)
                row["after_accept_ms"] = (time.monotonic() - started) * 1000
            row["stats"] = {
                k: stats[k]
                for k in ("backgroundPrefills", "backgroundTokens", "prefetches", "prefetchHits")
            }
            rows.append(row)
            _wait_idle(server, 30)
        final = server.call("codecomp/stats")["result"]
        rows.append({"final": {k: final[k] for k in ("prefetches", "prefetchHits")}})
    finally:
        server.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=1500)
    parser.add_argument("--pause-s", type=float, default=5.0)
    parser.add_argument("--out")
    args = parser.parse_args()
    from codecomp_lsp.engine.loader import load_tokenizer
    from codecomp_lsp.modelstore.resolve import choose_model

    tokenizer, _ = load_tokenizer(choose_model(args.model, "cpu").spec)
    files = pick_files(args.files, args.tokens, tokenizer)
    results = {}
    for label, ahead in (("backgroundPrefill on", True), ("backgroundPrefill off", False)):
        results[label] = run_mode(args.model, files, ahead, args.pause_s)
        print(label, json.dumps(results[label]), file=sys.stderr)
    table = []
    for label, rows in results.items():
        answers = [r for r in rows if "file" in r]
        first = summarize(r["first_ms"] for r in answers)
        after = summarize(r["after_accept_ms"] for r in answers if "after_accept_ms" in r)
        final = rows[-1]["final"]
        table.append(
            [
                label,
                f"{first['p50']:.0f}",
                f"{first['max']:.0f}",
                f"{after['p50']:.0f}" if after["n"] else "-",
                f"{after['max']:.0f}" if after["n"] else "-",
                f"{final['prefetchHits']}/{after['n']}",
            ]
        )
    on = summarize(r["first_ms"] for r in results["backgroundPrefill on"] if "file" in r)["p50"]
    off = summarize(r["first_ms"] for r in results["backgroundPrefill off"] if "file" in r)["p50"]
    names = ", ".join(f"`{p.name}` (line {line + 1})" for p, _, line in files)
    report = (
        f"# Working ahead: {args.model}\n\n{machine_description()}; {time.strftime('%Y-%m-%d')}; "
        f"{len(files)} stdlib modules of ~{args.tokens} tokens: {names}. The client reports the "
        f"cursor on a line emptied to its indentation, pauses {args.pause_s:g} s, types one "
        "character and asks (automatic inline, no time budget); then pauses again, accepts the "
        "suggestion and asks at its end.\n\n"
        + markdown_table(
            [
                "mode",
                "first completion after open, ms p50",
                "max",
                "after accepting, ms p50",
                "max",
                "answered from the prefetch",
            ],
            table,
        )
        + f"\n\nFirst completion, on ÷ off (p50): {on / off:.2f}\n"
    )
    print(report)
    if args.out:
        Path(args.out).write_text(report)
        Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
