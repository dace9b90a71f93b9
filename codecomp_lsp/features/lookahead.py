"""Work done before the user asks: prefill a document's prompt where the cursor is, and compute the
completion that follows an accepted suggestion.

A cold prompt of 1.5k tokens costs seconds of prefill on a laptop CPU, so the first completion in
a file the user just opened would be hopeless. The server calls `prefill` as a background job
when a document opens, when an editor client reports the cursor (`codecomp/cursor`) and after a
pause in editing; when the user then types there, the prompt is already in the KV cache and only
the typed characters are new. `prefetch` completes the text as it will be once the suggestion on
screen is accepted (llama.vim does the same), so Tab after Tab answers without the model.
Both run on the model thread as background jobs: any request cancels them between prefill chunks
or decode steps, and what they prefilled stays cached.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from codecomp_lsp.engine.decoder import GenerationRequest, GenerationResult
from codecomp_lsp.features.completion import (
    CompletionOutcome,
    CompletionQuery,
    CompletionService,
    DocumentSnapshot,
)

BACKGROUND_CHUNK = 64  # prefill tokens per forward: how long a request may wait behind one


def accepted(doc: DocumentSnapshot, line: int, character: int, text: str) -> CompletionQuery:
    """The query at the end of `text` once it is inserted at (line, character)."""
    offset = doc.line_offset(line) + character
    after = DocumentSnapshot(
        doc.uri, doc.text[:offset] + text + doc.text[offset:], doc.language_id, doc.version
    )
    lines = text.split("\n")
    if len(lines) == 1:
        return CompletionQuery(after, line, character + len(text))
    return CompletionQuery(after, line + len(lines) - 1, len(lines[-1]))


@dataclass(frozen=True)
class _Prefetched:
    text: str
    line: int
    character: int
    outcome: CompletionOutcome


class Lookahead:
    """Background prefill and prefetch over one completion service; one instance per server."""

    def __init__(self, completion: CompletionService) -> None:
        self.completion = completion
        self.engine = completion.engine
        self._ready: dict[str, _Prefetched] = {}
        self._lock = threading.Lock()

    # -- model thread ---------------------------------------------------------------------------
    def prefill(self, query: CompletionQuery) -> GenerationResult | None:
        """Fill the KV cache with the prompt a completion at the query's cursor would use."""
        if not self.completion.settings().kvReuse:
            return None  # nothing would keep what it filled
        ids = self.completion.prompt_ids(query)
        request = GenerationRequest(
            key=query.doc.uri,
            prompt_ids=ids,
            cancel=query.cancel,
            prefill_only=True,
            prefill_chunk=BACKGROUND_CHUNK,
        )
        return self.engine.generate(request)

    def prefetch(self, query: CompletionQuery, text: str) -> CompletionOutcome | None:
        """Complete the document as it will be once `text` is accepted at the query's cursor."""
        after = accepted(query.doc, query.line, query.character, text)
        after = replace(
            after,
            open_docs=query.open_docs,
            cancel=query.cancel,
            feature="inline",
            background=True,
        )
        outcome = self.completion.complete(after, remember=False)
        self.engine.stats.add(prefetches=1)
        # Kept even when empty: it is the answer for exactly that text, and asking again would
        # only run the model to find the same nothing.
        with self._lock:
            self._ready[query.doc.uri] = _Prefetched(
                after.doc.text, after.line, after.character, outcome
            )
        return outcome

    # -- event loop -----------------------------------------------------------------------------
    def take(self, query: CompletionQuery) -> CompletionOutcome | None:
        """The prefetched answer when the query is at the accepted text's end; None otherwise."""
        with self._lock:
            ready = self._ready.get(query.doc.uri)
            if ready is None or query.candidates > 1:
                return None
            if (ready.line, ready.character) != (query.line, query.character):
                return None
            if ready.text != query.doc.text:
                return None
            del self._ready[query.doc.uri]
        outcome = ready.outcome
        if outcome.suggestions and outcome.context is not None:
            text = outcome.suggestions[0].text
            self.completion.remember(query.doc, query.line, outcome.context, text)
        self.engine.stats.add(prefetchHits=1)
        return outcome

    def forget(self, uri: str) -> None:
        with self._lock:
            self._ready.pop(uri, None)
