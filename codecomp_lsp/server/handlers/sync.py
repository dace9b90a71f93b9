"""Document sync: didOpen, didChange (incremental), didClose, and our clients' cursor reports."""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.documents import Document, PositionError
from codecomp_lsp.server.handlers.diagnostics import Diagnostics
from codecomp_lsp.server.warming import CURSOR_METHOD

log = logging.getLogger(__name__)


def edit_end(doc: Document, params: types.DidChangeTextDocumentParams) -> tuple[int, int] | None:
    """(line, code-point column) where the last ranged change's text ends: the cursor, nearly
    always. None for a whole-document replacement."""
    change = params.content_changes[-1] if params.content_changes else None
    if not isinstance(change, types.TextDocumentContentChangePartial):
        return None
    try:
        line, column = doc.to_codepoints(change.range.start, strict=False)
    except PositionError:
        return None
    text = change.text.replace("\r\n", "\n")
    if "\n" not in text:
        return line, column + len(text)
    return line + text.count("\n"), len(text.rsplit("\n", 1)[1])


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def register(server: CodecompServer, diagnostics: Diagnostics) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CodecompServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.state.documents.open(params.text_document)
        diagnostics.schedule(params.text_document.uri, immediate=True)
        ls.warming.opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CodecompServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.state.documents.change(params)
        if doc is None:
            log.warning("didChange for unknown document %s ignored", params.text_document.uri)
            return
        diagnostics.schedule(params.text_document.uri)
        ls.warming.edited(doc.uri, edit_end(doc, params))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodecompServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.state.documents.close(uri)
        ls.completion.forget(uri)
        ls.feedback.forget(uri)
        ls.state.engine.forget_document(uri)
        ls.warming.forget(uri)
        diagnostics.forget(uri)

    @server.feature(CURSOR_METHOD)
    def cursor(ls: CodecompServer, params: Any = None) -> None:
        """{"textDocument": {"uri"}, "position": {"line", "character"}}: where the user is."""
        uri = _field(_field(params, "textDocument"), "uri")
        position = _field(params, "position")
        line, character = _field(position, "line"), _field(position, "character")
        if not isinstance(uri, str) or not _count(line) or not _count(character):
            log.info("%s with bad params ignored: %r", CURSOR_METHOD, params)
            return
        ls.warming.cursor(uri, types.Position(line=line, character=character))
