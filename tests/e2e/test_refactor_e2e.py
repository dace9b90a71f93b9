"""Refactor a selection through the real server over stdio: the three actions are listed for a
selection, and whatever the model writes, an edit that reaches the client parses and keeps the
names — otherwise there is no edit and the user is told which check failed."""

from __future__ import annotations

import re

import pytest
from lsprotocol import types

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.syntax import count_errors
from tests.conftest import REAL_MODELS_DIR, pull_real_models
from tests.e2e.lsp_helpers import capture_applied_edits, lsp_session, open_doc
from tests.e2e.test_assist_e2e import (
    apply_edits,
    code_actions,
    edits_of,
    pos,
    run_command,
    wait_until,
)
from tests.samples import TOTAL_SIZE_PY

URI = "file:///work/demo/sizes.py"
PY = TOTAL_SIZE_PY
TITLES = ["Simplify", "Extract function", "Rename locals for clarity"]


def _words(text: str, name: str) -> int:
    return len(re.findall(rf"(?<![\w.]){name}\b", text))


def _assert_valid(fixed: str) -> None:
    """Parses, and still reads `os`, `path`, `total` and returns `total` (checked by words, not
    by the server's own checker)."""
    assert count_errors(fixed, spec_by_name("python")) == 0, fixed
    assert fixed.rstrip().endswith("return total"), fixed
    assert _words(fixed, "path") >= 2 and _words(fixed, "os") >= 2, fixed


async def test_refactor_actions_are_listed_and_checked_before_any_edit(tiny_model_dir):
    options = {"codeActionMaxNewTokens": 48}
    async with lsp_session(tiny_model_dir, resolve=True, options=options) as client:
        open_doc(client, URI, PY)
        listed = await code_actions(client, URI, pos(6, 0), pos(10, 0))
        refactors = [a for a in listed if a.title in TITLES]
        assert [a.title for a in refactors] == TITLES
        at_cursor = await code_actions(client, URI, pos(6, 4))
        assert not [a for a in at_cursor if a.title in TITLES]  # a selection is needed
        for action in refactors:
            assert isinstance(action, types.CodeAction)
            assert action.kind == types.CodeActionKind.RefactorRewrite
            assert action.edit is None and action.data
            client.messages.clear()
            client.progress_reports.clear()
            resolved = await client.code_action_resolve_async(action)
            (reports,) = client.progress_reports.values()
            assert reports[0].kind == "begin" and reports[0].cancellable
            if resolved.edit is None:
                # The fixture model writes junk: refused, with the check that failed.
                await wait_until(
                    lambda: any("nothing was changed" in m.message for m in client.messages)
                )
                (told,) = [m for m in client.messages if "nothing was changed" in m.message]
                assert told.message.startswith(f"codecomp: {action.title}: ")
                assert told.type == types.MessageType.Warning
                continue
            edits = edits_of(resolved.edit, URI)
            _assert_valid(apply_edits(PY, edits))
            if action.title != "Extract function":  # diff-sized: only inside the selection
                assert all(e.range.start.line >= 6 and e.range.end.line <= 10 for e in edits)


async def test_refactor_runs_as_a_command_without_resolve(tiny_model_dir):
    async with lsp_session(tiny_model_dir, options={"codeActionMaxNewTokens": 48}) as client:
        applied = capture_applied_edits(client)
        open_doc(client, URI, PY)
        listed = await code_actions(client, URI, pos(6, 0), pos(10, 0))
        (simplify,) = [a for a in listed if a.title == "Simplify"]
        assert isinstance(simplify, types.CodeAction) and simplify.command is not None
        result = await run_command(client, simplify)
        if result["applied"]:
            (params,) = applied
            _assert_valid(apply_edits(PY, edits_of(params.edit, URI)))
        else:
            assert not applied and "nothing was changed" in result["message"]


@pytest.fixture(scope="module")
def real_models() -> dict[str, str]:
    return pull_real_models()


ADULT_URI = "file:///work/demo/adult.py"
ADULT = """def is_adult(age):
    if age >= 18:
        return True
    else:
        return False
"""


async def _default_model_edit(
    monkeypatch, uri: str, text: str, rows: tuple[int, int], title: str, **options
) -> str:
    """The document after the default model's `title` on lines rows[0]..rows[1]-1, resolved."""
    monkeypatch.setenv("CODECOMP_MODELS", REAL_MODELS_DIR)
    async with lsp_session(None, resolve=True, options={"candidates": 1, **options}) as client:
        open_doc(client, uri, text)
        listed = await code_actions(client, uri, pos(rows[0], 0), pos(rows[1], 0))
        (action,) = [a for a in listed if a.title == title]
        resolved = await client.code_action_resolve_async(action)
        assert resolved.edit is not None, [m.message for m in client.messages]
        return apply_edits(text, edits_of(resolved.edit, uri))


async def test_the_default_model_simplifies_a_small_function(real_models, monkeypatch):
    fixed = await _default_model_edit(
        monkeypatch, ADULT_URI, ADULT, (1, 5), "Simplify", codeActionMaxNewTokens=96
    )
    assert count_errors(fixed, spec_by_name("python")) == 0
    assert fixed.startswith("def is_adult(age):\n") and _words(fixed, "age") >= 2
    assert len(fixed.split("\n")) < len(ADULT.split("\n")), fixed


GRADE_URI = "file:///work/demo/grade.py"
GRADE = """def grade(scores, cutoff):
    passed = []
    for s in scores:
        if s >= cutoff:
            passed.append(s)
    ratio = len(passed) / len(scores)
    return "good" if ratio > 0.5 else "poor"
"""


async def test_the_default_model_names_an_extraction_that_runs_the_same(real_models, monkeypatch):
    fixed = await _default_model_edit(monkeypatch, GRADE_URI, GRADE, (1, 5), "Extract function")
    assert count_errors(fixed, spec_by_name("python")) == 0
    header = re.search(r"^def (\w+)\(scores, cutoff\):$", fixed, re.M)
    assert header is not None and header[1] != "grade", fixed
    assert f"    passed = {header[1]}(scores, cutoff)\n" in fixed, fixed
    for args in (([1, 9, 5], 4), ([3], 4)):
        before: dict = {}
        after: dict = {}
        exec(GRADE, before)
        exec(fixed, after)
        assert after["grade"](*args) == before["grade"](*args)


async def test_the_default_model_renames_locals_and_nothing_else(real_models, monkeypatch):
    fixed = await _default_model_edit(monkeypatch, URI, PY, (6, 10), "Rename locals for clarity")
    _assert_valid(fixed)
    assert fixed != PY and fixed.split("\n")[:6] == PY.split("\n")[:6]
    assert "total = total + os.path.getsize(" in fixed, fixed
