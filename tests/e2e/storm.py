"""A typing storm: edits at a fixed rate on one document (typing, backspace, newlines, pastes), an
automatic inline request after each and a `$/cancelRequest` for the one before — what an editor
does when a user types fast. Shared by tests/e2e/test_storm_e2e.py (10 s, fixture model) and
benchmarks/soak.py (60 s, the default model)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.raw_client import RawServer

SEED_TEXT = '''import os


def walk(root):
    """Yield every file under root."""
    for folder, _, names in os.walk(root):
        for name in names:
            yield os.path.join(folder, name)


def count_lines(path):
    with open(path) as handle:
        return len(handle.readlines())


'''
PASTE = "def helper_{n}(value):\n    total = value * 2\n    return total\n\n" * 20  # ~2 KB


@dataclass
class StormReport:
    edits: int = 0
    seconds: float = 0.0
    requests: int = 0
    answered: int = 0  # with a non-empty result
    cancelled: int = 0  # answered with RequestCancelled / ContentModified / an empty result
    errors: list[dict[str, Any]] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(
        default_factory=list
    )  # answer not at its request's position
    latencies_ms: list[float] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    after_storm_ms: float | None = None

    def rss_slope_mb_per_min(self, last_s: float = 30.0) -> float:
        """Least-squares slope of RSS over the last `last_s` seconds."""
        points = [(t, m) for t, m in self.rss_mb if t >= self.seconds - last_s]
        if len(points) < 2:
            return 0.0
        n = len(points)
        mt = sum(t for t, _ in points) / n
        mm = sum(m for _, m in points) / n
        var = sum((t - mt) ** 2 for t, _ in points)
        if var == 0:
            return 0.0
        return sum((t - mt) * (m - mm) for t, m in points) / var * 60


class _Doc:
    """The client's copy of the document and the cursor."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.line = len(self.lines) - 1
        self.col = 0

    def edit(self, rnd: random.Random, n: int) -> tuple[dict[str, Any], str]:
        """One keystroke (or a paste): the LSP content change and what it inserted."""
        roll = rnd.random()
        at = {"line": self.line, "character": self.col}
        current = self.lines[self.line]
        if roll < 0.12 and self.col > 0:  # backspace
            start = {"line": self.line, "character": self.col - 1}
            self.lines[self.line] = current[: self.col - 1] + current[self.col :]
            self.col -= 1
            return {"range": {"start": start, "end": at}, "text": ""}, ""
        if roll < 0.2:
            text = "\n"
        elif roll < 0.21:
            text = PASTE.replace("{n}", str(n))
        else:
            text = rnd.choice("abcdefghijklmnopqrstuvwxyz_ ()=.:,0123456789")
        head, tail = current[: self.col], current[self.col :]
        pieces = (head + text + tail).split("\n")
        self.lines[self.line : self.line + 1] = pieces
        self.line += len(pieces) - 1
        self.col = len(pieces[-1]) - len(tail)
        return {"range": {"start": at, "end": at}, "text": text}, text

    def position(self) -> dict[str, int]:
        return {"line": self.line, "character": self.col}


def storm(
    server: RawServer,
    *,
    seconds: float,
    rate: float = 50.0,
    uri: str = "file:///storm/typing.py",
    seed: int = 0,
) -> StormReport:
    """Type into `uri` at `rate` edits/s for `seconds`; the server must already be initialized."""
    rnd = random.Random(seed)
    doc = _Doc(SEED_TEXT)
    version = 1
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": SEED_TEXT}},
    )
    report = StormReport()
    sent: dict[int, tuple[float, dict[str, int]]] = {}
    previous: int | None = None
    began = time.monotonic()
    next_rss = 0.0
    while (now := time.monotonic() - began) < seconds:
        change, _ = doc.edit(rnd, report.edits)
        version += 1
        server.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        report.edits += 1
        if previous is not None:
            server.notify("$/cancelRequest", {"id": previous})
        position = doc.position()
        previous = server.request(
            "textDocument/inlineCompletion",
            {"textDocument": {"uri": uri}, "position": position, "context": {"triggerKind": 2}},
        )
        sent[previous] = (time.monotonic(), position)
        if now >= next_rss:
            report.rss_mb.append((now, server.rss_mb()))
            next_rss = now + 1.0
        time.sleep(max(0.0, report.edits / rate - (time.monotonic() - began)))
    report.seconds = time.monotonic() - began
    report.requests = len(sent)
    answers = server.wait_for(sent, 30)
    for msg_id, (at, position) in sent.items():
        answer = answers.get(msg_id)
        if answer is None:
            report.unanswered.append(msg_id)
            continue
        if "error" in answer:
            if answer["error"].get("code") in (-32800, -32801):  # cancelled, content modified
                report.cancelled += 1
            else:
                report.errors.append(answer)
            continue
        items = (answer.get("result") or {}).get("items") or []
        if not items:
            report.cancelled += 1
            continue
        report.answered += 1
        report.latencies_ms.append((server.arrived[msg_id] - at) * 1000)
        starts = {
            (i["range"]["start"]["line"], i["range"]["start"]["character"])
            for i in items
            if i.get("range")
        }
        if starts and starts != {(position["line"], position["character"])}:
            report.stale.append({"id": msg_id, "position": position, "items": items})
    report.rss_mb.append((time.monotonic() - began, server.rss_mb()))
    # A normal request right after the storm: answered within a second or so.
    started = time.monotonic()
    server.call(
        "textDocument/inlineCompletion",
        {"textDocument": {"uri": uri}, "position": doc.position(), "context": {"triggerKind": 1}},
    )
    report.after_storm_ms = (time.monotonic() - started) * 1000
    return report
