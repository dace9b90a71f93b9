"""The pulled default model the remote-backend tests serve from real engines."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REAL_MODELS_DIR, pull_real_models


def pulled_default_model() -> tuple[Path, Path]:
    """The default model's converted folder and its GGUF, pulled into the user's models folder
    (instant when already there) — the same pull the README's first command does."""
    pull_real_models()
    folders = sorted(Path(REAL_MODELS_DIR).glob("qwen2.5-coder-0.5b*/converted"))
    assert folders, f"no pulled Qwen2.5-Coder-0.5B under {REAL_MODELS_DIR}"
    converted = folders[0]
    ggufs = sorted(converted.parent.glob("*.gguf"))
    assert ggufs, f"no GGUF beside {converted}"
    return converted, ggufs[0]
