"""A closed document's cache entry is dropped; the others stay."""

from __future__ import annotations

import numpy as np
import torch

from codecomp_lsp.engine.kvcache import PrefixCache


def test_remove_drops_only_that_key() -> None:
    cache = PrefixCache(budget_bytes=1 << 30)
    layer = [(torch.zeros(1, 2, 4, 8), torch.zeros(1, 2, 4, 8))]
    cache.store("file:///a.py", np.arange(4), layer)
    cache.store("file:///b.py", np.arange(4) + 10, layer)
    assert cache.remove("file:///a.py") is True
    assert cache.remove("file:///a.py") is False
    assert len(cache) == 1
    entry, n = cache.lookup("file:///b.py", np.arange(4) + 10)
    assert entry is not None and entry.key == "file:///b.py" and n == 4
