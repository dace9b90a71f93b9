"""The n-gram baseline: the most frequent next token after the last n−1 tokens, backing off.

Trained on the same token stream as the model (same tokenizer, same training
split), so the comparison measures what the network adds over counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers import PreTrainedTokenizerFast

BITS = 16  # token ids are < 65536 (the stream is uint16)


@dataclass
class _Table:
    contexts: np.ndarray  # sorted context keys
    best: np.ndarray  # most frequent next token for each context


class NgramModel:
    def __init__(self, tables: dict[int, _Table], fallback: int) -> None:
        self.tables = tables  # context length → table
        self.fallback = fallback

    @classmethod
    def train(cls, stream: np.ndarray, order: int = 4) -> NgramModel:
        if not 2 <= order <= 4:
            raise ValueError("order must be 2..4 (keys are packed into 64 bits)")
        tokens = stream.astype(np.uint64)
        tables: dict[int, _Table] = {}
        for n in range(2, order + 1):
            count = len(tokens) - n + 1
            key = np.zeros(count, dtype=np.uint64)
            for k in range(n):
                key = (key << np.uint64(BITS)) | tokens[k : k + count]
            keys, counts = np.unique(key, return_counts=True)
            contexts = keys >> np.uint64(BITS)
            nexts = (keys & np.uint64((1 << BITS) - 1)).astype(np.int64)
            # Within each context (contiguous, since keys are sorted), keep the top count.
            order_idx = np.lexsort((-counts, contexts))
            contexts, nexts = contexts[order_idx], nexts[order_idx]
            first = np.ones(len(contexts), dtype=bool)
            first[1:] = contexts[1:] != contexts[:-1]
            tables[n - 1] = _Table(contexts[first], nexts[first])
        fallback = int(np.bincount(stream.astype(np.int64)).argmax())
        return cls(tables, fallback)

    def next_token(self, history: list[int]) -> int:
        for length in sorted(self.tables, reverse=True):
            if len(history) < length:
                continue
            key = 0
            for token in history[-length:]:
                key = (key << BITS) | token
            table = self.tables[length]
            i = int(np.searchsorted(table.contexts, np.uint64(key)))
            if i < len(table.contexts) and int(table.contexts[i]) == key:
                return int(table.best[i])
        return self.fallback


class NgramCompleter:
    """Left-to-right only: an n-gram model cannot use the text after the cursor."""

    name = "n-gram"

    def __init__(
        self, model: NgramModel, tokenizer: PreTrainedTokenizerFast, max_tokens: int = 48
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens

    @classmethod
    def from_run(
        cls, run_dir: Path, order: int = 4, max_train_tokens: int = 40_000_000
    ) -> NgramCompleter:
        tokenizer = PreTrainedTokenizerFast.from_pretrained(run_dir / "tokenizer")
        stream = np.fromfile(run_dir / "train.bin", dtype=np.uint16)[:max_train_tokens]
        return cls(NgramModel.train(stream, order), tokenizer)

    def complete(self, text: str, line: int, character: int, uri: str, extent: str = "line") -> str:
        """One line whatever the extent: the model has no notion of a block."""
        lines = text.split("\n")
        before = "\n".join(lines[:line] + [lines[line][:character]])
        history = self.tokenizer.encode(before[-2000:], add_special_tokens=False)
        generated: list[int] = []
        for _ in range(self.max_tokens):
            token = self.model.next_token(history + generated)
            if token == self.tokenizer.eos_token_id:
                break
            generated.append(token)
            if "\n" in self.tokenizer.decode(generated[-1:]):
                break
        return self.tokenizer.decode(generated).split("\n", 1)[0].rstrip()
