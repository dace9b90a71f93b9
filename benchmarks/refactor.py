"""Refactorings of real code through the real server, and whether the checks let wrong ones by.

On a seeded sample of HumanEval problems (the canonical solution is the code), each of Simplify,
Extract function and Rename locals for clarity runs on the solution's lines through
`python -m codecomp_lsp` over stdio (code action, then `codeAction/resolve`). Reported per
action: how often it was offered, how often an edit came back, why the others were refused (the
sentence the user sees), and — the test of the checks — how many of the edits that came back
still pass the problem's own tests. The lines an edit changes and its latency go beside them.

    python benchmarks/refactor.py --model qwen2.5-coder-0.5b --problems 30 \\
        --out benchmarks/results/refactor-qwen2.5-coder-0.5b.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import fmt, machine_description, markdown_table, summarize  # noqa: E402
from codecomp_lsp.evaluation.humaneval import load_problems, run_program  # noqa: E402
from tests.e2e.lsp_helpers import lsp_session, open_doc  # noqa: E402
from tests.e2e.test_assist_e2e import apply_edits, code_actions, edits_of, pos  # noqa: E402

TITLES = ("Simplify", "Extract function", "Rename locals for clarity")


def _reason(message: str) -> str:
    """The check a refusal names, without the names it quotes (so refusals group)."""
    text = message.removeprefix("codecomp: ")
    text = re.sub(r"^[^:]+: ", "", text).removesuffix("; nothing was changed")
    return re.sub(r"`[^`]*`", "`…`", text)


def _program(text: str, problem: dict) -> str:
    return f"{text}\n\n{problem['test']}\ncheck({problem['entry_point']})\n"


async def _refuse_message(client, timeout: float = 3.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        told = [m.message for m in client.messages if "nothing was changed" in m.message]
        if told:
            return told[-1]
        await asyncio.sleep(0.05)
    return "no edit and no message"


async def measure(model: str, problems: list[tuple[str, dict]], options: dict) -> list[dict]:
    rows = []
    async with lsp_session(model, options=options, resolve=True) as client:
        for pid, problem in problems:
            solution = problem["canonical_solution"].rstrip("\n").split("\n")
            text = problem["prompt"] + "\n".join(solution) + "\n"
            uri = f"file:///humaneval/{pid.replace('/', '_')}.py"
            open_doc(client, uri, text)
            first = len(problem["prompt"].split("\n")) - 1
            last = first + len(solution) - 1
            listed = await code_actions(client, uri, pos(first, 0), pos(last + 1, 0))
            offered = {a.title: a for a in listed if getattr(a, "title", None) in TITLES}
            for title in TITLES:
                row = {"problem": pid, "action": title, "offered": title in offered}
                rows.append(row)
                if not row["offered"]:
                    continue
                client.messages.clear()
                started = time.perf_counter()
                resolved = await client.code_action_resolve_async(offered[title])
                row["seconds"] = time.perf_counter() - started
                if resolved.edit is None:
                    row["refused"] = _reason(await _refuse_message(client))
                    continue
                edits = edits_of(resolved.edit, uri)
                new = apply_edits(text, edits)
                row["edit"] = new
                row["changed_lines"] = sum(e.range.end.line - e.range.start.line + 1 for e in edits)
                row["passes"] = await asyncio.to_thread(run_program, _program(new, problem))
            print(pid, [(r["action"][:8], r.get("passes", r.get("refused"))) for r in rows[-3:]])
    return rows


def report(rows: list[dict], model: str, count: int, seconds: float) -> str:
    table = []
    for title in TITLES:
        mine = [r for r in rows if r["action"] == title]
        offered = [r for r in mine if r["offered"]]
        edited = [r for r in offered if "edit" in r]
        passed = [r for r in edited if r["passes"]]
        latency = summarize(r["seconds"] for r in offered)
        changed = summarize(r["changed_lines"] for r in edited)
        table.append(
            (
                title,
                f"{len(offered)} / {len(mine)}",
                len(edited),
                f"{len(passed)} / {len(edited)}",
                fmt(changed["p50"], digits=0),
                f"{latency['p50']:.1f} / {latency['p95']:.1f}" if offered else "–",
            )
        )
    reasons = Counter((r["action"], r["refused"]) for r in rows if "refused" in r)
    refusals = [(a, why, n) for (a, why), n in reasons.most_common()]
    failing = [r for r in rows if r.get("passes") is False]
    out = [
        f"# Refactorings of HumanEval solutions through the server ({model})",
        "",
        f"{machine_description()}; {count} problems (seeded sample), the solution's lines"
        f" selected; {seconds / 60:.1f} min in all. Generated by `benchmarks/refactor.py`.",
        "",
        markdown_table(
            (
                "action",
                "offered",
                "edits",
                "edits passing the tests",
                "lines changed p50",
                "s p50 / p95",
            ),
            table,
        ),
        "",
        "## Why the others were refused (the sentence the user sees, names elided)",
        "",
        markdown_table(("action", "check that failed", "times"), refusals),
        "",
        f"## Edits that came back and fail the problem's tests ({len(failing)})",
        "",
    ]
    for r in failing[:6]:
        out += [f"{r['problem']}, {r['action']}:", "", "```python", r["edit"].rstrip(), "```", ""]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--problems", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    problems = sorted(load_problems().items())
    random.Random(args.seed).shuffle(problems)
    sample = problems[: args.problems]
    options = {"codeActionMaxNewTokens": args.max_new_tokens, "codeActionTimeBudgetMs": 60000}
    started = time.perf_counter()
    rows = asyncio.run(measure(args.model, sample, options))
    seconds = time.perf_counter() - started
    args.out.write_text(report(rows, args.model, len(sample), seconds))
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
