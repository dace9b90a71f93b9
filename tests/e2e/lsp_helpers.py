"""Start the real server over stdio with pytest-lsp's client, and small LSP conveniences."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

STREAM = "codecomp/completionStream"


def capabilities(
    *,
    progress: bool = True,
    stream: bool = False,
    markdown: bool = False,
    resolve: bool = False,
    files: bool = False,
) -> types.ClientCapabilities:
    """`markdown`: hover in Markdown; `resolve`: code actions resolve their edits lazily;
    `files`: workspace edits may create files, and the server may ask to show a document."""
    code_action = None
    if resolve:
        code_action = types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(
                    value_set=["quickfix", "refactor", "source"]
                )
            ),
            data_support=True,
            resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
        )
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(
            work_done_progress=progress,
            show_document=types.ShowDocumentClientCapabilities(support=True) if files else None,
        ),
        workspace=types.WorkspaceClientCapabilities(
            configuration=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True, resource_operations=[types.ResourceOperationKind.Create]
            )
            if files
            else None,
        ),
        text_document=types.TextDocumentClientCapabilities(
            completion=types.CompletionClientCapabilities(),
            inline_completion=types.InlineCompletionClientCapabilities(),
            hover=types.HoverClientCapabilities(
                content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]
            )
            if markdown
            else None,
            code_action=code_action,
        ),
        experimental={"codecompCompletionStream": True} if stream else None,
    )


def _parse_code_actions_by_shape(client: LanguageClient) -> None:
    """lsprotocol reads any code action with a `command` key as a Command; a CodeAction's
    `command` is an object, a Command's a string."""
    converter = client.protocol._converter

    def hook(obj: Any, _: Any) -> types.Command | types.CodeAction:
        if isinstance(obj, dict) and isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007


@asynccontextmanager
async def lsp_session(
    model: Path | str | None,
    *,
    options: dict[str, Any] | None = None,
    progress: bool = True,
    stream: bool = False,
    extra_args: list[str] | None = None,
    wait_ready: bool = True,
    configuration: dict[str, Any] | None = None,
    markdown: bool = False,
    resolve: bool = False,
    files: bool = False,
) -> AsyncIterator[LanguageClient]:
    client = make_test_lsp_client()
    _parse_code_actions_by_shape(client)
    if configuration is not None:
        client.set_configuration(configuration, section="codecomp")
    client.streamed = []  # type: ignore[attr-defined]
    client.partials = []  # type: ignore[attr-defined]

    @client.feature(STREAM)
    def on_stream(ls: LanguageClient, params: Any) -> None:
        ls.streamed.append(params)  # type: ignore[attr-defined]

    args = [sys.executable, "-m", "codecomp_lsp", "--log-level", "WARNING"]
    if model is not None:
        args += ["--model", str(model)]
    await client.start_io(*args, *(extra_args or []))
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities(
                    progress=progress,
                    stream=stream,
                    markdown=markdown,
                    resolve=resolve,
                    files=files,
                ),
                initialization_options=options or {},
            )
        )
        if wait_ready:
            await wait_for_model(client)
        yield client
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 30)
        finally:
            await client.stop()


async def stats(client: LanguageClient) -> dict[str, Any]:
    result = await client.protocol.send_request_async("codecomp/stats", {})
    return _plain(result)


def _plain(value: Any) -> Any:
    """pygls gives custom results as attribute objects; turn them into dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value


async def wait_for_model(client: LanguageClient, timeout: float = 120) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        info = await stats(client)
        if info["modelState"] in ("ready", "failed"):
            return info
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"model still {info['modelState']}")
        await asyncio.sleep(0.2)


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


def edit(
    client: LanguageClient,
    uri: str,
    version: int,
    start: tuple[int, int],
    end: tuple[int, int],
    text: str,
) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start[0], character=start[1]),
                        end=types.Position(line=end[0], character=end[1]),
                    ),
                    text=text,
                )
            ],
        )
    )


async def inline(
    client: LanguageClient, uri: str, line: int, character: int, *, invoked: bool = False
) -> types.InlineCompletionList | None:
    kind = (
        types.InlineCompletionTriggerKind.Invoked
        if invoked
        else types.InlineCompletionTriggerKind.Automatic
    )
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )
    )


def capture_applied_edits(client: LanguageClient) -> list[types.ApplyWorkspaceEditParams]:
    """Accept every `workspace/applyEdit` the server sends; the list of them, as they come."""
    applied: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(ls: LanguageClient, params: types.ApplyWorkspaceEditParams) -> Any:
        applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    return applied
