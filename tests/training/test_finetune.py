"""`codecomp finetune`: repository files, the split by file, and a short real run on the fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
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


def test_finetune_with_lora_saves_the_adapter_alone_and_it_serves(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from codecomp_lsp.engine.loader import load_model
    from codecomp_lsp.evaluation.run import score_files
    from codecomp_lsp.modelstore.adapter import read_adapter
    from codecomp_lsp.modelstore.resolve import choose_model
    from codecomp_lsp.training.finetune import finetune
    from codecomp_lsp.training.recipes import LoRA

    out = tmp_path / "tuned"
    recipe = LoRA(minutes=0.1, eval_limit=2)
    report = finetune(
        _repo(tmp_path / "repo"), tiny_model_dir, out, recipe, log=lambda m: None, score=score_files
    )
    assert report["method"] == "LoRA adapter" and report["steps"] >= 1
    assert report["fim"] == "<|cc_prefix|>"  # the family's own FIM markers
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
        "finetune.json",
    ]
    adapter = read_adapter(out)
    assert Path(adapter.base) == tiny_model_dir.resolve()
    # `after` was scored through the adapter folder itself, as `--model OUT` serves it.
    assert set(report["after"]) == {"next-line", "fim-line"}
    choice = choose_model(str(out), "cpu")
    assert choice.adapter == adapter and Path(choice.spec) == tiny_model_dir.resolve()
    served = load_model(choice.spec, device="cpu", dtype="float32", adapter=adapter)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    changed = [
        name
        for (name, mine), (_, theirs) in zip(
            served.model.named_parameters(), base.named_parameters(), strict=True
        )
        if not torch.equal(mine, theirs)
    ]
    assert changed and all(name.endswith("proj.weight") for name in changed)


def test_finetune_with_lora_merge_saves_a_full_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    from codecomp_lsp.training.finetune import finetune
    from codecomp_lsp.training.recipes import LoRA

    out = tmp_path / "tuned"
    recipe = LoRA(minutes=0.1, merge=True)
    report = finetune(_repo(tmp_path / "repo"), tiny_model_dir, out, recipe, log=lambda m: None)
    assert report["method"] == "LoRA (merged)"
    model = AutoModelForCausalLM.from_pretrained(out)
    assert not any("lora" in name for name, _ in model.named_parameters())
    # An adapter saved later over it replaces the full model (ours: finetune.json marks it).
    finetune(_repo(tmp_path / "repo2"), tiny_model_dir, out, LoRA(minutes=0.05), log=lambda m: None)
    assert not (out / "config.json").exists() and (out / "adapter_config.json").is_file()


def test_an_adapter_is_never_saved_over_someone_elses_model(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    import shutil

    import pytest

    from codecomp_lsp.training.finetune import finetune
    from codecomp_lsp.training.recipes import LoRA

    out = shutil.copytree(tiny_model_dir, tmp_path / "model")
    with pytest.raises(ValueError, match="already holds a model"):
        finetune(_repo(tmp_path / "repo"), tiny_model_dir, out, LoRA(minutes=0.05), log=print)
    assert (out / "config.json").is_file()


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
