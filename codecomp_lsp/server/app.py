"""pygls wiring: document sync, settings, progress, and thin handlers over the features."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict
from typing import Any

from lsprotocol import types
from lsprotocol.types import METHOD_TO_TYPES
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from codecomp_lsp import __version__
from codecomp_lsp.engine.decoder import Cancelled
from codecomp_lsp.engine.engine import Engine, EngineState, EngineUnavailable
from codecomp_lsp.engine.stats import Stats
from codecomp_lsp.features.completion import (
    CompletionOutcome,
    CompletionQuery,
    CompletionService,
    DocumentSnapshot,
    Suggestion,
)
from codecomp_lsp.server.assist import (
    APPLY_COMMAND,
    CODE_ACTION_KINDS,
    EXPLAIN_COMMAND,
    Assist,
)
from codecomp_lsp.server.documents import (
    MAX_COMPLETION_CHARS,
    Document,
    DocumentStore,
    PositionError,
)
from codecomp_lsp.server.models import (
    MODELS_METHOD,
    PULL_COMMAND,
    PULL_METHOD,
    ModelControl,
)
from codecomp_lsp.settings import Settings, parse_settings

log = logging.getLogger(__name__)

STATS_METHOD = "codecomp/stats"
STREAM_METHOD = "codecomp/completionStream"


class CodecompProtocol(LanguageServerProtocol):
    """Keeps text documents in our own store (LSP line semantics) instead of pygls' workspace copy."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls drops a request whose params do not fit its type; the client would wait forever."""
        if (
            isinstance(data, dict)
            and isinstance(data.get("method"), str)
            and "params" not in data
            and data["method"] not in METHOD_TO_TYPES
        ):
            # JSON-RPC makes params optional; pygls' type for methods it does not know needs it.
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                error = JsonRpcInvalidParams(f"invalid params for {data['method']}: {exc}")
                self._send_response(data["id"], error=error.to_response_error())
            raise

    def _user(self, method: str, params: Any):  # noqa: ANN202 - pygls generator protocol
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        yield from self._user(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        yield from self._user(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        yield from self._user(types.TEXT_DOCUMENT_DID_CLOSE, params)


class CodecompServer(LanguageServer):
    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        super().__init__(
            "codecomp-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=CodecompProtocol,
        )
        self.overrides = overrides or {}  # command-line settings win over the client's
        self.settings = parse_settings(self.overrides).settings
        self.base_settings = Settings()  # from initializationOptions; later changes apply over it
        self.documents = DocumentStore()
        self.stats = Stats()
        self.engine = Engine(self.stats)
        self.completion = CompletionService(self.engine, lambda: self.settings)
        self.client_streams = False
        self.supports_progress = False
        self.supports_configuration = False
        self.models = ModelControl(self)  # load, readiness, pulls, which-model messages
        self.assist = Assist(self)  # hover, diagnostics, quick fixes, code actions

    # -- settings and model -------------------------------------------------------------------
    def apply_settings(self, raw: Any) -> None:
        """Apply pushed or pulled settings over the initializationOptions; nothing → keep all."""
        if isinstance(raw, dict) and isinstance(raw.get("codecomp"), dict):
            raw = raw["codecomp"]
        if raw is None or raw == {}:
            return  # eglot sends {} on connect; an empty pull means the client has no opinion
        parsed = parse_settings(raw, self.base_settings)
        settings = parse_settings(self.overrides, parsed.settings).settings
        for message in parsed.errors:
            log.warning(message)
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )
        diagnostics_before = self.settings.diagnostics
        self.settings = settings
        self.assist.settings_changed(diagnostics_before)
        self.load_model()

    def load_model(self) -> None:
        self.models.load()

    # -- completion ---------------------------------------------------------------------------
    def document(self, uri: str) -> Document:
        doc = self.documents.get(uri)
        if doc is None:
            raise JsonRpcInvalidParams(f"unknown document {uri!r}: send textDocument/didOpen first")
        return doc

    async def complete(
        self,
        uri: str,
        position: types.Position,
        *,
        candidates: int,
        automatic: bool,
        feature: str,
        partial: types.ProgressToken | None = None,
    ) -> tuple[CompletionOutcome, Document, tuple[int, int]]:
        started = time.perf_counter()
        doc = self.document(uri)
        try:
            line, character = doc.to_codepoints(position)
        except PositionError as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        self.stats.add(requests=1)
        if doc.is_binary() or len(doc.text) > MAX_COMPLETION_CHARS:
            log.info(
                "not completing %s: binary or larger than %d characters", uri, MAX_COMPLETION_CHARS
            )
            return CompletionOutcome([], reason="unsupported document"), doc, (line, character)
        text = doc.text
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates (JSON allows "\udcff") cannot be tokenized; one U+FFFD each keeps
            # every position in place. The stored document is left exactly as the client sent it.
            text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in doc.text)
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        snapshot = DocumentSnapshot(uri, text, doc.language_id, doc.version)
        query = CompletionQuery(
            doc=snapshot,
            line=line,
            character=character,
            candidates=candidates,
            automatic=automatic,
            open_docs=[
                DocumentSnapshot(d.uri, d.text, d.language_id, d.version)
                for d in self.documents.docs.values()
                if d.uri != uri and not d.is_binary()
            ],
            feature=feature,
        )
        outcome = self.completion.typed_ahead(query)
        if outcome is not None:
            self.stats.latency(feature, (time.perf_counter() - started) * 1000)
            return outcome, doc, (line, character)
        # Typing must not queue behind a download or a load; an explicit request waits for it.
        if not self.models.ready and (automatic or not await self.models.wait_ready()):
            return CompletionOutcome([], reason="model loading"), doc, (line, character)
        if self.engine.state == EngineState.FAILED:
            self.models.report_error(self.engine.error or "model not loaded")
            return CompletionOutcome([], reason="no model"), doc, (line, character)

        loop = asyncio.get_running_loop()
        stream_params = {
            "uri": uri,
            "version": doc.version,
            "position": {"line": position.line, "character": position.character},
        }

        def stream_end(text: str) -> None:
            """Every streamed request ends with one `done` notification, cancelled ones too."""
            if query.on_text is not None:
                self.protocol.notify(STREAM_METHOD, {**stream_params, "text": text, "done": True})

        if self.client_streams or self.settings.streaming:

            def on_text(text: str) -> None:
                if query.cancel.is_set():  # nothing after the cancellation's `done`
                    return
                params = {**stream_params, "text": text, "done": False}
                loop.call_soon_threadsafe(self.protocol.notify, STREAM_METHOD, params)

            query.on_text = on_text
        sent: set[str] = set()
        if partial is not None:

            def on_candidate(suggestion: Suggestion) -> None:
                sent.add(suggestion.text)
                item = self.menu_item(doc, (line, character), suggestion, len(sent) - 1)
                params = types.ProgressParams(token=partial, value=[item])
                loop.call_soon_threadsafe(self.protocol.notify, types.PROGRESS, params)

            query.on_candidate = on_candidate

        # Inline and menu requests supersede their own kind only: an editor may show both at once.
        job = self.engine.submit(
            lambda: self.completion.complete(query), key=f"{feature}:{uri}", cancel=query.cancel
        )
        try:
            outcome = await asyncio.wrap_future(job.future)
        except asyncio.CancelledError:
            query.cancel.set()
            self.stats.add(cancelled=1)
            stream_end("")
            raise
        except Cancelled:
            self.stats.add(superseded=1)
            stream_end("")
            return CompletionOutcome([], reason="superseded"), doc, (line, character)
        except EngineUnavailable as exc:
            self.models.report_error(str(exc))
            return CompletionOutcome([], reason="no model"), doc, (line, character)
        except Exception as exc:
            self.stats.add(errors=1)
            log.exception("completion failed")
            raise JsonRpcInternalError(f"completion failed: {exc}") from exc
        finally:
            self.stats.latency(feature, (time.perf_counter() - started) * 1000)
        if not outcome.suggestions:
            self.stats.add(emptyResults=1)
        if partial is not None:
            # Candidates that only ranking could keep (every one made the parse worse) go out last.
            rest = [s for s in outcome.suggestions if s.text not in sent]
            if rest:
                items = [
                    self.menu_item(doc, (line, character), s, len(sent) + i)
                    for i, s in enumerate(rest)
                ]
                self.protocol.notify(
                    types.PROGRESS, types.ProgressParams(token=partial, value=items)
                )
        stream_end(outcome.suggestions[0].text if outcome.suggestions else "")
        return outcome, doc, (line, character)

    @staticmethod
    def _eol(doc: Document) -> str:
        return "\r\n" if "\r\n" in doc.text[:10000] else "\n"

    def menu_item(
        self, doc: Document, cursor: tuple[int, int], suggestion: Suggestion, rank: int
    ) -> types.CompletionItem:
        """A menu item replacing the word before the cursor, so the client's filtering matches it."""
        line, character = cursor
        line_text = doc.line_text(line)
        start = character
        while start > 0 and (line_text[start - 1].isalnum() or line_text[start - 1] == "_"):
            start -= 1
        word = line_text[start:character]
        new_text = word + suggestion.text.replace("\n", self._eol(doc))
        first_line = new_text.split("\n", 1)[0].rstrip("\r")
        offset = doc.line_starts[line]
        edit_range = types.Range(
            start=doc.position_at(offset + start), end=doc.position_at(offset + character)
        )
        label = first_line.strip() or new_text.strip()
        formats = []
        caps = self.client_capabilities.text_document
        if caps and caps.completion and caps.completion.completion_item:
            formats = caps.completion.completion_item.documentation_format or []
        lang = doc.language_id or ""
        documentation = (
            types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```{lang}\n{new_text}\n```")
            if types.MarkupKind.Markdown in formats
            else new_text
        )
        return types.CompletionItem(
            label=label[:80] + ("…" if len(label) > 80 else ""),
            kind=types.CompletionItemKind.Text,
            detail="codecomp",
            documentation=documentation,
            filter_text=word + suggestion.text.split("\n", 1)[0] if word else first_line,
            sort_text=f"{rank:04d}",
            text_edit=types.TextEdit(range=edit_range, new_text=new_text),
            insert_text_format=types.InsertTextFormat.PlainText,
        )

    def inline_items(
        self, doc: Document, cursor: tuple[int, int], outcome: CompletionOutcome
    ) -> list[types.InlineCompletionItem]:
        line, character = cursor
        pos = doc.position_at(doc.line_starts[line] + character)
        eol = self._eol(doc)
        return [
            types.InlineCompletionItem(
                insert_text=s.text.replace("\n", eol), range=types.Range(start=pos, end=pos)
            )
            for s in outcome.suggestions
        ]

    def stats_snapshot(self) -> dict[str, Any]:
        info = self.engine.describe()
        return self.stats.snapshot(
            device=info["device"],
            model=info["model"],
            modelState=info["state"],
            modelError=info["error"],
            modelReason=info["choiceReason"],
            modelFallback=info["fallback"],
            modelLoadSeconds=info["loadSeconds"],
            dtype=info["dtype"],
            template=info["template"],
            cacheEntries=info["cacheEntries"],
            cacheBytes=info["cacheBytes"],
            openDocuments=len(self.documents.docs),
            settings=asdict(self.settings),
        )


def create_server(overrides: dict[str, Any] | None = None) -> CodecompServer:
    server = CodecompServer(overrides)

    @server.feature(types.INITIALIZE)
    def initialize(ls: CodecompServer, params: types.InitializeParams) -> None:
        caps = params.capabilities
        ls.documents.encoding = ServerCapabilitiesBuilder.choose_position_encoding(caps)
        ls.supports_progress = bool(caps.window and caps.window.work_done_progress)
        ls.supports_configuration = bool(caps.workspace and caps.workspace.configuration)
        experimental = caps.experimental if isinstance(caps.experimental, dict) else {}
        ls.client_streams = bool(experimental.get("codecompCompletionStream"))
        ls.assist.configure(caps)
        parsed = parse_settings(params.initialization_options)
        ls.base_settings = parsed.settings
        ls.settings = parse_settings(ls.overrides, parsed.settings).settings
        ls._init_errors = parsed.errors  # type: ignore[attr-defined]

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CodecompServer, params: types.InitializedParams) -> None:
        for message in getattr(ls, "_init_errors", []):
            ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )
        if ls.supports_configuration:
            # Clients that keep settings in their configuration (VS Code) answer this pull.
            try:
                result = await asyncio.wait_for(
                    ls.workspace_configuration_async(
                        types.ConfigurationParams(
                            items=[types.ConfigurationItem(section="codecomp")]
                        )
                    ),
                    5,
                )
            except Exception as exc:  # noqa: BLE001 - the init options stay in force
                log.info("workspace/configuration pull failed: %s", exc)
                result = None
            pulled = result[0] if result else None
            if isinstance(pulled, dict) and pulled:
                parsed = parse_settings(pulled, ls.settings)
                ls.settings = parse_settings(ls.overrides, parsed.settings).settings
                for message in parsed.errors:
                    ls.window_show_message(
                        types.ShowMessageParams(type=types.MessageType.Warning, message=message)
                    )
        ls.load_model()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: CodecompServer, params: types.DidChangeConfigurationParams
    ) -> None:
        raw = params.settings
        if isinstance(raw, dict) and "codecomp" in raw:
            ls.apply_settings(raw["codecomp"])
            return
        if ls.supports_configuration:
            try:
                result = await ls.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section="codecomp")])
                )
            except Exception as exc:  # noqa: BLE001 - keep the settings we have
                log.warning("workspace/configuration failed: %s", exc)
                return
            ls.apply_settings(result[0] if result else None)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CodecompServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.documents.open(params.text_document)
        ls.assist.schedule(params.text_document.uri, immediate=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CodecompServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.documents.change(params) is None:
            log.warning("didChange for unknown document %s ignored", params.text_document.uri)
            return
        ls.assist.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodecompServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.documents.close(params.text_document.uri)
        ls.completion.forget(params.text_document.uri)
        ls.assist.forget(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: CodecompServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        outcome, doc, cursor = await ls.complete(
            params.text_document.uri,
            params.position,
            candidates=ls.settings.candidates if invoked else 1,
            automatic=not invoked,
            feature="inline",
        )
        return types.InlineCompletionList(items=ls.inline_items(doc, cursor, outcome))

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", " "], resolve_provider=False),
    )
    async def completion(
        ls: CodecompServer, params: types.CompletionParams
    ) -> types.CompletionList:
        invoked = (
            params.context is None
            or params.context.trigger_kind == types.CompletionTriggerKind.Invoked
        )
        outcome, doc, cursor = await ls.complete(
            params.text_document.uri,
            params.position,
            candidates=ls.settings.candidates,
            automatic=not invoked,
            feature="completion",
            partial=params.partial_result_token,
        )
        if params.partial_result_token is not None:
            # Items already went out as partial results; the final response must not repeat them.
            return types.CompletionList(is_incomplete=outcome.incomplete, items=[])
        items = [ls.menu_item(doc, cursor, s, rank) for rank, s in enumerate(outcome.suggestions)]
        # The model's answer depends on every typed character: ask the client to come back.
        return types.CompletionList(
            is_incomplete=True if items else outcome.incomplete, items=items
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: CodecompServer, params: types.HoverParams) -> types.Hover | None:
        return await ls.assist.hover(params)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS, resolve_provider=True),
    )
    async def code_action(
        ls: CodecompServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        return await ls.assist.code_actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: CodecompServer, params: types.CodeAction) -> types.CodeAction:
        return await ls.assist.resolve(params)

    @server.command(EXPLAIN_COMMAND)
    async def explain(ls: CodecompServer, *args: Any) -> dict[str, Any]:
        return await ls.assist.explain(args)

    @server.command(APPLY_COMMAND)
    async def apply_action(ls: CodecompServer, *args: Any) -> dict[str, Any]:
        return await ls.assist.apply(args)

    @server.feature(STATS_METHOD)
    def stats(ls: CodecompServer, params: Any = None) -> dict[str, Any]:
        if isinstance(params, dict) and params.get("reset") or getattr(params, "reset", False):
            ls.stats.reset()
        return ls.stats_snapshot()

    @server.feature(MODELS_METHOD)
    def models(ls: CodecompServer, params: Any = None) -> dict[str, Any]:
        return ls.models.models()

    @server.feature(PULL_METHOD)
    async def pull_model(ls: CodecompServer, params: Any = None) -> dict[str, Any]:
        name = params.get("name") if isinstance(params, dict) else getattr(params, "name", None)
        return await ls.models.pull(name)

    @server.command(PULL_COMMAND)
    async def pull_model_command(ls: CodecompServer, *args: Any) -> dict[str, Any]:
        return await ls.models.pull(args[0] if args else None)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: CodecompServer, params: Any = None) -> None:
        ls.engine.shutdown()

    return server
