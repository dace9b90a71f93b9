"""Stats: declared counters only, percentiles of the latency windows."""

from __future__ import annotations

import pytest

from codecomp_lsp.engine.stats import Stats


def test_a_misspelled_counter_is_an_error_not_a_new_counter() -> None:
    stats = Stats()
    stats.add(requests=2, cancelled=1)
    with pytest.raises(KeyError, match="requsts"):
        stats.add(requsts=1)
    snapshot = stats.snapshot()
    assert snapshot["requests"] == 2 and snapshot["cancelled"] == 1
    assert "requsts" not in snapshot
    stats.reset()
    assert stats.snapshot()["requests"] == 0
