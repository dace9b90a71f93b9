"""The VS Code extension's smoke test (`npm test` in editors/vscode) against the real server.

`npm test` typechecks and bundles the extension, then runs it with the real vscode-languageclient in
a stubbed `vscode` module against `codecomp-lsp` (from this venv) and the fixture model. Skips when
Node.js 20+ and npm are not installed; `npm ci` runs only when node_modules is missing or stale.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "editors" / "vscode"


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run in its own process group, so a timeout also ends npm's children (node, the server)."""
    proc = subprocess.Popen(
        cmd,
        cwd=EXTENSION,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} timed out after {timeout:.0f}s:\n{out[-6000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


@pytest.fixture(scope="module")
def npm() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the VS Code extension test")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    match = re.match(r"v(\d+)", version)
    if match is None or int(match.group(1)) < 20:
        pytest.skip(
            f"the VS Code extension needs Node.js 20 or newer, found {version or 'unknown'}"
        )
    return npm


def _node_modules_stale() -> bool:
    installed = EXTENSION / "node_modules" / ".package-lock.json"
    lock = EXTENSION / "package-lock.json"
    return not installed.is_file() or lock.stat().st_mtime > installed.stat().st_mtime


def test_vscode_extension_smoke(npm: str, tiny_model_dir: Path) -> None:
    env = dict(os.environ)
    venv_bin = Path(sys.executable).parent
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["CODECOMP_TEST_MODEL"] = str(tiny_model_dir)
    if shutil.which("codecomp-lsp", path=env["PATH"]) is None:
        env["CODECOMP_TEST_PYTHON"] = sys.executable  # run the server as `python -m codecomp_lsp`
    env.update(
        npm_config_audit="false", npm_config_fund="false", npm_config_update_notifier="false"
    )

    if _node_modules_stale():
        result = _run([npm, "ci", "--prefer-offline"], env, timeout=300)
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout[-6000:]}"

    result = _run([npm, "test"], env, timeout=300)
    out = result.stdout
    assert result.returncode == 0, f"npm test failed:\n{out[-12000:]}"
    passed = re.search(r"^\S* ?pass (\d+)$", out, re.MULTILINE)
    failed = re.search(r"^\S* ?fail (\d+)$", out, re.MULTILINE)
    assert passed and int(passed.group(1)) > 0, f"no smoke test ran (skipped?):\n{out[-6000:]}"
    assert failed and int(failed.group(1)) == 0, out[-12000:]


def _readme_settings() -> dict[str, str]:
    """Setting name → default column of the README's settings table."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \|", section, re.MULTILINE)
    return {name: default.strip() for name, default in rows}


def test_package_json_contributes_every_server_setting() -> None:
    """package.json has a `codecomp.X` for every README settings row, typed like the server's default."""
    from dataclasses import fields

    from codecomp_lsp.settings import Settings

    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    properties = manifest["contributes"]["configuration"]["properties"]
    readme = _readme_settings()
    assert "maxNewTokens" in readme, "the README settings table was not found"
    defaults = {f.name: getattr(Settings(), f.name) for f in fields(Settings)}
    client_only = {"enable", "completionMenu", "serverCommand", "serverArgs", "pythonPath", "trace"}
    contributed = {
        k.split(".", 1)[1].split(".")[0] for k in properties if k.startswith("codecomp.")
    }
    assert sorted(set(readme) - contributed) == [], "README settings missing from package.json"
    stale = sorted(contributed - client_only - set(defaults))
    assert stale == [], "package.json settings the server does not know (it would warn about them)"
    json_type = {bool: "boolean", int: "integer", float: "number", str: "string", tuple: "array"}
    for name in sorted(contributed - client_only):
        schema = properties[f"codecomp.{name}"]
        default = defaults[name]
        assert schema.get("description") or schema.get("markdownDescription"), name
        if default is None:  # model: empty string means the server's default
            assert schema["default"] == "", name
            continue
        assert schema["type"] == json_type[type(default)], name
        expected = list(default) if isinstance(default, tuple) else default
        assert schema["default"] == expected, f"codecomp.{name}: default differs from the server's"
    # Enumerated values are the server's own: every pipeline stage can be switched off.
    from codecomp_lsp.stages import STAGES

    stages = properties["codecomp.disabledStages"]["items"]["enum"]
    assert stages == [stage.value for stage in STAGES]
    row = next(
        line
        for line in (REPO / "README.md").read_text(encoding="utf-8").split("\n")
        if line.startswith("| `disabledStages` |")
    )
    assert all(f"`{stage.value}`" in row for stage in STAGES), row
