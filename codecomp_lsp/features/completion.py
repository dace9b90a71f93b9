"""Code completion: cursor context → prompt → model → post-processing, plus the typed-ahead shortcut.

`complete()` runs on the model thread (it tokenizes, parses and decodes); `typed_ahead()` is a few
string comparisons and runs on the event loop, so a user typing what we suggested gets the rest at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import tree_sitter

from codecomp_lsp.context.cursor import extract_context
from codecomp_lsp.context.languages import LanguageSpec, language_for
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.context.reachability import forbidden_endings
from codecomp_lsp.context.snippets import collect_snippets
from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.engine.decoder import (
    Cancelled,
    Decoder,
    Finish,
    GenerationRequest,
)
from codecomp_lsp.features.completion_types import (
    CompletionOutcome,
    CompletionQuery,
    DocumentSnapshot,
    Suggestion,
)
from codecomp_lsp.features.definition_check import (
    bound_count,
    guided_answer,
    needed_at,
    rank_by_definitions,
)
from codecomp_lsp.features.port import ModelPort
from codecomp_lsp.features.reference_check import ReferenceCheck
from codecomp_lsp.features.stops import make_stop_check
from codecomp_lsp.postprocess.parse_check import parse_penalty, rank_candidates
from codecomp_lsp.postprocess.pipeline import clean_completion
from codecomp_lsp.postprocess.secrets import find_secret_in, stream_prefix
from codecomp_lsp.prompt.bans import first_token_bans
from codecomp_lsp.prompt.builder import Prompt, PromptBuilder
from codecomp_lsp.settings import Settings
from codecomp_lsp.stages import Stage

__all__ = [
    "CompletionOutcome",
    "CompletionQuery",
    "CompletionService",
    "DocumentSnapshot",
    "Suggestion",
]

# Lines around the cursor handed to the context layer: bounds parse cost on huge files. The start is
# a multiple of the context's line step so its window snapping is unaffected. After the cursor the
# window holds what the suffix budget can use (a code line is rarely under 4 tokens) and no more:
# a half-typed line (an open `(` or `"""`) makes tree-sitter reparse everything after the edit, so
# each line past the cursor costs on every such keystroke (512 lines: 8 ms p95; 96: under 2 ms).
WINDOW_LINES_BEFORE = 1024
WINDOW_LINES_AFTER_MIN = 64
WINDOW_LINES_AFTER_MAX = 512
TOKENS_PER_LINE_MIN = 4
LINE_STEP = 16


@dataclass(frozen=True)
class _Shown:
    """The last suggestion shown in a document, for answering typed-ahead keystrokes."""

    line: int
    head: str  # the document text before the cursor line
    line_prefix: str
    line_suffix: str
    text: str


def window_tree(window: str, spec: LanguageSpec, uri: str) -> tree_sitter.Tree:
    """The window's tree, reparsed from the last one parsed for this document in proportion to the
    edit, and left in the shared cache where the parse check finds it. Asked for only when needed:
    most keystrokes (typing inside a line, one candidate) never parse."""
    return parsed(window, spec, base=("window", uri)).tree


def rank_suggestions(
    texts: list[str], window: str, offset: int, spec: LanguageSpec | None, uri: str
) -> list[tuple[str, int | None]]:
    """Candidates best first by the errors each adds to the window (`rank_candidates`). A lone
    candidate is shown whatever it adds, so it is not parsed (penalty None): that parse would be
    most of a keystroke's time outside the model."""
    if len(texts) <= 1:
        return [(text, None) for text in texts]
    if spec is not None:
        window_tree(window, spec, uri)  # the check's base, parsed incrementally
    return list(rank_candidates(texts, window, offset, spec))


def lines_after_for(suffix_budget: int) -> int:
    """How many lines after the cursor the window keeps for a suffix of `suffix_budget` tokens."""
    wanted = suffix_budget // TOKENS_PER_LINE_MIN
    return max(WINDOW_LINES_AFTER_MIN, min(WINDOW_LINES_AFTER_MAX, wanted))


def _line_window(
    doc: DocumentSnapshot, line: int, lines_after: int = WINDOW_LINES_AFTER_MAX
) -> tuple[str, int, int]:
    """The text of the lines around `line`, the cursor line inside it, and the first line's number."""
    starts = doc.line_starts
    count = len(starts)
    line = max(0, min(line, count - 1))
    start = max(0, line - WINDOW_LINES_BEFORE)
    start -= start % LINE_STEP
    end = min(count, line + lines_after + 1)
    if start == 0 and end == count:
        return doc.text, line, 0
    stop = starts[end] - 1 if end < count else len(doc.text)  # without the last line's "\n"
    return doc.text[starts[start] : stop], line - start, start


class CompletionService:
    """Completion for the server and the CLI; one instance per engine."""

    def __init__(self, engine: ModelPort, settings: Callable[[], Settings]) -> None:
        self.engine = engine
        self.settings = settings
        self._shown: dict[str, _Shown] = {}
        self._lock = threading.Lock()
        self.references = ReferenceCheck()  # names nothing the model saw defines

    # -- event loop ---------------------------------------------------------------------------
    def typed_ahead(self, query: CompletionQuery) -> CompletionOutcome | None:
        """The rest of the last suggestion when the user typed its beginning; None when it doesn't apply."""
        with self._lock:
            shown = self._shown.get(query.doc.uri)
        if shown is None or shown.line != query.line:
            return None
        text = query.doc.text
        start = query.doc.line_offset(query.line)
        end = text.find("\n", start)
        line_text = text[start:] if end < 0 else text[start:end]
        line_prefix, line_suffix = line_text[: query.character], line_text[query.character :]
        if line_suffix != shown.line_suffix or not line_prefix.startswith(shown.line_prefix):
            return None
        typed = line_prefix[len(shown.line_prefix) :]
        if not typed or not shown.text.startswith(typed) or len(typed) >= len(shown.text):
            return None
        if text[:start] != shown.head:
            return None
        rest = shown.text[len(typed) :]
        self.engine.stats.add(typedAheadHits=1)
        return CompletionOutcome([Suggestion(rest, 0.0)], typed_ahead=True)

    def forget(self, uri: str) -> None:
        with self._lock:
            self._shown.pop(uri, None)
        self.references.forget(uri)

    # -- model thread -------------------------------------------------------------------------
    def _refuse(self, text: str, ctx: CursorContext, refused: set[str]) -> bool:
        """Whether a cleaned candidate carries (or completes) what looks like a secret; each
        refused text is counted once."""
        deny = self.settings().denyPatterns
        if find_secret_in(text, ctx.line_prefix, ctx.line_suffix, deny) is None:
            return False
        if text not in refused:
            refused.add(text)
            self.engine.stats.add(suppressedSecrets=1)
        return True

    def builder(self) -> PromptBuilder:
        settings = self.settings()
        return self.engine.prompt_builder(settings.maxPromptTokens, settings.maxNewTokens)

    def context_for(
        self, query: CompletionQuery, builder: PromptBuilder
    ) -> tuple[CursorContext, str, int, LanguageSpec | None]:
        """The cursor context, the windowed text it came from, and the cursor's offset in that text."""
        settings = self.settings()
        doc = query.doc
        spec = language_for(doc.language_id, doc.uri)
        prefix_budget, suffix_budget, snippet_budget = builder.budgets()
        off = settings.disabledStages
        if Stage.BUDGET_SPLIT in off:
            prefix_budget = suffix_budget = builder.max_prompt_tokens
        window, line, first = _line_window(doc, query.line, lines_after_for(suffix_budget))
        others = [
            (d.uri, d.text, language_for(d.language_id, d.uri))
            for d in query.open_docs
            if d.uri != doc.uri and len(d.text) < 1_000_000
        ]
        if not others:
            # Nothing else is open: the current file gets the snippets' share too. This only
            # changes when documents open or close, so the window stays stable while typing.
            prefix_budget += snippet_budget
            snippet_budget = 0
        ctx = extract_context(
            window,
            line,
            query.character,
            spec,
            count_tokens=builder.counter.count,
            prefix_budget=prefix_budget,
            suffix_budget=suffix_budget,
            line_step=1 if Stage.LINE_STEP in off else LINE_STEP,
            tree=(lambda: window_tree(window, spec, doc.uri)) if spec is not None else None,
        )
        if settings.multiline != "auto":
            ctx = replace(ctx, multiline=settings.multiline == "always")
        if others and snippet_budget > 0:
            snippets = collect_snippets(
                ctx.before + ctx.after,
                spec,
                doc.uri,
                others,
                count_tokens=builder.counter.count,
                budget=snippet_budget,
            )
            ctx = replace(ctx, snippets=snippets)
        starts = doc.line_starts
        offset = starts[ctx.line + first] - starts[first] + ctx.character
        return ctx, window, offset, spec

    def prompt_ids(self, query: CompletionQuery) -> list[int]:
        """The prompt `complete` would build for this query (background prefill fills the cache
        with exactly these tokens)."""
        builder = self.builder()
        ctx, _, _, _ = self.context_for(query, builder)
        return self._prompt(builder, ctx, query.automatic).ids

    def _prompt(self, builder: PromptBuilder, ctx: CursorContext, automatic: bool) -> Prompt:
        """The prompt in the layout for this request: `promptLayout` "auto" puts what is typed
        on the cursor line after the middle marker only as the user types (the cache stays
        valid from keystroke to keystroke), and lays an invoked request out as the model was
        trained (Qwen2.5-Coder-0.5B, HumanEval lines with their first word typed: 70.0% vs
        60.0%, benchmarks/results/quality-pipeline.md)."""
        settings = self.settings()
        psm = Stage.MIDDLE_LAYOUT in settings.disabledStages or settings.promptLayout == "psm"
        if settings.promptLayout == "auto" and not automatic:
            psm = True
        return builder.build(ctx, plain_psm=psm)

    def remember(self, doc: DocumentSnapshot, line: int, ctx: CursorContext, text: str) -> None:
        """`text` is on screen at (line, end of ctx's line prefix): typing it answers at once."""
        head_end = doc.line_offset(line)
        with self._lock:
            self._shown[doc.uri] = _Shown(
                line, doc.text[:head_end], ctx.line_prefix, ctx.line_suffix, text
            )

    def complete(self, query: CompletionQuery, *, remember: bool = True) -> CompletionOutcome:
        """Complete at the query's cursor; `remember`: the answer is what the user will see
        (a prefetch for a text the user does not have yet is not)."""
        settings = self.settings()
        doc = query.doc
        builder = self.builder()
        ctx, window, offset, spec = self.context_for(query, builder)
        if not settings.language_enabled(ctx.language or doc.language_id):
            return CompletionOutcome([], reason="disabled", context=ctx)
        if ctx.mid_word and query.automatic:
            return CompletionOutcome([], reason="mid-word", context=ctx)
        prompt = self._prompt(builder, ctx, query.automatic)
        off = frozenset(settings.disabledStages)
        loaded, backend = self.engine.require()
        # Remote engines take no first-token bans; the local decoder does.
        endings = (
            ()
            if Stage.REACHABILITY in off or not isinstance(backend, Decoder)
            else (forbidden_endings(ctx))
        )

        refused: set[str] = set()
        on_text = None
        if query.on_text is not None:
            stream = query.on_text
            multiline = ctx.multiline
            streamed: list[str | None] = [""]  # what the client shows; None after a secret

            def on_text(row: int, text: str) -> None:
                if row != 0 or streamed[0] is None:
                    return
                safe = stream_prefix(
                    text if multiline else text.split("\n", 1)[0],
                    settings.denyPatterns,
                    ctx.line_prefix,
                )
                if safe is None:
                    streamed[0] = None  # the final, filtered text replaces what was shown
                elif safe.startswith(streamed[0] or ""):
                    streamed[0] = safe
                    stream(safe)

        on_finish = None
        if query.on_candidate is not None:
            emit = query.on_candidate
            sent: set[str] = set()

            def on_finish(row: int, text: str) -> None:
                cleaned = clean_completion(text, ctx, off=off)
                if cleaned and spec is not None:
                    window_tree(window, spec, doc.uri)  # parsed incrementally, not from scratch
                if (
                    cleaned
                    and cleaned not in sent
                    and not self._refuse(cleaned, ctx, refused)
                    and (
                        Stage.PARSE_CHECK in off
                        or parse_penalty(window, offset, cleaned, spec) <= 0
                    )
                ):
                    sent.add(cleaned)
                    emit(Suggestion(cleaned, 0.0))

        request = GenerationRequest(
            key=doc.uri,
            prompt_ids=prompt.ids,
            max_new_tokens=settings.maxNewTokens
            if ctx.multiline
            else min(settings.maxNewTokens, 48),
            candidates=query.candidates,
            temperature=settings.temperature,
            stop_check=None if Stage.STOP_CHECK in off else make_stop_check(ctx, spec),
            on_text=on_text,
            on_finish=on_finish,
            cancel=query.cancel,
            deadline=query.received + settings.timeBudgetMs / 1000
            if settings.timeBudgetMs
            else None,
            reuse=settings.kvReuse,
            background=query.background,
            banned_first=first_token_bans(loaded.tokenizer, endings),
        )
        if request.deadline is not None and time.monotonic() >= request.deadline:
            # Its time went by in the queue: an answer now would come too late to be wanted.
            return CompletionOutcome([], reason="deadline", context=ctx)
        result = self.engine.generate(request)
        if result.cancelled:
            raise Cancelled()
        cleaned: list[tuple[str, float]] = []
        for cand in result.candidates:
            cut_off = cand.finish in (Finish.LENGTH, Finish.DEADLINE)
            text = clean_completion(cand.text, ctx, cut_off=cut_off, off=off)
            if text and self._refuse(text, ctx, refused):
                continue  # never shown: it looks like it carries a secret
            if text and all(text != seen for seen, _ in cleaned):
                cleaned.append((text, cand.mean_logprob))
        needed = (
            None
            if Stage.DEFINITION_CHECK in off
            else needed_at(
                ctx,
                window,
                offset,
                spec,
                lambda: window_tree(window, spec, doc.uri),
                lambda: self.references.elsewhere(doc, query.open_docs),
            )
        )
        if needed is not None and all(
            bound_count(t, needed) < len(needed.names) for t, _ in cleaned
        ):
            extra = guided_answer(
                self.engine,
                builder,
                ctx,
                request,
                needed,
                lambda c: None if Stage.STOP_CHECK in off else make_stop_check(c, spec),
                off,
                lambda words: first_token_bans(loaded.tokenizer, words),
            )
            if extra and extra[0] not in dict(cleaned) and not self._refuse(extra[0], ctx, refused):
                cleaned.append(extra)
                self.engine.stats.add(definitionAnswers=1)
        scores = dict(cleaned)
        if Stage.PARSE_CHECK in off:
            ranked: list[tuple[str, int | None]] = [(text, None) for text in scores]
        else:
            ranked = rank_suggestions(list(scores), window, offset, spec, doc.uri)
        suggestions = [Suggestion(text, scores[text], penalty) for text, penalty in ranked]
        if Stage.REFERENCE_CHECK not in off:
            language = spec.name if spec is not None else None
            suggestions, held = self.references.apply(
                suggestions, doc, query.open_docs, language, automatic=query.automatic
            )
            self.engine.stats.add(heldBackUnknownNames=held)
        if needed is not None:
            suggestions = rank_by_definitions(suggestions, needed)
        incomplete = any(c.finish in (Finish.DEADLINE, Finish.LENGTH) for c in result.candidates)
        if suggestions and remember:
            self.remember(doc, query.line, ctx, suggestions[0].text)
        return CompletionOutcome(
            suggestions,
            incomplete=incomplete,
            reason="" if suggestions else "empty",
            result=result,
            context=ctx,
        )
