"""What every remote engine shares: candidates streamed on reader threads and gathered on the
model thread, with the in-process decoder's semantics (streaming callbacks, stop checks, token
caps, cancellation, deadlines).

Candidate 0 is greedy when the request's temperature is 0 and the others are sampled, as in the
local decoder: one greedy stream and one stream of n-1 samples, sent at once. A stream whose
candidates have all ended is closed, so the engine stops generating for it.
"""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from codecomp_lsp.engine.generation import (
    Cancelled,
    Candidate,
    Finish,
    GenerationRequest,
    GenerationResult,
)
from codecomp_lsp.engine.loader import LoadedModel
from codecomp_lsp.remote.chars import CharTokenizer
from codecomp_lsp.remote.http import Endpoint, RemoteError, SseStream

SAMPLE_TEMPERATURE = 0.7  # the local decoder's floor for sampled candidates
POLL_S = 0.02  # how often the gathering loop looks at cancellation and the deadline


@dataclass
class Part:
    """One engine event, read the same for every engine."""

    index: int = 0  # candidate index inside its stream
    text: str = ""
    tokens: int = 0  # how many tokens `text` is (0: unknown)
    logprobs: tuple[float, ...] = ()
    finish: Finish | None = None


@dataclass
class Usage:
    """The engine's own figures for a request, where it reports them."""

    prompt_tokens: int | None = None
    cached_tokens: int | None = None  # prompt tokens its prefix cache answered
    generated_tokens: int | None = None
    prefill_ms: float | None = None


@dataclass
class Group:
    """One stream: `count` candidates starting at `first`."""

    first: int
    count: int
    greedy: bool
    stream: SseStream | None = None
    engine_done: int = 0  # candidates the engine itself ended


@dataclass
class _Candidate:
    text: str = ""
    tokens: int = 0
    logprobs: list[float] = field(default_factory=list)
    finish: Finish | None = None
    reported: bool = False


_DONE = object()


class RemoteBackend(ABC):
    """Runs generation requests on an engine over HTTP; `run` is called on the model thread."""

    kind = "remote"

    def __init__(self, endpoint: Endpoint, loaded: LoadedModel, model: str) -> None:
        self.endpoint = endpoint
        self.loaded = loaded
        self.model = model  # the name the engine serves the model under
        self.speculative = False
        self.draft_tokens = 0
        self.max_per_request: int | None = None  # completions one request may ask for

    @property
    def as_text(self) -> bool:
        """Prompts go as text: the model's tokenizer is not here (remote/chars.py)."""
        return isinstance(self.loaded.tokenizer, CharTokenizer)

    def prompt(self, req: GenerationRequest) -> list[int] | str:
        """What the engine is sent: our token ids, or their text in the character fallback."""
        if self.as_text:
            return self.loaded.tokenizer.decode(list(req.prompt_ids))
        return list(req.prompt_ids)

    # -- what each engine defines -------------------------------------------------------------
    @abstractmethod
    def _body(self, req: GenerationRequest, group: Group, max_tokens: int) -> tuple[str, Any]:
        """The path and JSON body of the stream for `group`."""

    @abstractmethod
    def _read(self, event: dict[str, Any], usage: Usage) -> list[Part]:
        """The parts in one event; figures it carries go into `usage`."""

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.kind,
            "endpoint": self.endpoint.url,
            "remoteModel": self.model,
            "device": "remote",
            "dtype": None,
        }

    # -- the port ------------------------------------------------------------------------------
    def run(self, req: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        ids = list(req.prompt_ids)
        if not ids:
            raise ValueError("empty prompt")
        if req.cancel.is_set():
            raise Cancelled()
        n = 1 if req.prefill_only else max(1, req.candidates)
        if self.max_per_request is not None:  # llama-server: no more than its slots
            n = min(n, self.max_per_request + (1 if req.temperature <= 0 else 0))
        # A background prefill asks for one token: the engine caches the prompt on the way.
        max_tokens = 1 if req.prefill_only else req.max_new_tokens
        if req.temperature <= 0:
            groups = [Group(0, 1, greedy=True)] + ([Group(1, n - 1, False)] if n > 1 else [])
        else:
            groups = [Group(0, n, greedy=False)]
        usage = Usage()
        events: queue.Queue[tuple[int, Any]] = queue.Queue()
        for number, group in enumerate(groups):
            path, body = self._body(req, group, max_tokens)
            group.stream = self.endpoint.stream(path, body)
            threading.Thread(
                target=self._pump, args=(group.stream, number, events), daemon=True
            ).start()
        try:
            cands, first_ms = self._gather(req, groups, events, usage, started)
        finally:
            for group in groups:
                assert group.stream is not None
                group.stream.close()
        total_ms = (time.perf_counter() - started) * 1000
        prompt_tokens = len(ids)
        if self.as_text:  # counted in characters here: the engine's own count, where it says
            prompt_tokens = usage.prompt_tokens or len(ids) // max(1, self.loaded.units_per_token)
        cached = min(usage.cached_tokens or 0, prompt_tokens)
        generated = usage.generated_tokens
        if generated is None or len(groups) > 1:
            generated = sum(max(c.tokens, 1 if c.text else 0) for c in cands)
        if req.prefill_only:
            cands, generated = [], 0
        return GenerationResult(
            candidates=[
                Candidate(
                    text=c.text,
                    token_ids=[],
                    mean_logprob=sum(c.logprobs) / len(c.logprobs) if c.logprobs else 0.0,
                    finish=c.finish or Finish.STOP,
                )
                for c in cands
            ],
            prompt_tokens=prompt_tokens,
            reused_tokens=cached,
            prefilled_tokens=prompt_tokens - cached,
            generated_tokens=generated,
            prefill_ms=usage.prefill_ms if usage.prefill_ms is not None else first_ms,
            first_token_ms=first_ms,
            total_ms=total_ms,
            cancelled=any(c.finish == Finish.CANCELLED for c in cands),
        )

    def _pump(self, stream: SseStream, number: int, events: queue.Queue) -> None:
        try:
            for event in stream.events():
                events.put((number, event))
        except Exception as exc:  # noqa: BLE001 - handed to the model thread, which raises it
            events.put((number, exc))
        events.put((number, _DONE))

    def _gather(
        self,
        req: GenerationRequest,
        groups: list[Group],
        events: queue.Queue,
        usage: Usage,
        started: float,
    ) -> tuple[list[_Candidate], float]:
        cands = [_Candidate() for _ in range(sum(g.count for g in groups))]
        live = set(range(len(groups)))
        first_ms = 0.0
        while live:
            if req.cancel.is_set():
                self._end(cands, Finish.CANCELLED)
                break
            if req.deadline is not None and time.monotonic() > req.deadline:
                self._end(cands, Finish.DEADLINE)
                break
            try:
                number, item = events.get(timeout=POLL_S)
            except queue.Empty:
                continue
            group = groups[number]
            if item is _DONE:
                live.discard(number)
                for index in range(group.first, group.first + group.count):
                    cands[index].finish = cands[index].finish or Finish.STOP
                    self._report(req, index, cands[index])
                continue
            if isinstance(item, Exception):
                if req.cancel.is_set():
                    continue
                raise item
            for part in self._read(item, usage):
                if not 0 <= part.index < group.count:
                    continue
                index = group.first + part.index
                c = cands[index]
                if c.finish is not None:
                    continue
                if part.text:
                    if not first_ms:
                        first_ms = (time.perf_counter() - started) * 1000
                    c.text += part.text
                    c.tokens += part.tokens or 1
                    c.logprobs.extend(part.logprobs)
                    if req.on_text is not None:
                        req.on_text(index, c.text)
                    if req.stop_check is not None and req.stop_check(c.text):
                        c.finish = Finish.STOP
                    elif part.tokens and c.tokens >= req.max_new_tokens:
                        c.finish = Finish.LENGTH
                if c.finish is None and part.finish is not None:
                    c.finish = part.finish
                    group.engine_done += 1
                self._report(req, index, c)
            # We ended a candidate (a stop check, the token cap): the engine would go on
            # generating what no one reads. Ended by the engine, the stream is read to its end
            # for the usage figures that follow.
            members = cands[group.first : group.first + group.count]
            ended = all(c.finish is not None for c in members)
            if ended and group.engine_done < group.count and group.stream is not None:
                group.stream.close()
        return cands, first_ms

    @staticmethod
    def _end(cands: list[_Candidate], finish: Finish) -> None:
        for c in cands:
            c.finish = c.finish or finish

    @staticmethod
    def _report(req: GenerationRequest, index: int, c: _Candidate) -> None:
        if c.finish is not None and not c.reported:
            c.reported = True
            if req.on_finish is not None:
                req.on_finish(index, c.text)


def probe(endpoint: Endpoint, path: str) -> dict[str, Any]:
    """The engine's answer to a GET of `path` (its model list, its properties), as a dict."""
    answer = endpoint.get_json(path)
    if not isinstance(answer, dict):
        raise RemoteError(f"the engine at {endpoint.url} answered {path} with {answer!r}")
    return answer
