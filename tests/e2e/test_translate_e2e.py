"""Translate through the real server over stdio: one action per target for the function at the
cursor, a new file beside the document created with a WorkspaceEdit (and shown) where the client
can, the code in a message where it cannot, and with the default model a JavaScript translation
that node runs to the same answers as the Python."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.syntax import count_errors
from tests.conftest import REAL_MODELS_DIR, pull_real_models
from tests.e2e.lsp_helpers import capture_applied_edits, lsp_session, open_doc
from tests.e2e.test_assist_e2e import code_actions, pos, run_command, wait_until

PY = '''def count_vowels(text):
    """How many vowels `text` holds."""
    total = 0
    for ch in text.lower():
        if ch in "aeiou":
            total += 1
    return total
'''


def _created(params: types.ApplyWorkspaceEditParams) -> tuple[str, str]:
    create, fill = params.edit.document_changes or []
    assert isinstance(create, types.CreateFile) and create.options.overwrite is False
    assert isinstance(fill, types.TextDocumentEdit) and fill.text_document.uri == create.uri
    return create.uri, fill.edits[0].new_text


async def _translate(client, uri: str, title: str) -> dict:
    listed = await code_actions(client, uri, pos(2, 4))
    (action,) = [a for a in listed if a.title == title]
    assert action.kind == "refactor.rewrite.translate" and action.command is not None
    return await run_command(client, action)


async def test_translations_are_offered_written_to_a_new_file_or_refused(
    tiny_model_dir, tmp_path: Path
):
    (tmp_path / "vowels.js").write_text("// already here\n")
    uri = (tmp_path / "vowels.py").as_uri()
    options = {"codeActionMaxNewTokens": 64, "translateTargets": ["javascript", "go", "python"]}
    async with lsp_session(tiny_model_dir, options=options, files=True) as client:
        applied = capture_applied_edits(client)
        open_doc(client, uri, PY)
        listed = await code_actions(client, uri, pos(2, 4))
        titles = [a.title for a in listed if a.title.startswith("Translate to")]
        assert titles == ["Translate to JavaScript", "Translate to Go"]  # not to its own language
        result = await _translate(client, uri, "Translate to JavaScript")
        if result["applied"]:
            (params,) = applied
            new_uri, text = _created(params)
            assert new_uri == (tmp_path / "vowels.translated.js").as_uri()  # never over a file
            assert count_errors(text, spec_by_name("javascript")) == 0
            assert [s.uri for s in client.shown_documents] == [new_uri]
        else:
            # The fixture model writes junk: refused, with the check that failed.
            assert not applied and result.get("uri") is None
            await wait_until(
                lambda: any("nothing was written" in m.message for m in client.messages)
            )


@pytest.fixture(scope="module")
def real_models() -> dict[str, str]:
    return pull_real_models()


NODE_CHECK = """
const mod = require(process.argv[2]);
const fn = mod.countVowels || mod.count_vowels;
console.log(JSON.stringify(["Hello World", "", "AEIOU xyz"].map((s) => fn(s))));
"""


async def test_the_default_model_translates_a_function_to_javascript_that_runs(
    real_models, monkeypatch, tmp_path: Path
):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    monkeypatch.setenv("CODECOMP_MODELS", REAL_MODELS_DIR)
    uri = (tmp_path / "vowels.py").as_uri()
    async with lsp_session(None, options={"candidates": 1}, files=True) as client:
        applied = capture_applied_edits(client)
        open_doc(client, uri, PY)
        result = await _translate(client, uri, "Translate to JavaScript")
        assert result["applied"], [m.message for m in client.messages]
        new_uri, text = _created(applied[0])
        assert new_uri == (tmp_path / "vowels.js").as_uri()
    module = tmp_path / "vowels.cjs"
    names = "countVowels" if "countVowels" in text else "count_vowels"
    script = text.replace("export default function", "function").replace(
        "export function", "function"
    )
    module.write_text(f"{script}\nmodule.exports = {{ {names} }};\n")
    check = tmp_path / "check.cjs"
    check.write_text(NODE_CHECK)
    done = subprocess.run(
        [node, str(check), str(module)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, (done.stderr, text)
    assert json.loads(done.stdout) == [3, 0, 5], text


async def test_without_file_creation_the_translation_is_shown(tiny_model_dir, tmp_path: Path):
    uri = (tmp_path / "vowels.py").as_uri()
    options = {"codeActionMaxNewTokens": 64}
    async with lsp_session(tiny_model_dir, options=options) as client:
        applied = capture_applied_edits(client)
        open_doc(client, uri, PY)
        result = await _translate(client, uri, "Translate to TypeScript")
        assert not applied and result["applied"] is False
        if result.get("text"):
            assert any(result["text"] in m.message for m in client.messages)
