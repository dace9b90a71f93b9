"""What a completion is asked and answers: the document snapshot, the query, the suggestions
and the outcome — shared by the server, the CLI, the evaluation harness and the features."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate

from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.engine.generation import GenerationResult


@dataclass(frozen=True)
class DocumentSnapshot:
    uri: str
    text: str  # "\n" line endings
    language_id: str | None = None
    version: int | None = None
    # Where each line of `text` starts, when the caller already knows (the document store does).
    starts: Sequence[int] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def line_starts(self) -> Sequence[int]:
        """Code-point offset of each line's first character."""
        if self.starts is not None:
            return self.starts
        return [0, *accumulate(len(line) + 1 for line in self.text.split("\n"))][:-1]

    def line_offset(self, line: int) -> int:
        """Offset of the start of `line` (the text's length past the last line)."""
        starts = self.line_starts
        return starts[max(0, line)] if line < len(starts) else len(self.text)


@dataclass
class CompletionQuery:
    doc: DocumentSnapshot
    line: int
    character: int  # code points
    candidates: int = 1
    automatic: bool = True  # typed, not explicitly invoked: mid-word positions get nothing
    open_docs: list[DocumentSnapshot] = field(default_factory=list)
    on_text: Callable[[str], None] | None = None  # the first candidate's text as it grows
    on_candidate: Callable[[Suggestion], None] | None = None  # each cleaned candidate as it ends
    cancel: threading.Event = field(default_factory=threading.Event)
    feature: str = "inline"
    # When the request arrived (time.monotonic()): the time budget counts from here, so time spent
    # waiting behind other work is part of it.
    received: float = field(default_factory=time.monotonic)
    background: bool = False  # computed ahead of the user (a prefetch), not asked for


@dataclass(frozen=True)
class Suggestion:
    text: str  # inserted at the cursor
    score: float  # mean token log-probability
    parse_penalty: int | None = 0  # errors the candidate adds; None: not parsed (it was alone)


@dataclass
class CompletionOutcome:
    suggestions: list[Suggestion]
    incomplete: bool = False
    reason: str = ""  # why there is nothing: "mid-word", "disabled", "empty", "cancelled"
    result: GenerationResult | None = None
    typed_ahead: bool = False
    context: CursorContext | None = None
