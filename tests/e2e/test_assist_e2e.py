"""Hover, diagnostics, quick fixes and code actions through the real server and fixture model."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.syntax import count_errors
from tests.e2e.lsp_helpers import capture_applied_edits, edit, inline, lsp_session, open_doc, stats
from tests.samples import LIST_FILES_PY

PY_URI = "file:///work/demo/files.py"
PY = LIST_FILES_PY.replace("dirpath, dirnames,", "dirpath, _,")
JS_LIB_URI = "file:///work/demo/lib.js"
JS_LIB = """/**
 * Sum of the numbers in a list.
 * @param {number[]} xs
 */
export function sum(xs) {
  return xs.reduce((a, b) => a + b, 0);
}
"""
JS_URI = "file:///work/demo/main.js"
JS = """import { sum } from "./lib.js";

export function total(items) {
  return sum(items.filter((x) => x != null));
}
"""
BROKEN_PY_URI = "file:///work/demo/broken.py"
BROKEN_PY = '''import os


def list_files(root):
    """Return the files under root."""
    result = []
    for name in os.listdir(root:
        result.append(os.path.join(root, name))
    return result
'''
BROKEN_JS_URI = "file:///work/demo/broken.js"
BROKEN_JS = """import { sum } from "./lib.js";

export function total(items) {
  const clean = items.filter((x) => x != null;
  return sum(clean);
}
"""


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def where(text: str, needle: str, offset: int = 0) -> types.Position:
    """Position of `needle` (plus offset) in `text`; text is ASCII here, so UTF-16 = code points."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return pos(line, index - (text.rfind("\n", 0, index) + 1))


async def hover(client, uri: str, position: types.Position) -> types.Hover | None:
    return await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        return sum(len(row) + 1 for row in lines[: p.line]) + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
        lines = text.split("\n")
    return text


def edits_of(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    if edit.changes:
        return list(edit.changes[uri])
    return [e for change in edit.document_changes or [] for e in change.edits]


async def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def wait_for_stats(client, condition, timeout: float = 30.0) -> dict[str, Any]:
    """Counters move when a model job ends, which may be just after the answer went out."""
    deadline = time.monotonic() + timeout
    while True:
        info = await stats(client)
        if condition(info):
            return info
        if time.monotonic() > deadline:
            raise TimeoutError(f"stats never satisfied the condition: {info}")
        await asyncio.sleep(0.1)


async def run_command(client, action: types.CodeAction | types.Command) -> Any:
    """workspace/executeCommand of the command a code action (or a bare command) is listed with."""
    command = action.command if isinstance(action, types.CodeAction) else action
    assert command is not None, action
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )


async def code_actions(
    client, uri: str, start: types.Position, end: types.Position | None = None, **context: Any
) -> list[types.CodeAction | types.Command]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=start, end=end or start),
            context=types.CodeActionContext(
                diagnostics=[],
                trigger_kind=context.get("trigger_kind", types.CodeActionTriggerKind.Invoked),
                only=context.get("only"),
            ),
        )
    )
    return list(result or [])


# -- hover ----------------------------------------------------------------------------------


async def test_python_hover_shows_signature_docstring_and_a_model_attempt(tiny_model_dir):
    # A generous budget: the machine may be busy, and a cut explanation is not cached.
    options = {"hoverTimeBudgetMs": 20000}
    async with lsp_session(tiny_model_dir, markdown=True, options=options) as client:
        open_doc(client, PY_URI, PY)
        before = (await stats(client))["generatedTokens"]
        result = await hover(client, PY_URI, where(PY, 'list_files(".")', 3))
        assert result is not None
        assert result.contents.kind == types.MarkupKind.Markdown
        value = result.contents.value
        assert value.startswith("```python\ndef list_files(root):\n```")
        assert "*(function) list_files*" in value
        assert "Return the paths of all files under root." in value
        # The range is the identifier hovered: `list_files` in main().
        start = where(PY, 'list_files(".")')
        assert result.range == types.Range(start=start, end=pos(start.line, start.character + 10))
        after = await stats(client)
        assert after["generatedTokens"] > before  # the model was asked for an explanation
        assert after["latencyMs"]["hover"]["count"] == 1
        # The same symbol again: the explanation (if any) comes from the cache, no decoding.
        again = await hover(client, PY_URI, where(PY, "def list_files", 5))
        assert again is not None and "def list_files(root):" in again.contents.value
        assert (await stats(client))["generatedTokens"] == after["generatedTokens"]


async def test_javascript_hover_resolves_a_call_into_another_open_file(tiny_model_dir):
    async with lsp_session(tiny_model_dir) as client:
        open_doc(client, JS_LIB_URI, JS_LIB, "javascript")
        open_doc(client, JS_URI, JS, "javascript")
        before = (await stats(client))["generatedTokens"]
        result = await hover(client, JS_URI, where(JS, "sum(items", 1))
        assert result is not None
        assert result.contents.kind == types.MarkupKind.PlainText
        parts = result.contents.value.split("\n\n")
        assert parts[0] == "(function) sum — defined in lib.js:5"
        assert parts[1] == "export function sum(xs)"
        assert parts[2] == "Sum of the numbers in a list.\n@param {number[]} xs"
        await wait_for_stats(client, lambda info: info["generatedTokens"] > before)


async def test_hover_keeps_its_structure_without_a_model():
    async with lsp_session("/nonexistent/model") as client:
        open_doc(client, PY_URI, PY)
        result = await hover(client, PY_URI, where(PY, 'list_files(".")', 2))
        assert result is not None
        assert "def list_files(root):" in result.contents.value
        assert "codecomp:" not in result.contents.value
        assert await hover(client, PY_URI, where(PY, "os.walk", 1)) is None  # `os`: unresolved


async def test_hover_is_bounded_while_the_model_is_busy(tiny_model_dir):
    slow = {"multiline": "always", "maxNewTokens": 1000, "timeBudgetMs": 4000, "candidates": 8}
    async with lsp_session(
        tiny_model_dir, options={**slow, "hoverTimeBudgetMs": 300}, stream=True
    ) as client:
        open_doc(client, PY_URI, PY)
        busy = asyncio.ensure_future(inline(client, PY_URI, 15, 0, invoked=True))
        await wait_until(lambda: bool(client.streamed))  # the worker is decoding
        started = time.monotonic()
        result = await hover(client, PY_URI, where(PY, 'list_files(".")', 2))
        elapsed = time.monotonic() - started
        assert result is not None and "def list_files(root):" in result.contents.value
        assert elapsed < 3.0, elapsed  # not the seconds the completion may take
        await asyncio.wait_for(busy, 120)


async def test_hover_budget_zero_never_runs_the_model(tiny_model_dir):
    async with lsp_session(tiny_model_dir, options={"hoverTimeBudgetMs": 0}) as client:
        open_doc(client, PY_URI, PY)
        result = await hover(client, PY_URI, where(PY, "def main", 5))
        assert result is not None and "def main():" in result.contents.value
        assert (await stats(client))["generatedTokens"] == 0
        assert await hover(client, PY_URI, pos(1, 0)) is None  # a blank line


# -- diagnostics and quick fixes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "text", "language", "start", "message"),
    [
        (BROKEN_PY_URI, BROKEN_PY, "python", (6, 31), "Missing `)`"),
        (BROKEN_JS_URI, BROKEN_JS, "javascript", (3, 45), "Missing `)`"),
    ],
    ids=["python", "javascript"],
)
async def test_syntax_errors_get_diagnostics_and_a_quick_fix_that_parses(
    tiny_model_dir, uri, text, language, start, message
):
    spec = spec_by_name(language)
    assert spec is not None
    async with lsp_session(tiny_model_dir) as client:
        open_doc(client, JS_LIB_URI, JS_LIB, "javascript")
        open_doc(client, uri, text, language)
        await wait_until(lambda: client.diagnostics.get(uri))
        (diagnostic,) = client.diagnostics[uri]
        assert diagnostic.source == "codecomp"
        assert diagnostic.severity == types.DiagnosticSeverity.Error
        assert diagnostic.message == message
        assert diagnostic.range == types.Range(start=pos(*start), end=pos(*start))
        assert list(client.diagnostics[JS_LIB_URI]) == []  # valid files get an empty list

        # The automatic (lightbulb) request gets parser-derived fixes; the model does not run.
        automatic = await code_actions(
            client,
            uri,
            pos(start[0], 4),
            trigger_kind=types.CodeActionTriggerKind.Automatic,
            only=[types.CodeActionKind.QuickFix],
        )
        assert len(automatic) == 1 and automatic[0].title.startswith("Fix syntax: ")
        assert (await stats(client))["generatedTokens"] == 0

        before = (await stats(client))["generatedTokens"]
        actions = await code_actions(client, uri, pos(start[0], 4))
        fixes = [a for a in actions if isinstance(a, types.CodeAction) and a.kind == "quickfix"]
        assert 1 <= len(fixes) <= 3
        # Model candidates were sampled (counted when the job ends, maybe just after the answer).
        await wait_for_stats(client, lambda info: info["generatedTokens"] > before)
        assert fixes[0].is_preferred
        assert fixes[0].diagnostics and fixes[0].diagnostics[0].message == message
        for fix in fixes:
            assert fix.title.startswith("Fix syntax: ")
            fixed = apply_edits(text, edits_of(fix.edit, uri))
            assert count_errors(fixed, spec) == 0, (fix.title, fixed)

        # Applied in the editor, the file is clean and its diagnostics clear.
        (first,) = edits_of(fixes[0].edit, uri)
        r = first.range
        edit(
            client,
            uri,
            2,
            (r.start.line, r.start.character),
            (r.end.line, r.end.character),
            first.new_text,
        )
        await wait_until(lambda: uri in client.diagnostics and len(client.diagnostics[uri]) == 0)


async def test_diagnostics_are_debounced_converted_and_cleared_on_close(tiny_model_dir):
    uri = "file:///work/demo/smile.py"
    # A long delay, so a busy test machine cannot stretch the typing burst past it.
    async with lsp_session(tiny_model_dir, options={"diagnosticsDelayMs": 1000}) as client:
        published: list[types.PublishDiagnosticsParams] = []
        features = client.protocol.fm.features
        original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def record(params: types.PublishDiagnosticsParams) -> None:
            published.append(params)
            original(params)

        features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
        text = "face = '😀'\nvalue = 1\n"
        open_doc(client, uri, text)
        await wait_until(lambda: len(published) == 1)
        assert len(published[0].diagnostics) == 0
        # Five quick keystrokes: ` + f(` typed on line 1 after "value = 1".
        version = 1
        for i, ch in enumerate(" + f("):
            version += 1
            edit(client, uri, version, (1, 9 + i), (1, 9 + i), ch)
            await asyncio.sleep(0.05)
        await wait_until(lambda: len(published) >= 2)
        await asyncio.sleep(0.3)
        assert len(published) == 2, [p.version for p in published]  # one run after the burst
        assert published[1].version == version
        (diagnostic,) = published[1].diagnostics
        assert diagnostic.message == "Syntax error: `(` is never closed"
        assert diagnostic.range == types.Range(start=pos(1, 13), end=pos(1, 14))
        # Line 1 repaired, and an error after the emoji on line 0: its UTF-16 column counts
        # the emoji's surrogate pair as two units.
        edit(client, uri, version + 1, (1, 9), (1, 14), "")
        edit(client, uri, version + 2, (0, 11), (0, 11), " + (")
        await wait_until(lambda: len(published) == 3)
        (diagnostic,) = published[2].diagnostics
        assert diagnostic.message == "Syntax error: `(` is never closed"
        assert diagnostic.range == types.Range(start=pos(0, 14), end=pos(0, 15))
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await wait_until(lambda: len(published) == 4 and len(published[-1].diagnostics) == 0)


async def test_diagnostics_can_be_turned_off(tiny_model_dir):
    async with lsp_session(tiny_model_dir, options={"diagnostics": False}) as client:
        open_doc(client, BROKEN_PY_URI, BROKEN_PY)
        await asyncio.sleep(0.3)
        assert BROKEN_PY_URI not in client.diagnostics
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"codecomp": {"diagnostics": True}})
        )
        await wait_until(lambda: client.diagnostics.get(BROKEN_PY_URI))


# -- code actions ---------------------------------------------------------------------------

ACTIONS_URI = "file:///work/demo/todo.py"
ACTIONS_PY = """import os


def count_files(root):
    pass


# print the number of files in the current directory
"""


async def test_every_code_action_round_trips_through_resolve(tiny_model_dir):
    spec = spec_by_name("python")
    options = {"codeActionMaxNewTokens": 64}
    async with lsp_session(tiny_model_dir, resolve=True, options=options) as client:
        open_doc(client, ACTIONS_URI, ACTIONS_PY)
        listed = await code_actions(client, ACTIONS_URI, pos(4, 5))
        # Actions that write other files (translations, tests) are commands: the server applies
        # them; the ones that edit this document resolve lazily.
        in_function = [a for a in listed if a.kind == types.CodeActionKind.RefactorRewrite]
        titles = {a.title: a for a in in_function}
        assert set(titles) == {
            "Generate docstring for `count_files`",
            "Complete the body of `count_files`",
        }
        writers = [a for a in listed if a not in in_function]
        assert {a.title for a in writers} == {
            "Translate to JavaScript",
            "Translate to TypeScript",
            "Generate tests for `count_files`",
        }
        assert all(a.command is not None and a.data is None for a in writers)
        on_comment = await code_actions(client, ACTIONS_URI, pos(7, 3))
        assert [a.title for a in on_comment] == ["Generate code from this comment"]
        actions = [*in_function, *on_comment]
        for action in actions:
            assert isinstance(action, types.CodeAction)
            assert action.kind == types.CodeActionKind.RefactorRewrite
            assert action.edit is None and action.data  # the list is cheap; edits come later
        for action in actions:
            client.progress_reports.clear()
            resolved = await client.code_action_resolve_async(action)
            assert resolved.title == action.title
            if resolved.edit is None:
                # Junk from the fixture model that does not parse is refused, with a message.
                assert any("parses" in m.message for m in client.messages), action.title
                continue
            fixed = apply_edits(ACTIONS_PY, edits_of(resolved.edit, ACTIONS_URI))
            assert fixed != ACTIONS_PY
            assert count_errors(fixed, spec) <= count_errors(ACTIONS_PY, spec)
            if action.title.startswith("Generate docstring"):
                assert fixed.split("\n")[4].lstrip().startswith('"""')
            # Long work is reported with cancellable $/progress.
            (reports,) = client.progress_reports.values()
            assert reports[0].kind == "begin" and reports[0].cancellable
            assert reports[-1].kind == "end"
        info = await stats(client)
        assert info["generatedTokens"] > 0
        assert info["latencyMs"]["actionDocstring"]["count"] == 1


async def test_actions_run_as_commands_without_resolve_support_and_explain(tiny_model_dir):
    async with lsp_session(tiny_model_dir) as client:
        applied = capture_applied_edits(client)

        open_doc(client, ACTIONS_URI, ACTIONS_PY)
        (docstring,) = [
            a
            for a in await code_actions(client, ACTIONS_URI, pos(3, 6))
            if a.title.startswith("Generate docstring")
        ]
        assert isinstance(docstring, types.CodeAction) and docstring.command is not None
        assert docstring.command.command == "codecomp.applyAction"
        result = await run_command(client, docstring)
        assert result["applied"] is True
        (params,) = applied
        fixed = apply_edits(ACTIONS_PY, edits_of(params.edit, ACTIONS_URI))
        assert '"""' in fixed.split("\n")[4]

        # Explain a selection: the answer comes back and is shown to the user.
        open_doc(client, PY_URI, PY)
        actions = await code_actions(client, PY_URI, pos(5, 4), pos(9, 17))
        (explain,) = [a for a in actions if a.title == "Explain this code"]
        assert isinstance(explain, types.CodeAction) and explain.edit is None
        assert explain.command.command == "codecomp.explain"
        before = (await stats(client))["generatedTokens"]
        result = await run_command(client, explain)
        text = result["explanation"]
        assert isinstance(text, str) and text
        assert (await stats(client))["generatedTokens"] > before
        await wait_until(lambda: any(m.message == f"codecomp: {text}" for m in client.messages))


async def action_started(client) -> str:
    """The progress token of a code action once its work (the model) has started."""

    def token() -> str | None:
        for key, reports in client.progress_reports.items():
            if str(key).startswith("codecomp-action") and any(r.kind == "report" for r in reports):
                return key
        return None

    await wait_until(lambda: token() is not None, timeout=30)
    found = token()
    assert found is not None
    return found


async def test_long_actions_are_cancelled_by_progress_or_cancel_request(tiny_model_dir):
    options = {"codeActionMaxNewTokens": 2048, "candidates": 8, "multiline": "always"}
    text = "function build(items) {}\n"
    uri = "file:///work/demo/build.js"
    async with lsp_session(tiny_model_dir, options=options, resolve=True) as client:
        open_doc(client, uri, text, "javascript")
        (body,) = [
            a for a in await code_actions(client, uri, pos(0, 10)) if a.title.startswith("Complete")
        ]
        # The progress's cancel button.
        future = asyncio.ensure_future(client.code_action_resolve_async(body))
        token = await action_started(client)
        client.protocol.notify(
            types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
            types.WorkDoneProgressCancelParams(token=token),
        )
        resolved = await asyncio.wait_for(future, 30)
        assert resolved.edit is None
        assert client.progress_reports[token][-1].message == "cancelled"
        assert (await stats(client))["cancelled"] == 1

        # $/cancelRequest.
        client.progress_reports.clear()
        future = asyncio.ensure_future(
            client.protocol.send_request_async(types.CODE_ACTION_RESOLVE, body, msg_id=777)
        )
        await action_started(client)
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=777))
        with pytest.raises(JsonRpcException, match="cancel"):
            await asyncio.wait_for(future, 30)
        # The worker is free again.
        assert await hover(client, uri, pos(0, 10)) is not None


# -- secrets --------------------------------------------------------------------------------


async def test_deny_patterns_are_validated_and_suppressed_completions_counted(tiny_model_dir):
    async with lsp_session(tiny_model_dir, options={"denyPatterns": ["ok", "(bad"]}) as client:
        await wait_until(lambda: any("denyPatterns" in m.message for m in client.messages))
        (message,) = [m.message for m in client.messages if "denyPatterns" in m.message]
        assert "invalid regular expression '(bad'" in message
        assert (await stats(client))["settings"]["denyPatterns"] == []
        # A deny pattern matching any text stands in for a model that writes a secret.
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"codecomp": {"denyPatterns": [r"[\s\S]"], "candidates": 3}}
            )
        )
        await wait_for_stats(client, lambda info: info["settings"]["candidates"] == 3)
        open_doc(client, PY_URI, PY)
        result = await inline(client, PY_URI, 15, 0, invoked=True)
        assert result.items in ([], ())
        info = await stats(client)
        assert info["generatedTokens"] > 0
        assert info["suppressedSecrets"] >= 1
