"""codecomp/didShow, didAccept and didDismiss: our clients' reports on inline suggestions
(features/feedback.py keeps the counts and the log). A malformed report is one log line."""

from __future__ import annotations

import logging
from typing import Any

from codecomp_lsp.features.completion import CompletionOutcome
from codecomp_lsp.features.feedback import bounded_context, parse_report
from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.documents import Document

log = logging.getLogger(__name__)

DID_SHOW = "codecomp/didShow"
DID_ACCEPT = "codecomp/didAccept"
DID_DISMISS = "codecomp/didDismiss"


def issue_ids(
    ls: CodecompServer,
    doc: Document,
    cursor: tuple[int, int],
    outcome: CompletionOutcome,
    *,
    automatic: bool,
) -> list[str]:
    """An id for each inline suggestion about to be returned, remembered with its context."""
    if not outcome.suggestions:
        return []
    prefix, suffix = bounded_context(doc.text, doc.line_starts[cursor[0]] + cursor[1])
    language = (outcome.context.language if outcome.context else None) or doc.language_id
    engine = ls.state.engine
    return [
        ls.feedback.issue(
            uri=doc.uri,
            language=language,
            text=s.text,
            prefix=prefix,
            suffix=suffix,
            model=lambda: engine.describe().get("model"),
            score=s.score,
            automatic=automatic,
            typed_ahead=outcome.typed_ahead,
        )
        for s in outcome.suggestions
    ]


def register(server: CodecompServer) -> None:
    def handle(method: str, params: Any, *, accept: bool = False) -> None:
        report = parse_report(params, accept=accept)
        if isinstance(report, str):
            log.info("%s with bad params ignored (%s): %.200r", method, report, params)
            return
        action = {DID_SHOW: server.feedback.shown, DID_DISMISS: server.feedback.dismissed}
        (server.feedback.accepted if accept else action[method])(method, report)

    @server.feature(DID_SHOW)
    def did_show(ls: CodecompServer, params: Any = None) -> None:
        """{"id"}: the inline item with this id is on screen."""
        handle(DID_SHOW, params)

    @server.feature(DID_ACCEPT)
    def did_accept(ls: CodecompServer, params: Any = None) -> None:
        """{"id", "kind": "full" | "word" | "line", "text"? | "length"?}: it was inserted."""
        handle(DID_ACCEPT, params, accept=True)

    @server.feature(DID_DISMISS)
    def did_dismiss(ls: CodecompServer, params: Any = None) -> None:
        """{"id"}: the user dismissed it (Escape)."""
        handle(DID_DISMISS, params)
