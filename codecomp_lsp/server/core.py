"""The language server object: pygls' protocol with our document store, the declared state, the
feature services, and the one function that changes settings. Handlers live in server/handlers/."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    FeatureRequestError,
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from codecomp_lsp import __version__
from codecomp_lsp.features.actions import ActionService
from codecomp_lsp.features.completion import CompletionService
from codecomp_lsp.features.feedback import FeedbackService
from codecomp_lsp.features.hover import HoverService
from codecomp_lsp.features.lookahead import Lookahead
from codecomp_lsp.features.modelio import ModelIO
from codecomp_lsp.features.quickfix import QuickFixService
from codecomp_lsp.features.refactor import RefactorService
from codecomp_lsp.features.testgen import TestGenService
from codecomp_lsp.features.translate import TranslateService
from codecomp_lsp.server.documents import Document, Snapshot
from codecomp_lsp.server.intake import ContentModified, ErrorReports, MessageIntake
from codecomp_lsp.server.models import ModelControl
from codecomp_lsp.server.state import ServerState
from codecomp_lsp.server.warming import Warming
from codecomp_lsp.settings import Settings, SettingsLayers

log = logging.getLogger(__name__)


class CodecompProtocol(MessageIntake, LanguageServerProtocol):
    """Keeps text documents in our own store (LSP line semantics) instead of pygls' workspace copy,
    and reads messages so that every request is answered (server/intake.py)."""

    _ARRIVALS_KEPT = 1024  # of requests whose handler has not started yet
    # The requests whose handlers check the version they were asked about (current_document).
    _VERSIONED = frozenset({types.TEXT_DOCUMENT_INLINE_COMPLETION, types.TEXT_DOCUMENT_COMPLETION})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arrivals: OrderedDict[int, int | None] = OrderedDict()
        self._initialize_seen = False

    def arrived(self, message: Any) -> None:
        """Note the version of the document a completion request is about as it arrives: its
        handler starts later, when edits sent after it may have been applied already."""
        server: Any = self._server
        method = getattr(message, "method", None)
        server.state.loop_watch.last_method = method  # named if the loop stalls next
        if method not in self._VERSIONED:
            return
        doc = server.state.documents.get(message.params.text_document.uri)
        self._arrivals[id(message.params)] = doc.version if doc is not None else None
        while len(self._arrivals) > self._ARRIVALS_KEPT:
            self._arrivals.popitem(last=False)

    def arrival_version(self, params: Any) -> tuple[bool, int | None]:
        """(known, version) of the document when the request carrying `params` arrived."""
        if id(params) not in self._arrivals:
            return False, None
        return True, self._arrivals.pop(id(params))

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        """Once per connection: a second initialize would replace the client's capabilities (the
        position encoding of documents already open) and reload the model."""
        if self._initialize_seen:
            raise JsonRpcInvalidRequest("initialize was already received on this connection")
        self._initialize_seen = True
        return (yield from super().lsp_initialize(params))

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
        # Command-line settings are the top layer: they win over anything the client sends.
        self.state = ServerState(SettingsLayers(overrides=dict(overrides or {})))
        settings = self.current_settings
        self.completion = CompletionService(self.state.engine, settings)
        self.feedback = FeedbackService(settings)
        self.io = ModelIO(self.state.engine, settings)
        self.hovers = HoverService(self.io)
        self.quickfixes = QuickFixService(self.io)
        self.actions = ActionService(self.io, self.hovers)
        self.refactors = RefactorService(self.io)
        self.translations = TranslateService(self.io)
        self.testgen = TestGenService(self.io)
        self.models = ModelControl(self, self.state)
        self.lookahead = Lookahead(self.completion)
        self.warming = Warming(
            settings,
            lambda: self.models.ready,
            lambda: self.state.documents,
            self.state.engine,
            self.lookahead,
        )
        self.on_settings: list[Callable[[Settings, Settings], None]] = []  # (before, after)
        self._reports = ErrorReports()

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def current_settings(self) -> Callable[[], Settings]:
        return lambda: self.state.settings

    def apply_settings(self, layer: str, raw: Any, *, announce: bool = True) -> list[str]:
        """The one way settings change: replace a layer, report its bad values, tell the
        features (diagnostics on/off), reload the model if its settings changed. Returns the
        messages about bad values (shown now unless `announce` is off)."""
        before = self.state.settings
        messages = self.state.layers.update(layer, raw)
        for message in messages:
            log.warning(message)
            if announce and self._reports.should_show(message):  # the same one: once a minute
                self.tell(message, types.MessageType.Warning)
        after = self.state.settings
        for listener in self.on_settings:
            listener(before, after)
        if self.models.started:
            self.models.load()
        return messages

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request's answer (pygls calls this): see intake.ErrorReports."""
        if source is JsonRpcException and isinstance(error, ValueError):
            self.protocol.report_parse_error(error)  # the body was not JSON (or not UTF-8)
            return
        if source is FeatureRequestError:
            return  # the request's error response already says it
        message = f"codecomp: {type(error).__name__}: {error}"
        if self._reports.should_show(message):
            self.tell(message, types.MessageType.Error)

    def tell_once(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """`tell`, unless the same message was shown in the last minute."""
        if self._reports.should_show(message):
            self.tell(message, kind)

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def current_document(self, uri: str, params: Any) -> Document:
        """The document a request is about, as it was when the request arrived: if edits came
        since, the request asks about a text that no longer exists (LSP's ContentModified)."""
        doc = self.document(uri)
        known, version = self.protocol.arrival_version(params)
        if known and version != doc.version:
            raise ContentModified(
                f"{uri} changed since the request (version {version} → {doc.version})"
            )
        return doc

    def document(self, uri: str) -> Document:
        doc = self.state.documents.get(uri)
        if doc is None:
            raise JsonRpcInvalidParams(f"unknown document {uri!r}: send textDocument/didOpen first")
        return doc

    def snapshot(self, uri: str) -> Snapshot:
        return self.document(uri).snapshot()
