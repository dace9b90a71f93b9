"""The prefix KV cache: prefix matching, LRU/byte-budget eviction and DynamicCache conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import DynamicCache

from codecomp_lsp.engine.kvcache import (
    KV,
    CacheEntry,
    PrefixCache,
    common_prefix_len,
    from_dynamic_cache,
    to_dynamic_cache,
)

HEADS, DIM, LAYERS = 2, 4, 2
# float32: keys + values of one position over all layers.
BYTES_PER_TOKEN = LAYERS * 2 * HEADS * DIM * 4


def arr(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def make_layers(seq: int, *, seed: int = 0, batch: int = 1) -> KV:
    gen = torch.Generator().manual_seed(seed)
    return [
        (
            torch.randn(batch, HEADS, seq, DIM, generator=gen),
            torch.randn(batch, HEADS, seq, DIM, generator=gen),
        )
        for _ in range(LAYERS)
    ]


def tokens(n: int, start: int = 0) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.int64)


def storage_ptr(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


# ---------------------------------------------------------------- common_prefix_len


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (arr(), arr(), 0),
        (arr(), arr(1, 2), 0),
        (arr(1, 2), arr(), 0),
        (arr(1, 2, 3), arr(1, 2, 3), 3),
        (arr(9, 2, 3), arr(1, 2, 3), 0),
        (arr(1, 2, 3, 4), arr(1, 2, 7, 4), 2),
        (arr(1, 2, 3), arr(1, 2, 3, 4, 5), 3),
        (arr(1, 2, 3, 4, 5), arr(1, 2, 3), 3),
        (arr(1, 2, 3), arr(1, 2, 4), 2),
        (arr(5), arr(5), 1),
    ],
)
def test_common_prefix_len(a: np.ndarray, b: np.ndarray, expected: int) -> None:
    assert common_prefix_len(a, b) == expected
    assert common_prefix_len(b, a) == expected


def test_common_prefix_len_mixed_dtypes_and_long() -> None:
    a = np.arange(10_000, dtype=np.int64)
    b = a.astype(np.int32)
    assert common_prefix_len(a, b) == 10_000
    b[7777] = -1
    assert common_prefix_len(a, b) == 7777
    assert isinstance(common_prefix_len(a, b), int)


# ---------------------------------------------------------------- lookup / store


def test_lookup_empty_cache() -> None:
    cache = PrefixCache(budget_bytes=10**9)
    assert cache.lookup("a", tokens(5)) == (None, 0)
    assert len(cache) == 0


def test_lookup_picks_longest_prefix() -> None:
    cache = PrefixCache(budget_bytes=10**9)
    cache.store("short", tokens(3), make_layers(3))
    cache.store("long", tokens(8), make_layers(8))
    cache.store("other", tokens(20, start=100), make_layers(20))
    entry, n = cache.lookup("query", tokens(6))
    assert entry is not None and entry.key == "long"
    assert n == 6
    entry, n = cache.lookup("query", np.concatenate([tokens(2), arr(99)]))
    assert entry is not None and n == 2
    assert entry.key in ("short", "long")


def test_lookup_without_common_prefix_returns_none() -> None:
    cache = PrefixCache(budget_bytes=10**9)
    cache.store("a", tokens(4, start=1), make_layers(4))
    assert cache.lookup("a", tokens(4)) == (None, 0)  # even for the same key
    assert cache.lookup("a", arr()) == (None, 0)


@pytest.mark.parametrize("same_key_first", [True, False])
def test_lookup_ties_prefer_same_key(same_key_first: bool) -> None:
    cache = PrefixCache(budget_bytes=10**9)
    order = ["mine", "theirs"] if same_key_first else ["theirs", "mine"]
    for key in order:
        cache.store(key, np.concatenate([tokens(5), arr(1000 + len(key))]), make_layers(6))
    entry, n = cache.lookup("mine", tokens(5))
    assert n == 5
    assert entry is not None and entry.key == "mine"
    # A strictly longer match elsewhere still wins over the same key.
    cache.store("longer", tokens(6), make_layers(6))
    entry, n = cache.lookup("mine", tokens(6))
    assert entry is not None and entry.key == "longer" and n == 6


def test_store_replaces_the_keys_entry() -> None:
    cache = PrefixCache(budget_bytes=10**9)
    cache.store("a", tokens(4), make_layers(4))
    new_layers = make_layers(6, seed=1)
    cache.store("a", tokens(6, start=50), new_layers)
    assert len(cache) == 1
    assert cache.lookup("a", tokens(4)) == (None, 0)
    entry, n = cache.lookup("a", tokens(6, start=50))
    assert entry is not None and n == 6
    assert entry.layers is new_layers
    np.testing.assert_array_equal(entry.tokens, tokens(6, start=50))


def test_store_empty_tokens_is_ignored() -> None:
    cache = PrefixCache(budget_bytes=10**9)
    cache.store("a", arr(), make_layers(0))
    assert len(cache) == 0


def test_clear_and_nbytes() -> None:
    cache = PrefixCache(budget_bytes=10**9)
    cache.store("a", tokens(3), make_layers(3))
    cache.store("b", tokens(5), make_layers(5))
    assert cache.nbytes == 8 * BYTES_PER_TOKEN
    cache.clear()
    assert len(cache) == 0
    assert cache.nbytes == 0


def test_entry_nbytes_counts_storage() -> None:
    layers = make_layers(10)
    assert CacheEntry("a", tokens(10), layers).nbytes == 10 * BYTES_PER_TOKEN
    views = [(k[..., :2, :], v[..., :2, :]) for k, v in layers]
    # A view pins its whole storage, and that is what the budget must count.
    assert CacheEntry("a", tokens(2), views).nbytes == 10 * BYTES_PER_TOKEN


# ---------------------------------------------------------------- eviction


def test_evicts_least_recently_used_by_max_entries() -> None:
    cache = PrefixCache(budget_bytes=10**9, max_entries=2)
    cache.store("a", tokens(3, start=0), make_layers(3))
    cache.store("b", tokens(3, start=10), make_layers(3))
    entry, _ = cache.lookup("x", tokens(3, start=0))  # touch "a"
    assert entry is not None and entry.key == "a"
    cache.store("c", tokens(3, start=20), make_layers(3))
    assert len(cache) == 2
    assert cache.lookup("x", tokens(3, start=10)) == (None, 0)  # "b" is gone
    assert cache.lookup("x", tokens(3, start=0))[0] is not None
    assert cache.lookup("x", tokens(3, start=20))[0] is not None


def test_max_entries_one_keeps_newest() -> None:
    cache = PrefixCache(budget_bytes=10**9, max_entries=1)
    cache.store("a", tokens(3), make_layers(3))
    cache.store("b", tokens(3, start=7), make_layers(3))
    assert len(cache) == 1
    entry, _ = cache.lookup("b", tokens(3, start=7))
    assert entry is not None and entry.key == "b"


def test_evicts_by_byte_budget_keeping_recently_used() -> None:
    cache = PrefixCache(budget_bytes=25 * BYTES_PER_TOKEN)
    cache.store("a", tokens(10, start=0), make_layers(10))
    cache.store("b", tokens(10, start=100), make_layers(10))
    assert len(cache) == 2
    cache.lookup("a", tokens(10, start=0))  # "a" is now more recent than "b"
    cache.store("c", tokens(10, start=200), make_layers(10))
    assert len(cache) == 2
    assert cache.nbytes <= cache.budget_bytes
    assert cache.lookup("x", tokens(10, start=100)) == (None, 0)
    assert cache.lookup("x", tokens(10, start=0))[1] == 10
    assert cache.lookup("x", tokens(10, start=200))[1] == 10


def test_stored_key_survives_even_when_oldest_would_be_evicted() -> None:
    cache = PrefixCache(budget_bytes=10 * BYTES_PER_TOKEN)
    cache.store("a", tokens(5, start=0), make_layers(5))
    cache.store("b", tokens(5, start=100), make_layers(5))
    cache.store("a", tokens(6, start=0), make_layers(6))  # replaces "a", now the newest
    assert len(cache) == 1
    entry, n = cache.lookup("a", tokens(6))
    assert entry is not None and entry.key == "a" and n == 6


def test_single_entry_over_budget_is_truncated() -> None:
    cache = PrefixCache(budget_bytes=5 * BYTES_PER_TOKEN + 3)
    layers = make_layers(10)
    originals = [(k.clone(), v.clone()) for k, v in layers]
    cache.store("a", tokens(10), layers)
    assert len(cache) == 1
    entry, n = cache.lookup("a", tokens(10))
    assert entry is not None and n == 5
    assert len(entry.tokens) == 5
    assert cache.nbytes <= cache.budget_bytes
    for (k, v), (k0, v0) in zip(entry.layers, originals, strict=True):
        assert k.shape == (1, HEADS, 5, DIM) and v.shape == (1, HEADS, 5, DIM)
        assert torch.equal(k, k0[..., :5, :]) and torch.equal(v, v0[..., :5, :])
        # The kept part is a copy: the big tensors are not pinned any more.
        assert k.untyped_storage().nbytes() == k.numel() * k.element_size()


def test_entry_larger_than_any_budget_is_dropped() -> None:
    cache = PrefixCache(budget_bytes=BYTES_PER_TOKEN - 1)
    cache.store("a", tokens(4), make_layers(4))
    assert len(cache) == 0
    zero = PrefixCache(budget_bytes=0)
    zero.store("a", tokens(4), make_layers(4))
    assert len(zero) == 0


# ---------------------------------------------------------------- DynamicCache conversion


def test_to_dynamic_cache_makes_views() -> None:
    layers = make_layers(10)
    cache = to_dynamic_cache(layers, 6)
    assert isinstance(cache, DynamicCache)
    assert len(cache.layers) == LAYERS
    assert cache.get_seq_length() == 6
    for layer, (k, v) in zip(cache.layers, layers, strict=True):
        assert layer.keys.shape == (1, HEADS, 6, DIM)
        assert storage_ptr(layer.keys) == storage_ptr(k)
        assert storage_ptr(layer.values) == storage_ptr(v)
        assert torch.equal(layer.keys, k[..., :6, :])
        assert layer.dtype == k.dtype and layer.device == k.device


@pytest.mark.parametrize("length", [0, 4, 10])
def test_extending_dynamic_cache_never_modifies_entry(length: int) -> None:
    layers = make_layers(10)
    snapshot = [(k.clone(), v.clone()) for k, v in layers]
    cache = to_dynamic_cache(layers, length)
    new = make_layers(3, seed=7)
    expected = length
    for step in range(2):  # prefill, then two more positions, as the model would
        expected += 3 - step
        for idx, (nk, nv) in enumerate(new):
            keys, values = cache.update(nk[..., step:, :], nv[..., step:, :], idx)
            assert keys.shape[-2] == values.shape[-2] == expected
    assert cache.get_seq_length() == length + 3 + 2
    for (k, v), (k0, v0) in zip(layers, snapshot, strict=True):
        assert torch.equal(k, k0) and torch.equal(v, v0)
        assert k.shape[-2] == 10
    for layer, (k0, _), (nk, _) in zip(cache.layers, snapshot, new, strict=True):
        assert torch.equal(layer.keys[..., :length, :], k0[..., :length, :])
        assert torch.equal(layer.keys[..., length : length + 3, :], nk)


def test_two_requests_from_one_entry_are_independent() -> None:
    layers = make_layers(8)
    a = to_dynamic_cache(layers, 8)
    b = to_dynamic_cache(layers, 5)
    ka, va = make_layers(2, seed=1)[0]
    kb, vb = make_layers(2, seed=2)[0]
    a.update(ka, va, 0)
    b.update(kb, vb, 0)
    assert torch.equal(a.layers[0].keys[..., 8:, :], ka)
    assert torch.equal(b.layers[0].keys[..., 5:, :], kb)
    assert torch.equal(b.layers[0].keys[..., :5, :], layers[0][0][..., :5, :])


def model_cache(layers: KV) -> DynamicCache:
    cache = DynamicCache()
    for idx, (k, v) in enumerate(layers):
        cache.update(k, v, idx)
    return cache


def test_from_dynamic_cache_compacts_batch_rows() -> None:
    layers = make_layers(10, batch=3)
    out = from_dynamic_cache(model_cache(layers), 7, row=1)
    assert len(out) == LAYERS
    for (k, v), (k0, v0) in zip(out, layers, strict=True):
        assert k.shape == (1, HEADS, 7, DIM) and v.shape == (1, HEADS, 7, DIM)
        assert torch.equal(k, k0[1:2, :, :7, :]) and torch.equal(v, v0[1:2, :, :7, :])
        assert k.untyped_storage().nbytes() == k.numel() * k.element_size()
        assert v.untyped_storage().nbytes() == v.numel() * v.element_size()
        assert storage_ptr(k) != storage_ptr(k0)


def test_from_dynamic_cache_compacts_long_cropped_sequence() -> None:
    layers = make_layers(100)
    cache = model_cache(layers)
    out = from_dynamic_cache(cache, 10)
    k, v = out[0]
    assert k.untyped_storage().nbytes() == k.numel() * k.element_size()
    # A compacted copy is independent of the cache it came from.
    cache.layers[0].keys.zero_()
    assert torch.equal(k, layers[0][0][..., :10, :])
    assert torch.equal(v, layers[0][1][..., :10, :])


def test_from_dynamic_cache_keeps_cheap_views() -> None:
    layers = make_layers(10)
    cache = model_cache(layers)
    out = from_dynamic_cache(cache, 9)
    for (k, v), layer in zip(out, cache.layers, strict=True):
        assert k.shape == (1, HEADS, 9, DIM)
        assert storage_ptr(k) == storage_ptr(layer.keys)
        assert storage_ptr(v) == storage_ptr(layer.values)


def test_round_trip_through_dynamic_cache() -> None:
    layers = make_layers(6)
    out = from_dynamic_cache(to_dynamic_cache(layers, 6), 6)
    for (k, v), (k0, v0) in zip(out, layers, strict=True):
        assert torch.equal(k, k0) and torch.equal(v, v0)


def test_store_after_generation_then_reuse() -> None:
    """The worker's cycle: look up, extend views, store the result; the old entry stays valid."""
    prefix = PrefixCache(budget_bytes=10**9)
    ids = tokens(6)
    prefix.store("doc", ids, make_layers(6))
    entry, n = prefix.lookup("doc", tokens(9))
    assert entry is not None and n == 6
    snapshot = [(k.clone(), v.clone()) for k, v in entry.layers]
    dyn = to_dynamic_cache(entry.layers, n)
    for idx, (k, v) in enumerate(make_layers(3, seed=3)):
        dyn.update(k, v, idx)
    prefix.store("other", tokens(9), from_dynamic_cache(dyn, 9))
    for (k, v), (k0, v0) in zip(entry.layers, snapshot, strict=True):
        assert torch.equal(k, k0) and torch.equal(v, v0)
    best, m = prefix.lookup("doc", tokens(9))
    assert best is not None and best.key == "other" and m == 9
