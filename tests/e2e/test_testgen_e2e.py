"""Generate tests through the real server over stdio: offered for the function at the cursor,
written as a new test file that imports the code (CreateFile), refused with a reason when the
model's tests do not hold together; with the default model and `runGeneratedTests`, the kept
tests pass against the code and catch a mutant of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.syntax import count_errors
from tests.conftest import REAL_MODELS_DIR, pull_real_models
from tests.e2e.lsp_helpers import capture_applied_edits, lsp_session, open_doc
from tests.e2e.test_assist_e2e import code_actions, pos, run_command, wait_until
from tests.e2e.test_translate_e2e import PY, _created


async def _generate(client, uri: str) -> dict:
    listed = await code_actions(client, uri, pos(2, 4))
    (action,) = [a for a in listed if a.title == "Generate tests for `count_vowels`"]
    assert action.kind == "refactor.rewrite.tests" and action.command is not None
    return await run_command(client, action)


async def test_tests_are_offered_and_written_beside_the_module_or_refused(
    tiny_model_dir, tmp_path: Path
):
    uri = (tmp_path / "vowels.py").as_uri()
    async with lsp_session(
        tiny_model_dir, options={"codeActionMaxNewTokens": 64}, files=True
    ) as client:
        applied = capture_applied_edits(client)
        open_doc(client, uri, PY)
        result = await _generate(client, uri)
        if result["applied"]:
            new_uri, text = _created(applied[0])
            assert new_uri == (tmp_path / "test_vowels.py").as_uri()
            assert text.startswith("from vowels import count_vowels\n")
            assert count_errors(text, spec_by_name("python")) == 0 and "def test_" in text
        else:
            assert not applied
            await wait_until(
                lambda: any("nothing was written" in m.message for m in client.messages)
            )


@pytest.fixture(scope="module")
def real_models() -> dict[str, str]:
    return pull_real_models()


def _pytest(folder: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_vowels.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode


async def test_the_default_model_writes_tests_that_pass_and_catch_a_mutant(
    real_models, monkeypatch, tmp_path: Path
):
    monkeypatch.setenv("CODECOMP_MODELS", REAL_MODELS_DIR)
    uri = (tmp_path / "vowels.py").as_uri()
    options = {"candidates": 1, "runGeneratedTests": True}
    async with lsp_session(None, options=options, files=True) as client:
        applied = capture_applied_edits(client)
        open_doc(client, uri, PY)
        result = await _generate(client, uri)
        assert result["applied"], [m.message for m in client.messages]
        _, text = _created(applied[0])
        assert any("passing tests kept" in m.message for m in client.messages)
    (tmp_path / "test_vowels.py").write_text(text)
    (tmp_path / "vowels.py").write_text(PY)
    assert _pytest(tmp_path) == 0, text
    (tmp_path / "vowels.py").write_text(PY.replace('in "aeiou"', 'in "aeio"'))
    assert _pytest(tmp_path) != 0, text
