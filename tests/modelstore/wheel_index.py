"""A real package index on localhost for pull tests: a file split into wheels the way the registry's
model wheels are (PROJECT/data/partNN.bin inside each), served over HTTP with the PEP 691 JSON
simple API and byte ranges, with switches to drop a connection, hide a part or serve bad bytes."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def build_wheels(payload: Path, out: Path, base: str, version: str, parts: int) -> list[dict]:
    """Split `payload` into `parts` wheels named BASE1..BASEn; the catalog's `parts` rows."""
    data = payload.read_bytes()
    step = -(-len(data) // parts)
    rows = []
    out.mkdir(parents=True, exist_ok=True)
    for i in range(parts):
        project = f"{base}{i + 1}"
        module = project.replace("-", "_")
        member = f"{module}/data/part{i + 1:02d}.bin"
        chunk = data[i * step : (i + 1) * step]
        wheel = out / f"{module}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{module}/__init__.py", "")
            z.writestr(member, chunk)
            z.writestr(
                f"{module}-{version}.dist-info/METADATA", f"Name: {project}\nVersion: {version}\n"
            )
        rows.append(
            {
                "project": project,
                "version": version,
                "wheelSha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
                "member": member,
                "size": len(chunk),
                "wheel": wheel.name,
            }
        )
    return rows


@dataclass
class IndexState:
    root: Path
    drop_after: dict[str, int] = field(default_factory=dict)  # wheel name → bytes, once
    hidden: set[str] = field(default_factory=set)  # projects the index says nothing about
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)
    delay_s: float = 0.0  # per 64 kB chunk: a slow download


class WheelIndex:
    """`with WheelIndex(folder) as index:` serves folder's wheels at index.url."""

    def __init__(self, root: Path) -> None:
        self.state = IndexState(root)
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                state.requests.append((self.path, self.headers.get("Range")))
                parts = self.path.strip("/").split("/")
                if parts[0] == "simple" and len(parts) == 2:
                    return self._project(parts[1])
                if parts[0] == "files" and len(parts) == 2:
                    return self._file(parts[1])
                self.send_error(404)

            def _project(self, project: str) -> None:
                module = project.replace("-", "_")
                files = (
                    [] if project in state.hidden else sorted(state.root.glob(f"{module}-*.whl"))
                )
                if not files:
                    return self.send_error(404)
                body = json.dumps(
                    {
                        "meta": {"api-version": "1.1"},
                        "name": project,
                        "files": [
                            {
                                "filename": f.name,
                                "url": f"../../files/{f.name}",
                                "hashes": {"sha256": hashlib.sha256(f.read_bytes()).hexdigest()},
                                "size": f.stat().st_size,
                            }
                            for f in files
                        ],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _file(self, name: str) -> None:
                path = state.root / name
                if not path.is_file():
                    return self.send_error(404)
                data = path.read_bytes()
                start = 0
                if (rng := self.headers.get("Range")) and rng.startswith("bytes="):
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        return self.send_error(416)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                limit = state.drop_after.pop(name, None)
                sent = 0
                for i in range(0, len(body), 65536):
                    chunk = body[i : i + 65536]
                    if limit is not None and sent + len(chunk) > limit:
                        self.wfile.write(chunk[: limit - sent])
                        self.wfile.flush()
                        self.connection.shutdown(2)  # the connection drops mid-file
                        return
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if state.delay_s:
                        threading.Event().wait(state.delay_s)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WheelIndex:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
