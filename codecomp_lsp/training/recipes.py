"""Recipes: small configurations on top of the one training loop (`loop.run`).

A recipe says where the weights start and how hard to train them; `loop()` turns it
into the `LoopConfig` the loop reads. Nothing here trains anything.

- `FromScratch`: pretrain codecomp-tiny from random weights (`codecomp train`).
- `Resume`: continue a `FromScratch` run from its checkpoint.
- `FineTune`: adapt a pretrained model to one repository, all weights (`codecomp finetune`).
- `LoRA`: the same, training a low-rank adapter instead, merged into the weights on save.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from codecomp_lsp.training.loop import LoopConfig
from codecomp_lsp.training.model import ModelShape


@dataclass(frozen=True)
class FromScratch:
    """The codecomp-tiny recipe: a token budget, warmup then cosine decay to 10%, 50% FIM.

    Given a run directory that already holds a checkpoint, `trainer.train_run` treats
    it as `Resume(recipe)`: the same command continues an interrupted run.
    """

    shape: ModelShape = ModelShape()
    total_tokens: int = 20_000_000
    batch_size: int = 8
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    max_grad_norm: float = 1.0
    fim_rate: float = 0.5
    spm_rate: float = 0.5
    eval_every: int = 200
    checkpoint_every: int = 50
    eval_windows: int = 32
    seed: int = 0
    tokenizer_sample_bytes: int = 40_000_000

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.shape.context

    @property
    def steps(self) -> int:
        return math.ceil(self.total_tokens / self.tokens_per_step)

    def loop(self, max_minutes: float | None = None) -> LoopConfig:
        return LoopConfig(
            steps=self.steps,
            lr=self.lr,
            warmup_steps=self.warmup_steps,
            min_lr_ratio=self.min_lr_ratio,
            weight_decay=self.weight_decay,
            betas=self.betas,
            max_grad_norm=self.max_grad_norm,
            max_minutes=max_minutes,
            eval_every=self.eval_every,
            checkpoint_every=self.checkpoint_every,
        )


@dataclass(frozen=True)
class Resume:
    """Continue a `FromScratch` run: weights, optimiser moments, step, token count and data
    RNG come from the run's `checkpoint.pt`. `recipe` may raise the token budget (the
    schedule stretches to the new length); its model shape must be the checkpoint's."""

    recipe: FromScratch

    def loop(self, max_minutes: float | None = None) -> LoopConfig:
        return self.recipe.loop(max_minutes)


@dataclass(frozen=True)
class FineTune:
    """Fine-tune every weight of a pretrained model on one repository's files for a few
    minutes: cosine decay from `lr` to 0 (no warmup, no weight decay), FIM
    when the tokenizer has the codecomp FIM tokens. A base model above `lora_above`
    parameters is trained as `LoRA` instead (None: always in full)."""

    minutes: float = 5.0
    max_epochs: float = 3.0  # the schedule's length, in passes over the training files
    context: int = 512
    batch_size: int = 4
    lr: float = 3e-4
    max_grad_norm: float = 1.0
    fim_rate: float = 0.5
    spm_rate: float = 0.5
    heldout_fraction: float = 0.1
    eval_limit: int = 100  # completion tasks per kind when scoring held-out files
    loss_chunks: int = 32  # held-out windows the loss before and after is measured on
    lora_above: int | None = 100_000_000
    device: str | None = None  # None: CUDA when present, else the CPU
    seed: int = 0

    method = "full fine-tune"

    def loop(self, steps: int) -> LoopConfig:
        return LoopConfig(
            steps=steps,
            lr=self.lr,
            max_grad_norm=self.max_grad_norm,
            max_minutes=self.minutes,
            schedule_by_time=True,
        )


@dataclass(frozen=True)
class LoRA(FineTune):
    """`FineTune` through a rank-`rank` adapter on every linear layer (`peft`). Saved as the
    adapter alone (`--model ADAPTER` folds it into its base at load), or with `merge` as a
    full model. `frozen_bf16` keeps the frozen base weights in bfloat16 (half the memory, no
    per-step casts under autocast); the adapter's weights train in float32."""

    # One 512-token window a step: on a 2-core CPU (AMD EPYC Zen 5, Qwen2.5-Coder-0.5B) that trains
    # 205 tokens/s against 130 for four (the 151k-word logits of four windows are 1.2 GB).
    batch_size: int = 1
    rank: int = 16
    target_modules: str = "all-linear"
    merge: bool = False
    frozen_bf16: bool = True

    @property
    def method(self) -> str:  # type: ignore[override]
        return "LoRA (merged)" if self.merge else "LoRA adapter"

    @property
    def alpha(self) -> int:
        return 2 * self.rank
