"""The one training loop, its learning-rate schedule and its loss estimate.

Every way of training a codecomp model goes through `run`: pretraining from scratch
and resuming it (`trainer.py`), fine-tuning in full or through a LoRA adapter
(`finetune.py`) and the test-fixture builder (`tiny.py`). What differs between them
is a small recipe (`recipes.py`) turned into a `LoopConfig`, the batches fed in, and
the callbacks that log, evaluate and checkpoint — never the loop itself.

Kept framework-free (no Trainer) so it is fast to start and fully deterministic
under a seeded `random.Random`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from transformers import PreTrainedTokenizerBase

from codecomp_lsp.engine.loader import pick_device
from codecomp_lsp.training.fim import CODECOMP_MARKERS, FimMarkers, apply_fim_to_context

IGNORE_INDEX = -100  # labels with this value do not contribute to the loss

Batch = tuple[torch.Tensor, torch.Tensor]  # input ids, labels


@dataclass(frozen=True)
class LoopConfig:
    """What the loop needs: the step budget, the optimiser and its schedule, the precision,
    and how often to evaluate and checkpoint (0: never) when those callbacks are given."""

    steps: int
    lr: float
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    weight_decay: float = 0.0  # on matrices only; norms and biases never decay
    betas: tuple[float, float] = (0.9, 0.999)
    max_grad_norm: float = 1.0
    bf16: bool = True  # bf16 autocast for forward passes (weights stay float32)
    max_minutes: float | None = None  # stop early once this much wall time is spent
    # The schedule runs to its end by `max_minutes` when the steps would not (a fine-tune that
    # the clock stops); off for pretraining, whose runs stop and resume on the same schedule.
    schedule_by_time: bool = False
    eval_every: int = 0
    checkpoint_every: int = 0


@dataclass
class LoopResult:
    step: int  # the step count reached (counting steps done before a resume)
    losses: list[float] = field(default_factory=list)  # this session's per-step losses
    seconds: float = 0.0  # this session's wall time in the loop
    stopped_for_time: bool = False


def training_device(requested: str | None = None) -> torch.device:
    """Where training runs: the requested device (checked by the engine's picker), else CUDA
    when present, else the CPU (never MPS unasked: bf16 training there is untested)."""
    return pick_device(requested or ("cuda" if torch.cuda.is_available() else "cpu"))


def lr_at(step: int, config: LoopConfig) -> float:
    """Linear warmup to `lr`, then cosine decay to `min_lr_ratio` of it at `steps`."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return config.lr * (config.min_lr_ratio + (1.0 - config.min_lr_ratio) * cosine)


def _schedule_step(step: int, elapsed: float, config: LoopConfig) -> int:
    """Where the schedule stands: the step, or as far along as the time budget is spent when
    that is further, so a run the clock stops (a few minutes' fine-tune) still decays to the
    end of its schedule instead of stopping at its peak learning rate."""
    if not config.schedule_by_time or config.max_minutes is None or config.max_minutes <= 0:
        return step
    return max(step, int(config.steps * elapsed / (config.max_minutes * 60)))


def autocast(device: torch.device, enabled: bool = True) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def make_batch(windows: Sequence[Sequence[int]], seq_len: int, pad_id: int) -> Batch:
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


def random_window(
    stream: Sequence[int], context: int, rng: random.Random
) -> Callable[[], list[int]]:
    """Draws `context` consecutive tokens at a random offset (the whole stream if shorter)."""

    def draw() -> list[int]:
        if len(stream) <= context:
            window = stream
        else:
            start = rng.randrange(0, len(stream) - context)
            window = stream[start : start + context]
        return window.tolist() if hasattr(window, "tolist") else list(window)

    return draw


def batches(
    draw: Callable[[], Sequence[int]],
    tokenizer: PreTrainedTokenizerBase,
    rng: random.Random,
    *,
    batch_size: int,
    seq_len: int,
    fim_rate: float = 0.5,
    spm_rate: float = 0.5,
    markers: FimMarkers = CODECOMP_MARKERS,
) -> Iterator[Batch]:
    """Endless training batches: `batch_size` drawn windows, each given context-level FIM
    with probability `fim_rate` per document (0: none, and no RNG is spent on it).

    Lazy on purpose: the RNG state between two batches is exactly what a checkpoint saves.
    """
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = tokenizer.eos_token_id
    assert isinstance(pad_id, int)
    while True:
        drawn = [draw() for _ in range(batch_size)]
        if fim_rate > 0:
            drawn = [
                apply_fim_to_context(
                    w, tokenizer, rng, fim_rate=fim_rate, spm_rate=spm_rate, markers=markers
                )
                for w in drawn
            ]
        yield make_batch(drawn, seq_len, pad_id)


def make_optimizer(model: torch.nn.Module, config: LoopConfig) -> torch.optim.AdamW:
    """AdamW over the trainable parameters; weight decay on matrices, not on norms/biases."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(
        [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ],
        lr=config.lr,
        betas=config.betas,
    )


@torch.no_grad()
def estimate_loss(
    model: torch.nn.Module,
    windows: Sequence[Sequence[int]],
    *,
    pad_id: int,
    bf16: bool = False,
    batch_size: int = 8,
) -> float:
    """Mean next-token cross-entropy over every predicted token of `windows` (no FIM).

    Windows may differ in length; each batch is padded to its longest, and the mean is
    weighted by tokens, so the batch size never changes the answer. The model's mode is
    restored afterwards.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    windows = [w for w in windows if len(w) >= 2]
    total, count = 0.0, 0
    for start in range(0, len(windows), batch_size):
        chunk = windows[start : start + batch_size]
        input_ids, labels = make_batch(chunk, max(len(w) for w in chunk), pad_id)
        with autocast(device, bf16):
            loss = model(input_ids=input_ids.to(device), labels=labels.to(device)).loss
        predicted = int((labels[:, 1:] != IGNORE_INDEX).sum())
        total += float(loss) * predicted
        count += predicted
    model.train(was_training)
    return total / max(1, count)


def run(
    config: LoopConfig,
    model: torch.nn.Module,
    batches: Iterator[Batch],
    *,
    optimizer: torch.optim.Optimizer | None = None,
    start_step: int = 0,
    evaluate: Callable[[], float] | None = None,
    on_step: Callable[[dict], None] | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> LoopResult:
    """Train `model` from `start_step` to `config.steps` (or until `max_minutes`).

    Each step sets the scheduled learning rate, takes the next batch, and does one
    clipped AdamW update. Then, in this order: `evaluate()` every `eval_every` steps and
    at the last step (its value goes into the step's record as `heldout_loss`),
    `on_step(record)` with the step, loss, learning rate and the step's seconds, and
    `checkpoint()` every `checkpoint_every` steps. The model is left in eval mode.
    """
    device = next(model.parameters()).device
    if optimizer is None:
        optimizer = make_optimizer(model, config)
    params = [p for p in model.parameters() if p.requires_grad]
    result = LoopResult(step=start_step)
    started = time.monotonic()
    model.train()
    while result.step < config.steps:
        if config.max_minutes is not None and time.monotonic() - started > config.max_minutes * 60:
            result.stopped_for_time = True
            break
        step_start = time.monotonic()
        lr = lr_at(_schedule_step(result.step, step_start - started, config), config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        input_ids, labels = next(batches)
        with autocast(device, config.bf16):
            loss = model(input_ids=input_ids.to(device), labels=labels.to(device)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        result.step += 1
        record = {
            "step": result.step,
            "loss": loss.item(),
            "lr": lr,
            "seconds": time.monotonic() - step_start,
        }
        result.losses.append(record["loss"])
        due = config.eval_every and result.step % config.eval_every == 0
        if evaluate is not None and (due or result.step == config.steps):
            record["heldout_loss"] = evaluate()
            model.train()
        if on_step is not None:
            on_step(record)
        every = config.checkpoint_every
        if checkpoint is not None and every and result.step % every == 0:
            checkpoint()
    result.seconds = time.monotonic() - started
    model.eval()
    return result
