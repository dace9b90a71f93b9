"""A JSON-RPC client that writes raw bytes to the real server process: what a broken or hostile
editor extension could send, with nothing checked on our side (pytest-lsp's client only sends
well-typed messages). Used by the fuzz and soak tests and by benchmarks/soak.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: Any) -> bytes:
    """A message as JSON bytes; lone surrogates pass through as JSON escapes."""
    return json.dumps(message, ensure_ascii=True).encode("ascii")


class RawServer:
    """The real server (`python -m codecomp_lsp`) over stdio, read by a thread.

    Requests from the server (configuration, progress) are answered at once so it never waits on
    us. `responses` maps each answered id to its message; `notifications` keeps the rest.
    """

    def __init__(self, model: str | Path, *args: str, env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "codecomp_lsp", "--model", str(model), *args]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        )
        self.responses: dict[Any, dict[str, Any]] = {}
        self.expected: set[Any] = set()  # ids we sent requests with (each answered once)
        self.arrived: dict[Any, float] = {}  # time.monotonic() when each answer was read
        self.null_id_errors: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.malformed: list[bytes] = []
        self.stderr: list[str] = []
        self._lock = threading.Condition()
        self._write_lock = threading.Lock()
        self._next_id = 1_000_000
        self._readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._readers:
            thread.start()

    # -- writing --------------------------------------------------------------------------------
    def send_bytes(self, data: bytes) -> None:
        with self._write_lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: Any) -> None:
        self.send_bytes(frame(encode(message)))

    def request(self, method: str, params: Any = None) -> int:
        """Send a request with a fresh id; returns the id."""
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.expect(msg_id)
        self.send(message)
        return msg_id

    def expect(self, msg_id: Any) -> None:
        """Note an id we sent a request with: a second answer to it is a protocol error."""
        with self._lock:
            self.expected.add(msg_id)

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def call(self, method: str, params: Any = None, timeout: float = 60) -> dict[str, Any]:
        """A request and its answer (raises TimeoutError when none comes)."""
        msg_id = self.request(method, params)
        answers = self.wait_for([msg_id], timeout)
        if msg_id not in answers:
            raise TimeoutError(f"{method} ({msg_id}) not answered within {timeout} s")
        return answers[msg_id]

    # -- reading --------------------------------------------------------------------------------
    def wait_for(self, ids: Iterable[Any], timeout: float) -> dict[Any, dict[str, Any]]:
        """The answers to `ids` that came within `timeout` seconds."""
        wanted = set(ids)
        deadline = time.monotonic() + timeout
        with self._lock:
            while not wanted <= self.responses.keys():
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                self._lock.wait(min(left, 0.2))
            return {i: self.responses[i] for i in wanted if i in self.responses}

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = out.readline()
            if not header:
                return
            if not header.startswith(b"Content-Length:"):
                continue
            length = int(header.split(b":", 1)[1])
            while out.readline().strip():
                pass
            body = out.read(length)
            try:
                message = json.loads(body)
            except ValueError:
                self.malformed.append(body)
                continue
            self._dispatch(message, body)

    def _dispatch(self, message: Any, body: bytes) -> None:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            self.malformed.append(body)
            return
        if "method" in message and "id" in message:  # the server asks us something
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": _answer(message)})
            return
        with self._lock:
            if "method" in message:
                self.notifications.append(message)
            elif "id" not in message or ("result" in message) == ("error" in message):
                self.malformed.append(body)  # an answer must carry an id and one of the two
            elif message["id"] is None:
                self.null_id_errors.append(message)
            else:
                if message["id"] in self.expected and message["id"] in self.responses:
                    self.malformed.append(body)  # answered twice
                self.responses[message["id"]] = message
                self.arrived[message["id"]] = time.monotonic()
            self._lock.notify_all()

    def _read_stderr(self) -> None:
        err = self.proc.stderr
        assert err is not None
        for line in err:
            self.stderr.append(line.decode("utf-8", "replace"))

    # -- the process ----------------------------------------------------------------------------
    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_mb(self) -> float:
        """Resident memory of the server process (Linux /proc)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def tracebacks(self) -> int:
        return sum(1 for line in self.stderr if line.startswith("Traceback"))

    def traceback_texts(self, limit: int = 3) -> str:
        """The first `limit` tracebacks with the log line before each."""
        blocks: list[str] = []
        lines = self.stderr
        for i, line in enumerate(lines):
            if line.startswith("Traceback") and len(blocks) < limit:
                end = i + 1
                while end < len(lines) and lines[end].startswith(
                    (" ", "Traceback", "The above", "\n")
                ):
                    end += 1
                blocks.append("".join(lines[max(0, i - 1) : end + 1]))
        return "\n".join(blocks)

    def popups(self) -> list[str]:
        with self._lock:
            return [
                n["params"].get("message", "")
                for n in self.notifications
                if n.get("method") == "window/showMessage" and isinstance(n.get("params"), dict)
            ]

    def close(self, timeout: float = 10) -> int | None:
        """shutdown + exit; the return code (None if it had to be killed)."""
        if self.alive():
            try:
                self.call("shutdown", timeout=timeout)
                self.notify("exit")
            except (TimeoutError, BrokenPipeError, OSError):
                pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout)
            return None

    def open_document(
        self, uri: str, text: str, language: str = "python", version: int = 1
    ) -> None:
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language,
                    "version": version,
                    "text": text,
                }
            },
        )

    def insert(self, uri: str, version: int, line: int, character: int, text: str) -> None:
        """An incremental didChange inserting `text` at (line, character)."""
        at = {"line": line, "character": character}
        self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": text}],
            },
        )

    def inline(self, uri: str, line: int, character: int, *, invoked: bool = True) -> int:
        """Send an inline completion request; returns its id."""
        return self.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 1 if invoked else 2},
            },
        )

    def complete(
        self, uri: str, line: int, character: int, *, invoked: bool = True, timeout: float = 60
    ) -> dict[str, Any]:
        """An inline completion request and its answer (TimeoutError when none comes)."""
        msg_id = self.inline(uri, line, character, invoked=invoked)
        answer = self.wait_for([msg_id], timeout).get(msg_id)
        if answer is None:
            raise TimeoutError(f"inline completion {msg_id} not answered within {timeout} s")
        return answer

    def initialize(self, capabilities: dict[str, Any] | None = None, **options: Any) -> None:
        answer = self.call(
            "initialize",
            {
                "processId": None,
                "capabilities": capabilities or {},
                "initializationOptions": options,
            },
        )
        assert "result" in answer, answer
        self.notify("initialized", {})

    def wait_ready(self, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.call("codecomp/stats", timeout=timeout)["result"]
            if stats["modelState"] in ("ready", "failed"):
                return stats
            time.sleep(0.1)
        raise TimeoutError("the model did not load")


def _answer(request: dict[str, Any]) -> Any:
    if request.get("method") == "workspace/configuration":
        items = (request.get("params") or {}).get("items") or []
        return [None for _ in items]
    return None
