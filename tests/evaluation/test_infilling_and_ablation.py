"""Multi-line and random-span HumanEval infilling, the raw-model baseline, and the ablation of
pipeline stages (`codecomp eval --ablate`), down to the settings and stages each one switches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codecomp_lsp.evaluation.ablation import changed_tasks, render_ablation, variants
from codecomp_lsp.evaluation.humaneval import (
    check_all,
    humaneval_block_tasks,
    humaneval_span_tasks,
    humaneval_typed_tasks,
    load_problems,
)
from codecomp_lsp.settings import parse_settings
from codecomp_lsp.stages import STAGES, Stage, parse_stages


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    return load_problems()


def _solution(problem: dict) -> str:
    return problem["prompt"] + problem["canonical_solution"].rstrip("\n") + "\n"


def test_block_tasks_mask_runs_of_whole_lines(problems: dict[str, dict]) -> None:
    tasks = humaneval_block_tasks(problems)
    multi = {
        k
        for k, p in problems.items()
        if sum(1 for row in p["canonical_solution"].split("\n") if row.strip()) > 1
    }
    assert {t.extra["problem"] for t in tasks} == multi  # one-line solutions have no run
    for task in tasks:
        assert task.extent == "block" and "\n" in task.target
        # The target put back at the cursor gives the canonical program again.
        assert task.filled(task.target) == _solution(problems[task.extra["problem"]])
        assert task.text.split("\n")[task.line].strip() == ""  # only the indentation is left
    sample = humaneval_block_tasks(problems, 50, seed=3)
    assert len(sample) == 50 and sample == humaneval_block_tasks(problems, 50, seed=3)
    assert len({t.extra["problem"] for t in sample}) > 30  # spread over the problems


def test_span_tasks_mask_ten_random_spans_a_problem(problems: dict[str, dict]) -> None:
    tasks = humaneval_span_tasks(problems)
    assert len(tasks) == 1640  # as HumanEval-Infilling's random-span set
    for task in tasks:
        assert task.extent == "span" and task.target
        assert task.filled(task.target) == _solution(problems[task.extra["problem"]])


def test_typed_tasks_start_after_the_first_word(problems: dict[str, dict]) -> None:
    tasks = humaneval_typed_tasks(problems)
    assert len(tasks) > 900
    for task in tasks:
        row = task.text.split("\n")[task.line]
        assert row.endswith(task.extra["typed"]) and task.character == len(row)
        full = row + task.target
        assert task.filled(task.target).split("\n")[task.line].strip() == full.strip()
        last = task.extra["typed"][-1]
        assert not (last.isalnum() or last == "_")  # a whole word and what ends it


def test_multiline_fills_are_run_against_the_tests(problems: dict[str, dict]) -> None:
    block = humaneval_block_tasks(problems, 5, seed=1)[0]
    span = humaneval_span_tasks(problems, 5, seed=1)[0]
    wrong = "return None\n" if block.target.count("\n") else "pass"
    assert check_all([block, block, span], [block.target, wrong, span.target], problems) == [
        True,
        False,
        True,
    ]


def test_disabled_stages_are_a_validated_setting() -> None:
    parsed = parse_settings({"disabledStages": ["indentation", "parse-check"]})
    assert set(parsed.settings.disabledStages) == {Stage.INDENTATION, Stage.PARSE_CHECK}
    bad = parse_settings({"disabledStages": ["nonsense"]})
    assert bad.settings.disabledStages == () and "unknown stage" in bad.errors[0]
    assert parse_settings({"disabledStages": 3}).errors
    with pytest.raises(ValueError):
        parse_stages(["line step"])


def test_variants_and_the_ablation_report() -> None:
    rows = variants("all", "0.5,2")
    assert [label for label, _ in rows][: len(STAGES)] == [f"without {s.value}" for s in STAGES]
    assert rows[-2:] == [
        ("budget 0.5 s", {"timeBudgetMs": 500}),
        ("budget 2 s", {"timeBudgetMs": 2000}),
    ]
    with pytest.raises(ValueError):
        variants("indentation,bogus", "")
    assert variants("", "", [("candidates", 1)]) == [("with candidates=1", {"candidates": 1})]
    with pytest.raises(ValueError, match="unknown setting"):
        variants("", "", [("candidatez", 1)])

    def report(name: str, passed: list[bool], predictions: list[str]) -> dict:
        rows = [
            {"id": f"t{i}", "target": "x", "prediction": p, "passed": ok}
            for i, (p, ok) in enumerate(zip(predictions, passed, strict=True))
        ]
        score = sum(passed) / len(passed)
        return {
            "completer": name,
            "sets": {"humaneval": {"pass@1": score, "exact_match": score, "tasks": len(rows)}},
            "predictions": {"humaneval": rows},
        }

    base = report("m", [True, True, False], ["x", "x", "y"])
    other = report("m without indentation", [True, False, True], ["x", " x", "x"])
    lost, won = changed_tasks(base, other, "humaneval")
    assert [r["id"] for r in lost] == ["t1"] and [r["id"] for r in won] == ["t2"]
    text = render_ablation(base, [other])
    assert "| m without indentation | humaneval | 66.7% | 66.7% | +0.0 | 1 | 1 |" in text
    assert "lost `t1`" in text and "variant ` x`" in text


def test_eval_runs_the_raw_baseline_and_the_ablation(tmp_path: Path) -> None:
    """The real CLI on the shipped model: its raw baseline, the pipeline, two stages switched off
    and a time budget, on a few tasks of each HumanEval set."""
    out, report = tmp_path / "eval.json", tmp_path / "ablation.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codecomp_lsp.cli",
            "eval",
            "--models",
            "raw:codecomp-tiny,codecomp-tiny",
            "--heldout",
            "",
            "--humaneval-sample",
            "3",
            "--block-limit",
            "2",
            "--span-limit",
            "2",
            "--ablate",
            "indentation,stop-check",
            "--budgets",
            "0.5",
            "--setting",
            "multiline=always",
            "--out",
            str(out),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    reports = json.loads(out.read_text())
    assert [r["completer"] for r in reports] == [
        "raw codecomp-tiny",
        "codecomp-tiny",
        "codecomp-tiny without indentation",
        "codecomp-tiny without stop-check",
        "codecomp-tiny budget 0.5 s",
    ]
    for r in reports:
        assert set(r["sets"]) == {"humaneval", "humaneval-block", "humaneval-span"}
        assert r["sets"]["humaneval-block"]["tasks"] == 2
    raw_lines = [row["prediction"] for row in reports[0]["predictions"]["humaneval"]]
    assert all("\n" not in p for p in raw_lines)
    text = report.read_text()
    assert "HumanEval multi-line pass@1" in text and "| codecomp-tiny budget 0.5 s |" in text


def test_the_raw_prompt_is_the_model_format_cut_to_the_budget_near_the_cursor() -> None:
    from codecomp_lsp.evaluation.raw import PROMPT_TOKENS, RawCompleter

    raw = RawCompleter("codecomp-tiny", quantization="none")
    try:
        pre, suf, mid = raw._markers
        prefix = "".join(f"value_{i} = {i}\n" for i in range(600))
        suffix = "".join(f"other_{i} = {i}\n" for i in range(600))
        ids = raw.prompt_ids(prefix, suffix)
        assert len(ids) == PROMPT_TOKENS and ids[0] == pre and ids[-1] == mid
        hole = ids.index(suf)
        kept_before, kept_after = ids[1:hole], ids[hole + 1 : -1]
        assert raw._encode(prefix)[-len(kept_before) :] == kept_before  # the end of the prefix
        assert raw._encode(suffix)[: len(kept_after)] == kept_after  # the start of the suffix
        assert len(kept_before) > 2 * len(kept_after)
        small = raw.prompt_ids("x = 1\n", "y = 2\n")
        assert small == [pre, *raw._encode("x = 1\n"), suf, *raw._encode("y = 2\n"), mid]
        line = raw.complete("def f(x):\n    \n", 1, 4, "file:///t.py")
        assert "\n" not in line
    finally:
        raw.close()


def test_eval_settings_parse_as_json_or_words() -> None:
    import argparse

    from codecomp_lsp.evaluation.command import _setting

    assert _setting("multiline=always") == ("multiline", "always")
    assert _setting("maxNewTokens=96") == ("maxNewTokens", 96)
    assert _setting('disabledStages=["indentation"]') == ("disabledStages", ["indentation"])
    with pytest.raises(argparse.ArgumentTypeError):
        _setting("multiline")
