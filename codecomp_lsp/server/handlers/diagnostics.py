"""Syntax diagnostics from tree-sitter, debounced after edits, published per document version."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.features.diagnostics import DiagnosticsScheduler, Problem, find_problems
from codecomp_lsp.server import convert
from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.settings import Settings

log = logging.getLogger(__name__)

THREAD_PARSE_CHARS = 200_000  # parse bigger documents off the event loop


async def problems(text: str, spec: LanguageSpec, uri: str | None = None) -> list[Problem]:
    if len(text) > THREAD_PARSE_CHARS:
        return await asyncio.to_thread(find_problems, text, spec, uri)
    return find_problems(text, spec, uri)


class Diagnostics:
    """The debouncer and the publishing, for one server."""

    def __init__(self, ls: CodecompServer) -> None:
        self.ls = ls
        self.scheduler = DiagnosticsScheduler(self.publish)

    def schedule(self, uri: str, *, immediate: bool = False) -> None:
        settings = self.ls.settings
        if settings.diagnostics:
            self.scheduler.schedule(uri, 0 if immediate else settings.diagnosticsDelayMs)

    def forget(self, uri: str) -> None:
        self.scheduler.cancel(uri)
        self.ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def settings_changed(self, before: Settings, after: Settings) -> None:
        """Start or stop publishing when the `diagnostics` setting flips."""
        if before.diagnostics == after.diagnostics:
            return
        for uri in list(self.ls.state.documents.docs):
            if after.diagnostics:
                self.schedule(uri, immediate=True)
            else:
                self.forget(uri)

    async def publish(self, uri: str) -> None:
        doc = self.ls.state.documents.get(uri)
        if doc is None or not self.ls.settings.diagnostics:
            return
        snap = doc.snapshot()
        try:
            found = await problems(snap.view.text, snap.spec, uri) if snap.spec is not None else []
        except Exception:  # noqa: BLE001 - diagnostics must never take the server down
            log.exception("syntax diagnostics failed for %s", uri)
            return
        current = self.ls.state.documents.get(uri)
        if current is not doc or not snap.current or doc.version != snap.view.version:
            return  # edited (or closed) meanwhile: an edit schedules its own run
        self.ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=doc.version,
                diagnostics=[convert.diagnostic(doc, p) for p in found],
            )
        )


def register(server: CodecompServer) -> Diagnostics:
    diagnostics = Diagnostics(server)
    server.on_settings.append(diagnostics.settings_changed)
    return diagnostics
