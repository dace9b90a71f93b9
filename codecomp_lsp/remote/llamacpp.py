"""llama.cpp's server, through its own `/completion` endpoint.

The prompt goes as token ids with `cache_prompt: true`, and each document keeps to the slot that
holds its prefix (`id_slot`), so several documents keep their own cache. A document's first
request leaves the choice to the server (`id_slot: -1`: the idle slot whose cached prompt is most
like it, else the least recently used — so editors sharing one server spread over its slots) and
is read to its last event, which names the slot; later requests pin that slot. Leaving every
request to the server measured badly while typing: the next keystroke's request arrives before
the server has noticed the previous stream closed, finds that slot busy and takes a cold one; a
pinned slot makes it wait the few milliseconds instead. `/infill` is not used: it rebuilds the
prompt from its own template and context, and our prompt (windows, typed-ahead layout) would be
lost.
"""

from __future__ import annotations

import threading
from typing import Any

from codecomp_lsp.engine.generation import Finish, GenerationRequest
from codecomp_lsp.remote.backend import SAMPLE_TEMPERATURE, Group, Part, RemoteBackend, Usage

_FINISH = {"eos": Finish.STOP, "word": Finish.STOP, "limit": Finish.LENGTH}


class LlamaCppBackend(RemoteBackend):
    kind = "llamacpp"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots: dict[str, int] = {}  # document → the slot that served it last
        self._lock = threading.Lock()

    def slot_for(self, key: str) -> int:
        """The document's slot; -1 lets the server choose (a document it has not served yet)."""
        with self._lock:
            return self._slots.get(key, -1)

    def _needs_final(self, req: GenerationRequest) -> bool:
        return self.slot_for(req.key) < 0  # the last event says which slot the server chose

    def _learn(self, req: GenerationRequest, usage: Usage) -> None:
        if usage.slot is None or usage.slot < 0:
            return
        with self._lock:
            for key, slot in list(self._slots.items()):
                if slot == usage.slot and key != req.key:
                    del self._slots[key]  # its prefix was just overwritten
            self._slots[req.key] = usage.slot

    def _body(self, req: GenerationRequest, group: Group, max_tokens: int) -> tuple[str, Any]:
        body: dict[str, Any] = {
            "prompt": self.prompt(req),
            "n_predict": max_tokens,
            "stream": True,
            "cache_prompt": True,
            # Samples go to any idle slot: on the document's, they would wait for its greedy one.
            "id_slot": self.slot_for(req.key) if group.greedy else -1,
            "return_tokens": True,
            "timings_per_token": True,  # the cache figures come before a stream we close early
        }
        if self.as_text:  # the server ends on its own end-of-generation tokens; these too
            body["stop"] = list(self.loaded.template.stops)
        if group.count > 1:
            body["n_cmpl"] = group.count
        if group.greedy:
            body |= {"temperature": 0.0, "top_k": 1}
        else:
            body |= {
                "temperature": max(req.temperature, SAMPLE_TEMPERATURE),
                "top_p": req.top_p,
                "seed": req.seed,
                "n_probs": 1,  # ranked by mean log-probability
            }
        return "completion", body

    def _read(self, event: dict[str, Any], usage: Usage) -> list[Part]:
        timings = event.get("timings")
        slot = event.get("id_slot")
        if event.get("stop") and isinstance(slot, int) and slot >= 0:
            usage.slot = slot
        if isinstance(timings, dict):
            cached = timings.get("cache_n")
            processed = timings.get("prompt_n")
            if isinstance(cached, int):
                usage.cached_tokens = max(usage.cached_tokens or 0, cached)
            if isinstance(cached, int) and isinstance(processed, int):
                usage.prompt_tokens = cached + processed
            if isinstance(timings.get("prompt_ms"), int | float):
                usage.prefill_ms = float(timings["prompt_ms"])
        logprobs = tuple(
            float(p["logprob"])
            for p in event.get("completion_probabilities") or []
            if isinstance(p, dict) and isinstance(p.get("logprob"), int | float)
        )
        tokens = event.get("tokens")
        finish = None
        if event.get("stop"):
            finish = _FINISH.get(str(event.get("stop_type")), Finish.STOP)
        return [
            Part(
                index=int(event.get("index") or 0),
                text=str(event.get("content") or ""),
                tokens=len(tokens) if isinstance(tokens, list) else 0,
                logprobs=logprobs,
                finish=finish,
            )
        ]
