"""Code actions that write code or prose with the model: docstring, function body, code from a
comment, explanation of a selection.

`offers()` is cheap (one parse) and tells which actions apply at a range; the list the client shows
is built from it. `run()` does the work on the model thread once the user picks one (codeAction
resolve or workspace/executeCommand) and returns a text change, or a message for the user.
Generated code goes through the completion post-processing and the parse check; nothing the
secret filter refuses is ever returned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from codecomp_lsp.context.indent import detect_indent_unit, leading_ws
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.symbols import HoverTarget, Symbol, enclosing_symbol
from codecomp_lsp.context.syntax import count_errors
from codecomp_lsp.engine.decoder import CacheSlot, Finish
from codecomp_lsp.features.action_text import (
    comment_block_end,
    doc_comment,
    next_task_at,
    python_docstring,
    stub_lines,
)
from codecomp_lsp.features.hover import HoverRequest, HoverService
from codecomp_lsp.features.modelio import (
    ModelIO,
    TextChange,
    diff_change,
    point_to_offset,
)
from codecomp_lsp.features.stops import make_stop_check
from codecomp_lsp.postprocess.parse_check import rank_candidates
from codecomp_lsp.postprocess.pipeline import clean_completion

__all__ = ["ACTIONS", "ActionOutcome", "ActionService", "NewDocument", "Offer"]

DOCSTRING, BODY, COMMENT, EXPLAIN = "docstring", "body", "comment", "explain"
ACTIONS = (DOCSTRING, BODY, COMMENT, EXPLAIN)
KIND_REWRITE = "refactor.rewrite"
KIND_EXPLAIN = "refactor.explain"  # not an edit; grouped with refactorings where clients group
MAX_BODY_LINES = 40
_FUNCTION_KINDS = frozenset({"function", "method", "constructor"})
_DOC_KINDS = _FUNCTION_KINDS | frozenset(
    {"class", "struct", "interface", "enum", "trait", "record", "type", "union"}
)


@dataclass(frozen=True)
class Offer:
    """An applicable action at a position; `line`/`character` locate it again when run."""

    action: str
    title: str
    kind: str
    line: int
    character: int
    end_line: int
    end_character: int


@dataclass(frozen=True)
class NewDocument:
    """A file an action writes (a translation): where it goes and what it holds."""

    uri: str
    text: str
    language: str
    insert_at: tuple[int, int] | None = None  # the file exists: insert there (line, column)


@dataclass(frozen=True)
class ActionOutcome:
    change: TextChange | None
    message: str | None = None  # shown to the user (the explanation, or why there is no edit)
    more: tuple[TextChange, ...] = ()  # further edits, not overlapping (a diff-sized rewrite)
    document: NewDocument | None = None  # a new file instead of an edit of this one

    @property
    def changes(self) -> list[TextChange]:
        return [] if self.change is None else [self.change, *self.more]


class ActionService:
    def __init__(self, io: ModelIO, hover: HoverService) -> None:
        self.io = io
        self.hover = hover

    # -- any thread: which actions apply --------------------------------------------------------
    def offers(
        self,
        uri: str,
        text: str,
        spec: LanguageSpec | None,
        start: tuple[int, int],
        end: tuple[int, int],
    ) -> list[Offer]:
        if spec is None:
            return []
        out: list[Offer] = []
        line, col = start
        symbol = enclosing_symbol(text, spec, line, col, uri=uri, kinds=_DOC_KINDS)
        if symbol is not None:
            at = (symbol.name_span[0], symbol.name_span[1])
            if symbol.docstring is None and self._docstring_slot(text, symbol, spec) is not None:
                out.append(
                    Offer(
                        DOCSTRING,
                        f"Generate docstring for `{symbol.name}`",
                        KIND_REWRITE,
                        *at,
                        *at,
                    )
                )
            if symbol.kind in _FUNCTION_KINDS and stub_lines(text, symbol, spec) is not None:
                out.append(
                    Offer(BODY, f"Complete the body of `{symbol.name}`", KIND_REWRITE, *at, *at)
                )
        if comment_block_end(text, spec, line) is not None:
            out.append(
                Offer(COMMENT, "Generate code from this comment", KIND_REWRITE, line, 0, line, 0)
            )
        if start != end:
            out.append(Offer(EXPLAIN, "Explain this code", KIND_EXPLAIN, *start, *end))
        return out

    # -- model thread ---------------------------------------------------------------------------
    def run(
        self,
        offer: Offer,
        uri: str,
        text: str,
        spec: LanguageSpec,
        *,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
        report: Callable[[str], None] | None = None,
    ) -> ActionOutcome:
        report = report or (lambda message: None)
        if offer.action == EXPLAIN:
            report("explaining")
            explanation = self.hover.explain_selection(
                text,
                spec,
                (offer.line, offer.character),
                (offer.end_line, offer.end_character),
                deadline=deadline,
                cancel=cancel,
            )
            return ActionOutcome(None, explanation or "the model wrote no usable explanation")
        if offer.action == COMMENT:
            end = comment_block_end(text, spec, offer.line)
            if end is None:
                return ActionOutcome(None, "there is no comment here any more")
            report("writing code")
            return self._comment_code(text, spec, end, cancel, deadline)
        symbol = enclosing_symbol(
            text, spec, offer.line, offer.character, uri=uri, kinds=_DOC_KINDS
        )
        if symbol is None:
            return ActionOutcome(None, "the definition is gone")
        if offer.action == DOCSTRING:
            report("writing the docstring")
            return self._docstring(uri, text, spec, symbol, cancel, deadline)
        if offer.action == BODY:
            report("writing the body")
            return self._body(text, spec, symbol, cancel, deadline)
        raise ValueError(f"unknown code action {offer.action!r}")

    # -- docstring ----------------------------------------------------------------------------
    def _docstring_slot(self, text: str, symbol: Symbol, spec: LanguageSpec) -> int | None:
        """The line a docstring is inserted before, or None when there is no sensible place."""
        if spec.indent_based:
            body = symbol.body
            if body is None or body[0] <= symbol.name_span[0]:
                return None
            return body[0]
        return symbol.top_line

    def _docstring(
        self,
        uri: str,
        text: str,
        spec: LanguageSpec,
        symbol: Symbol,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> ActionOutcome:
        row = self._docstring_slot(text, symbol, spec)
        if row is None or symbol.docstring is not None:
            return ActionOutcome(None, f"`{symbol.name}` already has a docstring")
        source = "\n".join(text.split("\n")[symbol.top_line : symbol.span[2] + 1])
        request = HoverRequest(
            HoverTarget("definition", symbol.name, symbol.name_span, symbol),
            uri,
            spec.name,
            source,
            text,
            spec,
            None,
        )
        summary = None
        try:
            summary = self.hover.explain(
                request,
                deadline=deadline,
                cancel=cancel,
                purpose="docstring",
                max_new_tokens=min(self.io.settings().codeActionMaxNewTokens, 96),
            )
        except TimeoutError:
            summary = None
        message = None
        if not summary:
            summary = f"TODO: describe {symbol.name}."
            message = "the model wrote nothing usable; a placeholder docstring was inserted"
        lines = text.split("\n")
        if spec.indent_based:
            indent = leading_ws(lines[row]) if row < len(lines) else "    "
            block = python_docstring(summary, indent)
        else:
            indent = leading_ws(lines[symbol.top_line]) if symbol.top_line < len(lines) else ""
            block = doc_comment(summary, indent, spec)
        new_text = "\n".join(lines[:row] + block.split("\n") + lines[row:])
        if count_errors(new_text, spec) > count_errors(text, spec):
            return ActionOutcome(None, "the docstring would break the syntax; nothing inserted")
        return ActionOutcome(diff_change(text, new_text), message)

    # -- code generation ------------------------------------------------------------------------
    def _generate_at(
        self,
        text: str,
        spec: LanguageSpec,
        line: int,
        indent: str,
        cancel: threading.Event | None,
        deadline: float | None,
        *,
        one_task: bool = False,
    ) -> str | None:
        """The best block the model writes at the (empty, indented) `line` of `text`.

        `one_task`: the block answers one comment, so it ends where the model starts
        another comment after writing code (it would otherwise go on to invent more tasks)."""
        settings = self.io.settings()
        ctx = self.io.fim_context(text, line, len(indent), spec, multiline=True)
        ctx = replace(ctx, block_indent=indent)
        ids = self.io.fim_ids(ctx)
        block_stop = make_stop_check(ctx, spec)
        stop = block_stop
        if one_task:

            def stop(generated: str) -> bool:
                return block_stop(generated) or next_task_at(generated, spec) is not None

        result = self.io.generate(
            ids,
            key=CacheSlot.ACTION,
            max_new_tokens=settings.codeActionMaxNewTokens,
            candidates=settings.candidates,
            stop_check=stop,
            cancel=cancel,
            deadline=deadline,
        )
        cleaned = []
        for candidate in result.candidates:
            raw = candidate.text
            cut = next_task_at(raw, spec) if one_task else None
            raw = raw if cut is None else raw[:cut]
            cut_off = cut is None and candidate.finish in (Finish.LENGTH, Finish.DEADLINE)
            block = clean_completion(raw, ctx, max_lines=MAX_BODY_LINES, cut_off=cut_off)
            if block and self.io.filter_output(block) is not None:
                cleaned.append(block)
        if not cleaned:
            return None
        offset = point_to_offset(text, line, len(indent))
        ranked = rank_candidates(cleaned, text, offset, spec)
        best, penalty = ranked[0]
        return best if penalty <= 0 else None

    def _body(
        self,
        text: str,
        spec: LanguageSpec,
        symbol: Symbol,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> ActionOutcome:
        stubs = stub_lines(text, symbol, spec)
        if stubs is None or symbol.body is None:
            return ActionOutcome(None, f"`{symbol.name}` already has a body")
        lines = text.split("\n")
        unit = detect_indent_unit(lines, symbol.name_span[0], spec.default_indent)
        header_ws = leading_ws(lines[symbol.name_span[0]])
        if spec.indent_based:
            first = stubs[0] if stubs else symbol.body[2] + 1
            indent = leading_ws(lines[stubs[0]]) if stubs else header_ws + unit
            kept = [ln for i, ln in enumerate(lines) if i not in set(stubs)]
            row = first - sum(1 for s in stubs if s < first)
            hole = kept[:row] + [indent] + kept[row:]
        else:
            start = point_to_offset(text, symbol.body[0], symbol.body[1])
            end = point_to_offset(text, symbol.body[2], symbol.body[3])
            indent = header_ws + unit
            opened = text[:start] + "{\n" + indent + "\n" + header_ws + "}" + text[end:]
            hole = opened.split("\n")
            row = symbol.body[0] + 1
        hole_text = "\n".join(hole)
        block = self._generate_at(hole_text, spec, row, indent, cancel, deadline)
        if block is None:
            return ActionOutcome(None, "the model wrote no body that parses")
        offset = point_to_offset(hole_text, row, len(indent))
        new_text = hole_text[:offset] + block + hole_text[offset:]
        return ActionOutcome(diff_change(text, new_text))

    def _comment_code(
        self,
        text: str,
        spec: LanguageSpec,
        comment_end: int,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> ActionOutcome:
        lines = text.split("\n")
        indent = leading_ws(lines[comment_end])
        row = comment_end + 1
        hole_text = "\n".join(lines[:row] + [indent] + lines[row:])
        block = self._generate_at(hole_text, spec, row, indent, cancel, deadline, one_task=True)
        if block is None:
            return ActionOutcome(None, "the model wrote no code that parses")
        offset = point_to_offset(hole_text, row, len(indent))
        new_text = hole_text[:offset] + block + hole_text[offset:]
        return ActionOutcome(diff_change(text, new_text))
