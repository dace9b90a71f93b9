"""A terminal progress bar for pulls: bytes, rate and stage on one line of stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_STAGES = {
    "download": "downloading",
    "verify": "verifying",
    "convert": "converting",
    "load": "loading",
}


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


class ProgressBar:
    """Redraws at most ten times a second; a line per stage when stderr is not a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 28) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._stage = ""
        self._stage_started = time.monotonic()
        self._stage_first = 0
        self._last_draw = 0.0
        self._last_line = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self._stage:
            self.finish_line()
            self._stage, self._stage_started, self._stage_first = stage, now, done
        final = total > 0 and done >= total
        if now - self._last_draw < 0.1 and not final:
            return
        self._last_draw = now
        line = self._render(stage, done, total, now)
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self._last_line)))
            self.stream.flush()
        elif final:
            self.stream.write(line + "\n")
        self._last_line = line

    def _render(self, stage: str, done: int, total: int, now: float) -> str:
        name = _STAGES.get(stage, stage)
        if stage == "convert":
            return f"{self.label}: {name} for fast loading ({done}/{total} steps)"
        elapsed = max(now - self._stage_started, 1e-6)
        rate = (done - self._stage_first) / elapsed
        if total > 0:
            filled = int(self.width * min(done, total) / total)
            bar = "#" * filled + "." * (self.width - filled)
            return (
                f"{self.label}: {name} [{bar}] {human_bytes(done)} / {human_bytes(total)} "
                f"{human_bytes(rate)}/s"
            )
        return f"{self.label}: {name} {human_bytes(done)}"

    def finish_line(self) -> None:
        if self.tty and self._last_line:
            self.stream.write("\n")
            self.stream.flush()
        self._last_line = ""
