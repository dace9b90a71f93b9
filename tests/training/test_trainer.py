"""`codecomp train`: a few real steps on a small corpus, resume from the checkpoint, export."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from codecomp_lsp.training.corpus import default_corpus_texts
from codecomp_lsp.training.loop import lr_at
from codecomp_lsp.training.recipes import FromScratch, ModelShape, Resume
from codecomp_lsp.training.trainer import export_model, train_run


def _corpus(root: Path) -> Path:
    texts = default_corpus_texts(40)
    for split, part in (("train", texts[:36]), ("heldout", texts[36:])):
        with gzip.open(root / f"{split}.jsonl.gz", "wt") as handle:
            for i, text in enumerate(part):
                handle.write(
                    json.dumps(
                        {"package": f"p{i}", "path": "m.py", "language": "python", "text": text}
                    )
                    + "\n"
                )
    return root


RECIPE = FromScratch(
    shape=ModelShape(vocab_size=400, hidden_size=32, layers=1, heads=2, kv_heads=1, context=64),
    total_tokens=64 * 4 * 6,  # 6 steps
    batch_size=4,
    warmup_steps=2,
    eval_every=3,
    checkpoint_every=2,
    eval_windows=2,
    tokenizer_sample_bytes=200_000,
)


def test_schedule_warms_up_then_decays() -> None:
    config = RECIPE.loop()
    assert config.steps == RECIPE.steps == 6
    assert lr_at(0, config) < lr_at(1, config) == RECIPE.lr
    assert lr_at(RECIPE.steps - 1, config) < RECIPE.lr
    assert lr_at(10 * RECIPE.steps, config) == RECIPE.lr * RECIPE.min_lr_ratio


def test_resume_needs_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train_run(tmp_path, tmp_path / "run", Resume(RECIPE), progress=False)


def test_train_resume_and_export(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    run = tmp_path / "run"
    first = train_run(corpus, run, replace(RECIPE, total_tokens=64 * 4 * 3), progress=False)
    assert first["step"] == 3 and first["finished"]
    # Same run directory, longer budget: continues from step 3, does not restart.
    second = train_run(corpus, run, RECIPE, progress=False)
    assert second["step"] == 6 and second["session_steps"] == 3
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert all("heldout_loss" in r for r in log if r["step"] % 3 == 0)
    out = export_model(run, tmp_path / "model", RECIPE)
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert model.config.max_position_embeddings == 64
    assert "<|cc_middle|>" in tokenizer.get_vocab()
    assert json.loads((out / "training.json").read_text())["tokens"] == 6 * 64 * 4
