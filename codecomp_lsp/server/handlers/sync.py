"""Document sync: didOpen, didChange (incremental), didClose."""

from __future__ import annotations

import logging

from lsprotocol import types

from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.handlers.diagnostics import Diagnostics

log = logging.getLogger(__name__)


def register(server: CodecompServer, diagnostics: Diagnostics) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CodecompServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.state.documents.open(params.text_document)
        diagnostics.schedule(params.text_document.uri, immediate=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CodecompServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.state.documents.change(params) is None:
            log.warning("didChange for unknown document %s ignored", params.text_document.uri)
            return
        diagnostics.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodecompServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.state.documents.close(uri)
        ls.completion.forget(uri)
        ls.state.engine.forget_document(uri)
        diagnostics.forget(uri)
