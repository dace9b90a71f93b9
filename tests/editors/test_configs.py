"""Static checks of the editor configurations: they parse, and their settings are valid."""

from __future__ import annotations

import subprocess
import tomllib

import pytest

from codecomp_lsp.settings import parse_settings
from tests.editors.editor_helpers import REPO, find_executable, isolated_env

HELIX = REPO / "editors" / "helix" / "languages.toml"
EMACS = REPO / "editors" / "emacs" / "codecomp.el"


def test_helix_languages_toml_registers_codecomp_with_valid_settings() -> None:
    config = tomllib.loads(HELIX.read_text())
    server = config["language-server"]["codecomp"]
    assert server["command"] == "codecomp-lsp"
    # Helix sends `config` as initializationOptions and as didChangeConfiguration settings:
    # the server reads the `codecomp` section of both.
    parsed = parse_settings(server["config"])
    assert parsed.errors == []
    assert parsed.settings.maxNewTokens == server["config"]["codecomp"]["maxNewTokens"]
    languages = {lang["name"]: lang for lang in config["language"]}
    assert {"python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"} <= set(
        languages
    )
    for lang in languages.values():
        assert "codecomp" in lang["language-servers"], lang


def test_emacs_package_byte_compiles_without_warnings(tmp_path) -> None:
    emacs = find_executable("emacs")
    if emacs is None:
        pytest.skip("emacs not found: apt-get install emacs-nox elpa-eglot")
    target = tmp_path / "codecomp.el"
    target.write_text(EMACS.read_text())
    proc = subprocess.run(
        [
            emacs,
            "--batch",
            "-q",
            "--eval",
            "(setq byte-compile-error-on-warn t)",
            "--eval",
            "(unless (require 'eglot nil t) (kill-emacs 7))",
            "-f",
            "batch-byte-compile",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=isolated_env(tmp_path / "home"),
    )
    if proc.returncode == 7:
        pytest.skip("emacs has no eglot (apt-get install elpa-eglot)")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "codecomp.elc").is_file()
