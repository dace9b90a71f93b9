"""The user's own feedback log (`feedbackLog`, features/feedback_log.py) as training data.

An accepted suggestion is what this user wanted at that cursor: prefix + accepted text + suffix
becomes a FIM example (the accepted text as the middle) mixed into every fine-tuning batch. A
rejected or dismissed one is what they did not want: it is never trained on, only measured — the
model's loss on producing it, before and after, says whether tuning moved the model towards or
away from what the user turned down.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import PreTrainedTokenizerBase

from codecomp_lsp.features.feedback_log import read_log
from codecomp_lsp.training.fim import CODECOMP_MARKERS, FimMarkers
from codecomp_lsp.training.loop import IGNORE_INDEX, Batch, autocast

MIX_RATE = 0.25  # of each batch's rows given to accepted examples (at least one row)


@dataclass(frozen=True)
class FeedbackExample:
    prefix: str
    middle: str
    suffix: str


@dataclass
class FeedbackSet:
    accepted: list[FeedbackExample] = field(default_factory=list)
    rejected: list[FeedbackExample] = field(default_factory=list)  # and dismissed


def load_feedback(path: Path) -> FeedbackSet:
    """Accepted examples (per suggestion, all it had accepted by its last report) and the
    rejected and dismissed ones. Records without the fields needed are skipped."""
    accepted: dict[str, FeedbackExample] = {}
    rejected: dict[str, FeedbackExample] = {}
    for record in read_log(path):
        prefix, suffix = record.get("prefix"), record.get("suffix")
        if not isinstance(prefix, str) or not isinstance(suffix, str):
            continue
        key = str(record.get("id") or len(accepted) + len(rejected))
        outcome = record.get("outcome")
        if outcome == "accepted" and isinstance(record.get("accepted"), str):
            if record["accepted"].strip():
                accepted[key] = FeedbackExample(prefix, record["accepted"], suffix)
        elif outcome in ("rejected", "dismissed") and isinstance(record.get("suggestion"), str):
            rejected[key] = FeedbackExample(prefix, record["suggestion"], suffix)
    return FeedbackSet(
        list(accepted.values()), [v for k, v in rejected.items() if k not in accepted]
    )


def example_ids(
    tokenizer: PreTrainedTokenizerBase,
    example: FeedbackExample,
    context: int,
    *,
    markers: FimMarkers | None,
) -> tuple[list[int], int]:
    """The example as PSM token ids in the model family's FIM markers within `context` (the
    prefix cut on the left, the suffix on the right), and where its middle starts. Without
    markers (a model with no FIM): the plain text."""

    def encode(text: str) -> list[int]:
        return tokenizer.encode(text, add_special_tokens=False)

    end = (markers or CODECOMP_MARKERS).eos
    middle = encode(example.middle)[: context // 2] + encode(end)
    budget = max(0, context - len(middle) - 3)
    suffix = encode(example.suffix)[: budget // 3]
    prefix = encode(example.prefix)
    prefix = prefix[max(0, len(prefix) - (budget - len(suffix))) :]
    if markers is None:
        return prefix + middle, len(prefix)
    (pre,), (suf,), (mid,) = encode(markers.prefix), encode(markers.suffix), encode(markers.middle)
    head = [pre, *prefix, suf, *suffix, mid]
    return head + middle, len(head)


def mix_examples(
    batches: Iterator[Batch],
    examples: Sequence[Sequence[int]],
    rng: random.Random,
    *,
    pad_id: int,
    rate: float = MIX_RATE,
) -> Iterator[Batch]:
    """The batches with some rows replaced by accepted examples, cycled in a shuffled order so
    each is seen before any is seen twice."""
    order: list[int] = []
    for input_ids, labels in batches:
        rows = input_ids.shape[0]
        for row in range(max(1, round(rows * rate)) if examples else 0):
            if not order:
                order = list(range(len(examples)))
                rng.shuffle(order)
            ids = torch.tensor(examples[order.pop()][: input_ids.shape[1]], dtype=torch.long)
            input_ids[row] = pad_id
            labels[row] = IGNORE_INDEX
            input_ids[row, : len(ids)] = ids
            labels[row, : len(ids)] = ids
        yield input_ids, labels


def middle_loss(model: torch.nn.Module, examples: Sequence[tuple[list[int], int]]) -> float | None:
    """Mean cross-entropy of the middles' tokens given their prefix and suffix (None: no
    examples): how likely the model is to write exactly that text there."""
    if not examples:
        return None
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, start in examples:
            input_ids = torch.tensor([ids], dtype=torch.long, device=device)
            labels = input_ids.clone()
            labels[0, :start] = IGNORE_INDEX
            with autocast(device, True):
                loss = model(input_ids=input_ids, labels=labels).loss
            predicted = len(ids) - start
            total += float(loss) * predicted
            count += predicted
    model.train(was_training)
    return round(total / max(1, count), 4)
