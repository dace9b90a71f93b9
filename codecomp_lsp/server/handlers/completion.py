"""textDocument/inlineCompletion and textDocument/completion, streaming and partial results."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError

from codecomp_lsp.engine.decoder import Cancelled
from codecomp_lsp.engine.engine import EngineState, EngineUnavailable
from codecomp_lsp.features.completion import CompletionOutcome, CompletionQuery, Suggestion
from codecomp_lsp.features.confidence import confident
from codecomp_lsp.server import convert
from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.documents import Document
from codecomp_lsp.server.handlers import feedback
from codecomp_lsp.server.intake import ContentModified

log = logging.getLogger(__name__)

STREAM_METHOD = "codecomp/completionStream"


async def complete(
    ls: CodecompServer,
    uri: str,
    position: types.Position,
    *,
    candidates: int,
    automatic: bool,
    feature: str,
    partial: types.ProgressToken | None = None,
    params: Any = None,
) -> tuple[CompletionOutcome, Document, tuple[int, int]]:
    started = time.perf_counter()
    state = ls.state
    doc = ls.current_document(uri, params)
    cursor = convert.codepoints(doc, position, strict=True)
    state.stats.add(requests=1)
    snap = doc.snapshot()
    if not doc.usable:
        log.info("not completing %s: binary or too large", uri)
        return CompletionOutcome([], reason="unsupported document"), doc, cursor
    query = CompletionQuery(
        doc=snap.view,
        line=cursor[0],
        character=cursor[1],
        candidates=candidates,
        automatic=automatic,
        open_docs=[other.view for other in state.documents.others(uri)],
        feature=feature,
    )
    ls.warming.requested(uri)
    outcome = ls.completion.typed_ahead(query)
    if outcome is None:
        outcome = ls.lookahead.take(query)
        if outcome is not None:
            ls.warming.shown(query, outcome)  # and the one after that: Tab, Tab, Tab
    if outcome is not None:
        state.stats.latency(feature, (time.perf_counter() - started) * 1000)
        return _confident(ls, outcome, uri, automatic=automatic), doc, cursor
    # Typing must not queue behind a download or a load; an explicit request waits for it.
    if not ls.models.ready:
        if automatic or not await ls.models.wait_ready():
            return CompletionOutcome([], reason="model loading"), doc, cursor
        query.received = time.monotonic()  # the time budget is for the model's work, not its load
    if state.engine.state == EngineState.FAILED:
        ls.models.report_error(state.engine.error or "model not loaded")
        return CompletionOutcome([], reason="no model"), doc, cursor

    stream_end = _stream(ls, query, doc, position)
    sent: set[str] = set()
    loop = asyncio.get_running_loop()
    markdown = state.client.completion_markdown
    if partial is not None:

        def on_candidate(suggestion: Suggestion) -> None:
            sent.add(suggestion.text)
            item = convert.menu_item(doc, cursor, suggestion, len(sent) - 1, markdown=markdown)
            params = types.ProgressParams(token=partial, value=[item])
            loop.call_soon_threadsafe(ls.protocol.notify, types.PROGRESS, params)

        query.on_candidate = on_candidate

    # Inline and menu requests supersede their own kind only: an editor may show both at once.
    # An automatic request supersedes the automatic ones of every document: a user types in one
    # place at a time, and an older document's request would only delay the newest.
    key = f"{feature}:automatic" if automatic else f"{feature}:{uri}"
    job = state.engine.submit(lambda: ls.completion.complete(query), key=key, cancel=query.cancel)
    try:
        outcome = await asyncio.wrap_future(job.future)
    except asyncio.CancelledError:
        query.cancel.set()
        state.stats.add(cancelled=1)
        stream_end("")
        raise
    except Cancelled:
        state.stats.add(superseded=1)
        stream_end("")
        return CompletionOutcome([], reason="superseded"), doc, cursor
    except EngineUnavailable as exc:
        ls.models.report_error(str(exc))
        return CompletionOutcome([], reason="no model"), doc, cursor
    except Exception as exc:
        state.stats.add(errors=1)
        log.exception("completion failed")
        ls.tell_once(f"codecomp: a completion failed ({exc}); the next one runs as usual")
        raise JsonRpcInternalError(f"completion failed: {exc}") from exc
    finally:
        state.stats.latency(feature, (time.perf_counter() - started) * 1000)
    if outcome.suggestions and not snap.current:
        # Edited while the model ran: positions in this answer belong to a text that is gone.
        stream_end("")
        raise ContentModified(f"{uri} changed while the completion was computed")
    outcome = _confident(ls, outcome, uri, automatic=automatic)
    if not outcome.suggestions:
        state.stats.add(emptyResults=1)
    if partial is not None:
        # Candidates that only ranking could keep (every one made the parse worse) go out last.
        rest = [s for s in outcome.suggestions if s.text not in sent]
        if rest:
            items = [
                convert.menu_item(doc, cursor, s, len(sent) + i, markdown=markdown)
                for i, s in enumerate(rest)
            ]
            ls.protocol.notify(types.PROGRESS, types.ProgressParams(token=partial, value=items))
    stream_end(outcome.suggestions[0].text if outcome.suggestions else "")
    if feature == "inline":
        ls.warming.shown(query, outcome)
    return outcome, doc, cursor


def _confident(
    ls: CodecompServer, outcome: CompletionOutcome, uri: str, *, automatic: bool
) -> CompletionOutcome:
    """The outcome without the suggestions `minConfidence` hides (features/confidence.py)."""
    shown, hidden = confident(outcome.suggestions, ls.settings.minConfidence, automatic=automatic)
    if not hidden:
        return outcome
    ls.state.stats.add(lowConfidence=hidden)
    if not shown:
        ls.completion.forget(uri)  # nothing is on screen to type ahead into
    return replace(outcome, suggestions=shown, reason="" if shown else "low confidence")


def _stream(ls: CodecompServer, query: CompletionQuery, doc: Document, position: types.Position):  # noqa: ANN202
    """Wire codecomp/completionStream into the query; returns the function that ends the stream."""
    params = {
        "uri": doc.uri,
        "version": doc.version,
        "position": {"line": position.line, "character": position.character},
    }
    loop = asyncio.get_running_loop()
    if ls.state.client.streams or ls.settings.streaming:

        def on_text(text: str) -> None:
            message = {**params, "text": text, "done": False}

            def send() -> None:
                # Checked on the event loop, where a cancellation sends its `done`: nothing after it.
                if not query.cancel.is_set():
                    ls.protocol.notify(STREAM_METHOD, message)

            if not query.cancel.is_set():
                loop.call_soon_threadsafe(send)

        query.on_text = on_text

    def end(text: str) -> None:
        """Every streamed request ends with one `done` notification, cancelled ones too."""
        if query.on_text is not None:
            ls.protocol.notify(STREAM_METHOD, {**params, "text": text, "done": True})

    return end


def register(server: CodecompServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: CodecompServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        outcome, doc, cursor = await complete(
            ls,
            params.text_document.uri,
            params.position,
            params=params,
            candidates=ls.settings.candidates if invoked else 1,
            automatic=not invoked,
            feature="inline",
        )
        ids = feedback.issue_ids(ls, doc, cursor, outcome, automatic=not invoked)
        return types.InlineCompletionList(items=convert.inline_items(doc, cursor, outcome, ids))

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
        outcome, doc, cursor = await complete(
            ls,
            params.text_document.uri,
            params.position,
            params=params,
            candidates=ls.settings.candidates,
            automatic=not invoked,
            feature="completion",
            partial=params.partial_result_token,
        )
        if params.partial_result_token is not None:
            # Items already went out as partial results; the final response must not repeat them.
            return types.CompletionList(is_incomplete=outcome.incomplete, items=[])
        markdown = ls.state.client.completion_markdown
        items = [
            convert.menu_item(doc, cursor, s, rank, markdown=markdown)
            for rank, s in enumerate(outcome.suggestions)
        ]
        # The model's answer depends on every typed character: ask the client to come back.
        return types.CompletionList(
            is_incomplete=True if items else outcome.incomplete, items=items
        )
