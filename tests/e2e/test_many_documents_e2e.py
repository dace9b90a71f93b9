"""Many open documents edited in turn: the newest automatic request is not stuck behind older
documents' requests, the KV cache stays within cacheMemoryMB, and closing documents frees their
cache entries."""

from __future__ import annotations

from tests.e2e.raw_client import RawServer

DOCS = 50


def _text(i: int) -> str:
    return f"def function_{i}(values):\n    total = 0\n    for value in values:\n        total += value\n    return tot"


def test_fifty_documents_edited_in_turn(tiny_model_dir) -> None:
    server = RawServer(tiny_model_dir, "--log-level", "WARNING")
    try:
        server.initialize(cacheMemoryMB=4)
        server.wait_ready()
        uris = [f"file:///many/module_{i}.py" for i in range(DOCS)]
        for i, uri in enumerate(uris):
            server.open_document(uri, _text(i))
        ids = []
        for round_ in range(2):
            for uri in uris:  # a keystroke in each document, no waiting
                line, column = 4, len("    return tot") + round_
                server.insert(uri, 2 + round_, line, column, "a")
                ids.append(server.inline(uri, line, column + 1, invoked=False))
        answers = server.wait_for(ids, 60)
        assert set(answers) == set(ids)
        assert all("result" in a for a in answers.values())
        stats = server.call("codecomp/stats")["result"]
        # Older documents' automatic requests gave way to the newest one.
        assert stats["superseded"] >= len(ids) // 2, stats["superseded"]
        assert stats["cacheBytes"] <= 4 << 20
        # A manual request for one document after all that still answers.
        last = server.complete(uris[0], 4, len("    return tot") + 2)
        assert "result" in last
        before = server.call("codecomp/stats")["result"]["cacheEntries"]
        assert before >= 1
        for uri in uris:
            server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        after = server.call("codecomp/stats")["result"]
        assert after["openDocuments"] == 0
        assert after["cacheEntries"] == 0, after["cacheEntries"]
    finally:
        assert server.close() == 0
