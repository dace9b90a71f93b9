"""Working ahead through the real server: a cursor report prefills the prompt there, and after a
suggestion is shown the completion that follows its acceptance is computed before the editor asks.
"""

from __future__ import annotations

import time

from tests.e2e.raw_client import RawServer
from tests.samples import LIST_FILES_PY

URI = "file:///ahead/list_files.py"


def _stats(server: RawServer) -> dict:
    return server.call("codecomp/stats")["result"]


def _wait_stat(server: RawServer, name: str, at_least: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = _stats(server)
        if stats[name] >= at_least:
            return stats
        time.sleep(0.05)
    raise AssertionError(f"{name} stayed below {at_least}: {stats}")


def _cursor(server: RawServer, line: int, character: int) -> None:
    server.notify(
        "codecomp/cursor",
        {"textDocument": {"uri": URI}, "position": {"line": line, "character": character}},
    )


def test_a_cursor_report_prefills_and_the_request_there_reuses_it(tiny_model_dir) -> None:
    server = RawServer(tiny_model_dir, "--log-level", "WARNING")
    try:
        server.initialize(maxNewTokens=8)
        server.wait_ready()
        lines = LIST_FILES_PY.split("\n")
        line = len(lines) // 2
        server.open_document(URI, LIST_FILES_PY)
        # Bad reports are ignored: unknown document, negative or non-integer positions.
        server.notify("codecomp/cursor", {"textDocument": {"uri": "file:///nope.py"}})
        _cursor(server, -1, 0)
        server.notify("codecomp/cursor", {"textDocument": {"uri": URI}, "position": "here"})
        _cursor(server, 10_000, 3)  # past the end: clamped into the document
        _cursor(server, line, len(lines[line]))
        opened = _wait_stat(server, "backgroundPrefills", 2)  # the open, then the cursor
        before_tokens = opened["backgroundTokens"]
        assert before_tokens > 100
        server.call("codecomp/stats", {"reset": True})
        # The request that follows a resting cursor as the user types (promptLayout auto lays an
        # invoked one out as PSM, which prefills the line's text and the suffix again).
        answer = server.complete(URI, line, len(lines[line]), invoked=False)
        assert "result" in answer
        stats = _stats(server)
        assert stats["promptTokens"] > 100
        assert stats["prefilledTokens"] <= 1, stats  # all but the token that starts decoding
        assert server.alive() and not server.tracebacks()
    finally:
        assert server.close() == 0


def test_an_accepted_suggestion_is_followed_by_a_prefetched_one(tiny_model_dir) -> None:
    server = RawServer(tiny_model_dir, "--log-level", "WARNING")
    try:
        # The fixture model's guess uses names nothing defines: the reference check would hold
        # it back, and there would be nothing on screen to accept.
        server.initialize(maxNewTokens=8, multiline="never", disabledStages=["reference-check"])
        server.wait_ready()
        server.open_document(URI, "def add(a, b):\n    return ")
        answer = server.complete(URI, 1, 11, invoked=False)
        items = answer["result"]["items"]
        assert items, answer
        shown = items[0]["insertText"]
        stats = _wait_stat(server, "prefetches", 1)
        assert stats["prefetchHits"] == 0
        tokens = stats["promptTokens"]
        server.insert(URI, 2, 1, 11, shown)  # the user pressed Tab
        after = server.complete(URI, 1, 11 + len(shown), invoked=False)
        stats = _stats(server)
        assert stats["prefetchHits"] == 1
        assert stats["promptTokens"] == tokens  # answered without running the model
        assert "result" in after, after
        assert server.alive() and not server.tracebacks()
    finally:
        assert server.close() == 0


def test_background_prefill_can_be_turned_off(tiny_model_dir) -> None:
    server = RawServer(tiny_model_dir, "--log-level", "WARNING")
    try:
        server.initialize(backgroundPrefill=False)
        server.wait_ready()
        server.open_document(URI, LIST_FILES_PY)
        _cursor(server, 3, 0)
        time.sleep(1.0)
        answer = server.complete(URI, 3, 0)
        assert "result" in answer
        time.sleep(0.5)
        stats = _stats(server)
        assert stats["backgroundPrefills"] == 0 and stats["prefetches"] == 0
    finally:
        assert server.close() == 0
