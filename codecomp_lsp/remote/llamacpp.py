"""llama.cpp's server, through its own `/completion` endpoint.

The prompt goes as token ids with `cache_prompt: true`. Slots: with `id_slot: -1` the server gives a
request the idle slot whose cached prompt is most like it (`--slot-prompt-similarity`), so each of
several documents keeps to the slot that holds its prefix without us assigning slots — which would
collide as soon as two editors share one server. `/infill` is not used: it rebuilds the prompt
from its own template and context, and our prompt (windows, typed-ahead layout) would be lost.
"""

from __future__ import annotations

from typing import Any

from codecomp_lsp.engine.generation import Finish, GenerationRequest
from codecomp_lsp.remote.backend import SAMPLE_TEMPERATURE, Group, Part, RemoteBackend, Usage

_FINISH = {"eos": Finish.STOP, "word": Finish.STOP, "limit": Finish.LENGTH}


class LlamaCppBackend(RemoteBackend):
    kind = "llamacpp"

    def _body(self, req: GenerationRequest, group: Group, max_tokens: int) -> tuple[str, Any]:
        body: dict[str, Any] = {
            "prompt": self.prompt(req),
            "n_predict": max_tokens,
            "stream": True,
            "cache_prompt": True,
            "id_slot": -1,
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
