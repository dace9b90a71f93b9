"""What became of each inline suggestion: shown, accepted (whole, a word, a line), dismissed, or
rejected (another one was shown in its place without it being accepted).

Every inline item the server returns carries an id (`issue`); our editor clients echo it in
`codecomp/didShow`, `codecomp/didAccept` and `codecomp/didDismiss`. The counts feed
`codecomp/stats` (`acceptance`), and with `feedbackLog` on each outcome is one line of a local
JSONL file (features/feedback_log.py) that `codecomp finetune --feedback` learns from. A report
about an id we do not know, or with malformed params, is one log line: a client's mistake never
shows the user anything.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from codecomp_lsp.features.feedback_log import FeedbackLog, default_log_path
from codecomp_lsp.settings import Settings

log = logging.getLogger(__name__)

PREFIX_CHARS = 1500  # of the document before the cursor, kept with a suggestion
SUFFIX_CHARS = 500  # … and after it
TEXT_CHARS = 4000  # of the suggestion itself
ISSUED_KEPT = 512  # suggestions remembered for their reports; older ids become unknown


class AcceptKind(StrEnum):
    FULL = "full"
    WORD = "word"
    LINE = "line"


class Outcome(StrEnum):
    """What is logged: one line per acceptance, dismissal or rejection."""

    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    REJECTED = "rejected"


class ItemState(Enum):
    ISSUED = "issued"  # returned to the client, not (yet) reported shown
    SHOWN = "shown"
    ACCEPTED = "accepted"  # wholly or in part; later partial acceptances add to it
    DISMISSED = "dismissed"
    REJECTED = "rejected"
    CONTINUED = "continued"  # the user typed its beginning: its rest (a new item) replaced it


@dataclass
class Issued:
    """One inline suggestion as it was returned, with the context it was made for (bounded)."""

    id: str
    uri: str
    language: str
    text: str
    prefix: str  # the last PREFIX_CHARS of the document before the cursor
    suffix: str  # the first SUFFIX_CHARS after it
    model: str | None
    score: float
    automatic: bool
    state: ItemState = ItemState.ISSUED
    accepted_chars: int = 0
    parent: str | None = None  # the suggestion this one is the rest of (typed ahead)


@dataclass
class Counts:
    shown: int = 0
    accepted: int = 0
    dismissed: int = 0
    rejected: int = 0
    accepted_chars: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AcceptKind, 0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "shown": self.shown,
            "accepted": self.accepted,
            "acceptedByKind": {str(k): v for k, v in self.by_kind.items()},
            "dismissed": self.dismissed,
            "rejected": self.rejected,
            "acceptanceRate": round(self.accepted / self.shown, 4) if self.shown else 0.0,
            "acceptedChars": self.accepted_chars,
        }


@dataclass(frozen=True)
class Report:
    """A client's report, validated: `kind`, `text` and `length` only for didAccept."""

    id: str
    kind: AcceptKind = AcceptKind.FULL
    text: str | None = None
    length: int | None = None


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def parse_report(params: Any, *, accept: bool = False) -> Report | str:
    """The report in `params` ({"id", and for didAccept "kind", "text" or "length"}), or why not."""
    item_id = _field(params, "id")
    if not isinstance(item_id, str) or not item_id:
        return "no string id"
    if not accept:
        return Report(item_id)
    kind = _field(params, "kind")
    if kind is None:
        kind = AcceptKind.FULL
    try:
        kind = AcceptKind(kind)
    except ValueError:
        return f"kind must be one of {', '.join(AcceptKind)}"
    text, length = _field(params, "text"), _field(params, "length")
    if text is not None and not isinstance(text, str):
        return "text must be a string"
    if length is not None and (
        isinstance(length, bool) or not isinstance(length, int) or length < 0
    ):
        return "length must be a non-negative integer"
    return Report(item_id, kind, text, length)


def bounded_context(text: str, offset: int) -> tuple[str, str]:
    """The prefix tail and suffix head kept with a suggestion made at `offset` of `text`."""
    prefix = text[max(0, offset - PREFIX_CHARS) : offset].replace("\r\n", "\n")
    suffix = text[offset : offset + SUFFIX_CHARS].replace("\r\n", "\n")
    return prefix, suffix


class FeedbackService:
    """The suggestions in flight and the counts of their outcomes; runs on the event loop."""

    def __init__(self, settings: Callable[[], Settings], clock: Callable[[], float] = time.time):
        self.settings = settings
        self.clock = clock
        self._issued: OrderedDict[str, Issued] = OrderedDict()
        self._on_screen: dict[str, str] = {}  # uri → the id last shown there
        self._ids = itertools.count(1)
        self._session = f"{os.getpid():x}{int(clock()) % 0x10000:04x}"
        self._total = Counts()
        self._languages: dict[str, Counts] = {}
        self.unknown = 0  # reports about ids we do not know (expired, or never ours)
        self._log: FeedbackLog | None = None

    # -- issuing ------------------------------------------------------------------------------
    def issue(
        self,
        *,
        uri: str,
        language: str | None,
        text: str,
        prefix: str,
        suffix: str,
        model: Callable[[], str | None],
        score: float,
        automatic: bool,
        typed_ahead: bool = False,
    ) -> str:
        """Remember a suggestion about to be returned; its id. `typed_ahead`: it is the rest of
        the one on screen, whose beginning the user typed (shown, it continues that one rather
        than rejecting it). The model's name is asked only when the log is on."""
        item_id = f"{self._session}-{next(self._ids)}"
        self._issued[item_id] = Issued(
            item_id,
            uri,
            language or "unknown",
            text[:TEXT_CHARS],
            prefix[-PREFIX_CHARS:],
            suffix[:SUFFIX_CHARS],
            model() if self.settings().feedbackLog else None,
            score,
            automatic,
            parent=self._on_screen.get(uri) if typed_ahead else None,
        )
        while len(self._issued) > ISSUED_KEPT:
            self._issued.popitem(last=False)
        return item_id

    # -- reports ------------------------------------------------------------------------------
    def _find(self, method: str, item_id: str) -> Issued | None:
        item = self._issued.get(item_id)
        if item is None:
            self.unknown += 1
            log.info("%s for unknown suggestion id %r ignored", method, item_id)
        return item

    def _counts(self, item: Issued) -> tuple[Counts, Counts]:
        return self._total, self._languages.setdefault(item.language, Counts())

    def _show(self, item: Issued) -> None:
        if item.state is not ItemState.ISSUED:
            return
        previous = self._on_screen.get(item.uri)
        parent = self._issued.get(item.parent) if item.parent is not None else None
        item.state = ItemState.SHOWN
        self._on_screen[item.uri] = item.id
        if parent is not None and previous == parent.id and parent.state is ItemState.SHOWN:
            parent.state = ItemState.CONTINUED  # one suggestion on screen all along
            return
        if previous is not None and previous != item.id:
            self._reject(previous)
        for counts in self._counts(item):
            counts.shown += 1

    def _reject(self, item_id: str) -> None:
        """A suggestion that was on screen and was replaced, or closed, without acceptance."""
        item = self._issued.get(item_id)
        if item is None or item.state is not ItemState.SHOWN:
            return
        item.state = ItemState.REJECTED
        for counts in self._counts(item):
            counts.rejected += 1
        self._write(item, Outcome.REJECTED)

    def shown(self, method: str, report: Report) -> None:
        item = self._find(method, report.id)
        if item is not None:
            self._show(item)

    def accepted(self, method: str, report: Report) -> None:
        """A whole suggestion, or its next word or line, was inserted. An acceptance without a
        didShow before it counts the suggestion shown too (the rate stays a share of shown)."""
        item = self._find(method, report.id)
        if item is None:
            return
        if item.state in (ItemState.DISMISSED, ItemState.REJECTED, ItemState.CONTINUED):
            log.info("%s for suggestion %s after it was %s ignored", method, item.id, item.state)
            return
        self._show(item)
        rest = item.text[item.accepted_chars :]
        if report.text is not None:
            chars = len(report.text)
        elif report.length is not None:
            chars = min(report.length, len(rest))
        else:
            chars = len(rest) if report.kind is AcceptKind.FULL else 0
        first = item.state is not ItemState.ACCEPTED
        item.state = ItemState.ACCEPTED
        consistent = report.text is None or rest.startswith(report.text)
        item.accepted_chars = min(len(item.text), item.accepted_chars + chars)
        for counts in self._counts(item):
            counts.accepted += first
            counts.by_kind[report.kind] += 1
            counts.accepted_chars += chars
        if self._on_screen.get(item.uri) == item.id and item.accepted_chars >= len(item.text):
            del self._on_screen[item.uri]
        accepted = item.text[: item.accepted_chars] if consistent else report.text
        self._write(item, Outcome.ACCEPTED, kind=report.kind, accepted=accepted, chars=chars)

    def dismissed(self, method: str, report: Report) -> None:
        item = self._find(method, report.id)
        if item is None or item.state not in (ItemState.ISSUED, ItemState.SHOWN):
            return  # already decided (a dismissal after a partial acceptance keeps it accepted)
        self._show(item)
        item.state = ItemState.DISMISSED
        self._on_screen.pop(item.uri, None)
        for counts in self._counts(item):
            counts.dismissed += 1
        self._write(item, Outcome.DISMISSED)

    def forget(self, uri: str) -> None:
        """The document closed: what was on screen there was not accepted."""
        item_id = self._on_screen.pop(uri, None)
        if item_id is not None:
            self._reject(item_id)

    # -- stats and the log --------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {
            **self._total.as_dict(),
            "unknownIds": self.unknown,
            "languages": {name: c.as_dict() for name, c in sorted(self._languages.items())},
        }

    def reset(self) -> None:
        self._total = Counts()
        self._languages = {}
        self.unknown = 0

    def log_path(self) -> Path:
        configured = self.settings().feedbackLogPath
        return Path(configured).expanduser() if configured else default_log_path()

    def _write(
        self,
        item: Issued,
        outcome: Outcome,
        *,
        kind: AcceptKind | None = None,
        accepted: str | None = None,
        chars: int = 0,
    ) -> None:
        if not self.settings().feedbackLog:
            return
        path = self.log_path()
        if self._log is None or self._log.path != path:
            self._log = FeedbackLog(path)
        self._log.append(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock())),
                "outcome": str(outcome),
                "kind": str(kind) if kind is not None else None,
                "id": item.id,
                "uri": item.uri,
                "language": item.language,
                "model": item.model,
                "automatic": item.automatic,
                "score": round(item.score, 4),
                "suggestion": item.text,
                "accepted": accepted,
                "acceptedChars": chars,
                "prefix": item.prefix,
                "suffix": item.suffix,
            }
        )
