"""Memoised token counting.

Windows are measured line by line on every keystroke and almost every line is the
same as last time, so counts are cached per (counter, text).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["cached_count"]

_MAX_ENTRIES = 50_000

_cache: dict[tuple[Callable[[str], int], str], int] = {}
_lock = threading.Lock()


def cached_count(count_tokens: Callable[[str], int], text: str) -> int:
    """`count_tokens(text)`, remembered; the cache is dropped wholesale when it grows too big."""
    try:
        key = (count_tokens, text)
        hit = _cache.get(key)
    except TypeError:  # an unhashable callable: just count
        return count_tokens(text)
    if hit is not None:
        return hit
    value = count_tokens(text)
    with _lock:
        if len(_cache) >= _MAX_ENTRIES:
            _cache.clear()
        _cache[key] = value
    return value
