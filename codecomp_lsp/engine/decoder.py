"""The decoding loop: reuse the cached prefix, prefill the rest in chunks, decode candidates in a batch.

We own this loop instead of calling `generate()`: it re-feeds a fully cached prompt, its prompt-lookup
decoding is wrong with a reused cache, and it cannot check for cancellation between steps.
"""

from __future__ import annotations

import inspect
import time

import numpy as np
import torch
from transformers import DynamicCache

from codecomp_lsp.engine import failpoints
from codecomp_lsp.engine.generation import (  # noqa: F401 - the decoder's public types
    DRAFT_TOKENS,
    CacheSlot,
    Cancelled,
    Candidate,
    Finish,
    GenerationRequest,
    GenerationResult,
    StopCheck,
    StreamCallback,
)
from codecomp_lsp.engine.kvcache import PrefixCache, from_dynamic_cache, to_dynamic_cache
from codecomp_lsp.engine.loader import LoadedModel
from codecomp_lsp.engine.speculative import greedy_speculative


def _sample(
    logits: torch.Tensor, temperature: float, top_p: float, gen: torch.Generator
) -> torch.Tensor:
    probs = torch.softmax(logits.float() / max(temperature, 1e-4), dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < top_p
        sorted_probs = sorted_probs * keep
        choice = torch.multinomial(
            sorted_probs / sorted_probs.sum(-1, keepdim=True), 1, generator=gen
        )
        return order.gather(-1, choice).squeeze(-1)
    return torch.multinomial(probs, 1, generator=gen).squeeze(-1)


class Decoder:
    """Runs generation requests against one loaded model; call only from the worker thread."""

    def __init__(
        self,
        loaded: LoadedModel,
        cache: PrefixCache,
        prefill_chunk: int = 512,
        *,
        speculative: bool = True,
        draft_tokens: int = DRAFT_TOKENS,
    ) -> None:
        self.loaded = loaded
        self.cache = cache
        self.prefill_chunk = prefill_chunk
        self.speculative = speculative
        self.draft_tokens = draft_tokens
        # transformers 5.24 renamed `past_key_values` to `cache` model by model (the old name warns).
        params = inspect.signature(loaded.model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"

    def _forward(self, ids: torch.Tensor, past: DynamicCache, keep: int = 1) -> torch.Tensor:
        """Logits of the last `keep` positions ([batch, vocab] when keep is 1)."""
        failpoints.hit("forward")
        kwargs = {self._cache_arg: past}
        out = self.loaded.model(input_ids=ids, use_cache=True, logits_to_keep=keep, **kwargs)
        return out.logits[:, -1, :] if keep == 1 else out.logits[0]

    def _store(self, key: str, tokens: np.ndarray, past: DynamicCache, row: int = 0) -> None:
        length = min(len(tokens), past.get_seq_length())
        if length > 0:
            self.cache.store(key, tokens[:length].copy(), from_dynamic_cache(past, length, row))

    @staticmethod
    def _prefilled(
        ids: np.ndarray, reused: int, started: float, prefill_ms: float
    ) -> GenerationResult:
        return GenerationResult(
            candidates=[],
            prompt_tokens=len(ids),
            reused_tokens=reused,
            prefilled_tokens=len(ids) - reused,
            generated_tokens=0,
            prefill_ms=prefill_ms,
            first_token_ms=0.0,
            total_ms=(time.perf_counter() - started) * 1000,
        )

    @torch.inference_mode()
    def run(self, req: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        device = self.loaded.device
        ids = np.asarray(req.prompt_ids, dtype=np.int64)
        if len(ids) == 0:
            raise ValueError("empty prompt")
        reuse = req.reuse and self.loaded.reusable_cache
        entry, common = self.cache.lookup(req.key, ids) if reuse else (None, 0)
        if req.prefill_only and (not reuse or common >= len(ids)):
            return self._prefilled(ids, len(ids) if reuse else 0, started, 0.0)
        # The last prompt token is always fed: its logits start decoding.
        reused = min(common, len(ids) - 1)
        if entry is not None and reused > 0:
            past = to_dynamic_cache(entry.layers, reused)
        else:
            reused = 0
            past = DynamicCache(config=self.loaded.model.config)

        # Prefill the uncached tail in chunks, checking for cancellation between them; what was
        # prefilled before a cancellation is kept, so a superseded request's work still counts.
        pos = reused
        logits: torch.Tensor | None = None
        chunk_size = req.prefill_chunk or self.prefill_chunk
        while pos < len(ids):
            if req.cancel.is_set():
                if reuse:
                    self._store(req.key, ids[:pos], past)
                raise Cancelled()
            end = min(len(ids), pos + chunk_size)
            chunk = torch.from_numpy(ids[pos:end]).unsqueeze(0).to(device)
            logits = self._forward(chunk, past)
            pos = end
        assert logits is not None
        prefill_ms = (time.perf_counter() - started) * 1000
        if req.prefill_only:
            self._store(req.key, ids, past)
            return self._prefilled(ids, reused, started, prefill_ms)

        if req.banned_first:
            logits = logits.clone()
            logits[..., sorted(req.banned_first)] = float("-inf")
        n = max(1, req.candidates)
        if n == 1 and req.temperature <= 0 and self.speculative:
            return greedy_speculative(self, req, ids, past, logits, reused, started, prefill_ms)
        if n > 1:
            past.batch_repeat_interleave(n)
            logits = logits.expand(n, -1)
        gen = torch.Generator(device="cpu").manual_seed(req.seed)
        tokenizer = self.loaded.tokenizer
        stop_ids = self.loaded.stop_ids
        tokens: list[list[int]] = [[] for _ in range(n)]
        logprob_sums = [0.0] * n
        finish: list[str | None] = [None] * n
        texts = [""] * n
        reported = [False] * n
        fed = [0] * n  # generated tokens of each row that are inside the cache
        first_token_ms = 0.0
        step = forwards = 0
        while True:
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
            greedy = logprobs.argmax(dim=-1)
            if n > 1 or req.temperature > 0:
                sampled = _sample(logprobs, max(req.temperature, 0.7), req.top_p, gen)
                if req.temperature <= 0:
                    sampled[0] = greedy[0]
                choice = sampled
            else:
                choice = greedy
            step += 1
            if step == 1:
                first_token_ms = (time.perf_counter() - started) * 1000
            for row in range(n):
                if finish[row] is not None:
                    continue
                token = int(choice[row])
                if token in stop_ids:
                    finish[row] = Finish.STOP
                    continue
                tokens[row].append(token)
                logprob_sums[row] += float(logprobs[row, token])
                texts[row] = tokenizer.decode(tokens[row], skip_special_tokens=False)
                if req.on_text is not None:
                    req.on_text(row, texts[row])
                if req.stop_check is not None and req.stop_check(texts[row]):
                    finish[row] = Finish.STOP
                elif len(tokens[row]) >= req.max_new_tokens:
                    finish[row] = Finish.LENGTH
            if req.on_finish is not None:
                for row in range(n):
                    if finish[row] is not None and not reported[row]:
                        reported[row] = True
                        req.on_finish(row, texts[row])
            if all(f is not None for f in finish):
                break
            if req.cancel.is_set():
                finish = [f or Finish.CANCELLED for f in finish]
                break
            if req.deadline is not None and time.monotonic() > req.deadline:
                finish = [f or Finish.DEADLINE for f in finish]
                break
            feed = torch.tensor(
                [
                    [tokens[r][-1] if tokens[r] and finish[r] is None else choice[r]]
                    for r in range(n)
                ],
                dtype=torch.long,
                device=device,
            )
            for r in range(n):
                if finish[r] is None:
                    fed[r] += 1
            logits = self._forward(feed, past)
            forwards += 1

        if reuse:
            # Keep prompt + the first candidate's tokens, so accepting it costs nothing next time.
            row_tokens = np.concatenate([ids, np.asarray(tokens[0][: fed[0]], dtype=np.int64)])
            self._store(req.key, row_tokens, past, row=0)

        total = len(ids)
        generated = sum(len(t) for t in tokens)
        candidates = [
            Candidate(
                text=texts[r],
                token_ids=tokens[r],
                mean_logprob=logprob_sums[r] / max(1, len(tokens[r])),
                finish=finish[r] or Finish.STOP,
            )
            for r in range(n)
        ]
        return GenerationResult(
            candidates=candidates,
            prompt_tokens=total,
            reused_tokens=reused,
            prefilled_tokens=total - reused,
            generated_tokens=generated,
            prefill_ms=prefill_ms,
            first_token_ms=first_token_ms,
            total_ms=(time.perf_counter() - started) * 1000,
            cancelled=any(f == Finish.CANCELLED for f in finish),
            forwards=forwards,
        )
