"""Prompt-lookup speculative decoding for the greedy single candidate (inline completion).

Code repeats itself: the next tokens are often a copy of tokens already in the prompt (a name, a
call, a line like the one above). Each step drafts up to k tokens by finding the most recent
earlier occurrence of the last 3 (else 2, else 1) tokens in the prompt and the text generated so
far, feeds the chosen token and the draft in one forward, and keeps the draft tokens up to the first
one the model would not have picked greedily; the cache is cropped back to what was kept. The
output is the plain greedy output, token for token; on a memory-bound CPU a forward of k+1 tokens
costs about what one token costs, so every accepted token is nearly free.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from transformers import DynamicCache

from codecomp_lsp.engine.generation import (
    Cancelled,
    Candidate,
    Finish,
    GenerationRequest,
    GenerationResult,
)


class Stepper(Protocol):
    """What this loop needs of the decoder (decoder.py calls in; this module does not import it)."""

    loaded: Any
    draft_tokens: int

    def _forward(self, ids: torch.Tensor, past: DynamicCache, keep: int = 1) -> torch.Tensor: ...

    def _store(self, key: str, tokens: np.ndarray, past: DynamicCache, row: int = 0) -> None: ...


NGRAM_MAX = 3


def draft(history: np.ndarray, k: int) -> list[int]:
    """Up to `k` tokens that followed the latest earlier occurrence of the history's last n-gram."""
    for n in range(NGRAM_MAX, 0, -1):
        if len(history) <= n or k <= 0:
            continue
        windows = sliding_window_view(history[:-1], n)
        hits = np.flatnonzero((windows == history[-n:]).all(axis=1))
        if len(hits):
            start = int(hits[-1]) + n
            return history[start : start + k].tolist()
    return []


def greedy_speculative(
    decoder: Stepper,
    req: GenerationRequest,
    ids: np.ndarray,
    past: DynamicCache,
    logits: torch.Tensor,
    reused: int,
    started: float,
    prefill_ms: float,
) -> GenerationResult:
    """The rest of Decoder.run for one greedy candidate, with drafts (same result, fewer steps)."""
    device = decoder.loaded.device
    tokenizer = decoder.loaded.tokenizer
    stop_ids = decoder.loaded.stop_ids
    tokens: list[int] = []
    logprob_sum = 0.0
    finish: Finish | None = None
    text = ""
    fed = 0  # generated tokens inside the cache
    first_token_ms = 0.0
    drafted = accepted = forwards = 0
    history = np.concatenate(
        [ids, np.zeros(req.max_new_tokens + decoder.draft_tokens + 1, np.int64)]
    )
    length = len(ids)

    def take(token: int, logprob: float) -> Finish | None:
        nonlocal text, logprob_sum, length
        if token in stop_ids:
            return Finish.STOP
        tokens.append(token)
        history[length] = token
        length += 1
        logprob_sum += logprob
        text = tokenizer.decode(tokens, skip_special_tokens=False)
        if req.on_text is not None:
            req.on_text(0, text)
        if req.stop_check is not None and req.stop_check(text):
            return Finish.STOP
        if len(tokens) >= req.max_new_tokens:
            return Finish.LENGTH
        return None

    pending = torch.log_softmax(logits[0].float(), dim=-1).cpu()  # predicts the next token
    while True:
        token = int(pending.argmax())
        if not first_token_ms:
            first_token_ms = (time.perf_counter() - started) * 1000
        finish = take(token, float(pending[token]))
        if finish is not None:
            break
        if req.cancel.is_set():
            finish = Finish.CANCELLED
            break
        if req.deadline is not None and time.monotonic() > req.deadline:
            finish = Finish.DEADLINE
            break
        room = req.max_new_tokens - len(tokens)
        proposal = draft(history[:length], min(decoder.draft_tokens, room))
        feed = torch.tensor([[token, *proposal]], dtype=torch.long, device=device)
        out = torch.log_softmax(decoder._forward(feed, past, keep=feed.shape[1]).float(), dim=-1)
        out = out.reshape(feed.shape[1], -1).cpu()
        forwards += 1
        fed += 1
        drafted += len(proposal)
        kept = 0
        for j, guess in enumerate(proposal):
            if int(out[j].argmax()) != guess:
                break
            kept += 1
            fed += 1
            finish = take(guess, float(out[j, guess]))
            if finish is not None:
                break
        accepted += kept
        if len(proposal) > kept:
            past.crop(-(len(proposal) - kept))  # drop the rejected draft's keys and values
        if finish is not None:
            break
        pending = out[kept]
    if finish == Finish.CANCELLED and not req.reuse:
        raise Cancelled()  # pragma: no cover - the caller decides; kept for symmetry
    if req.on_finish is not None:
        req.on_finish(0, text)
    if req.reuse:
        row_tokens = np.concatenate([ids, np.asarray(tokens[:fed], dtype=np.int64)])
        decoder._store(req.key, row_tokens, past, row=0)
    return GenerationResult(
        candidates=[
            Candidate(
                text=text,
                token_ids=tokens,
                mean_logprob=logprob_sum / max(1, len(tokens)),
                finish=finish,
            )
        ],
        prompt_tokens=len(ids),
        reused_tokens=reused,
        prefilled_tokens=len(ids) - reused,
        generated_tokens=len(tokens),
        prefill_ms=prefill_ms,
        first_token_ms=first_token_ms,
        total_ms=(time.perf_counter() - started) * 1000,
        cancelled=finish == Finish.CANCELLED,
        drafted_tokens=drafted,
        accepted_tokens=accepted,
        forwards=forwards,
    )
