"""What a generation asks and returns: the values the decoding loops and their callers share."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

# (candidate index, text so far) -> None; called on the worker thread.
StreamCallback = Callable[[int, str], None]
# text so far -> True to stop this candidate.
StopCheck = Callable[[str], bool]


DRAFT_TOKENS = 6  # drafted per verification forward by prompt lookup


class Cancelled(Exception):
    """The request was cancelled or superseded."""


class EngineUnavailable(RuntimeError):
    """No model answers (it failed, none was configured, the remote engine is down); the message
    is for the user."""


class Finish(StrEnum):
    """Why a candidate stopped."""

    STOP = "stop"  # a stop token or the stop check
    LENGTH = "length"  # max_new_tokens
    DEADLINE = "deadline"  # the request's time budget
    CANCELLED = "cancelled"


class CacheSlot(StrEnum):
    """Prefix-cache keys of work that is not a document's completion (those use the uri)."""

    HOVER = "__hover__"
    QUICKFIX = "__quickfix__"
    ACTION = "__action__"


@dataclass
class GenerationRequest:
    key: str  # cache slot key: the document uri
    prompt_ids: list[int]
    max_new_tokens: int = 64
    candidates: int = 1
    temperature: float = 0.0  # 0 → greedy for the first candidate; others always sample
    top_p: float = 0.95
    seed: int = 0
    stop_check: StopCheck | None = None
    on_text: StreamCallback | None = None
    on_finish: StreamCallback | None = None  # (candidate, final text) as each candidate ends
    cancel: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None  # time.monotonic() after which decoding stops early
    reuse: bool = True
    # Work ahead of the user (features/lookahead.py): counted apart from the requests' figures.
    background: bool = False
    # Only fill the cache with the prompt (background prefill): no candidates come back.
    prefill_only: bool = False
    prefill_chunk: int = 0  # tokens per prefill forward (0: the decoder's); cancellation between
    # Tokens the first generated token may not be (context/reachability.py: no `return` that
    # would cut off the statements below); remote engines are not asked to honour it.
    banned_first: frozenset[int] = frozenset()


@dataclass
class Candidate:
    text: str
    token_ids: list[int]
    mean_logprob: float
    finish: Finish


@dataclass
class GenerationResult:
    candidates: list[Candidate]
    prompt_tokens: int
    reused_tokens: int
    prefilled_tokens: int
    generated_tokens: int
    prefill_ms: float
    first_token_ms: float
    total_ms: float
    cancelled: bool = False
    drafted_tokens: int = 0  # proposed by prompt lookup
    accepted_tokens: int = 0  # of those, the ones the model agreed with
    forwards: int = 0  # decoding forward passes (prefill not counted)


class Backend(Protocol):
    """Turns generation requests into results: the in-process decoder, or a remote engine."""

    speculative: bool
    draft_tokens: int

    def run(self, req: GenerationRequest) -> GenerationResult: ...


class RemoteEngine(Backend, Protocol):
    """A backend whose model runs elsewhere (remote/backend.py)."""

    def describe(self) -> dict[str, Any]:
        """backend, endpoint, remoteModel, device: what `codecomp/stats` shows of it."""
        ...
