"""The feedback loop's pure parts: report parsing, outcome counting, the local log, minConfidence."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from codecomp_lsp.features.completion import Suggestion
from codecomp_lsp.features.confidence import confident
from codecomp_lsp.features.feedback import (
    PREFIX_CHARS,
    SUFFIX_CHARS,
    AcceptKind,
    FeedbackService,
    Report,
    bounded_context,
    parse_report,
)
from codecomp_lsp.features.feedback_log import FeedbackLog, default_log_path, read_log
from codecomp_lsp.settings import Settings


def _service(settings: Settings) -> FeedbackService:
    return FeedbackService(lambda: settings, clock=lambda: 1_700_000_000.0)


def _issue(
    service: FeedbackService,
    uri: str = "file:///a.py",
    text: str = "return a + b",
    language: str = "python",
) -> str:
    return service.issue(
        uri=uri,
        language=language,
        text=text,
        prefix="def add(a, b):\n    ",
        suffix="\n",
        model=lambda: "codecomp-tiny",
        score=-0.5,
        automatic=True,
    )


@pytest.mark.parametrize(
    ("params", "accept", "expected"),
    [
        ({"id": "x"}, False, Report("x")),
        ({"id": "x", "kind": "word", "length": 3}, True, Report("x", AcceptKind.WORD, None, 3)),
        ({"id": "x", "kind": "line", "text": "ab"}, True, Report("x", AcceptKind.LINE, "ab")),
        ({"id": "x"}, True, Report("x", AcceptKind.FULL)),
        (None, False, "no string id"),
        ({"id": 3}, False, "no string id"),
        ({"id": ""}, True, "no string id"),
        ({"id": "x", "kind": "all"}, True, "kind must be one of full, word, line"),
        ({"id": "x", "length": -1}, True, "length must be a non-negative integer"),
        ({"id": "x", "length": True}, True, "length must be a non-negative integer"),
        ({"id": "x", "text": 5}, True, "text must be a string"),
        ([1, 2], False, "no string id"),
    ],
)
def test_parse_report(params, accept, expected) -> None:
    assert parse_report(params, accept=accept) == expected


def test_bounded_context_keeps_the_ends_next_to_the_cursor() -> None:
    text = "a" * 5000 + "|" + "b\r\n" * 1000
    prefix, suffix = bounded_context(text, 5000)
    assert prefix == "a" * PREFIX_CHARS
    assert suffix.startswith("|b\nb\n") and "\r" not in suffix
    assert len(suffix) <= SUFFIX_CHARS


def test_counts_shown_accepted_by_kind_dismissed_rejected_and_per_language() -> None:
    service = _service(Settings())
    first = _issue(service)
    service.shown("codecomp/didShow", Report(first))
    # A word, then the rest: one accepted suggestion, two acceptances, every character counted.
    service.accepted("codecomp/didAccept", Report(first, AcceptKind.WORD, "return"))
    service.accepted("codecomp/didAccept", Report(first, AcceptKind.FULL, length=100))
    second = _issue(service)
    service.shown("codecomp/didShow", Report(second))
    third = _issue(service)
    service.shown("codecomp/didShow", Report(third))  # replaced the second without acceptance
    service.dismissed("codecomp/didDismiss", Report(third))
    rust = _issue(service, "file:///b.rs", "x + 1", "rust")
    service.accepted("codecomp/didAccept", Report(rust, AcceptKind.LINE))  # no didShow first
    service.shown("codecomp/didShow", Report("nope"))
    _issue(service)  # returned, never shown: not counted

    snap = service.snapshot()
    assert snap["shown"] == 4
    assert snap["accepted"] == 2
    assert snap["acceptedByKind"] == {"full": 1, "word": 1, "line": 1}
    assert snap["dismissed"] == 1 and snap["rejected"] == 1
    assert snap["acceptedChars"] == len("return a + b")  # a line kind without text/length: 0
    assert snap["acceptanceRate"] == 0.5
    assert snap["unknownIds"] == 1
    assert snap["languages"]["python"]["acceptanceRate"] == round(1 / 3, 4)
    assert snap["languages"]["rust"]["accepted"] == 1
    service.reset()
    assert service.snapshot()["shown"] == 0


def test_decided_suggestions_stay_decided_and_closing_rejects_what_was_shown() -> None:
    service = _service(Settings())
    item = _issue(service)
    service.dismissed("codecomp/didDismiss", Report(item))
    service.accepted("codecomp/didAccept", Report(item))  # after the dismissal: ignored
    shown = _issue(service)
    service.shown("codecomp/didShow", Report(shown))
    service.shown("codecomp/didShow", Report(shown))  # twice: counted once
    service.forget("file:///a.py")
    snap = service.snapshot()
    assert (snap["shown"], snap["accepted"], snap["dismissed"], snap["rejected"]) == (2, 0, 1, 1)


def test_typing_the_beginning_of_a_suggestion_continues_it() -> None:
    service = _service(Settings())
    first = _issue(service, text="return a + b")
    service.shown("codecomp/didShow", Report(first))
    rest = service.issue(
        uri="file:///a.py",
        language="python",
        text="a + b",
        prefix="def add(a, b):\n    return ",
        suffix="\n",
        model=lambda: None,
        score=0.0,
        automatic=True,
        typed_ahead=True,
    )
    service.shown("codecomp/didShow", Report(rest))
    service.accepted("codecomp/didAccept", Report(rest, AcceptKind.FULL))
    snap = service.snapshot()
    assert (snap["shown"], snap["accepted"], snap["rejected"]) == (1, 1, 0)
    assert snap["acceptedChars"] == len("a + b")


def test_the_log_is_off_by_default_and_writes_one_bounded_line_per_outcome(tmp_path) -> None:
    path = tmp_path / "sub" / "feedback.jsonl"
    off = _service(Settings(feedbackLogPath=str(path)))
    off.accepted("codecomp/didAccept", Report(_issue(off)))
    assert not path.exists()

    service = _service(Settings(feedbackLog=True, feedbackLogPath=str(path)))
    accepted = _issue(service, text="return a + b" + "x" * 10_000)
    service.shown("codecomp/didShow", Report(accepted))
    service.accepted("codecomp/didAccept", Report(accepted, AcceptKind.WORD, length=6))
    rejected = _issue(service)
    service.shown("codecomp/didShow", Report(rejected))
    service.forget("file:///a.py")
    dismissed = _issue(service)
    service.dismissed("codecomp/didDismiss", Report(dismissed))

    records = list(read_log(path))
    assert [r["outcome"] for r in records] == ["accepted", "rejected", "dismissed"]
    first = records[0]
    assert first["kind"] == "word" and first["accepted"] == "return"
    assert first["acceptedChars"] == 6
    assert first["model"] == "codecomp-tiny" and first["language"] == "python"
    assert first["prefix"] == "def add(a, b):\n    " and first["suffix"] == "\n"
    assert first["time"] == "2023-11-14T22:13:20Z"
    assert len(first["suggestion"]) == 4000
    assert records[1]["kind"] is None and records[1]["accepted"] is None


def test_the_log_rotates_and_a_failure_is_not_raised(tmp_path) -> None:
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path, max_bytes=200)
    for i in range(10):
        assert log.append({"i": i, "pad": "x" * 50})
    assert path.stat().st_size <= 200
    assert (tmp_path / "feedback.jsonl.1").stat().st_size <= 200
    assert [r["i"] for r in read_log(path)][-1] == 9
    blocked = FeedbackLog(tmp_path / "feedback.jsonl" / "inside.jsonl")  # a file is in the way
    assert blocked.append({"i": 0}) is False


def test_default_log_path_follows_xdg_data_home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_log_path() == tmp_path / "codecomp" / "feedback.jsonl"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_log_path() == Path.home() / ".local" / "share" / "codecomp" / "feedback.jsonl"
    service = _service(Settings())
    assert service.log_path() == default_log_path()


def test_min_confidence_hides_doubtful_automatic_suggestions_only() -> None:
    sure, unsure = Suggestion("a", -0.2), Suggestion("b", -3.0)
    assert confident([sure, unsure], -1.0, automatic=True) == ([sure], 1)
    assert confident([sure, unsure], -1.0, automatic=False) == ([sure, unsure], 0)
    default = Settings().minConfidence
    very_unsure = replace(unsure, score=-99.0)
    assert confident([very_unsure], default, automatic=True) == ([very_unsure], 0)
    assert json.dumps(default) == "-100.0"
