"""Soak, part 5: each model fault against the real server and the real model, and what the user saw.

- forward-error, forward-oom: a real forward raises mid-request (engine/failpoints.py);
- memory cap: the server's address space capped at what it uses (RLIMIT_AS), then a new prompt;
- corrupt: the model's weights cut to half their size (a copy of the folder);
- missing: the model folder deleted between runs (a path that does not exist);
- hang: the model folder's manifest is a pipe nobody writes to, so the load blocks for ever.

For each: the popups, the failing request's answer, whether the next request answered, and the
model that answers afterwards.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.e2e.raw_client import RawServer

URI = "file:///soak/faults.py"
TEXT = "import os\n\n\ndef size_of(path):\n    return os.path.getsize("
LINE, COL = TEXT.count("\n"), len(TEXT.split("\n")[-1])


def _vm(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return int(next(ln for ln in status if ln.startswith("VmSize:")).split()[1]) * 1024


def _answer(reply: dict[str, Any]) -> str:
    if "error" in reply:
        return f"error: {reply['error']['message'][:120]}"
    items = reply.get("result", {}).get("items") or []
    return f"{len(items)} item(s)" + (f": {items[0]['insertText'][:40]!r}" if items else "")


def _run(model: str | Path, case: str, env: dict[str, str] | None = None, **options: Any) -> dict:
    started = time.monotonic()
    server = RawServer(model, "--log-level", "WARNING", env=env)
    try:
        server.initialize(backgroundPrefill=False, **options)
        stats = server.wait_ready(600)
        ready_s = time.monotonic() - started
        server.open_document(URI, TEXT)
        failing = None
        if case == "memory cap":
            server.complete(URI, LINE, COL)
            pid = server.proc.pid
            resource.prlimit(pid, resource.RLIMIT_AS, (_vm(pid), resource.RLIM_INFINITY))
            big = "import os\n" * 2000 + TEXT
            server.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": big}]},
            )
            try:
                failing = _answer(server.complete(URI, LINE + 2000, COL, timeout=120))
            finally:
                unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
                resource.prlimit(pid, resource.RLIMIT_AS, unlimited)
            server.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": URI, "version": 3}, "contentChanges": [{"text": TEXT}]},
            )
        elif env:
            failing = _answer(server.complete(URI, LINE, COL, timeout=120))
        recovered = time.monotonic()
        after = _answer(server.complete(URI, LINE, COL, timeout=120))
        stats = server.call("codecomp/stats")["result"]
        return {
            "case": case,
            "user saw": " | ".join(server.popups()) or "(no popup)",
            "failing request": failing or "-",
            "next request": after,
            "next request s": round(time.monotonic() - recovered, 2),
            "answering model": f"{stats['model']} ({stats['modelState']})",
            "ready after s": round(ready_s, 1),
            "degraded": stats.get("degraded") or "-",
            "alive": server.alive(),
            "exit code": server.close(),
        }
    finally:
        if server.alive():
            server.close()


def model_faults(model: str) -> list[dict[str, Any]]:
    rows = [
        _run(model, "forward error", env={"CODECOMP_FAILPOINTS": "forward-error@1"}),
        _run(model, "forward out of memory", env={"CODECOMP_FAILPOINTS": "forward-oom@1"}),
        _run(model, "memory cap"),
    ]
    with tempfile.TemporaryDirectory(prefix="codecomp-faults-") as tmp:
        source = Path(model)
        corrupt = Path(tmp) / "corrupt"
        corrupt.mkdir()
        for item in source.iterdir():
            if item.suffix == ".safetensors":
                with item.open("rb") as whole, (corrupt / item.name).open("wb") as cut:
                    cut.write(whole.read(item.stat().st_size // 2))
            else:
                (corrupt / item.name).symlink_to(item)
        rows.append(_run(corrupt, "corrupt weights"))
        missing = Path(tmp) / "deleted"
        shutil.copytree(corrupt, missing, symlinks=True)
        shutil.rmtree(missing)
        rows.append(_run(missing, "model folder deleted"))
        stalled = Path(tmp) / "stalled"
        stalled.mkdir()
        for item in source.iterdir():
            if item.name != "codecomp-model.json":
                (stalled / item.name).symlink_to(item)
        os.mkfifo(stalled / "codecomp-model.json")
        rows.append(_run(stalled, "load hangs", loadTimeoutMs=20000))
    return rows
