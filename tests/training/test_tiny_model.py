"""The tiny-model builder: a real, loadable, trainable and reproducible model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from codecomp_lsp.training.corpus import pack_windows
from codecomp_lsp.training.loop import estimate_loss
from codecomp_lsp.training.special_tokens import FILE_SEP, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from codecomp_lsp.training.tiny import build_tiny_model, default_corpus_texts

TRAIN_STEPS = 150
SEQ_LEN = 256


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return default_corpus_texts()


@pytest.fixture(scope="module")
def trained_dir(corpus: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny-trained")
    return build_tiny_model(out, corpus, train_steps=TRAIN_STEPS, seq_len=SEQ_LEN)


def load(model_dir: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    return model, tokenizer


def test_files_and_config(trained_dir: Path) -> None:
    assert (trained_dir / "model.safetensors").is_file()
    assert not (trained_dir / "pytorch_model.bin").exists()
    config = json.loads((trained_dir / "config.json").read_text())
    assert config["model_type"] == "llama"
    assert config["tie_word_embeddings"] is True
    assert (config["eos_token_id"], config["bos_token_id"], config["pad_token_id"]) == (0, 0, 4)
    generation = json.loads((trained_dir / "generation_config.json").read_text())
    assert generation["eos_token_id"] == [0, 5]
    assert generation["pad_token_id"] == 4


def test_loads_offline_and_generates(trained_dir: Path) -> None:
    model, tokenizer = load(trained_dir)
    assert model.config.vocab_size == len(tokenizer)
    for token in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, FILE_SEP):
        assert len(tokenizer.encode(token)) == 1
    text = "def héllo():\n    return '🙂'  # done\n"
    assert tokenizer.decode(tokenizer.encode(text)) == text
    prompt = f"{FIM_PREFIX}def add(a, b):\n    {FIM_SUFFIX}\n\n{FIM_MIDDLE}"
    input_ids = torch.tensor([tokenizer.encode(prompt)])
    with torch.no_grad():
        output = model.generate(input_ids, max_new_tokens=12, do_sample=False)
    new_tokens = output[0, input_ids.shape[1] :].tolist()
    assert 1 <= len(new_tokens) <= 12
    assert isinstance(tokenizer.decode(new_tokens), str)


def test_training_lowers_loss(
    trained_dir: Path, corpus: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    untrained_dir = build_tiny_model(tmp_path_factory.mktemp("tiny-untrained"), corpus)
    trained, tokenizer = load(trained_dir)
    untrained, untrained_tokenizer = load(untrained_dir)
    assert untrained_tokenizer.get_vocab() == tokenizer.get_vocab()
    windows = pack_windows(corpus, tokenizer, SEQ_LEN)
    sample = windows[:: max(1, len(windows) // 16)][:16]
    initial = estimate_loss(untrained, sample, pad_id=tokenizer.pad_token_id)
    final = estimate_loss(trained, sample, pad_id=tokenizer.pad_token_id)
    assert initial > 7.0  # about ln(vocab): the untrained model is near uniform
    assert final < initial - 1.5


def test_same_seed_same_weights(corpus: list[str], tmp_path: Path) -> None:
    texts = corpus[:40]
    dirs = [
        build_tiny_model(tmp_path / name, texts, train_steps=5, seq_len=64, seed=seed)
        for name, seed in (("a", 1), ("b", 1), ("c", 2))
    ]
    a, b, c = (load_file(d / "model.safetensors") for d in dirs)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    tokenizer_json = [(d / "tokenizer.json").read_text() for d in dirs]
    assert tokenizer_json[0] == tokenizer_json[1] == tokenizer_json[2]
