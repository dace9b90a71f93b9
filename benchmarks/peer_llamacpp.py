"""The peer: llama.cpp's `llama-server`, asked for fill-in-the-middle the way llama.vim asks.

llama.vim sends, after each keystroke, a POST to `/infill` with the lines before the cursor line
(`input_prefix`, a window of `n_prefix` lines, each ending in "\\n"), the rest of the cursor line and
the lines after it (`input_suffix`), the cursor line up to the cursor (`prompt`), `cache_prompt`
and time limits, and it stops (kills) the previous request when a new one starts. llama-server
appends `prompt` to the prefix, so the cached prompt stays valid up to the cursor line.

`infill_body()` is that request (greedy here, so both engines decode the same way); `InfillClient`
posts it with a tiny HTTP/1.1 client (closing the connection cancels, as killing curl does);
`start_llama_server()` runs a local llama-server with prompt caching on for the replay.

    scripts/build-llama-server.sh        # prints the binary
    llama-server -m MODEL.gguf --port 8012 -c 4096 -b 1536 -ub 512 -np 1 --cache-reuse 256
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# llama.vim's defaults: 256 lines before, 64 after. llama-server further keeps at most 3/4 of its
# batch size (-b) of prefix tokens and the rest of the batch for the suffix.
DEFAULT_PREFIX_LINES = 256
DEFAULT_SUFFIX_LINES = 64


def infill_body(
    lines: list[str],
    line: int,
    character: int,
    *,
    n_predict: int = 32,
    prefix_lines: int = DEFAULT_PREFIX_LINES,
    suffix_lines: int = DEFAULT_SUFFIX_LINES,
    single_line: bool = True,
    stream: bool = False,
    t_max_prompt_ms: int | None = None,
    t_max_predict_ms: int | None = None,
) -> dict[str, Any]:
    """The JSON body of one `/infill` request for a cursor at (line, character), both 0-based.

    `lines` are the document's lines without their endings; `character` counts code points.
    """
    current = lines[line]
    prefix = "".join(row + "\n" for row in lines[max(0, line - prefix_lines) : line])
    after = lines[line + 1 : line + 1 + suffix_lines]
    suffix = current[character:] + "\n" + "".join(row + "\n" for row in after)
    line_prefix = current[:character]
    body: dict[str, Any] = {
        "input_prefix": prefix,
        "input_suffix": suffix,
        "input_extra": [],
        "prompt": line_prefix,
        "n_predict": n_predict,
        # Greedy, as our server decodes its first candidate: the same work for the same answer.
        "top_k": 1,
        "samplers": ["top_k"],
        "temperature": 0.0,
        "stream": stream,
        "cache_prompt": True,
        "n_indent": len(line_prefix) - len(line_prefix.lstrip(" \t")),
    }
    if single_line:
        body["stop"] = ["\n"]
    if t_max_prompt_ms is not None:
        body["t_max_prompt_ms"] = t_max_prompt_ms
    if t_max_predict_ms is not None:
        body["t_max_predict_ms"] = t_max_predict_ms
    return body


@dataclass
class InfillResult:
    status: int
    content: str = ""
    sent: float = 0.0
    answered: float | None = None
    first_token: float | None = None  # first streamed chunk with content (stream mode)
    prompt_tokens: int | None = None  # tokens_evaluated: the whole prompt
    prompt_n: int | None = None  # prompt tokens actually processed (not served from the cache)
    prompt_ms: float | None = None
    predicted_n: int | None = None
    predicted_ms: float | None = None
    tokens_cached: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def take(self, payload: dict[str, Any]) -> None:
        timings = payload.get("timings") or {}
        for name in ("prompt_n", "prompt_ms", "predicted_n", "predicted_ms"):
            if timings.get(name) is not None:
                setattr(self, name, timings[name])
        if payload.get("tokens_evaluated") is not None:
            self.prompt_tokens = payload["tokens_evaluated"]
        if payload.get("tokens_cached") is not None:
            self.tokens_cached = payload["tokens_cached"]
        if timings or "tokens_cached" in payload:
            self.raw = {k: v for k, v in payload.items() if k != "content"}


class InfillClient:
    """POSTs to `/infill` of a llama-server at `base_url`; one connection per request."""

    def __init__(self, base_url: str) -> None:
        parsed = urllib.parse.urlparse(base_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.base = parsed.path.rstrip("/")

    async def infill(
        self, body: dict[str, Any], on_sent: Any = None, timeout: float = 600
    ) -> InfillResult:
        """Send one request and read its answer; cancelling the task closes the connection."""
        data = json.dumps(body).encode("utf-8")
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            head = (
                f"POST {self.base}/infill HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode("ascii")
            result = InfillResult(status=0, sent=time.perf_counter())
            writer.write(head + data)
            await writer.drain()
            return await asyncio.wait_for(
                self._read(reader, result, bool(body.get("stream"))), timeout
            )
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read(
        self, reader: asyncio.StreamReader, result: InfillResult, stream: bool
    ) -> InfillResult:
        status_line = await reader.readline()
        parts = status_line.decode("latin-1").split()
        result.status = int(parts[1]) if len(parts) > 1 else 0
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        buffer = b""
        content: list[str] = []

        def feed_sse(chunk: bytes) -> None:
            nonlocal buffer
            buffer += chunk
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                for row in event.split(b"\n"):
                    if not row.startswith(b"data:"):
                        continue
                    payload_text = row[5:].strip()
                    if not payload_text or payload_text == b"[DONE]":
                        continue
                    payload = json.loads(payload_text)
                    piece = payload.get("content") or ""
                    if piece and result.first_token is None:
                        result.first_token = time.perf_counter()
                    content.append(piece)
                    result.take(payload)

        chunks: list[bytes] = []
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size_line = await reader.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await reader.readline()
                    break
                chunk = await reader.readexactly(size)
                await reader.readexactly(2)
                if stream:
                    feed_sse(chunk)
                else:
                    chunks.append(chunk)
        elif "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"]))
            if stream:
                feed_sse(data + b"\n\n")
            else:
                chunks.append(data)
        else:
            data = await reader.read()
            if stream:
                feed_sse(data + b"\n\n")
            else:
                chunks.append(data)
        result.answered = time.perf_counter()
        if stream:
            result.content = "".join(content)
        else:
            payload = json.loads(b"".join(chunks) or b"{}")
            if isinstance(payload, dict):
                result.content = payload.get("content") or ""
                result.take(payload)
        return result


# -- running a local llama-server ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def llama_server_command(
    binary: str,
    gguf: str,
    port: int,
    *,
    ctx: int = 4096,
    batch: int = 1536,
    ubatch: int = 512,
    cache_reuse: int = 256,
    threads: int | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """llama-server with one slot, prompt caching and KV shifting reuse (`--cache-reuse`).

    `batch` bounds the infill prompt: llama-server keeps 3/4 of it for the prefix and the rest for
    the suffix, so 1536 matches our default prompt budget of 1536 tokens."""
    cmd = [binary, "-m", gguf, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["-c", str(ctx), "-b", str(batch), "-ub", str(ubatch), "-np", "1"]
    cmd += ["--cache-reuse", str(cache_reuse)]
    if threads:
        cmd += ["-t", str(threads)]
    return cmd + (extra or [])


def wait_healthy(base_url: str, timeout: float = 300, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"llama-server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base_url.rstrip("/") + "/health", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"llama-server at {base_url} not healthy after {timeout:.0f} s")


@contextlib.contextmanager
def start_llama_server(binary: str, gguf: str, log_path: Path | None = None, **options: Any):
    """Run llama-server for the duration of the block; yields (base_url, process)."""
    port = free_port()
    cmd = llama_server_command(binary, gguf, port, **options)
    log_file = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(base_url, process=process)
        except (RuntimeError, TimeoutError) as exc:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path else ""
            raise RuntimeError(f"{exc}: {' '.join(cmd)}\n{tail}") from exc
        yield base_url, process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            log_file.close()
