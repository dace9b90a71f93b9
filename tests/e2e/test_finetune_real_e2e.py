"""`codecomp finetune --lora --base qwen2.5-coder-0.5b` for real: the pulled default model learns
through its own FIM markers, the adapter is saved alone naming the catalog model, and `--model
ADAPTER` serves it — from the command line and from the language server."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from tests.conftest import REAL_MODELS_DIR, REPO, pull_real_models
from tests.e2e.lsp_helpers import inline, lsp_session, open_doc, stats
from tests.e2e.test_default_model_e2e import complete_cli

BASE = "qwen2.5-coder-0.5b"


@pytest.fixture(scope="module")
def real_models() -> dict[str, str]:
    return pull_real_models()


def _converted(env: dict[str, str]) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "codecomp_lsp.cli", "models", "path", BASE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def test_qwen_is_fine_tuned_in_its_own_fim_layout(real_models: dict[str, str]) -> None:
    from codecomp_lsp.training.fim import apply_fim_to_context
    from codecomp_lsp.training.finetune import fim_markers

    tokenizer = AutoTokenizer.from_pretrained(_converted(real_models))
    markers = fim_markers(tokenizer)
    assert markers is not None
    assert (markers.prefix, markers.suffix, markers.middle) == (
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
    )
    # Documents are separated by <|endoftext|>, not the Instruct tokenizer's eos <|im_end|>.
    assert markers.eos == "<|endoftext|>" and not markers.spm
    code = (REPO / "examples" / "walk.py").read_text()
    sep = tokenizer.convert_tokens_to_ids(markers.eos)
    ids = tokenizer.encode(code) + [sep]
    out = apply_fim_to_context(ids, tokenizer, random.Random(3), fim_rate=1.0, markers=markers)
    text = tokenizer.decode(out)
    assert text.startswith("<|fim_prefix|>") and text.endswith("<|endoftext|>")
    prefix, rest = text[len("<|fim_prefix|>") :].split("<|fim_suffix|>")
    suffix, middle = rest.removesuffix("<|endoftext|>").split("<|fim_middle|>")
    # The fragment never grows: the suffix gives up the sentinels' three tokens at its end.
    assert len(out) == len(ids) and code.startswith(prefix + middle + suffix)
    assert len(code) - len(prefix + middle + suffix) < 40


def _repo(root: Path) -> Path:
    """A small package of the user's own: helpers that all read config the same way."""
    for i in range(6):
        rows = [f'"""Reports of kind {i}."""', "", "from settings import load_config", ""]
        for j in range(4):
            rows += [
                "",
                f"def report_{i}_{j}(path):",
                "    config = load_config(path)",
                f"    return config.section('report_{i}_{j}').rows()",
                "",
            ]
        (root / f"reports_{i}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"reports_{i}.py").write_text("\n".join(rows))
    return root


async def test_a_lora_adapter_of_the_default_model_is_trained_and_served(
    real_models: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "adapter"
    tuned = subprocess.run(
        [
            sys.executable,
            "-m",
            "codecomp_lsp.cli",
            "finetune",
            str(_repo(tmp_path / "myrepo")),
            "--lora",
            "--base",
            BASE,
            "--out",
            str(out),
            "--minutes",
            "0.1",
            "--context",
            "128",
            "--batch-size",
            "1",
            "--eval-limit",
            "0",
        ],
        env=real_models,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    report = json.loads((out / "finetune.json").read_text())
    assert report["method"] == "LoRA adapter" and report["base"] == BASE
    assert report["fim"] == "<|fim_prefix|>" and report["steps"] >= 1
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == BASE  # portable: the catalog name
    assert (out / "adapter_model.safetensors").stat().st_size < 50_000_000
    assert f"--model {out}" in tuned.stdout

    answer = complete_cli(real_models, "examples/walk.py", 16, "--model", str(out))
    assert answer["model"] == f"adapter (LoRA on {BASE})" and answer["modelError"] is None
    body = answer["suggestions"][0]
    assert "return" in body and "handle" in body, body  # a few steps leave the model sound

    monkeypatch.setenv("CODECOMP_MODELS", REAL_MODELS_DIR)
    source = (REPO / "examples" / "average.ts").read_text()
    async with lsp_session(str(out)) as client:
        info = await stats(client)
        assert info["model"] == f"adapter (LoRA on {BASE})" and info["modelFallback"] is False
        assert str(out) in info["modelReason"]
        uri = "file:///tmp/average.ts"
        open_doc(client, uri, source, language="typescript")
        last = source.rstrip("\n").split("\n")
        result = await inline(client, uri, len(last) - 1, len(last[-1]), invoked=True)
        assert result is not None and "total / values.length" in result.items[0].insert_text


def test_accepted_suggestions_are_trained_in_qwens_own_fim_layout(
    real_models: dict[str, str],
) -> None:
    """`codecomp finetune --feedback` on Qwen: each accepted suggestion is a Qwen FIM example."""
    from codecomp_lsp.training.data.feedback import FeedbackExample, example_ids
    from codecomp_lsp.training.finetune import fim_markers

    tokenizer = AutoTokenizer.from_pretrained(_converted(real_models))
    example = FeedbackExample("def area(r):\n    ", "return 3.14 * r * r", "\n")
    ids, middle_at = example_ids(tokenizer, example, 256, markers=fim_markers(tokenizer))
    text = tokenizer.decode(ids)
    assert text.startswith("<|fim_prefix|>def area(r):") and "<|fim_suffix|>" in text
    assert tokenizer.decode(ids[middle_at:]) == "return 3.14 * r * r<|endoftext|>"
