"""`codecomp finetune`: repository files, the split by file, and a short real run on the fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from transformers import AutoModelForCausalLM

from codecomp_lsp.training.finetune import repository_files, split_files


def _repo(root: Path) -> Path:
    for i in range(12):
        body = "\n".join(
            f"def handler_{i}_{j}(request):\n    return render(request, 'page_{j}.html', {{'n': {j}}})\n"
            for j in range(8)
        )
        (root / "app" / f"views_{i}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / "app" / f"views_{i}.py").write_text(body)
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "x.py").write_text("def hidden():\n    return 1\n" * 5)
    (root / "node_modules" / "m").mkdir(parents=True)
    (root / "node_modules" / "m" / "i.js").write_text(
        "module.exports = function () { return 1; };\n" * 3
    )
    (root / "README.md").write_text("# demo\n")
    return root


def test_repository_files_skip_environments_and_split_by_file(tmp_path: Path) -> None:
    files = repository_files(_repo(tmp_path))
    assert {f["path"].split("/")[0] for f in files} == {"app"}
    train, heldout = split_files(files, 0.1)
    assert heldout and train
    assert not {f["path"] for f in train} & {f["path"] for f in heldout}
    assert split_files(files, 0.1) == (train, heldout)  # deterministic


def test_finetune_runs_and_reports_before_and_after(tmp_path: Path, tiny_model_dir: Path) -> None:
    repo = _repo(tmp_path / "repo")
    out = tmp_path / "tuned"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codecomp_lsp.cli",
            "finetune",
            str(repo),
            "--base",
            str(tiny_model_dir),
            "--out",
            str(out),
            "--minutes",
            "0.15",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "finetune.json").read_text())
    assert report["method"] == "full fine-tune"
    assert report["steps"] >= 1
    assert set(report["before"]) == set(report["after"]) == {"next-line", "fim-line"}
    # Training on near-identical files must lower the held-out loss.
    assert report["heldout_loss"]["after"] < report["heldout_loss"]["before"]
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.config.model_type == "llama"
    assert f"--model {out}" in done.stdout


def test_finetune_with_lora_merges_the_adapter(tmp_path: Path, tiny_model_dir: Path) -> None:
    from codecomp_lsp.evaluation.run import score_files
    from codecomp_lsp.training.finetune import finetune
    from codecomp_lsp.training.recipes import LoRA

    out = tmp_path / "tuned"
    recipe = LoRA(minutes=0.1, eval_limit=2)
    report = finetune(
        _repo(tmp_path / "repo"), tiny_model_dir, out, recipe, log=lambda m: None, score=score_files
    )
    assert report["method"] == "LoRA (merged)"
    model = AutoModelForCausalLM.from_pretrained(out)
    assert not any("lora" in name for name, _ in model.named_parameters())


def test_finetune_refuses_an_empty_repository(tmp_path: Path, tiny_model_dir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codecomp_lsp.cli",
            "finetune",
            str(tmp_path),
            "--base",
            str(tiny_model_dir),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no source files" in done.stderr
