"""A minimal causal-LM training loop with context-level FIM.

Kept framework-free (no Trainer) so it is fast to start, fully deterministic under
a seeded `random.Random`, and easy to grow into the real training pipeline.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from codecomp_lsp.training.fim import apply_fim_to_context

IGNORE_INDEX = -100  # labels with this value do not contribute to the loss


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; defaults suit a tiny model learning in ~100 steps."""

    steps: int
    batch_size: int = 8
    lr: float = 1e-2
    warmup_steps: int = 10
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    fim_rate: float = 0.5
    spm_rate: float = 0.5


def make_batch(
    windows: Sequence[Sequence[int]], seq_len: int, pad_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad windows to `seq_len`; padding is masked out of the labels.

    Causal attention means real tokens never see the trailing padding, so no
    attention mask is needed.
    """
    input_ids = torch.full((len(windows), seq_len), pad_id, dtype=torch.long)
    labels = torch.full((len(windows), seq_len), IGNORE_INDEX, dtype=torch.long)
    for row, window in enumerate(windows):
        ids = torch.tensor(window[:seq_len], dtype=torch.long)
        input_ids[row, : len(ids)] = ids
        labels[row, : len(ids)] = ids
    return input_ids, labels


def lr_factor(step: int, config: TrainConfig) -> float:
    """Linear warmup, then cosine decay to `min_lr_ratio` of the peak."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * cosine


def train(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerFast,
    windows: Sequence[Sequence[int]],
    config: TrainConfig,
    *,
    seq_len: int,
    rng: random.Random,
) -> list[float]:
    """Run `config.steps` AdamW steps on randomly drawn windows; returns per-step losses.

    Each drawn window gets context-level FIM, so the model learns both plain
    left-to-right completion and infilling in the PSM and SPM layouts.
    """
    pad_id = tokenizer.pad_token_id
    assert isinstance(pad_id, int)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
    model.train()
    losses: list[float] = []
    for _ in range(config.steps):
        drawn = [windows[rng.randrange(len(windows))] for _ in range(config.batch_size)]
        fimmed = [
            apply_fim_to_context(
                w, tokenizer, rng, fim_rate=config.fim_rate, spm_rate=config.spm_rate
            )
            for w in drawn
        ]
        input_ids, labels = make_batch(fimmed, seq_len, pad_id)
        loss = model(input_ids=input_ids, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def evaluate_loss(
    model: PreTrainedModel, windows: Sequence[Sequence[int]], *, seq_len: int, pad_id: int
) -> float:
    """Mean next-token cross-entropy of `model` over `windows` (no FIM)."""
    was_training = model.training
    model.eval()
    input_ids, labels = make_batch(windows, seq_len, pad_id)
    loss = float(model(input_ids=input_ids, labels=labels).loss.item())
    model.train(was_training)
    return loss
