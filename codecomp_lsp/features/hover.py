"""Hover: the symbol's signature and docstring from tree-sitter, plus a short model explanation.

The structural part (what the cursor is on, resolved across open documents) is always returned.
The explanation is best effort within a time budget (`hoverTimeBudgetMs`) and a token cap
(`hoverMaxTokens`), runs on the model worker like completion, and is cached per symbol text:
- an instruction-tuned model (its tokenizer has a chat template) is asked in words;
- a fill-in-the-middle / base model writes the docstring: the definition's header with an opened
  docstring (Python) or comment line (others) is the prefix, the body the suffix.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from codecomp_lsp.context.indent import leading_ws
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.signatures import clean_comment
from codecomp_lsp.context.snippets import display_path
from codecomp_lsp.context.symbols import HoverTarget, Symbol, symbol_at
from codecomp_lsp.engine.decoder import CacheSlot, Finish, StopCheck
from codecomp_lsp.features.modelio import ModelIO

__all__ = ["HoverRequest", "HoverService", "clean_explanation", "render_hover"]

MAX_EXPLANATION_CHARS = 320
MAX_PROMPT_SOURCE_LINES = 80
_CACHE_ENTRIES = 256
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MARKER = re.compile(r"<\|[^|>]{1,40}\|>|<｜[^｜]{1,40}｜>|<(?:fim|file)_[a-z]+>|▁<[A-Z]{3}>")


@dataclass(frozen=True)
class HoverRequest:
    """A located hover target and the source texts a prompt about it needs."""

    target: HoverTarget
    uri: str  # the document hovered
    language: str
    source: str  # the definition's text (or the call expression): the explanation cache key
    doc_text: str  # text of the document that holds the definition (or the call)
    doc_spec: LanguageSpec
    where: str | None  # "utils.py:12" for a definition in another document


def _lines_of(text: str, first: int, last: int) -> str:
    lines = text.split("\n")
    chunk = lines[first : last + 1]
    if len(chunk) > MAX_PROMPT_SOURCE_LINES:
        chunk = chunk[:MAX_PROMPT_SOURCE_LINES] + ["..."]
    return "\n".join(chunk)


def cut_to_sentence(text: str) -> str:
    """A capped explanation ends at its last full sentence rather than mid-phrase; one with no
    full sentence to fall back on says it was cut (…)."""
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", text)]
    if ends and ends[-1] > len(text) // 3:
        return text[: ends[-1]]
    stripped = text.rstrip()
    return stripped + "…" if stripped and stripped[-1] not in ".!?…" else text


# An explanation that starts like a statement, or is dense with code punctuation, is code the
# model wrote instead of prose (weak models do this); it is not shown as an explanation.
_CODE_START = re.compile(
    r"^(?:return|if|elif|else|for|while|def|class|import|from|try|except|with|raise|assert|"
    r"const|let|var|function)\b|^self\.|^[A-Za-z_][\w.]*\s*(?:[-+*/]?=(?!=)|\()"
)


def looks_like_code(text: str) -> bool:
    symbols = sum(ch in "(){}[]=;<>" for ch in text)
    return bool(_CODE_START.match(text)) or symbols > 0.06 * max(1, len(text))


def clean_explanation(raw: str) -> str | None:
    """A model's docstring / comment / answer as one short paragraph of prose, or None."""
    text = _MARKER.split(raw, maxsplit=1)[0]
    for end in ('"""', "'''", "*/"):
        text = text.split(end, 1)[0]
    lines: list[str] = []
    for line in text.split("\n"):
        line = clean_comment(line).strip().strip('"').strip()
        if not line:
            if lines:
                break  # the first paragraph is enough
            continue
        lines.append(line)
    text = _CONTROL.sub("", " ".join(lines)).strip()
    text = re.sub(r"\s+", " ", text)
    if sum(ch.isalpha() for ch in text) < 3 or looks_like_code(text):
        return None
    words = text.lower().split()
    if len(words) >= 6 and len(set(words)) < 0.4 * len(words):
        return None  # degenerate repetition, not an explanation
    if len(text) > MAX_EXPLANATION_CHARS:
        cut = text[: MAX_EXPLANATION_CHARS - 1]
        text = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return text


def _markdown_docstring(doc: str) -> str:
    # Keep the docstring's line structure without letting indented lines turn into code blocks.
    out = []
    for line in doc.split("\n"):
        stripped = line.lstrip(" ")
        out.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    return "  \n".join(out)


def render_hover(request: HoverRequest, explanation: str | None, *, markdown: bool) -> str:
    """The hover text: signature, kind line, docstring, then the model's explanation."""
    target = request.target
    symbol = target.symbol
    if symbol is not None:
        code = symbol.signature
        title = symbol.header
        doc = symbol.docstring
    else:
        code = target.expression or target.name
        title = f"(call) {target.name}"
        doc = None
    if request.where:
        title += f" — defined in {request.where}"
    if markdown:
        fence = "````" if "```" in code else "```"
        parts = [f"{fence}{request.language}\n{code}\n{fence}", f"*{title}*"]
        if doc:
            parts.append(_markdown_docstring(doc))
        if explanation:
            parts.append(f"---\n**codecomp:** {explanation}")
        return "\n\n".join(parts)
    parts = [title, code]
    if doc:
        parts.append(doc)
    if explanation:
        parts.append(f"codecomp: {explanation}")
    return "\n\n".join(parts)


class HoverService:
    """Locates hover targets (any thread) and writes explanations (model thread)."""

    def __init__(self, io: ModelIO) -> None:
        self.io = io
        self._cache: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    # -- any thread -----------------------------------------------------------------------
    def locate(
        self,
        uri: str,
        text: str,
        spec: LanguageSpec,
        line: int,
        character: int,
        open_docs: Iterable[tuple[str, str, LanguageSpec]] = (),
    ) -> HoverRequest | None:
        """What to show for the cursor at (line, character), or None for nothing to say."""
        others = [(u, t, s) for u, t, s in open_docs if u != uri]
        target = symbol_at(text, spec, line, character, uri=uri, open_docs=others)
        if target is None:
            return None
        symbol = target.symbol
        doc_text, doc_spec, where = text, spec, None
        if symbol is not None and symbol.uri and symbol.uri != uri:
            for other_uri, other_text, other_spec in others:
                if other_uri == symbol.uri:
                    doc_text, doc_spec = other_text, other_spec
                    where = f"{display_path(other_uri, uri)}:{symbol.span[0] + 1}"
                    break
        if symbol is not None:
            source = _lines_of(doc_text, symbol.top_line, symbol.span[2])
        else:
            source = target.line_text.strip() or target.expression
        return HoverRequest(target, uri, spec.name, source, doc_text, doc_spec, where)

    def _key(self, request: HoverRequest) -> tuple | None:
        loaded = self.io.engine.loaded
        if loaded is None:
            return None
        return (loaded.name, loaded.template.name, self.io.chat, request.language, request.source)

    def cached(self, request: HoverRequest) -> str | None:
        """The remembered explanation ("" when the model had nothing usable), or None."""
        key = self._key(request)
        with self._lock:
            if key is None or key not in self._cache:
                return None
            self._cache.move_to_end(key)
            return self._cache[key]

    def _remember(self, key: tuple | None, text: str) -> None:
        if key is None:
            return
        with self._lock:
            self._cache[key] = text
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)

    # -- model thread -------------------------------------------------------------------------
    def explain(
        self,
        request: HoverRequest,
        *,
        deadline: float | None,
        cancel: threading.Event | None = None,
        purpose: str = "hover",
        max_new_tokens: int | None = None,
    ) -> str | None:
        """A short explanation, or None (no time, nothing usable, or filtered as a secret).

        `purpose` "docstring" asks a chat model for a docstring summary instead of an explanation.
        """
        if deadline is not None and time.monotonic() >= deadline:
            return None  # the job waited in the queue past the hover's budget
        settings = self.io.settings()
        key = self._key(request)
        if key is not None and purpose != "hover":
            key = (*key, purpose)
        if self.io.chat:
            ids = self.io.chat_ids(self._question(request, purpose), system=_SYSTEM)
            stop = None
        else:
            ids, stop = self._fim_prompt(request)
        result = self.io.generate(
            ids,
            key=CacheSlot.HOVER,
            max_new_tokens=max_new_tokens or settings.hoverMaxTokens,
            stop_check=stop,
            cancel=cancel,
            deadline=deadline,
        )
        candidate = result.candidates[0]
        raw = candidate.text
        if candidate.finish in (Finish.LENGTH, Finish.DEADLINE):
            raw = cut_to_sentence(raw)
        text = self.io.filter_output(clean_explanation(raw))
        if candidate.finish in (Finish.STOP, Finish.LENGTH):
            # Nothing usable is remembered too: the same prompt would give the same answer.
            self._remember(key, text or "")
        return text or None

    def explain_selection(
        self,
        text: str,
        spec: LanguageSpec,
        start: tuple[int, int],
        end: tuple[int, int],
        *,
        deadline: float | None,
        cancel: threading.Event | None = None,
    ) -> str | None:
        """What the code between `start` and `end` does, in a sentence or two."""
        lines = text.split("\n")
        selection = _lines_of(text, start[0], end[0]) if end[0] > start[0] else ""
        if not selection:
            row = lines[start[0]] if start[0] < len(lines) else ""
            selection = row[start[1] : end[1]]
        if not selection.strip():
            return None
        if self.io.chat:
            question = (
                f"Explain briefly what this {spec.name} code does. Answer in plain prose.\n\n"
                f"```{spec.name}\n{selection}\n```"
            )
            ids, stop = self.io.chat_ids(question, system=_SYSTEM), None
        else:
            ids, stop = self._comment_prompt(lines, spec, start[0], inside=False)
        result = self.io.generate(
            ids,
            key=CacheSlot.HOVER,
            max_new_tokens=self.io.settings().hoverMaxTokens * 2,
            stop_check=stop,
            cancel=cancel,
            deadline=deadline,
        )
        return self.io.filter_output(clean_explanation(result.candidates[0].text))

    def _question(self, request: HoverRequest, purpose: str = "hover") -> str:
        target = request.target
        what = target.symbol.kind if target.symbol is not None else "call"
        code = f"```{request.language}\n{request.source}\n```"
        if purpose == "docstring":
            return (
                f"Write a one-sentence docstring summary for the {request.language} {what} "
                f"`{target.name}`. Reply with the sentence only, no quotes.\n\n{code}"
            )
        return (
            f"In one or two short sentences, explain what the {request.language} {what} "
            f"`{target.name}` does. Answer in plain prose.\n\n{code}"
        )

    def _fim_prompt(self, request: HoverRequest) -> tuple[list[int], StopCheck]:
        symbol = request.target.symbol
        spec = request.doc_spec
        lines = request.doc_text.split("\n")
        if symbol is not None and symbol.body is not None:
            header_line = symbol.name_span[0]
            if spec.indent_based and symbol.body[0] > header_line:
                return self._python_docstring_prompt(symbol, lines, spec)
            if not spec.indent_based:
                return self._comment_prompt(lines, spec, symbol.body[0] + 1, inside=True)
        row = symbol.span[0] if symbol is not None else request.target.range[0]
        return self._comment_prompt(lines, spec, row, inside=False)

    def _python_docstring_prompt(
        self, symbol: Symbol, lines: list[str], spec: LanguageSpec
    ) -> tuple[list[int], StopCheck]:
        assert symbol.body is not None
        first = symbol.body[0]
        indent = leading_ws(lines[first]) if first < len(lines) else "    "
        body = list(lines[first:])
        if symbol.doc_span is not None and symbol.doc_span[0] >= first:
            # The existing docstring would just be copied; the model writes its own.
            drop = symbol.doc_span[2] - symbol.doc_span[0] + 1
            body = body[symbol.doc_span[0] - first :][drop:]
        slot = indent + '""""""'
        text = "\n".join(lines[:first] + [slot] + body)
        ctx = self.io.fim_context(text, first, len(indent) + 3, spec, multiline=False)

        def stop(generated: str) -> bool:
            return '"""' in generated or "\n\n" in generated.lstrip("\n") or len(generated) > 400

        return self.io.fim_ids(ctx), stop

    def _comment_prompt(
        self, lines: list[str], spec: LanguageSpec, row: int, *, inside: bool
    ) -> tuple[list[int], StopCheck]:
        """A comment line opened at `row` (before the line that is there now)."""
        row = max(0, min(row, len(lines)))
        reference = lines[row] if row < len(lines) and lines[row].strip() else ""
        if not reference and row > 0:
            reference = lines[row - 1]
        indent = leading_ws(reference)
        if inside and row > 0 and not reference.strip():
            indent = leading_ws(lines[row - 1]) + spec.default_indent
        slot = f"{indent}{spec.line_comment} "
        text = "\n".join(lines[:row] + [slot] + lines[row:])
        ctx = self.io.fim_context(text, row, len(slot), spec, multiline=False)

        def stop(generated: str) -> bool:
            return "\n" in generated or len(generated) > 400

        return self.io.fim_ids(ctx), stop


_SYSTEM = "You are a concise programming assistant. Explain code briefly and accurately."
