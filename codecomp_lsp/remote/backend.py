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
    slot: int | None = None  # llama-server: the slot that served the request (its last event)


@dataclass(eq=False)  # compared by identity
class Group:
    """One stream: `count` candidates starting at `first`."""

    first: int
    count: int
    greedy: bool
    stream: SseStream | None = None
    engine_done: int = 0  # candidates the engine itself ended
    events: queue.Queue = field(default_factory=queue.Queue)  # what its reader thread read
    heard: bool = False  # the engine has sent something (its prompt is processed)
    settling: bool = False  # closed by _settle once the engine has answered


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
        # Streams left to finish their prompt after a request returned at its deadline (_settle):
        # the next request waits for them, so that it finds that prompt in the engine's cache
        # instead of racing it (llama-server would give it a cold slot).
        self._settling = 0
        self._settled = threading.Condition()

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

    def _needs_final(self, req: GenerationRequest) -> bool:
        """Whether the request's streams must be read to their end (not closed at the first
        token or a stop check) for a figure only the last event carries."""
        return False

    def _learn(self, req: GenerationRequest, usage: Usage) -> None:
        """Keep what the engine said about where it served the request."""
        return None

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
        self._wait_settled(req)
        n = 1 if req.prefill_only else max(1, req.candidates)
        if self.max_per_request is not None:  # llama-server: one slot each, none queued
            n = min(n, self.max_per_request)
        # A background prefill asks for one token: the engine caches the prompt on the way.
        max_tokens = 1 if req.prefill_only else req.max_new_tokens
        if req.temperature <= 0:
            groups = [Group(0, 1, greedy=True)] + ([Group(1, n - 1, False)] if n > 1 else [])
        else:
            groups = [Group(0, n, greedy=False)]
        usage = Usage()
        arrived = threading.Event()  # some stream has something to read
        for group in groups:
            path, body = self._body(req, group, max_tokens)
            group.stream = self.endpoint.stream(path, body)
            threading.Thread(target=self._pump, args=(group, arrived), daemon=True).start()
        try:
            cands, first_ms = self._gather(req, groups, arrived, usage, started)
            self._learn(req, usage)
        finally:
            for group in groups:
                assert group.stream is not None
                if not group.settling:
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

    def _pump(self, group: Group, arrived: threading.Event) -> None:
        assert group.stream is not None
        try:
            for event in group.stream.events():
                group.events.put(event)
                arrived.set()
        except Exception as exc:  # noqa: BLE001 - handed to the model thread, which raises it
            group.events.put(exc)
        group.events.put(_DONE)
        arrived.set()

    def _gather(
        self,
        req: GenerationRequest,
        groups: list[Group],
        arrived: threading.Event,
        usage: Usage,
        started: float,
    ) -> tuple[list[_Candidate], float]:
        cands = [_Candidate() for _ in range(sum(g.count for g in groups))]
        live = set(range(len(groups)))
        first_ms = 0.0
        while live:
            cancelled = req.cancel.is_set()
            late = req.deadline is not None and time.monotonic() > req.deadline
            if cancelled or late:
                self._end(cands, Finish.CANCELLED if cancelled else Finish.DEADLINE)
                unheard = [groups[n] for n in live if not groups[n].heard]
                for group in groups:
                    if group not in unheard and group.stream is not None:
                        group.stream.close()  # now: it may hold the slot an unheard one awaits
                for group in unheard:
                    group.settling = True  # not closed by `run`: _settle closes them
                if unheard and cancelled:  # nobody waits for a cancelled answer
                    self._settle(req, unheard, usage=usage)
                elif unheard:  # the answer is due now: the engine finishes its prompt meanwhile
                    self._settle_later(req, unheard)
                break
            arrived.wait(POLL_S)
            arrived.clear()
            for number in sorted(live):
                group = groups[number]
                while number in live:
                    try:
                        item = group.events.get_nowait()
                    except queue.Empty:
                        break
                    group.heard = True
                    if item is _DONE:
                        live.discard(number)
                        for index in range(group.first, group.first + group.count):
                            cands[index].finish = cands[index].finish or Finish.STOP
                            self._report(req, index, cands[index])
                    elif isinstance(item, Exception):
                        if not req.cancel.is_set():
                            raise item
                    else:
                        first_ms = self._apply(req, group, item, cands, usage, started, first_ms)
                        if self._release(req, group, cands):
                            live.discard(number)
        return cands, first_ms

    def _apply(
        self,
        req: GenerationRequest,
        group: Group,
        event: dict[str, Any],
        cands: list[_Candidate],
        usage: Usage,
        started: float,
        first_ms: float,
    ) -> float:
        """Add one event's text to its candidates; the time of the first token."""
        for part in self._read(event, usage):
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
        return first_ms

    def _release(self, req: GenerationRequest, group: Group, cands: list[_Candidate]) -> bool:
        """Stop reading a group whose candidates we ended (a stop check, the token cap): the
        engine would go on generating what no one reads. Ended by the engine, a stream is read
        to its end for the usage figures that follow."""
        members = cands[group.first : group.first + group.count]
        if not all(c.finish is not None for c in members) or group.engine_done >= group.count:
            return False
        assert group.stream is not None
        if self._needs_final(req):
            group.settling = True
            self._settle_later(req, [group])
        else:
            group.stream.close()
        return True

    def _wait_settled(self, req: GenerationRequest) -> None:
        with self._settled:
            while self._settling:
                if req.cancel.is_set():
                    raise Cancelled()
                self._settled.wait(POLL_S)
        if req.cancel.is_set():
            raise Cancelled()

    def _settle_later(self, req: GenerationRequest, groups: list[Group]) -> None:
        """Settle `groups` on a thread; the next request waits for it (`_wait_settled`)."""
        with self._settled:
            self._settling += 1
        threading.Thread(target=self._settle, args=(req, groups, True), daemon=True).start()

    def _settle(
        self,
        req: GenerationRequest,
        groups: list[Group],
        counted: bool = False,
        usage: Usage | None = None,
    ) -> None:
        """Close `groups` once the engine has answered each at least once (read to the end
        where `_needs_final`).

        A stream closed while the engine still processes its prompt loses that work: neither
        engine notices the client is gone before it sends something, so the prompt is computed
        anyway, but llama-server keeps the slot busy meanwhile (the next keystroke gets a cold
        slot) and vLLM does not cache an aborted prompt. Waiting for the first token instead
        leaves the prompt in the engine's cache for the next keystroke, as the local engine
        keeps a cancelled request's prefilled chunks.
        """
        cap = time.monotonic() + self.endpoint.timeout_s
        usage = usage or Usage()
        to_end = self._needs_final(req)
        for group in groups:
            assert group.stream is not None
            while time.monotonic() < cap:
                try:
                    item = group.events.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                if isinstance(item, dict):
                    self._read(item, usage)  # cache figures come with the first answer
                    if to_end:
                        continue
                break  # the first answer, the end, or an error
            group.stream.close()
        self._learn(req, usage)
        if counted:
            with self._settled:
                self._settling -= 1
                self._settled.notify_all()

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
