"""The loop watch sees work that holds the event loop, and the message reader keeps message order
while it decodes large bodies on a thread."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from codecomp_lsp.server.intake import mark_message
from codecomp_lsp.server.loopwatch import STALL_S, LoopWatch
from codecomp_lsp.server.reading import OFF_LOOP_BYTES, read_messages


def test_a_handler_that_holds_the_loop_is_counted_as_a_stall() -> None:
    async def scenario() -> LoopWatch:
        watch = LoopWatch(last_method="textDocument/didOpen")
        task = asyncio.ensure_future(watch.run())
        await asyncio.sleep(0.2)
        assert watch.stalls == 0
        time.sleep(STALL_S + 0.15)  # blocks the loop, as a slow handler would
        await asyncio.sleep(0.1)
        task.cancel()
        return watch

    watch = asyncio.run(scenario())
    assert watch.stalls == 1
    assert watch.describe()["loopLagMaxMs"] >= (STALL_S + 0.1) * 1000


class _Bytes:
    """A reader over bytes, as pygls' StdinAsyncReader reads stdin."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def readline(self) -> bytes:
        line, sep, self.data = self.data.partition(b"\n")
        return line + sep

    async def readexactly(self, n: int) -> bytes:
        body, self.data = self.data[:n], self.data[n:]
        return body


class _Protocol:
    def __init__(self) -> None:
        self.handled: list[tuple[str, int, bool]] = []
        self.decoded_on_loop: dict[str, bool] = {}

    def structure_message(self, data: dict) -> dict:
        if "method" in data:
            on_loop = threading.current_thread() is threading.main_thread()
            self.decoded_on_loop[data["method"]] = on_loop
        return mark_message(data)

    def handle_message(self, message: dict) -> None:
        on_loop = threading.current_thread() is threading.main_thread()
        self.handled.append((message["method"], len(json.dumps(message)), on_loop))


def test_large_bodies_are_decoded_off_the_loop_and_handled_in_order() -> None:
    messages = [
        {"jsonrpc": "2.0", "method": "small", "params": {"text": "x"}},
        {"jsonrpc": "2.0", "method": "huge", "params": {"text": "y" * (OFF_LOOP_BYTES * 4)}},
        {"jsonrpc": "2.0", "method": "after", "params": {"data": {"jsonrpc": "nested"}}},
    ]
    stream = b"".join(
        b"Content-Length: %d\r\n\r\n" % len(body) + body
        for body in (json.dumps(m).encode() for m in messages)
    )
    protocol = _Protocol()
    asyncio.run(read_messages(threading.Event(), _Bytes(stream), protocol))
    assert [m for m, _, _ in protocol.handled] == ["small", "huge", "after"]
    assert all(on_loop for _, _, on_loop in protocol.handled)  # handled on the loop's thread
    assert protocol.handled[1][1] > OFF_LOOP_BYTES * 4
    assert protocol.decoded_on_loop == {"small": True, "huge": False, "after": True}
