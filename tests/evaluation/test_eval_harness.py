"""The evaluation harness: task construction, scoring, HumanEval execution, the n-gram
baseline, and `codecomp eval` end to end on the fixture model (a small sample, as CI runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from transformers import PreTrainedTokenizerFast

from codecomp_lsp.evaluation.humaneval import (
    check_all,
    filled_program,
    humaneval_tasks,
    load_problems,
    run_program,
)
from codecomp_lsp.evaluation.ngram import NgramCompleter, NgramModel
from codecomp_lsp.evaluation.tasks import (
    confidence_curve,
    edit_similarity,
    exact_match,
    line_tasks_from_files,
)

FILE = {
    "package": "demo",
    "path": "demo/m.py",
    "language": "python",
    "text": "import os\n\n\ndef f(x):\n    y = x + 1\n    return y\n",
}


def test_next_line_and_fim_tasks_hide_exactly_the_target_line() -> None:
    for kind in ("next-line", "fim-line"):
        tasks = line_tasks_from_files([FILE], kind=kind, per_file=10, limit=100, seed=0)
        assert {t.target for t in tasks} == {"import os", "def f(x):", "y = x + 1", "return y"} - {
            "import os"
        }
        for task in tasks:
            lines = task.text.split("\n")
            assert lines[task.line] == " " * task.character  # only the indentation is left
            original = FILE["text"].split("\n")
            assert lines[: task.line] == original[: task.line]
            if kind == "fim-line":
                assert lines[task.line + 1 :] == original[task.line + 1 :]
            else:
                assert len(lines) == task.line + 1


def test_scores() -> None:
    assert exact_match("return y  ", "return y")
    assert not exact_match("return x", "return y")
    assert edit_similarity("return y", "return y") == 1.0
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("abcd", "abce") == pytest.approx(0.75)
    assert edit_similarity("", "abc") == 0.0


def test_the_confidence_curve_counts_what_each_threshold_shows_and_hides() -> None:
    confidences = [-0.1, -0.4, -1.2, None, -0.05]
    passed = [True, False, True, False, True]
    curve = {p["threshold"]: p for p in confidence_curve(confidences, passed, (-100.0, -1.0, -0.2))}
    assert curve[-100.0] == {
        "threshold": -100.0,
        "shown": 0.8,
        "pass_rate_shown": 0.75,
        "passing_hidden": 0,
    }
    assert curve[-1.0]["shown"] == 0.6 and curve[-1.0]["passing_hidden"] == 1
    assert curve[-0.2] == {
        "threshold": -0.2,
        "shown": 0.4,
        "pass_rate_shown": 1.0,
        "passing_hidden": 1,
    }


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    return load_problems()


def test_humaneval_tasks_cover_every_solution_line(problems: dict[str, dict]) -> None:
    tasks = humaneval_tasks(problems)
    # Every non-blank canonical line is one task (the published single-line benchmark has 1,033).
    expected = sum(
        1 for p in problems.values() for line in p["canonical_solution"].split("\n") if line.strip()
    )
    assert len(tasks) == expected
    assert len(problems) == 164
    first = tasks[0]
    assert first.text.split("\n")[first.line] == " " * first.character
    assert first.text.startswith(problems[first.extra["problem"]]["prompt"])


def test_humaneval_execution_accepts_the_canonical_line_and_rejects_a_wrong_one(
    problems: dict[str, dict],
) -> None:
    task = next(t for t in humaneval_tasks(problems) if t.target.startswith("return"))
    problem = problems[task.extra["problem"]]
    assert run_program(filled_program(task, problem, task.target))
    assert not run_program(filled_program(task, problem, "return None"))
    assert not run_program("while True:\n    pass\n", timeout=1.0)
    assert check_all([task, task], [task.target + "  ", "return None"], problems) == [True, False]


def test_ngram_model_predicts_the_most_frequent_continuation() -> None:
    stream = np.array([1, 2, 3, 9, 1, 2, 3, 9, 1, 2, 4, 9, 5, 6, 7, 9], dtype=np.uint16)
    model = NgramModel.train(stream, order=3)
    assert model.next_token([1, 2]) == 3  # 2 of 3 times
    assert model.next_token([0, 5, 6]) == 7  # backs off to the bigram context
    assert model.next_token([42]) == 9  # unseen: the most frequent token


def _ngram_run(tmp_path: Path, model_dir: Path) -> Path:
    from codecomp_lsp.training.corpus import default_corpus_texts

    run = tmp_path / "run"
    tokenizer = PreTrainedTokenizerFast.from_pretrained(model_dir)
    tokenizer.save_pretrained(run / "tokenizer")
    ids: list[int] = []
    for text in default_corpus_texts(60):
        ids += tokenizer.backend_tokenizer.encode(text, add_special_tokens=False).ids
        ids.append(tokenizer.eos_token_id)
    np.asarray(ids, dtype=np.uint16).tofile(run / "train.bin")
    return run


def test_ngram_completer_stops_at_the_end_of_the_line(tmp_path: Path, tiny_model_dir: Path) -> None:
    completer = NgramCompleter.from_run(_ngram_run(tmp_path, tiny_model_dir))
    text = "import os\nimport sys\n\n\ndef main():\n    "
    out = completer.complete(text, 5, 4, "file:///x.py")
    assert "\n" not in out
    assert out == out.rstrip()


def test_codecomp_eval_on_a_small_sample(tmp_path: Path) -> None:
    """The harness as CI runs it: the real CLI, the shipped default model and the n-gram
    baseline, a handful of tasks of each kind; the scores are whatever they are (quality is
    reported by `codecomp eval`, not asserted)."""
    from codecomp_lsp.engine.loader import default_model_path

    model_dir = default_model_path()
    assert model_dir is not None
    heldout = tmp_path / "heldout"
    (heldout / "pkg").mkdir(parents=True)
    (heldout / "pkg" / "m.py").write_text(FILE["text"])
    (heldout / "pkg" / "n.py").write_text(
        FILE["text"].replace("f(x)", "g(z)").replace("x + 1", "z * 2")
    )
    out = tmp_path / "eval.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codecomp_lsp.cli",
            "eval",
            "--models",
            "default,ngram",
            "--ngram-run",
            str(_ngram_run(tmp_path, model_dir)),
            "--heldout",
            str(heldout),
            "--heldout-limit",
            "3",
            "--humaneval-limit",
            "4",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "HumanEval line pass@1" in done.stdout
    reports = json.loads(out.read_text())
    assert [r["completer"] for r in reports] == ["codecomp-tiny", "n-gram"]
    humaneval = reports[0]["sets"]["humaneval"]
    assert [p["threshold"] for p in humaneval["confidence_curve"]][0] == -100.0
    assert all(
        "confidence" in row for row in reports[0]["predictions"]["humaneval"] if row["prediction"]
    )
    for report in reports:
        assert report["sets"]["humaneval"]["tasks"] == 4
        assert report["sets"]["next-line"]["tasks"] == 3
        assert 0.0 <= report["sets"]["humaneval"]["pass@1"] <= 1.0
        assert len(report["predictions"]["fim-line"]) == 3


def test_saved_reports_are_gzipped_when_the_name_says_so(tmp_path) -> None:
    import gzip
    import json

    from codecomp_lsp.evaluation.run import save

    reports = [{"completer": "x", "sets": {}}]
    save(reports, tmp_path / "r.json.gz")
    save(reports, tmp_path / "r.json")
    assert json.loads(gzip.decompress((tmp_path / "r.json.gz").read_bytes())) == reports
    assert json.loads((tmp_path / "r.json").read_text()) == reports
