"""The TCP transport: one client at a time, on the loopback interface only.

pygls' own `start_tcp` hands every new connection the same protocol (a second client silently
takes the first one's writer) and listens on any address it is given. The server reads the text of
the user's files and runs code actions on them, so it listens on loopback only; a second client is
told that the port is taken and disconnected; when the client goes away the process ends, as it
does when stdin closes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import threading
from typing import Any

from codecomp_lsp.server.reading import read_messages

log = logging.getLogger(__name__)

BUSY_MESSAGE = (
    "codecomp-lsp on this port already serves a client; start another server for a second editor"
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _notification(message: str) -> bytes:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "window/showMessage",
            "params": {"type": 1, "message": message},
        }
    ).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def serve_tcp(server: Any, host: str, port: int) -> None:
    """Serve LSP to one client at a time on host:port (loopback); returns when it disconnects."""
    if not is_loopback(host):
        raise ValueError(f"{host!r} is not a loopback address")
    stop_event = threading.Event()
    server._stop_event = stop_event
    session: dict[str, Any] = {"busy": False, "listener": None}

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if session["busy"]:
            log.warning("refused a second client %s: one client per server", peer)
            writer.write(_notification(BUSY_MESSAGE))
            await writer.drain()
            writer.close()
            return
        session["busy"] = True
        log.info("client %s connected", peer)
        server.protocol.set_writer(writer)
        try:
            await read_messages(
                stop_event,
                reader,
                server.protocol,
                server.report_server_error,
                server.state.loop_watch,
            )
        finally:
            log.info("client %s gone: stopping", peer)
            session["listener"].close()

    async def listen() -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = await asyncio.start_server(connection, host, port, family=family)
        session["listener"] = listener
        log.info("listening on %s:%s (one client)", host, port)
        async with listener:
            try:
                await listener.serve_forever()
            except asyncio.CancelledError:
                pass

    try:
        asyncio.run(listen())
    except (KeyboardInterrupt, SystemExit):  # `exit` ends the session (pygls raises SystemExit)
        pass
