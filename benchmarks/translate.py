"""Python → JavaScript translations of HumanEval solutions through the server, run by node.

On a seeded sample of problems the whole file (prompt and canonical solution) is selected and
"Translate to JavaScript" runs through `python -m codecomp_lsp` over stdio with a client that
lets the server create files. The problem's own test asserts of the form
`assert candidate(<literals>) == <literal>` become the cases: node calls the translated entry
point (its Python name or the camelCase one) on each input and the answers are compared with the
expected values in Python. Reported: translations written, refused (and why), problems with
cases, problems whose every case passes, seconds per translation, and a few failures.

    python benchmarks/translate.py --problems 40 --out benchmarks/results/translate-qwen2.5-coder-0.5b.md
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


from benchmarks.common import machine_description, markdown_table, summarize  # noqa: E402
from codecomp_lsp.evaluation.humaneval import load_problems  # noqa: E402
from tests.e2e.lsp_helpers import capture_applied_edits, lsp_session, open_doc  # noqa: E402
from tests.e2e.test_assist_e2e import code_actions, pos, run_command  # noqa: E402

HARNESS = """
const mod = require(process.argv[2]);
const cases = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const out = cases.map((args) => {
  try { return { value: mod.__entry(...args) }; } catch (e) { return { error: String(e) }; }
});
console.log(JSON.stringify(out));
"""


def _plain(value):
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def literal_cases(test: str) -> list[tuple[list, object]]:
    """(arguments, expected) of each `assert candidate(...) == literal` in a HumanEval test."""
    cases = []
    for node in ast.walk(ast.parse(test)):
        if not isinstance(node, ast.Assert) or not isinstance(node.test, ast.Compare):
            continue
        cmp = node.test
        call = cmp.left
        if len(cmp.ops) != 1 or not isinstance(cmp.ops[0], ast.Eq):
            continue
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "candidate"):
            continue
        try:
            args = [ast.literal_eval(a) for a in call.args]
            expected = ast.literal_eval(cmp.comparators[0])
            json.dumps([_plain(args), _plain(expected)])
        except (ValueError, TypeError, SyntaxError):
            continue
        if not call.keywords:
            cases.append((_plain(args), _plain(expected)))
    return cases


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def run_cases(node: str, js: str, entry: str, cases: list) -> tuple[int, str]:
    """How many cases the translation passes, and the first failure."""
    script = re.sub(r"^export\s+(default\s+)?", "", js, flags=re.M)
    names = [entry, _camel(entry)]
    pick = " : ".join(f"typeof {n} !== 'undefined' ? {n}" for n in names) + " : undefined"
    with tempfile.TemporaryDirectory() as folder:
        module = Path(folder, "translated.cjs")
        module.write_text(f"{script}\nmodule.exports = {{ __entry: {pick} }};\n")
        Path(folder, "cases.json").write_text(json.dumps([args for args, _ in cases]))
        Path(folder, "harness.cjs").write_text(HARNESS)
        try:
            done = subprocess.run(
                [node, "harness.cjs", str(module), "cases.json"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=20,
            )
        except subprocess.TimeoutExpired:
            return 0, "timed out"
    if done.returncode != 0:
        return 0, done.stderr.strip().splitlines()[-1][:200] if done.stderr.strip() else "failed"
    try:  # the translation may print too: the harness's line is the last
        answers = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return 0, "no answers from the harness"
    if not isinstance(answers, list) or len(answers) != len(cases):
        return 0, "no answers from the harness"
    passed, first = 0, ""
    for (args, expected), got in zip(cases, answers, strict=True):
        if isinstance(got, dict) and "value" in got and got["value"] == expected:
            passed += 1
        elif not first:
            first = (
                f"{entry}{tuple(args)}: {got.get('value', got.get('error'))!r}, not {expected!r}"
            )
    return passed, first


async def measure(model: str, problems: list[tuple[str, dict]], node: str, work: Path) -> list:
    rows = []
    options = {"candidates": 1, "codeActionTimeBudgetMs": 60000}
    async with lsp_session(model, options=options, files=True) as client:
        applied = capture_applied_edits(client)
        for pid, problem in problems:
            text = problem["prompt"] + problem["canonical_solution"]
            path = work / f"{pid.replace('/', '_')}.py"
            open_doc(client, path.as_uri(), text)
            last = text.rstrip("\n").count("\n")
            listed = await code_actions(client, path.as_uri(), pos(0, 0), pos(last + 1, 0))
            action = next(a for a in listed if a.title == "Translate to JavaScript")
            client.messages.clear()
            applied.clear()
            started = time.perf_counter()
            result = await run_command(client, action)
            row = {"problem": pid, "seconds": time.perf_counter() - started}
            rows.append(row)
            if not result.get("applied"):
                told = [m.message for m in client.messages if "nothing was written" in m.message]
                row["refused"] = (
                    re.sub(r"^codecomp: [^:]+: |; nothing was written$", "", told[-1])
                    if told
                    else "no answer"
                )
                continue
            js = result["text"]
            row["js"] = js
            cases = literal_cases(problem["test"])
            row["cases"] = len(cases)
            if cases:
                row["passed"], row["failure"] = run_cases(node, js, problem["entry_point"], cases)
            print(pid, row.get("refused") or f"{row.get('passed', '-')}/{row['cases']}", flush=True)
    return rows


def report(rows: list, count: int, seconds: float) -> str:
    written = [r for r in rows if "js" in r]
    runnable = [r for r in written if r["cases"]]
    all_pass = [r for r in runnable if r["passed"] == r["cases"]]
    cases = sum(r["cases"] for r in runnable)
    passed = sum(r["passed"] for r in runnable)
    latency = summarize(r["seconds"] for r in rows)
    refused = Counter(r["refused"] for r in rows if "refused" in r)
    out = [
        "# Python → JavaScript translations of HumanEval solutions through the server",
        "",
        f"{machine_description()}; Qwen2.5-Coder-0.5B (the pulled default); {count} problems"
        f" (seeded sample), the whole file selected; {seconds / 60:.1f} min in all. Generated by"
        " `benchmarks/translate.py`: node runs each translation on the problem's literal test"
        " cases (`assert candidate(…) == …`).",
        "",
        markdown_table(
            ("", "count"),
            [
                ("translations written (parse as JavaScript)", f"{len(written)} / {len(rows)}"),
                ("with literal test cases", len(runnable)),
                ("every case passes", f"{len(all_pass)} / {len(runnable)}"),
                ("cases passing", f"{passed} / {cases}"),
                (
                    "seconds per translation p50 / p95",
                    f"{latency['p50']:.1f} / {latency['p95']:.1f}",
                ),
            ],
        ),
        "",
        "Refused: "
        + ("; ".join(f"{why} ({n})" for why, n in refused.most_common()) or "none")
        + ".",
        "",
        "## Failures (first case each)",
        "",
    ]
    for r in [r for r in runnable if r["passed"] < r["cases"]][:8]:
        out.append(f"- {r['problem']}: {r['passed']}/{r['cases']} — {r['failure']}")
    sample = all_pass[:1]
    for r in sample:
        out += [
            "",
            f"## A translation that passes ({r['problem']})",
            "",
            "```javascript",
            r["js"].rstrip(),
            "```",
        ]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--problems", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed")
    problems = sorted(load_problems().items())
    random.Random(args.seed).shuffle(problems)
    sample = problems[: args.problems]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        rows = asyncio.run(measure(args.model, sample, node, Path(work)))
    args.out.write_text(report(rows, len(sample), time.perf_counter() - started))
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
