"""Shared fixtures: a tiny real model (trained tokenizer with FIM tokens, seeded Llama) built once."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from codecomp_lsp.modelstore.store import MODELS_ENV, models_dir

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The user's pulled models, before the suite isolates itself from them: a test that means the real
# cache (the README's first command) passes this on; every other test sees an empty models folder,
# so "no model configured" resolves the same way on every machine.
REAL_MODELS_DIR = str(models_dir())
os.environ[MODELS_ENV] = tempfile.mkdtemp(prefix="codecomp-test-models-")

REPO = Path(__file__).resolve().parent.parent
PULL_TIMEOUT_S = 900


def pull_real_models() -> dict[str, str]:
    """`codecomp models pull` into the user's models folder (instant when the default model is
    there), as the README's first command does; the environment that sees that folder."""
    env = {**os.environ, MODELS_ENV: REAL_MODELS_DIR}
    env.pop("HF_HUB_OFFLINE", None)  # the hub is a source where it is reachable
    pulled = subprocess.run(
        [sys.executable, "-m", "codecomp_lsp.cli", "models", "pull"],
        env=env,
        capture_output=True,
        text=True,
        timeout=PULL_TIMEOUT_S,
    )
    assert pulled.returncode == 0, f"`codecomp models pull` failed:\n{pulled.stderr[-3000:]}"
    assert "installed" in pulled.stdout
    return env


_BUILD_VERSION = "v1-h64-l2-steps120"


def _fixture_dir() -> Path:
    sources = sorted((REPO / "codecomp_lsp" / "training").glob("*.py"))
    digest = hashlib.sha256(
        _BUILD_VERSION.encode() + b"".join(p.read_bytes() for p in sources)
    ).hexdigest()[:12]
    base = Path(os.environ.get("CODECOMP_TEST_CACHE", REPO / ".pytest_cache" / "codecomp"))
    return base / f"tiny-model-{digest}"


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """A small LlamaForCausalLM with our tokenizer, briefly trained on stdlib code (deterministic)."""
    from codecomp_lsp.training.corpus import default_corpus_texts
    from codecomp_lsp.training.tiny import build_tiny_model

    out = _fixture_dir()
    if (out / "config.json").is_file() and (out / "model.safetensors").is_file():
        return out
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    build_tiny_model(tmp, default_corpus_texts(80), hidden_size=64, layers=2, train_steps=120)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out
