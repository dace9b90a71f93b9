"""Prompt-lookup speculative decoding gives the plain greedy output, token for token, in fewer
forward passes; int8 weights keep the same greedy choices on the fixture model."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from codecomp_lsp.engine.decoder import Decoder, Finish, GenerationRequest
from codecomp_lsp.engine.kvcache import PrefixCache
from codecomp_lsp.engine.loader import load_model
from codecomp_lsp.engine.quantize import ALWAYS, DualLinear, dual_linears, quantize_model
from codecomp_lsp.engine.speculative import draft
from tests.samples import LIST_FILES_PY


def test_draft_copies_what_followed_the_latest_match() -> None:
    history = np.array([5, 6, 7, 8, 9, 1, 6, 7, 8, 2, 3, 6, 7], dtype=np.int64)
    assert draft(history, 2) == [8, 2]  # "6 7" last seen before position 11 is followed by 8 2
    assert draft(history, 0) == []
    assert draft(np.array([1, 2, 3], dtype=np.int64), 4) == []  # nothing repeats


@pytest.fixture(scope="module")
def loaded(tiny_model_dir: Path):
    return load_model(str(tiny_model_dir), dtype="float32")


def _prompts(loaded, count: int) -> list[list[int]]:
    rng = random.Random(7)
    source = LIST_FILES_PY * 3
    tokenizer = loaded.tokenizer
    out = []
    for _ in range(count):
        start = rng.randrange(0, len(source) - 200)
        text = source[start : start + rng.randrange(60, 400)]
        out.append(tokenizer(text)["input_ids"] or [1])
    return out


def test_speculative_decoding_is_token_identical_to_plain_greedy(loaded) -> None:
    plain = Decoder(loaded, PrefixCache(1 << 30), speculative=False)
    spec = Decoder(loaded, PrefixCache(1 << 30), speculative=True)
    drafted = accepted = spec_forwards = plain_forwards = 0
    for i, ids in enumerate(_prompts(loaded, 40)):
        for reuse in (False, True):
            req = dict(key=f"doc{i}", prompt_ids=ids, max_new_tokens=32, reuse=reuse)
            a = plain.run(GenerationRequest(**req))
            b = spec.run(GenerationRequest(**req))
            assert b.candidates[0].token_ids == a.candidates[0].token_ids, (i, reuse)
            assert b.candidates[0].text == a.candidates[0].text
            assert b.candidates[0].finish == a.candidates[0].finish
            assert b.candidates[0].mean_logprob == pytest.approx(
                a.candidates[0].mean_logprob, abs=1e-3
            )
            drafted, accepted = drafted + b.drafted_tokens, accepted + b.accepted_tokens
            spec_forwards, plain_forwards = spec_forwards + b.forwards, plain_forwards + a.forwards
    assert drafted > 0 and accepted > 0
    assert spec_forwards < plain_forwards  # the accepted drafts saved forward passes


def test_speculative_decoding_streams_stops_and_reuses_the_cache(loaded) -> None:
    decoder = Decoder(loaded, PrefixCache(1 << 30), speculative=True)
    ids = _prompts(loaded, 1)[0]
    streamed: list[str] = []
    result = decoder.run(
        GenerationRequest(
            key="doc",
            prompt_ids=ids,
            max_new_tokens=24,
            on_text=lambda row, text: streamed.append(text),
            stop_check=lambda text: "\n" in text,
        )
    )
    text = result.candidates[0].text
    assert streamed and streamed[-1] == text
    assert result.candidates[0].finish in (Finish.STOP, Finish.LENGTH)
    again = decoder.run(GenerationRequest(key="doc", prompt_ids=ids, max_new_tokens=24))
    assert again.reused_tokens == len(ids) - 1  # the prompt came from the cache


def test_int8_weights_keep_the_greedy_choices(tiny_model_dir: Path) -> None:
    dense = load_model(str(tiny_model_dir), dtype="float32")
    quantized = load_model(str(tiny_model_dir), dtype="float32")
    assert quantize_model(quantized.model, ALWAYS) > 0
    assert all(isinstance(m, DualLinear) for m in dual_linears(quantized.model))
    ids = torch.tensor([_prompts(dense, 1)[0]])
    with torch.inference_mode():
        a = dense.model(ids).logits
        b = quantized.model(ids).logits
    agree = (a.argmax(-1) == b.argmax(-1)).float().mean().item()
    assert agree > 0.95
    for layer in dual_linears(quantized.model):
        layer.set_rows(0)  # back to the dense weights only
        assert layer.qweight is None and layer.weight is not None
    with torch.inference_mode():
        assert torch.equal(quantized.model(ids).logits, a)
