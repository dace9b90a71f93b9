"""The process ends promptly and with LSP's exit codes however the session ends: shutdown + exit
(0), exit alone (1), or the client vanishing mid-request (stdin closed: 1, within a second or so,
no worker left burning CPU)."""

from __future__ import annotations

import time

from tests.e2e.raw_client import RawServer

TEXT = (
    "def total(values):\n    result = 0\n    for value in values:\n        result += value\n" * 40
)


def _busy_server(model) -> RawServer:
    server = RawServer(model, "--log-level", "WARNING")
    server.initialize()
    server.wait_ready()
    server.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": "file:///exit.py",
                "languageId": "python",
                "version": 1,
                "text": TEXT,
            }
        },
    )
    server.request(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": "file:///exit.py"},
            "position": {"line": 160, "character": 0},
            "context": {"triggerKind": 1},
        },
    )
    return server


def test_stdin_closed_mid_request_ends_the_process(tiny_model_dir) -> None:
    server = _busy_server(tiny_model_dir)
    started = time.monotonic()
    assert server.proc.stdin is not None
    server.proc.stdin.close()
    code = server.proc.wait(10)
    assert time.monotonic() - started < 3
    assert code == 1  # no shutdown came
    assert server.tracebacks() == 0, server.traceback_texts()


def test_exit_without_shutdown_exits_with_1(tiny_model_dir) -> None:
    server = _busy_server(tiny_model_dir)
    server.notify("exit")
    assert server.proc.wait(10) == 1


def test_shutdown_then_exit_exits_with_0(tiny_model_dir) -> None:
    server = _busy_server(tiny_model_dir)
    assert server.close() == 0
