"""A minimal LSP client over a subprocess's stdio, with arrival times on every message.

Only what a benchmark needs: requests with futures, notifications, `$/cancelRequest`, answers to
the server's own requests (configuration, progress tokens, registrations), and a timestamp
(`time.perf_counter()`) taken as each message is read, before any parsing into typed objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


class LspError(RuntimeError):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message")


@dataclass
class Pending:
    id: int
    method: str
    sent: float
    future: asyncio.Future = field(repr=False)
    answered: float | None = None


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """One JSON-RPC message from a Content-Length framed stream; None at EOF."""
    length = None
    while True:
        line = await reader.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            if length is None:
                continue
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length)
    return json.loads(body)


class LspClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._ids = itertools.count(1)
        self.pending: dict[int, Pending] = {}
        self.handlers: dict[str, Callable[[Any, float], None]] = {}
        self.configuration: Any = None  # answer to workspace/configuration items
        self._reader_task = asyncio.ensure_future(self._read_loop())
        self.closed = asyncio.Event()

    @classmethod
    async def start(cls, *cmd: str, stderr: Any = None, env: dict[str, str] | None = None):
        process = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=env,
            limit=1 << 24,
        )
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    # -- sending ------------------------------------------------------------------------------
    def _write(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(encode(message))

    async def drain(self) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.drain()

    def send_request(self, method: str, params: Any = None) -> Pending:
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        pending = Pending(request_id, method, 0.0, future)
        self.pending[request_id] = pending
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        pending.sent = time.perf_counter()
        self._write(message)
        return pending

    async def request(self, method: str, params: Any = None, timeout: float | None = None) -> Any:
        pending = self.send_request(method, params)
        await self.drain()
        return await asyncio.wait_for(pending.future, timeout)

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._write(message)

    def cancel(self, request_id: int) -> None:
        self.notify("$/cancelRequest", {"id": request_id})

    # -- receiving ----------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                message = await read_message(self.process.stdout)
                now = time.perf_counter()
                if message is None:
                    break
                self._dispatch(message, now)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            log.debug("server stream ended: %s", exc)
        finally:
            self.closed.set()
            for pending in self.pending.values():
                if not pending.future.done():
                    pending.future.set_exception(ConnectionError("server exited"))

    def _dispatch(self, message: dict[str, Any], now: float) -> None:
        method = message.get("method")
        if method is None:
            pending = self.pending.pop(message.get("id"), None)
            if pending is None or pending.future.done():
                return
            pending.answered = now
            if "error" in message:
                pending.future.set_exception(LspError(message["error"]))
            else:
                pending.future.set_result(message.get("result"))
            return
        params = message.get("params")
        if "id" in message:  # a request from the server
            self._write(
                {"jsonrpc": "2.0", "id": message["id"], "result": self._answer(method, params)}
            )
            return
        handler = self.handlers.get(method)
        if handler is not None:
            handler(params, now)

    def _answer(self, method: str, params: Any) -> Any:
        if method == "workspace/configuration":
            items = (params or {}).get("items", [])
            return [self.configuration for _ in items]
        return None  # window/workDoneProgress/create, client/registerCapability, ...

    # -- lifecycle ----------------------------------------------------------------------------
    async def initialize(
        self,
        capabilities: dict[str, Any],
        initialization_options: Any = None,
        timeout: float = 60,
    ) -> Any:
        result = await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": capabilities,
                "initializationOptions": initialization_options,
            },
            timeout=timeout,
        )
        self.notify("initialized", {})
        await self.drain()
        return result

    async def shutdown(self, timeout: float = 30) -> int | None:
        """shutdown + exit; kill the process if it does not leave in time. Returns its exit code."""
        with contextlib.suppress(Exception):
            await self.request("shutdown", None, timeout=timeout)
            self.notify("exit")
            await self.drain()
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()
        finally:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
