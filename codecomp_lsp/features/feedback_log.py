"""The opt-in local feedback log: one JSON object per line, appended, never sent anywhere.

Each record is bounded (features/feedback.py cuts the context and the suggestion) and the file
is rotated once it passes MAX_BYTES (one previous file kept as `.1`), so a year of typing cannot
fill a disk. Writing must never disturb completion: a failure is logged once per path.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
FILE_NAME = "feedback.jsonl"


def default_log_path() -> Path:
    """`$XDG_DATA_HOME/codecomp/feedback.jsonl`, else `~/.local/share/codecomp/feedback.jsonl`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "codecomp" / FILE_NAME


class FeedbackLog:
    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._failed = False

    def append(self, record: dict[str, Any]) -> bool:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        data = line.encode("utf-8", "surrogatepass")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(data) > self.max_bytes:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
            with self.path.open("ab") as out:
                out.write(data)
        except OSError as exc:
            if not self._failed:
                log.warning("feedback log %s not written: %s", self.path, exc)
            self._failed = True
            return False
        self._failed = False
        return True


def read_log(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a feedback log; a line that is not a JSON object is skipped."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record
