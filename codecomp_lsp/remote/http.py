"""HTTP for remote engines: JSON calls and server-sent-event streams that can be closed mid-answer.

The standard library's http.client, so a remote engine costs no dependency. A stream is read on its
own thread; closing it from another thread shuts the socket down, which ends the read at once and
tells the engine (vLLM, llama-server) that the client is gone, so it stops generating.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from codecomp_lsp.engine.generation import EngineUnavailable

__all__ = ["Endpoint", "RemoteError", "SseStream"]


# One id per server process (one editor): a load balancer in front of several engine replicas can
# keep each editor on the replica that holds its prefix cache by hashing this header.
SESSION_HEADER = "X-Codecomp-Session"
SESSION_ID = uuid.uuid4().hex


class RemoteError(EngineUnavailable):
    """The remote engine did not answer, or answered with an error; the message is for the user."""


@dataclass(frozen=True)
class Endpoint:
    """Where the engine listens and how to reach it; the API key never appears in messages."""

    url: str  # scheme://host:port[/base path]
    api_key: str = field(default="", repr=False)
    timeout_s: float = 30.0  # connecting, and each wait for the next bytes

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(f"endpoint {self.url!r} is not an http(s) URL")

    def _connection(self) -> http.client.HTTPConnection:
        parts = urllib.parse.urlsplit(self.url)
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        return kind(parts.hostname, parts.port, timeout=self.timeout_s)

    def _path(self, path: str) -> str:
        base = urllib.parse.urlsplit(self.url).path.rstrip("/")
        return f"{base}/{path.lstrip('/')}"

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            SESSION_HEADER: SESSION_ID,
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _send(
        self,
        method: str,
        path: str,
        body: Any | None,
        conn: http.client.HTTPConnection | None = None,
    ) -> tuple[Any, Any]:
        conn = conn or self._connection()
        data = None if body is None else json.dumps(body).encode()
        try:
            conn.request(method, self._path(path), body=data, headers=self._headers())
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise RemoteError(f"the engine at {self.url} did not answer: {exc}") from exc
        if response.status >= 400:
            detail = response.read(2000).decode("utf-8", "replace").strip()
            conn.close()
            raise RemoteError(
                f"the engine at {self.url} answered {method} {path} with "
                f"{response.status} {response.reason}: {detail}"
            )
        return conn, response

    def get_json(self, path: str) -> Any:
        return self.call("GET", path)

    def call(self, method: str, path: str, body: Any | None = None) -> Any:
        """One JSON request and its decoded answer."""
        conn, response = self._send(method, path, body)
        try:
            return json.loads(response.read())
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise RemoteError(
                f"the engine at {self.url} sent a bad answer to {path}: {exc}"
            ) from exc
        finally:
            conn.close()

    def stream(self, path: str, body: Any) -> SseStream:
        """A POST of `body` whose answer is read as server-sent events (`data: {...}` lines);
        nothing is sent until `events` is iterated."""
        return SseStream(self, path, body)


class SseStream:
    """The events of one streamed answer, as decoded JSON objects; `close` may come from any
    thread, before the request is sent, while it waits for the answer, or while it streams."""

    def __init__(self, endpoint: Endpoint, path: str, body: Any) -> None:
        self._endpoint = endpoint
        self._path = path
        self._body = body
        self._conn = endpoint._connection()
        self._lock = threading.Lock()
        self.closed = False

    def events(self) -> Iterator[dict[str, Any]]:
        url = self._endpoint.url
        try:
            if self.closed:
                return
            _, response = self._endpoint._send("POST", self._path, self._body, self._conn)
            if self.closed:  # closed while the request went out
                return
            while True:
                line = response.readline()
                if not line:
                    return
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue  # blank separators, comments, `event:` lines
                data = line[5:].strip()
                if data == b"[DONE]":
                    return
                event = json.loads(data)
                if isinstance(event, dict) and "error" in event:
                    raise RemoteError(f"the engine at {url} failed: {event['error']}")
                if isinstance(event, dict):
                    yield event
        except Exception as exc:  # noqa: BLE001 - closing from another thread breaks a read anyhow
            if self.closed:
                return
            if isinstance(exc, RemoteError):
                raise
            raise RemoteError(f"the engine at {url} broke off its answer: {exc}") from exc
        finally:
            self.close()

    def close(self) -> None:
        """End the stream now: the socket is shut down, so a blocked read returns at once."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        sock = self._conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._conn.close()
