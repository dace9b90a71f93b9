"""Build a tiny but real codecomp model: tokenizer + Llama weights + generation config.

Test fixtures use it to get an on-disk model in seconds with no downloads. It is the
real pipeline in miniature: the same tokenizer, model definition, FIM and loop.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from codecomp_lsp.training.corpus import default_corpus_texts, pack_windows
from codecomp_lsp.training.loop import LoopConfig, batches, run
from codecomp_lsp.training.model import ModelShape, build_model, save_model
from codecomp_lsp.training.tokenizer import train_tokenizer

__all__ = ["build_tiny_model", "default_corpus_texts", "fixture_loop"]


def fixture_loop(steps: int) -> LoopConfig:
    """The fixture's optimisation: a tiny model learning fast in ~100 steps, in float32."""
    return LoopConfig(
        steps=steps, lr=1e-2, warmup_steps=10, min_lr_ratio=0.1, weight_decay=0.01, bf16=False
    )


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
    Training runs on the CPU whatever the machine has. Returns `out_dir`.
    """
    if not texts:
        raise ValueError("build_tiny_model needs at least one training text")
    tokenizer = train_tokenizer(texts, vocab_size)
    tokenizer.model_max_length = max_positions
    shape = ModelShape(vocab_size, hidden_size, layers, heads, kv_heads, context=max_positions)
    with _reproducible(seed, num_threads):
        model = build_model(shape, tokenizer)
        if train_steps > 0:
            windows = pack_windows(texts, tokenizer, seq_len)
            rng = random.Random(seed)
            train_batches = batches(
                lambda: windows[rng.randrange(len(windows))],
                tokenizer,
                rng,
                batch_size=8,
                seq_len=seq_len,
            )
            run(fixture_loop(train_steps), model, train_batches)
    return save_model(model, tokenizer, Path(out_dir))
