"""Helpers for the real-editor tests: finding editors and the server command."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def find_executable(name: str) -> str | None:
    """The venv's bin first (pip-installed editors), then PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def server_command() -> list[str]:
    """How an editor starts the server from this checkout."""
    exe = find_executable("codecomp-lsp")
    base = [exe] if exe else [sys.executable, "-m", "codecomp_lsp"]
    return [*base, "--log-level", "WARNING"]


def isolated_env(home: Path) -> dict[str, str]:
    """No user config, state or cache leaks into (or out of) an editor run."""
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = home / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["HOME"] = str(home)
    env["HF_HUB_OFFLINE"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    env.pop("NVIM", None)
    env.pop("NVIM_LISTEN_ADDRESS", None)
    return env


class EditorRun:
    """The JSON-lines steps one headless editor session reported, with its log for failures."""

    def __init__(self, steps: dict[str, dict[str, Any]], log: str) -> None:
        self.steps = steps
        self.log = log

    def step(self, name: str) -> dict[str, Any]:
        record = self.steps.get(name)
        assert record is not None, f"step {name!r} did not report\n{self.log}"
        assert not record.get("error"), f"step {name!r} failed: {record['error']}\n{self.log}"
        return record
