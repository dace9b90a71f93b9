"""OpenAI-compatible `/v1/completions` (vLLM, SGLang, llama-server's compatibility API).

Our own FIM prompt goes as token ids in `prompt` (vLLM does not take `suffix`), so the engine sees
exactly the tokens the local engine would, and its prefix cache matches as ours does: typing only
appends. vLLM's extensions are sent where they help and ignored elsewhere: `stop_token_ids` (the
FIM template's end markers), `return_tokens_as_token_ids`, and usage on the last event with the
prompt tokens its prefix cache answered (`--enable-prompt-tokens-details`).
"""

from __future__ import annotations

from typing import Any

from codecomp_lsp.engine.generation import Finish, GenerationRequest
from codecomp_lsp.remote.backend import SAMPLE_TEMPERATURE, Group, Part, RemoteBackend, Usage

_FINISH = {"stop": Finish.STOP, "length": Finish.LENGTH, "abort": Finish.CANCELLED}


class OpenAIBackend(RemoteBackend):
    kind = "openai"

    def _body(self, req: GenerationRequest, group: Group, max_tokens: int) -> tuple[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": self.prompt(req),
            "max_tokens": max_tokens,
            "n": group.count,
            "stream": True,
            # Usage on every event: a stream we close early (a stop check) still reports the
            # prompt tokens the engine's prefix cache answered.
            "stream_options": {"include_usage": True, "continuous_usage_stats": True},
            "stop_token_ids": sorted(self.loaded.stop_ids),
            "skip_special_tokens": True,
        }
        if self.as_text:  # no token ids here: the template's end markers as text
            stops = list(self.loaded.template.stops)[:4]  # the OpenAI API takes up to 4
            body |= {"stop": stops, "skip_special_tokens": False}
            del body["stop_token_ids"]
        if group.greedy:
            body["temperature"] = 0.0
        else:
            body |= {
                "temperature": max(req.temperature, SAMPLE_TEMPERATURE),
                "top_p": req.top_p,
                "seed": req.seed,
            }
        if group.count > 1 or not group.greedy:
            # Several candidates are ranked by their mean log-probability.
            body |= {"logprobs": 1, "return_tokens_as_token_ids": True}
        return "completions", body

    def _read(self, event: dict[str, Any], usage: Usage) -> list[Part]:
        figures = event.get("usage")
        if isinstance(figures, dict):
            usage.prompt_tokens = figures.get("prompt_tokens", usage.prompt_tokens)
            usage.generated_tokens = figures.get("completion_tokens", usage.generated_tokens)
            details = figures.get("prompt_tokens_details")
            if isinstance(details, dict) and isinstance(details.get("cached_tokens"), int):
                usage.cached_tokens = details["cached_tokens"]
        parts = []
        for choice in event.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            logprobs = choice.get("logprobs") or {}
            values = tuple(
                float(v) for v in (logprobs.get("token_logprobs") or []) if v is not None
            )
            tokens = len(logprobs.get("tokens") or [])
            reason = choice.get("finish_reason")
            parts.append(
                Part(
                    index=int(choice.get("index") or 0),
                    text=str(choice.get("text") or ""),
                    tokens=tokens,
                    logprobs=values,
                    finish=_FINISH.get(reason, Finish.STOP) if reason else None,
                )
            )
        return parts
