"""The message loop: LSP framing read off stdin or a socket, large bodies decoded off the event loop.

pygls' own loop (`pygls.io_.run_async`) decodes every body on the event loop; a 10 MB `didOpen`
then stops everything else (hovers, cancellations, other documents' completions) while
`json.loads` runs. Here a body of `OFF_LOOP_BYTES` or more is decoded on a thread; the loop waits
for it before reading the next message, so messages are still handled in the order they came.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from typing import Any

from pygls.exceptions import JsonRpcException
from pygls.io_ import StdinAsyncReader, StdoutWriter

from codecomp_lsp.server.loopwatch import LoopWatch

log = logging.getLogger(__name__)

OFF_LOOP_BYTES = 256 << 10  # smaller bodies decode in well under a millisecond
_CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")


async def read_messages(
    stop_event: threading.Event,
    reader: Any,
    protocol: Any,
    error_handler: Any = None,
    watch: LoopWatch | None = None,
) -> None:
    """Read framed messages from `reader` (readline/readexactly) until EOF or `stop_event`;
    `watch` measures the loop meanwhile."""
    watching = asyncio.ensure_future(watch.run()) if watch is not None else None
    try:
        await _read(stop_event, reader, protocol, error_handler)
    finally:
        if watching is not None:
            watching.cancel()


async def _read(
    stop_event: threading.Event, reader: Any, protocol: Any, error_handler: Any
) -> None:
    hook = protocol.structure_message
    length = 0
    while not stop_event.is_set():
        header = await reader.readline()
        if not header:
            break
        if not length and (match := _CONTENT_LENGTH.fullmatch(header)):
            length = int(match.group(1))
        if not (length and not header.strip()):
            continue
        body = await reader.readexactly(length)
        length = 0
        if not body:
            break
        try:
            if len(body) >= OFF_LOOP_BYTES:
                message = await asyncio.to_thread(json.loads, body, object_hook=hook)
            else:
                message = json.loads(body, object_hook=hook)
        except ValueError as exc:  # not JSON, not UTF-8: the error handler answers Parse error
            if error_handler:
                error_handler(exc, JsonRpcException)
            continue
        try:
            protocol.handle_message(message)
        except Exception as exc:  # noqa: BLE001 - as pygls: one bad body never ends the session
            log.exception("Unable to handle message")
            if error_handler:
                error_handler(exc, JsonRpcException)


def serve_stdio(server: Any, stdin: Any, stdout: Any) -> None:
    """pygls' `start_io`, with this module's message loop."""
    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout))
    reader = StdinAsyncReader(stdin, server.thread_pool)
    try:
        asyncio.run(
            read_messages(
                server._stop_event,
                reader,
                server.protocol,
                server.report_server_error,
                server.state.loop_watch,
            )
        )
    except BrokenPipeError:
        log.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
