"""Exact and near-duplicate detection (MinHash with locality-sensitive hashing).

Copies of the same module across packages (vendored helpers, forks, version
bumps) would be memorised and would leak between train and held-out splits.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|\S")
_MERSENNE = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)


def exact_key(text: str) -> str:
    """Hash of the text with all whitespace removed (reformatting is not a new file)."""
    return hashlib.sha256("".join(text.split()).encode()).hexdigest()


def shingles(text: str, n: int = 5) -> np.ndarray:
    tokens = _TOKEN.findall(text)
    if len(tokens) < n:
        tokens = tokens + [""] * (n - len(tokens))
    hashes = {zlib.crc32(" ".join(tokens[i : i + n]).encode()) for i in range(len(tokens) - n + 1)}
    return np.fromiter(hashes, dtype=np.uint64)


@dataclass
class NearDuplicateIndex:
    """MinHash signatures banded into buckets; `add` says whether a text is a near copy
    (estimated Jaccard similarity of 5-token shingles ≥ `threshold`) of one already kept."""

    num_perm: int = 64
    bands: int = 16
    threshold: float = 0.8
    seed: int = 0
    _a: np.ndarray = field(init=False, repr=False)
    _b: np.ndarray = field(init=False, repr=False)
    _buckets: dict[tuple[int, bytes], list[int]] = field(
        init=False, repr=False, default_factory=lambda: defaultdict(list)
    )
    _signatures: list[np.ndarray] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self._a = rng.integers(1, (1 << 31) - 1, self.num_perm, dtype=np.uint64)
        self._b = rng.integers(0, (1 << 31) - 1, self.num_perm, dtype=np.uint64)

    def signature(self, text: str) -> np.ndarray:
        h = shingles(text)[:, None]
        # Universal hashing of 32-bit values; products stay below 2**63.
        return (((h * self._a[None, :]) + self._b[None, :]) % _MERSENNE & _MASK32).min(axis=0)

    def add(self, text: str) -> bool:
        """Index `text` unless it near-duplicates an indexed one; True when it was a duplicate."""
        sig = self.signature(text)
        rows = self.num_perm // self.bands
        keys = [
            (band, sig[band * rows : (band + 1) * rows].tobytes()) for band in range(self.bands)
        ]
        candidates = {i for key in keys for i in self._buckets.get(key, ())}
        for i in candidates:
            if float(np.mean(self._signatures[i] == sig)) >= self.threshold:
                return True
        index = len(self._signatures)
        self._signatures.append(sig)
        for key in keys:
            self._buckets[key].append(index)
        return False
