"""The prefix KV cache: an LRU of token sequences with their attention keys and values.

A request takes the entry sharing the longest token prefix with its prompt and prefills only the rest.
Entries are never written in place: transformers' DynamicLayer grows by concatenation, so a request
starts from *views* of an entry's tensors and produces new tensors, and the entry it started from stays
valid for other documents. One entry is kept per key (document) plus whatever else fits the budget.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

KV = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class CacheEntry:
    key: str
    tokens: np.ndarray  # int64 token ids; len(tokens) == cached sequence length
    layers: KV  # per layer (keys, values), shape [1, heads, len(tokens), head_dim]
    last_used: float = field(default_factory=time.monotonic)

    @property
    def nbytes(self) -> int:
        total = 0
        for k, v in self.layers:
            total += k.untyped_storage().nbytes() + v.untyped_storage().nbytes()
        return total


def common_prefix_len(a: np.ndarray, b: np.ndarray) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if len(diff) else n


def to_dynamic_cache(layers: KV, length: int) -> DynamicCache:
    """A DynamicCache whose layers are views of the first `length` positions of `layers`."""
    cache = DynamicCache()
    for keys, values in layers:
        layer = DynamicLayer()
        layer.dtype, layer.device = keys.dtype, keys.device
        layer.keys = keys[..., :length, :]
        layer.values = values[..., :length, :]
        layer.is_initialized = True
        cache.layers.append(layer)
    return cache


def from_dynamic_cache(cache: DynamicCache, length: int, row: int = 0) -> KV:
    """Take one batch row's first `length` positions out of a cache, compacting over-large storage."""
    out: KV = []
    for layer in cache.layers:
        keys = layer.keys[row : row + 1, :, :length, :]
        values = layer.values[row : row + 1, :, :length, :]
        # Views of a much larger tensor (a batch, or a long cropped sequence) would pin its memory.
        if keys.untyped_storage().nbytes() > 1.5 * keys.numel() * keys.element_size():
            keys, values = keys.contiguous().clone(), values.contiguous().clone()
        out.append((keys, values))
    return out


class PrefixCache:
    """Thread-safe LRU of cached sequences bounded by bytes; the worker is its main user."""

    def __init__(self, budget_bytes: int, max_entries: int = 64) -> None:
        self.budget_bytes = budget_bytes
        self.max_entries = max_entries
        self._entries: dict[str, CacheEntry] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values())

    def lookup(self, key: str, ids: np.ndarray) -> tuple[CacheEntry | None, int]:
        """The entry with the longest common prefix (ties go to the same key), and that length."""
        best: CacheEntry | None = None
        best_len = 0
        with self._lock:
            for entry in self._entries.values():
                n = common_prefix_len(entry.tokens, ids)
                if n > best_len or (n == best_len and n > 0 and entry.key == key):
                    best, best_len = entry, n
            if best is not None:
                best.last_used = time.monotonic()
        return best, best_len

    def store(self, key: str, tokens: np.ndarray, layers: KV) -> None:
        if len(tokens) == 0:
            return
        entry = CacheEntry(key=key, tokens=tokens, layers=layers)
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = entry
            self._evict(keep=key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def remove(self, key: str) -> bool:
        """Drop `key`'s entry (a closed document's); whether there was one."""
        with self._lock:
            return self._entries.pop(key, None) is not None

    def _evict(self, keep: str) -> None:
        def total() -> int:
            return sum(e.nbytes for e in self._entries.values())

        while len(self._entries) > 1 and (
            len(self._entries) > self.max_entries or total() > self.budget_bytes
        ):
            victim = min(
                (e for e in self._entries.values() if e.key != keep), key=lambda e: e.last_used
            )
            del self._entries[victim.key]
        if total() > self.budget_bytes and keep in self._entries:
            # Even alone it is too big: keep its first part so the next request still reuses something.
            entry = self._entries[keep]
            per_token = max(1, entry.nbytes // max(1, len(entry.tokens)))
            length = int(self.budget_bytes // per_token)
            if length <= 0:
                del self._entries[keep]
            else:
                entry.tokens = entry.tokens[:length]
                entry.layers = [
                    (k[..., :length, :].clone(), v[..., :length, :].clone())
                    for k, v in entry.layers
                ]
