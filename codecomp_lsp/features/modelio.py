"""What hover, quick fixes and code actions share: prompts, a generation call, the secret filter.

Prompts for fill-in-the-middle are built the way completion builds them — a document text with a
cursor, cut into windows by the context layer and laid out by the prompt builder — so the same
markers, budgets and KV-cache layout apply. Instruction-tuned models (a chat template in the
tokenizer) are asked in words instead where a feature wants prose.

Everything here except `filter_output` runs on the model worker thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from codecomp_lsp.context.cursor import extract_context
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.engine.decoder import Cancelled, GenerationRequest, GenerationResult
from codecomp_lsp.features.port import ModelPort
from codecomp_lsp.postprocess.secrets import find_secret
from codecomp_lsp.prompt.builder import PromptBuilder
from codecomp_lsp.settings import Settings

__all__ = ["ModelIO", "TextChange", "diff_change", "offset_to_point", "point_to_offset"]


@dataclass(frozen=True)
class TextChange:
    """Replace (start_line, start_col)..(end_line, end_col) by `new_text`; code points, "\\n" text."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    new_text: str


def point_to_offset(text: str, line: int, col: int) -> int:
    offset = 0
    for _ in range(line):
        nl = text.find("\n", offset)
        if nl < 0:
            return len(text)
        offset = nl + 1
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    return min(offset + col, end)


def offset_to_point(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start


def diff_change(old: str, new: str) -> TextChange | None:
    """The single smallest replacement turning `old` into `new` (None when they are equal)."""
    if old == new:
        return None
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    start = offset_to_point(old, prefix)
    end = offset_to_point(old, len(old) - suffix)
    return TextChange(*start, *end, new[prefix : len(new) - suffix])


_CUT_MARK = "\n…\n"  # where the middle of a long chat prompt was cut
_CHAT_CUTS = (0.95, 0.8, 0.6, 0.4)  # share of the room left kept by each successive cut


def _cut_middle(text: str, keep: int) -> str:
    """`text` with its middle cut out: `keep` characters of its start and end, and a mark."""
    head = keep // 2
    return text[:head] + _CUT_MARK + text[len(text) - (keep - head) :]


def _count(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _render_chat(tokenizer: Any, prompt: str, system: str | None) -> list[int]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    try:
        rendered = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
    except Exception:  # noqa: BLE001 - some templates refuse a system turn
        if not system:
            raise
        merged = [{"role": "user", "content": f"{system}\n\n{prompt}"}]
        rendered = tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(rendered, add_special_tokens=False)["input_ids"])


class ModelIO:
    """Prompting helpers over one engine; one instance per server."""

    def __init__(self, engine: ModelPort, settings: Callable[[], Settings]) -> None:
        self.engine = engine
        self.settings = settings

    # -- any thread ---------------------------------------------------------------------------
    def filter_output(self, text: str | None) -> str | None:
        """`text` unless it looks like it carries a secret (then None, and counted)."""
        if not text:
            return text
        if find_secret(text, self.settings().denyPatterns) is not None:
            self.engine.stats.add(suppressedSecrets=1)
            return None
        return text

    @property
    def ready(self) -> bool:
        return self.engine.usable

    # -- model thread ---------------------------------------------------------------------------
    def builder(self) -> PromptBuilder:
        settings = self.settings()
        return self.engine.prompt_builder(settings.maxPromptTokens, settings.codeActionMaxNewTokens)

    @property
    def chat(self) -> bool:
        loaded = self.engine.loaded
        return bool(loaded is not None and loaded.has_chat_template)

    def fim_context(
        self,
        text: str,
        line: int,
        character: int,
        spec: LanguageSpec | None,
        *,
        multiline: bool | None = None,
    ) -> CursorContext:
        """The cursor context at (line, character) of `text`, windowed to the prompt budget."""
        builder = self.builder()
        prefix_budget, suffix_budget, snippet_budget = builder.budgets()
        ctx = extract_context(
            text,
            line,
            character,
            spec,
            count_tokens=builder.counter.count,
            prefix_budget=prefix_budget + snippet_budget,
            suffix_budget=suffix_budget,
        )
        if multiline is not None:
            ctx = replace(ctx, multiline=multiline)
        return ctx

    def fim_ids(self, ctx: CursorContext) -> list[int]:
        return self.builder().build(ctx).ids

    def chat_ids(self, prompt: str, system: str | None = None) -> list[int]:
        """Token ids of a one-turn chat asking `prompt`, ready for the assistant's answer.

        Over maxPromptTokens, the middle of `prompt` is cut (its start and end stay) and the chat
        rendered again, so the template's head (system turn, role markers) and the generation
        prompt at its end are kept; token slices of both ends only when no cut fits.
        """
        loaded, _ = self.engine.require()
        tokenizer: Any = loaded.tokenizer
        budget = self.settings().maxPromptTokens
        ids = _render_chat(tokenizer, prompt, system)
        if len(ids) <= budget:
            return ids
        prompt_tokens = max(1, _count(tokenizer, prompt))
        chars_per_token = len(prompt) / prompt_tokens
        for share in _CHAT_CUTS:
            # Tokens the user's text may take: the budget less the template around it.
            room = budget - (len(ids) - prompt_tokens)
            keep = int(min(room * chars_per_token, len(prompt)) * share) - len(_CUT_MARK)
            if keep <= 0:
                break
            text = _cut_middle(prompt, keep)
            ids = _render_chat(tokenizer, text, system)
            if len(ids) <= budget:
                return ids
            prompt_tokens = max(1, _count(tokenizer, text))
        head = budget // 2
        return ids[:head] + ids[len(ids) - (budget - head) :]

    def text_ids(self, prompt: str) -> list[int]:
        """Token ids of plain `prompt` for a model without a chat template; over
        maxPromptTokens its end is kept (the question is at the end)."""
        loaded, _ = self.engine.require()
        ids = list(loaded.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        return ids[-self.settings().maxPromptTokens :]

    def generate(
        self,
        ids: list[int],
        *,
        key: str,
        max_new_tokens: int,
        candidates: int = 1,
        stop_check: Callable[[str], bool] | None = None,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> GenerationResult:
        """Decode; raise Cancelled when cancelled. `deadline` is a time.monotonic() value."""
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError("no time left")
        request = GenerationRequest(
            key=key,
            prompt_ids=ids,
            max_new_tokens=max_new_tokens,
            candidates=candidates,
            temperature=self.settings().temperature,
            stop_check=stop_check,
            cancel=cancel or threading.Event(),
            deadline=deadline,
            reuse=self.settings().kvReuse,
        )
        result = self.engine.generate(request)
        if result.cancelled:
            raise Cancelled()
        return result
