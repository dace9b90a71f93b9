"""Build a tiny but real codecomp model: tokenizer + Llama weights + generation config.

Test fixtures use it to get an on-disk model in seconds with no downloads; it is
also the seed of the real training pipeline (same tokenizer, FIM and loop).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

from codecomp_lsp.training.corpus import default_corpus_texts, pack_windows
from codecomp_lsp.training.loop import TrainConfig, train
from codecomp_lsp.training.special_tokens import EOS_TOKEN, FILE_SEP, PAD_TOKEN
from codecomp_lsp.training.tokenizer import train_tokenizer

__all__ = ["build_tiny_model", "default_corpus_texts"]


def ffn_size(hidden_size: int) -> int:
    """Llama's SwiGLU width: 8/3 of the hidden size, rounded up to a multiple of 32."""
    return 32 * math.ceil(8 * hidden_size / 3 / 32)


@contextmanager
def _reproducible(seed: int, num_threads: int | None) -> Iterator[None]:
    """Seed torch, force deterministic kernels and pin the thread count, restoring
    the caller's global torch state afterwards."""
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    previous_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous_threads)
            torch.use_deterministic_algorithms(previous, warn_only=previous_warn_only)


def build_tiny_model(
    out_dir: Path,
    texts: list[str],
    *,
    vocab_size: int = 2048,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    max_positions: int = 2048,
    train_steps: int = 0,
    seq_len: int = 256,
    seed: int = 0,
    num_threads: int | None = 1,
) -> Path:
    """Train a tokenizer on `texts`, build a seeded `LlamaForCausalLM`, optionally
    train it for `train_steps` steps (50% context-level FIM), and save everything
    to `out_dir` (safetensors weights, tokenizer, generation config).

    Deterministic for a given seed and inputs. `num_threads=1` (the default) makes
    the weights independent of the machine's core count and avoids OpenMP stalls
    when CPUs are shared, e.g. with parallel test runs; None keeps torch's setting.
    Returns `out_dir`.
    """
    if not texts:
        raise ValueError("build_tiny_model needs at least one training text")
    out_dir = Path(out_dir)
    tokenizer = train_tokenizer(texts, vocab_size)
    tokenizer.model_max_length = max_positions
    eos_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    pad_id = tokenizer.convert_tokens_to_ids(PAD_TOKEN)
    file_sep_id = tokenizer.convert_tokens_to_ids(FILE_SEP)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=ffn_size(hidden_size),
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    with _reproducible(seed, num_threads):
        model = LlamaForCausalLM(config)
        if train_steps > 0:
            windows = pack_windows(texts, tokenizer, seq_len)
            train(
                model,
                tokenizer,
                windows,
                TrainConfig(steps=train_steps),
                seq_len=seq_len,
                rng=random.Random(seed),
            )
    model.eval()
    model.generation_config = GenerationConfig(
        bos_token_id=eos_id,
        # A completion ends at end of document or when the model moves to another file.
        eos_token_id=[eos_id, file_sep_id],
        pad_token_id=pad_id,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
