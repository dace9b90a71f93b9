"""When the server works ahead of the user (features/lookahead.py does the work).

- a document opens: prefill at the cursor its editor reported (`codecomp/cursor`), else at the
  document's end (that prompt's prefix is every later position's prefix in a file that fits);
- the cursor moves (`codecomp/cursor`, sent by our editor clients): prefill there, once it rests;
- an edit, then a pause with no completion request (a client that asks only on demand): prefill
  where the edit ended, so an edit far from the cached prompt is paid for before the request;
- a suggestion is shown: complete the text as it will be once it is accepted.

Everything runs as background jobs on the model thread, so any request goes first; timers run on
the event loop. `backgroundPrefill: false` turns all of it off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from lsprotocol import types

from codecomp_lsp.engine.decoder import Cancelled
from codecomp_lsp.engine.engine import Engine, EngineUnavailable
from codecomp_lsp.engine.worker import Job
from codecomp_lsp.features.completion import CompletionOutcome, CompletionQuery
from codecomp_lsp.features.lookahead import Lookahead
from codecomp_lsp.server.documents import DocumentStore, PositionError
from codecomp_lsp.settings import Settings

log = logging.getLogger(__name__)

CURSOR_REST_S = 0.25  # a cursor that stays this long is where the user will type
EDIT_PAUSE_S = 0.6  # an edit not followed by a request within this long is prefilled
CURSOR_METHOD = "codecomp/cursor"
BACKGROUND_KEY = "ahead"


class Warming:
    def __init__(
        self,
        settings: Callable[[], Settings],
        ready: Callable[[], bool],
        documents: Callable[[], DocumentStore],
        engine: Engine,
        lookahead: Lookahead,
    ) -> None:
        self.settings = settings
        self.ready = ready  # the model is loaded (nothing is prefilled while it loads)
        self.documents = documents
        self.engine = engine
        self.lookahead = lookahead
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._cursor: dict[str, tuple[int, int]] = {}  # code points, as the client last said
        self._requested: dict[str, float] = {}  # uri → when its last completion request came
        self._jobs: dict[str, Job] = {}  # uri → its latest background job

    @property
    def enabled(self) -> bool:
        settings = self.settings()
        return settings.backgroundPrefill and settings.kvReuse and self.ready()

    # -- what the handlers report ----------------------------------------------------------------
    def opened(self, uri: str) -> None:
        self._schedule(uri, 0.0, self._cursor.get(uri))

    def cursor(self, uri: str, position: types.Position) -> None:
        doc = self.documents().get(uri)
        if doc is None:
            return
        try:
            where = doc.to_codepoints(position, strict=False)
        except PositionError:
            log.info("%s for %s at %s ignored: not in the document", CURSOR_METHOD, uri, position)
            return
        self._cursor[uri] = where
        self._schedule(uri, CURSOR_REST_S, where)

    def edited(self, uri: str, where: tuple[int, int] | None) -> None:
        if where is None:
            return
        self._cursor[uri] = where
        self._schedule(uri, EDIT_PAUSE_S, where, after=time.monotonic())

    def requested(self, uri: str) -> None:
        self._requested[uri] = time.monotonic()
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()  # the request itself fills the cache

    def shown(self, query: CompletionQuery, outcome: CompletionOutcome) -> None:
        """A suggestion went to the client: prefetch the completion after its acceptance."""
        if not outcome.suggestions or not self.enabled:
            return
        text = outcome.suggestions[0].text
        lookahead = self.lookahead
        self._submit(lambda q: lookahead.prefetch(q, text), query)

    def forget(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        self._cursor.pop(uri, None)
        self._requested.pop(uri, None)
        self.lookahead.forget(uri)
        job = self._jobs.pop(uri, None)
        if job is not None:
            job.cancel.set()  # its cache entry is removed when it ends (_ended)

    # -- timers and jobs -------------------------------------------------------------------------
    def _schedule(
        self, uri: str, delay: float, where: tuple[int, int] | None, after: float | None = None
    ) -> None:
        old = self._timers.pop(uri, None)
        if old is not None:
            old.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timers[uri] = loop.call_later(delay, self._fire, uri, where, after)

    def _fire(self, uri: str, where: tuple[int, int] | None, after: float | None) -> None:
        self._timers.pop(uri, None)
        if after is not None and self._requested.get(uri, 0.0) >= after:
            return  # a request came after the edit: its prompt is cached already
        doc = self.documents().get(uri)
        if doc is None or not doc.usable or not self.enabled:
            return
        snap = doc.snapshot().view
        if where is None:  # the end of the document
            last = max(0, len(snap.line_starts) - 1)
            where = (last, len(snap.text) - snap.line_offset(last))
        line = min(where[0], len(snap.line_starts) - 1)
        end = snap.line_offset(line + 1) - 1 if line + 1 < len(snap.line_starts) else len(snap.text)
        character = min(where[1], end - snap.line_offset(line))
        query = CompletionQuery(doc=snap, line=line, character=character, candidates=1)
        query.open_docs = [other.view for other in self.documents().others(uri)]
        self._submit(self.lookahead.prefill, query)

    def _submit(self, work: Any, query: CompletionQuery) -> None:
        uri = query.doc.uri
        # One key for all of it: the user is in one place at a time, so the newest background
        # job supersedes the others (ten files opened at once prefill only the last).
        job = self.engine.submit(
            lambda: work(query), key=BACKGROUND_KEY, cancel=query.cancel, background=True
        )
        self._jobs[uri] = job
        job.future.add_done_callback(lambda future: self._ended(uri, job))

    def _ended(self, uri: str, job: Job) -> None:
        """On the model thread: a job for a document closed meanwhile leaves no cache behind
        (a cancelled prefill keeps what it filled)."""
        if self._jobs.get(uri) is job:
            self._jobs.pop(uri, None)
        if self.documents().get(uri) is None:
            self.engine.forget_document(uri)
        _log_failure(job.future)


def _log_failure(future: Any) -> None:
    exc = future.exception()
    if exc is not None and not isinstance(exc, Cancelled | EngineUnavailable):
        log.warning("background work failed: %r", exc)
