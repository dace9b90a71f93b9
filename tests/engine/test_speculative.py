"""Prompt-lookup speculative decoding gives the plain greedy output, token for token, in fewer
forward passes, with dense, int8 and int4 weights; quantized weights keep the greedy choices of the
fixture model."""

from __future__ import annotations

import inspect
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import DynamicCache

from codecomp_lsp.engine.attention import use_rowwise_attention
from codecomp_lsp.engine.decoder import Decoder, Finish, GenerationRequest
from codecomp_lsp.engine.kvcache import PrefixCache
from codecomp_lsp.engine.loader import load_model
from codecomp_lsp.engine.quantize import (
    ALWAYS,
    Format,
    QuantLinear,
    int4_weights,
    quant_linears,
    quantize_model,
)
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


def _identical_in_fewer_forwards(loaded, prompts: int) -> None:
    plain = Decoder(loaded, PrefixCache(1 << 30), speculative=False)
    spec = Decoder(loaded, PrefixCache(1 << 30), speculative=True)
    drafted = accepted = spec_forwards = plain_forwards = 0
    for i, ids in enumerate(_prompts(loaded, prompts)):
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


def test_speculative_decoding_is_token_identical_to_plain_greedy(loaded) -> None:
    _identical_in_fewer_forwards(loaded, 40)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("fmt", [Format.INT8, Format.INT4])
def test_speculative_decoding_is_token_identical_with_quantized_weights(
    tiny_model_dir: Path, fmt: Format, dtype: str
) -> None:
    """As the engine runs them: quantized weights and row-wise attention, in fp32 and in bf16
    (Qwen's dtype on a CPU, where SDPA's fused path alone would not give plain greedy's tokens)."""
    quantized = load_model(str(tiny_model_dir), dtype=dtype)
    quantize_model(quantized.model, fmt, ALWAYS)
    assert any(layer.fmt == fmt for layer in quant_linears(quantized.model))
    assert use_rowwise_attention(quantized.model)
    _identical_in_fewer_forwards(quantized, 20)


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


@pytest.mark.parametrize("fmt, agreement", [(Format.INT8, 0.95), (Format.INT4, 0.8)])
def test_quantized_weights_keep_the_greedy_choices(
    tiny_model_dir: Path, fmt: Format, agreement: float
) -> None:
    dense = load_model(str(tiny_model_dir), dtype="float32")
    quantized = load_model(str(tiny_model_dir), dtype="float32")
    assert quantize_model(quantized.model, fmt, ALWAYS) > 0
    assert all(isinstance(m, QuantLinear) for m in quant_linears(quantized.model))
    ids = torch.tensor([_prompts(dense, 1)[0]])
    with torch.inference_mode():
        a = dense.model(ids).logits
        b = quantized.model(ids).logits
    agree = (a.argmax(-1) == b.argmax(-1)).float().mean().item()
    assert agree > agreement
    for layer in quant_linears(quantized.model):
        layer.set_rows(0)  # back to the dense weights only
        assert layer.qweight is None and layer.weight is not None
    with torch.inference_mode():
        assert torch.equal(quantized.model(ids).logits, a)


def test_int4_groups_are_exact_on_a_16_level_grid() -> None:
    """A weight already on 16 levels per group of 32 (as a Q4 GGUF's dequantized tensors are)
    comes back exactly, and each row of a call is computed alone."""
    gen = torch.Generator().manual_seed(3)
    levels = torch.randint(0, 16, (64, 128), generator=gen).float()
    levels[:, ::32] = 0  # every group uses its lowest and highest level
    levels[:, 1::32] = 15
    scale = torch.rand(64, 4, 1, generator=gen) * 0.01 + 0.001
    low = torch.randn(64, 4, 1, generator=gen) * 0.05
    weight = (levels.reshape(64, 4, 32) * scale + low).reshape(64, 128)
    linear = torch.nn.Linear(128, 64, bias=False)
    linear.weight.data = weight.bfloat16().float()
    layer = QuantLinear(linear, Format.INT4, ALWAYS)
    assert layer.fmt == Format.INT4 and layer.qweight.shape == (64, 64)
    x = torch.randn(7, 128, generator=gen).bfloat16().float()
    with torch.inference_mode():
        expect = x @ linear.weight.t()
        got = layer(x)
        rows = torch.cat([layer(x[i : i + 1]) for i in range(7)])
    assert torch.allclose(got, expect, rtol=0.02, atol=0.02)
    assert torch.equal(got, rows)
    packed, scales_zeros = int4_weights(linear.weight)
    assert packed.dtype == torch.uint8 and scales_zeros.shape == (4, 64, 2)


def test_int4_falls_back_to_int8_where_the_kernel_cannot_take_the_shape() -> None:
    odd = QuantLinear(torch.nn.Linear(48, 40), Format.INT4, ALWAYS)  # 40 outputs: not % 16
    assert odd.fmt == Format.INT8 and odd.qweight.dtype == torch.int8
    x = torch.randn(3, 48)
    with torch.inference_mode():
        assert torch.allclose(
            odd(x), torch.nn.functional.linear(x, odd.weight, odd.bias), atol=0.05
        )


@pytest.mark.parametrize("fmt", [Format.INT8, Format.INT4])
def test_a_verification_forward_is_bit_for_bit_the_single_steps_in_bf16(
    tiny_model_dir: Path, fmt: Format
) -> None:
    """With row-wise attention and a quantized model in bf16 (Qwen's case on a CPU), k rows in
    one forward give exactly the logits and cache of k one-row forwards; without it they do not
    (SDPA's k-row path rounds differently), which is why drafts need it."""
    loaded = load_model(str(tiny_model_dir), dtype="bfloat16")
    quantize_model(loaded.model, fmt, ALWAYS)
    assert use_rowwise_attention(loaded.model)
    arg = (
        "cache"
        if "cache" in inspect.signature(loaded.model.forward).parameters
        else "past_key_values"
    )
    checked = 0
    for ids in _prompts(loaded, 20):
        ids = ids[:120]
        if len(ids) < 20:
            continue
        head, tail = ids[:-7], ids[-7:]
        with torch.inference_mode():
            past = DynamicCache(config=loaded.model.config)
            loaded.model(input_ids=torch.tensor([head]), use_cache=True, **{arg: past})
            steps = torch.stack(
                [
                    loaded.model(
                        input_ids=torch.tensor([[t]]), use_cache=True, **{arg: past}
                    ).logits[0, -1]
                    for t in tail
                ]
            )
            past.crop(-len(tail))
            multi = loaded.model(
                input_ids=torch.tensor([tail]),
                use_cache=True,
                logits_to_keep=len(tail),
                **{arg: past},
            ).logits[0]
        assert torch.equal(steps, multi)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_rowwise_attention_computes_what_sdpa_computes(tiny_model_dir: Path, dtype: str) -> None:
    """Prefill in chunks after cached tokens, then short calls: the same logits as transformers'
    own SDPA attention (to rounding). A missing mask once turned every chunk after the first into
    a fresh prompt; the fixture's answers stayed junk either way, so this compares logits."""
    dense = load_model(str(tiny_model_dir), dtype=dtype)
    ids = dense.tokenizer(LIST_FILES_PY * 4)["input_ids"][:200]
    assert len(ids) == 200
    arg = (
        "cache"
        if "cache" in inspect.signature(dense.model.forward).parameters
        else "past_key_values"
    )

    def run() -> torch.Tensor:
        outs = []
        with torch.inference_mode():
            past = DynamicCache(config=dense.model.config)
            for start, end in ((0, 90), (90, 150), (150, 154), (154, 155), (155, 200)):
                chunk = torch.tensor([ids[start:end]])
                out = dense.model(
                    input_ids=chunk, use_cache=True, logits_to_keep=end - start, **{arg: past}
                )
                outs.append(out.logits[0].float())
        return torch.cat(outs)

    reference = run()
    assert use_rowwise_attention(dense.model)
    rowwise = run()
    tolerance = 1e-3 if dtype == "float32" else 0.1
    assert torch.allclose(rowwise, reference, atol=tolerance), (rowwise - reference).abs().max()
    assert (rowwise.argmax(-1) == reference.argmax(-1)).float().mean() > 0.97


@pytest.mark.parametrize("speculative", [False, True])
@pytest.mark.parametrize("candidates", [1, 3])
def test_banned_first_tokens_are_never_the_first_and_only_the_first(
    loaded, speculative: bool, candidates: int
) -> None:
    """`banned_first` (context/reachability.py) takes the first token away, whichever path
    decodes; the next-best answers, and later tokens are free to be anything."""
    decoder = Decoder(loaded, PrefixCache(1 << 30), speculative=speculative)
    ids = loaded.tokenizer(LIST_FILES_PY[:300])["input_ids"]

    def run(banned: frozenset[int]) -> list:
        request = GenerationRequest(
            key="k", prompt_ids=ids, max_new_tokens=8, candidates=candidates, reuse=False
        )
        request.banned_first = banned
        return decoder.run(request).candidates

    free = run(frozenset())
    first = free[0].token_ids[0]
    banned = run(frozenset({first}))
    assert all(c.token_ids[0] != first for c in banned if c.token_ids)
    assert banned[0].token_ids and banned[0].token_ids != free[0].token_ids
    # The ban holds for the first token alone: banning a token the greedy answer only uses
    # later changes nothing (it still comes, where it came).
    later = [t for t in free[0].token_ids[1:] if t != first]
    if later:
        assert run(frozenset({later[0]}))[0].token_ids == free[0].token_ids
