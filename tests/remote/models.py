"""The pulled default model the remote-backend tests serve from real engines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REAL_MODELS_DIR


def pulled_default_model() -> tuple[Path, Path]:
    """The default model's converted folder and its GGUF, pulled into the user's models folder
    (instant when already there) — the same pull the README's first command does."""
    env = {**os.environ, "CODECOMP_MODELS": REAL_MODELS_DIR}
    env.pop("HF_HUB_OFFLINE", None)
    done = subprocess.run(
        [sys.executable, "-m", "codecomp_lsp.cli", "models", "pull"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"`codecomp models pull` failed:\n{done.stderr[-3000:]}"
    folders = sorted(Path(REAL_MODELS_DIR).glob("qwen2.5-coder-0.5b*/converted"))
    assert folders, f"no pulled Qwen2.5-Coder-0.5B under {REAL_MODELS_DIR}"
    converted = folders[0]
    ggufs = sorted(converted.parent.glob("*.gguf"))
    assert ggufs, f"no GGUF beside {converted}"
    return converted, ggufs[0]
