"""textDocument/hover: tree-sitter structure at once, the model's explanation within a budget."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from lsprotocol import types

from codecomp_lsp.engine.decoder import Cancelled
from codecomp_lsp.engine.engine import EngineUnavailable
from codecomp_lsp.features.hover import HoverRequest, render_hover
from codecomp_lsp.server import convert
from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.handlers.jobs import SLACK_S, model_job

log = logging.getLogger(__name__)


async def explanation(ls: CodecompServer, request: HoverRequest) -> str | None:
    budget_ms = ls.settings.hoverTimeBudgetMs
    if budget_ms <= 0 or not ls.io.ready:
        return None
    cached = ls.hovers.cached(request)
    if cached is not None:
        return cached or None
    cancel = threading.Event()
    deadline = time.monotonic() + budget_ms / 1000
    try:
        return await model_job(
            ls,
            lambda: ls.hovers.explain(request, deadline=deadline, cancel=cancel),
            key=f"hover:{request.uri}",
            cancel=cancel,
            timeout=budget_ms / 1000 + SLACK_S,
        )
    except (TimeoutError, Cancelled, EngineUnavailable):
        return None  # the structural part goes out alone
    except asyncio.CancelledError:
        raise
    except Exception:
        ls.state.stats.add(errors=1)
        log.exception("hover explanation failed")
        return None


def register(server: CodecompServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: CodecompServer, params: types.HoverParams) -> types.Hover | None:
        started = time.perf_counter()
        snap = ls.snapshot(params.text_document.uri)
        if snap.spec is None:
            return None
        line, col = convert.codepoints(snap.doc, params.position)
        others = [
            (o.view.uri, o.view.text, o.spec)
            for o in ls.state.documents.others(snap.doc.uri)
            if o.spec is not None
        ]
        request = await asyncio.to_thread(
            ls.hovers.locate, snap.doc.uri, snap.view.text, snap.spec, line, col, others
        )
        if request is None:
            return None
        explained = await explanation(ls, request)
        markdown = ls.state.client.hover_markdown
        value = render_hover(request, explained, markdown=markdown)
        ls.state.stats.latency("hover", (time.perf_counter() - started) * 1000)
        return convert.hover(
            value, convert.lsp_range(snap.doc, *request.target.range), markdown=markdown
        )
