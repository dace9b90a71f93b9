"""The model failing mid-request (a real forward raising, through CODECOMP_FAILPOINTS): the user
gets one clear message, the request an error or an empty answer, and the next request works —
no restart."""

from __future__ import annotations

import os
import resource
import time

import pytest

from tests.e2e.raw_client import RawServer

URI = "file:///faults.py"
TEXT = "def add(a, b):\n    return a"


def _request(server: RawServer) -> dict:
    return server.call(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": URI},
            "position": {"line": 1, "character": len("    return a")},
            "context": {"triggerKind": 1},
        },
    )


@pytest.mark.parametrize(
    ("failpoint", "expect_error", "said"),
    [("forward-error@1", True, "a completion failed"), ("forward-oom@1", False, "out of memory")],
)
def test_a_failing_forward_is_reported_once_and_the_next_request_works(
    tiny_model_dir, failpoint, expect_error, said
) -> None:
    server = RawServer(
        tiny_model_dir, "--log-level", "WARNING", env={"CODECOMP_FAILPOINTS": failpoint}
    )
    try:
        server.initialize(backgroundPrefill=False)  # the first forward is the request's
        server.wait_ready()
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}},
        )
        first = _request(server)
        if expect_error:
            assert first["error"]["code"] == -32603 and "failpoint" in first["error"]["message"]
        else:
            assert first["result"]["items"] == []
        second = _request(server)
        assert second["result"]["items"], second
        messages = [m for m in server.popups() if said in m]
        assert len(messages) == 1, server.popups()
        stats = server.call("codecomp/stats")["result"]
        assert stats["modelState"] == "ready"
    finally:
        assert server.close() == 0


def test_a_failing_background_prefill_stays_quiet_and_requests_work(tiny_model_dir) -> None:
    """The document's open prefills in the background; its forward fails: nobody asked for it,
    so no popup and no error answer — the request that follows runs as usual."""
    server = RawServer(
        tiny_model_dir, "--log-level", "WARNING", env={"CODECOMP_FAILPOINTS": "forward-error@1"}
    )
    try:
        server.initialize()
        server.wait_ready()
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("failpoint" in s for s in server.stderr):
            time.sleep(0.05)
        assert any("background work failed" in line for line in server.stderr), server.stderr
        answer = _request(server)
        assert answer["result"]["items"], answer
        assert server.popups() == []
        assert server.call("codecomp/stats")["result"]["errors"] == 0
    finally:
        assert server.close() == 0


def test_a_model_load_that_hangs_is_given_up_and_the_built_in_model_answers(
    tiny_model_dir, tmp_path
) -> None:
    """A model folder whose manifest is a pipe nobody writes to: opening it blocks for ever, as a
    read on a stalled network filesystem does. The load is given up after `loadTimeoutMs`, the
    user is told once, and the built-in model answers — the model thread is not stuck."""
    stalled = tmp_path / "stalled-model"
    stalled.mkdir()
    for item in tiny_model_dir.iterdir():
        (stalled / item.name).symlink_to(item)
    os.mkfifo(stalled / "codecomp-model.json")
    server = RawServer(stalled, "--log-level", "WARNING")
    try:
        server.initialize(backgroundPrefill=False, loadTimeoutMs=2000)
        stats = server.wait_ready()
        assert stats["modelState"] == "ready", stats
        assert stats["model"] == "codecomp-tiny" and stats["modelFallback"] is True, stats
        assert "did not finish within 2 s" in stats["modelError"], stats
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}},
        )
        answer = _request(server)
        assert "result" in answer and answer["result"]["items"], answer
        said = [m for m in server.popups() if "did not finish" in m]
        assert len(said) == 1, server.popups()
    finally:
        assert server.close() == 0


def _virtual_memory(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmSize:"))
    return int(line.split()[1]) * 1024


def test_running_out_of_memory_mid_prefill_is_survived_and_the_next_request_works(
    tiny_model_dir,
) -> None:
    """A real allocation cap, not a failpoint: the server's address space is capped at what it
    uses (RLIMIT_AS, as `ulimit -v` does), so the next prefill's allocations fail — in torch's
    allocator, or in oneDNN building kernels for shapes it has not seen, which then stays broken
    for the process. The request answers empty, the user is told once, and once memory is back the
    next request answers (on ATen's kernels if oneDNN broke)."""
    server = RawServer(tiny_model_dir, "--log-level", "WARNING")
    try:
        server.initialize(backgroundPrefill=False)
        server.wait_ready()
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}},
        )
        assert _request(server)["result"]["items"]
        pid = server.proc.pid
        resource.prlimit(pid, resource.RLIMIT_AS, (_virtual_memory(pid), resource.RLIM_INFINITY))
        big = "import os\n" * 2000 + TEXT  # a new prompt: new prefill shapes, a new cache entry
        change = {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": big}]}
        server.notify("textDocument/didChange", change)
        try:
            capped = server.call(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": URI},
                    "position": {"line": 2001, "character": len("    return a")},
                    "context": {"triggerKind": 1},
                },
            )
        except TimeoutError as exc:
            raise AssertionError("\n".join(server.stderr[-40:])) from exc
        finally:
            unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            resource.prlimit(pid, resource.RLIMIT_AS, unlimited)
        assert capped.get("result") == {"items": []} or "error" in capped, capped
        said = [m for m in server.popups() if "out of memory" in m]
        assert len(said) == 1, server.popups()
        server.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": URI, "version": 3}, "contentChanges": [{"text": TEXT}]},
        )
        assert _request(server)["result"]["items"]
        stats = server.call("codecomp/stats")["result"]
        assert stats["modelState"] == "ready"
        assert bool(stats["degraded"]) == ("oneDNN" in said[0]), (stats["degraded"], said)
    finally:
        assert server.close() == 0
