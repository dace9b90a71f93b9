"""The README's first command, for real: pull the default model for this device from its real
source into the user's models folder (instant when already there), then complete with no model
setting — from the command line and from the server's very first request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from tests.conftest import REAL_MODELS_DIR, REPO, pull_real_models
from tests.e2e.lsp_helpers import inline, lsp_session, open_doc, stats


@pytest.fixture(scope="module")
def real_models() -> dict[str, str]:
    return pull_real_models()


def complete_cli(env: dict[str, str], file: str, line: int, *extra: str) -> dict:
    """`codecomp complete FILE --line LINE --json [extra]` in the repository, its JSON report."""
    done = subprocess.run(
        [sys.executable, "-m", "codecomp_lsp.cli", "complete", file, "--line", str(line), "--json"]
        + list(extra),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Warning" not in done.stderr, done.stderr  # a normal run prints no warnings
    return json.loads(done.stdout)


def test_the_default_model_completes_python_and_typescript_correctly(real_models) -> None:
    python = complete_cli(real_models, "examples/walk.py", 16)
    assert python["model"].startswith("qwen2.5-coder-") and python["modelError"] is None
    assert python["modelReason"].startswith("the best pulled model for")
    body = python["suggestions"][0]
    assert "return" in body and ("len(" in body or "sum(" in body) and "handle" in body, body
    typescript = complete_cli(real_models, "examples/average.ts", 7)
    assert "total / values.length" in typescript["suggestions"][0], typescript
    assert (
        python["loadSeconds"] < 60
    )  # converted: no GGUF de-quantization at start (see benchmarks)


async def test_the_servers_first_invoked_request_waits_for_the_default_model(
    real_models, monkeypatch
) -> None:
    monkeypatch.setenv("CODECOMP_MODELS", REAL_MODELS_DIR)
    source = Path(REPO / "examples" / "average.ts").read_text()
    uri = "file:///tmp/average.ts"
    async with lsp_session(None, wait_ready=False) as client:
        open_doc(client, uri, source, language="typescript")
        last = source.rstrip("\n").split("\n")
        answer = await inline(client, uri, len(last) - 1, len(last[-1]), invoked=True)
        info = await stats(client)
        assert info["model"].startswith("qwen2.5-coder-") and info["modelFallback"] is False
        assert answer is not None and answer.items, "the first request came back empty"
        assert "total / values.length" in answer.items[0].insert_text
        assert not [m for m in client.messages if m.type == types.MessageType.Error]


# HumanEval/49 with its first line masked (the model alone answers `if n == 0:` there).
MODP = (
    "\n\ndef modp(n: int, p: int):\n"
    '    """Return 2^n modulo p (be aware of numerics).\n'
    "    >>> modp(3, 5)\n"
    "    3\n"
    "    >>> modp(1101, 101)\n"
    "    2\n"
    "    >>> modp(0, 101)\n"
    "    1\n"
    "    >>> modp(3, 11)\n"
    "    8\n"
    "    >>> modp(100, 101)\n"
    "    1\n"
    '    """\n'
    "    \n"
    "    for i in range(n):\n"
    "        ret = (2 * ret) % p\n"
    "    return ret\n"
)


async def _first_line(options: dict) -> tuple[str, dict]:
    uri = "file:///tmp/modp.py"
    async with lsp_session(None, options=options) as client:
        open_doc(client, uri, MODP)
        answer = await inline(client, uri, 15, 4, invoked=True)
        assert answer is not None and answer.items, "no answer"
        info = await stats(client)
        assert info["model"].startswith("qwen2.5-coder-")
        return answer.items[0].insert_text.split("\n")[0].strip(), info


async def test_an_empty_line_above_a_loop_that_reads_a_name_gets_its_binding(
    real_models, monkeypatch
) -> None:
    """The definition check through the server with the default model: the answer binds `ret`,
    which the loop below reads. Where the model's own answers do not (on the CPUs measured it
    writes `if n == 0:`), the check decoded the one shown."""
    monkeypatch.setenv("CODECOMP_MODELS", REAL_MODELS_DIR)
    alone, off = await _first_line({"disabledStages": ["definition-check"]})
    assert off["definitionAnswers"] == 0
    first, on = await _first_line({})
    assert first == "ret = 1", (first, alone)
    assert on["definitionAnswers"] == (0 if alone.startswith("ret =") else 1), alone
