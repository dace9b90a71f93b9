"""Generated unit tests for HumanEval functions through the server, and whether they test.

On a seeded sample of problems (the canonical solution is the code under test, saved as a
module) "Generate tests for `<entry point>`" runs through `python -m codecomp_lsp` over stdio
with a client that lets the server create files, `runGeneratedTests` off (what the model writes,
unfiltered). Each test file is then run here with pytest against the canonical solution and
against a mutant of it (the first comparison flipped, else the first `+`/`-` swapped, else the
first integer constant changed). Reported: files written, files that run, files whose every test
passes on the canonical code, and — the test of the tests — files that fail on the mutant; the
same for what `runGeneratedTests` would keep (the tests that pass on the canonical code).

    python benchmarks/testgen.py --problems 40 --out benchmarks/results/testgen-qwen2.5-coder-0.5b.md
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


from benchmarks.common import machine_description, markdown_table, summarize  # noqa: E402
from codecomp_lsp.evaluation.humaneval import load_problems  # noqa: E402
from codecomp_lsp.features.testrun import drop_tests, run_python_tests  # noqa: E402
from tests.e2e.lsp_helpers import capture_applied_edits, lsp_session, open_doc  # noqa: E402
from tests.e2e.test_assist_e2e import code_actions, pos, run_command  # noqa: E402

_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq}
_FLIP |= {ast.NotEq: ast.Eq}


def mutant(source: str, entry: str) -> str | None:
    """`source` with one small change inside `entry`, or None when nothing fits."""
    tree = ast.parse(source)
    function = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry), None
    )
    if function is None:
        return None
    nodes = [n for stmt in function.body for n in ast.walk(stmt)]
    for node in nodes:
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _FLIP:
            node.ops[0] = _FLIP[type(node.ops[0])]()
            return ast.unparse(tree)
    for node in nodes:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            return ast.unparse(tree)
    for node in nodes:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            node.value += 1
            return ast.unparse(tree)
    return None


async def measure(problems: list[tuple[str, dict]], work: Path) -> list[dict]:
    rows = []
    options = {"candidates": 1, "codeActionTimeBudgetMs": 60000, "runGeneratedTests": False}
    async with lsp_session("qwen2.5-coder-0.5b", options=options, files=True) as client:
        applied = capture_applied_edits(client)
        for pid, problem in problems:
            module = f"humaneval_{pid.split('/')[1]}"
            code = problem["prompt"] + problem["canonical_solution"]
            uri = (work / f"{module}.py").as_uri()
            open_doc(client, uri, code)
            row: dict = {"problem": pid}
            rows.append(row)
            line = len(problem["prompt"].split("\n")) - 1
            listed = await code_actions(client, uri, pos(line, 4))
            title = f"Generate tests for `{problem['entry_point']}`"
            action = next((a for a in listed if a.title == title), None)
            if action is None:
                row["refused"] = "not offered"
                continue
            applied.clear()
            client.messages.clear()
            started = time.perf_counter()
            result = await run_command(client, action)
            row["seconds"] = time.perf_counter() - started
            if not result.get("applied"):
                told = [m.message for m in client.messages if "nothing was written" in m.message]
                row["refused"] = told[-1].split(": ", 2)[-1] if told else "no answer"
                continue
            tests = result["text"]
            row["tests_text"] = tests
            test_name = f"test_{module}.py"
            canonical = run_python_tests(f"{module}.py", code, test_name, tests, "pytest")
            row["error"] = canonical.error
            row["passed"], row["failed"] = list(canonical.passed), list(canonical.failed)
            broken = mutant(code, problem["entry_point"])
            if broken is not None and canonical.passed and not canonical.error:
                on_mutant = run_python_tests(f"{module}.py", broken, test_name, tests, "pytest")
                row["mutant_failed"] = list(on_mutant.failed) if not on_mutant.error else None
                kept = drop_tests(tests, set(canonical.failed))
                on_kept = run_python_tests(f"{module}.py", broken, test_name, kept, "pytest")
                row["kept_mutant_failed"] = list(on_kept.failed) if not on_kept.error else None
            print(pid, row.get("refused") or (len(row["passed"]), len(row["failed"])), flush=True)
    return rows


def report(rows: list[dict], count: int, seconds: float) -> str:
    written = [r for r in rows if "tests_text" in r]
    ran = [r for r in written if not r.get("error")]
    all_pass = [r for r in ran if r["passed"] and not r["failed"]]
    some_pass = [r for r in ran if r["passed"]]
    caught = [r for r in all_pass if r.get("mutant_failed")]
    kept_caught = [r for r in some_pass if r.get("kept_mutant_failed")]
    with_mutant = [r for r in some_pass if r.get("kept_mutant_failed") is not None]
    tests = sum(len(r["passed"]) + len(r["failed"]) for r in ran)
    passed = sum(len(r["passed"]) for r in ran)
    latency = summarize(r["seconds"] for r in rows if "seconds" in r)
    refused: dict[str, int] = {}
    for r in rows:
        if "refused" in r:
            refused[r["refused"]] = refused.get(r["refused"], 0) + 1
    table = [
        ("test files written (they parse)", f"{len(written)} / {len(rows)}"),
        ("files that run (collected, no error)", f"{len(ran)} / {len(written)}"),
        ("files whose every test passes on the canonical code", f"{len(all_pass)} / {len(ran)}"),
        ("… of those, failing on the mutant", f"{len(caught)} / {len(all_pass)}"),
        ("tests passing on the canonical code", f"{passed} / {tests}"),
        (
            "files `runGeneratedTests` would keep (≥ 1 passing test)",
            f"{len(some_pass)} / {len(ran)}",
        ),
        ("… whose kept tests fail on the mutant", f"{len(kept_caught)} / {len(with_mutant)}"),
        ("seconds per file p50 / p95", f"{latency['p50']:.1f} / {latency['p95']:.1f}"),
    ]
    out = [
        "# Generated tests for HumanEval functions through the server",
        "",
        f"{machine_description()}; Qwen2.5-Coder-0.5B (the pulled default); {count} problems"
        f" (seeded sample); {seconds / 60:.1f} min in all. Generated by `benchmarks/testgen.py`;"
        " pytest runs each file against the canonical solution and a mutant of it.",
        "",
        markdown_table(("", "count"), table),
        "",
        "Refused: "
        + ("; ".join(f"{why} ({n})" for why, n in sorted(refused.items())) or "none")
        + ".",
    ]
    sample = next((r for r in caught), None)
    if sample:
        out += ["", f"## A file that passes and catches the mutant ({sample['problem']})", ""]
        out += ["```python", sample["tests_text"].rstrip(), "```"]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    problems = sorted(load_problems().items())
    random.Random(args.seed).shuffle(problems)
    sample = problems[: args.problems]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        rows = asyncio.run(measure(sample, Path(work)))
    args.out.write_text(report(rows, len(sample), time.perf_counter() - started))
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
