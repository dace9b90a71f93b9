"""A 10 s typing storm at 50 edits/s against the real server (fixture model): superseded work is
dropped, no answer is computed for a stale version, memory stays bounded, the server answers
right after, and it exits cleanly (no native thread left running at interpreter shutdown)."""

from __future__ import annotations

from tests.e2e.raw_client import RawServer
from tests.e2e.storm import storm


def test_a_typing_storm_is_absorbed(tiny_model_dir) -> None:
    server = RawServer(tiny_model_dir, "--log-level", "WARNING")
    try:
        server.initialize()
        server.wait_ready()
        report = storm(server, seconds=10, rate=50)
        assert report.unanswered == [], report.unanswered[:10]
        assert report.errors == [], report.errors[:3]
        assert report.stale == [], report.stale[:3]
        assert report.edits >= 400  # the client kept the rate
        assert report.answered + report.cancelled == report.requests
        assert report.after_storm_ms is not None and report.after_storm_ms < 5000
        rss = [mb for _, mb in report.rss_mb]
        assert max(rss) < rss[0] + 300, rss
    finally:
        code = server.close()
    assert code == 0, "".join(server.stderr[-30:])
    assert server.tracebacks() == 0, server.traceback_texts()


def test_shutdown_and_exit_right_after_a_burst_exit_cleanly(tiny_model_dir) -> None:
    for _ in range(3):  # the abort was intermittent: 2 of 3 runs
        server = RawServer(tiny_model_dir, "--log-level", "WARNING")
        server.initialize()
        server.wait_ready()
        storm(server, seconds=1.2, rate=50)
        code = server.close()
        assert code == 0, "".join(server.stderr[-30:])
