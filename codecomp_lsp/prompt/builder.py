"""Turn a cursor context into prompt token ids, stable parts first.

Layout: `[snippets][PRE] before + indent [SUF] line_suffix + after [MID] typed`, where `indent` and
`typed` split the cursor line's text before the cursor. Each part is tokenized on its own and
concatenated, so an edit in one part never changes the tokens of the parts before it, and typing on
the cursor line only changes the tail after the middle marker.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.prompt.templates import FimTemplate

# The cursor line can be huge (minified code); keep this much of it around the cursor.
MAX_LINE_CHARS = 2000


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    middle_start: int  # index of the first token of the cursor line's typed text
    template: str


class TokenCounter:
    """Tokenizes text segments with a small LRU, since most segments repeat between keystrokes."""

    def __init__(self, tokenizer: Any, capacity: int = 8192) -> None:
        self._tokenizer = tokenizer
        self._cache: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        self._capacity = capacity

    def encode(self, text: str) -> tuple[int, ...]:
        if not text:
            return ()
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        # split_special_tokens: a file that contains "<|endoftext|>" must not inject a control token.
        ids = tuple(
            self._tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]
        )
        self._cache[text] = ids
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return ids

    def count(self, text: str) -> int:
        return len(self.encode(text))


class PromptBuilder:
    """Builds prompts for one tokenizer and template."""

    def serves(self, tokenizer: Any, template: FimTemplate, max_prompt_tokens: int) -> bool:
        """Whether this builder is the one for that model and budget (else build another)."""
        return (
            self.template is template
            and self.max_prompt_tokens == max_prompt_tokens
            and self.counter._tokenizer is tokenizer
        )

    def __init__(
        self,
        tokenizer: Any,
        template: FimTemplate,
        max_prompt_tokens: int,
        counter: TokenCounter | None = None,
    ) -> None:
        self.template = template
        self.counter = counter or TokenCounter(tokenizer)  # shared between budgets of one model
        self.max_prompt_tokens = max_prompt_tokens
        vocab = tokenizer.get_vocab()

        def marker(text: str | None) -> int | None:
            if not text:
                return None
            if text not in vocab:
                raise ValueError(
                    f"template {template.name!r}: marker {text!r} is not in the vocabulary"
                )
            return vocab[text]

        self._pre = marker(template.prefix)
        self._suf = marker(template.suffix)
        self._mid = marker(template.middle)
        self._sep = marker(template.file_sep) if template.file_sep in vocab else None

    @property
    def fim(self) -> bool:
        return self._pre is not None

    def budgets(self) -> tuple[int, int, int]:
        """(prefix, suffix, snippets) token budgets inside max_prompt_tokens."""
        total = max(64, self.max_prompt_tokens - 8)
        if not self.fim:
            return int(total * 0.85), 0, int(total * 0.15)
        return int(total * 0.6), int(total * 0.25), int(total * 0.15)

    def build(self, ctx: CursorContext, *, plain_psm: bool = False) -> Prompt:
        """`plain_psm`: the typed part of the cursor line ends the prefix, as models are trained,
        instead of following the middle marker (which keeps the cache valid while typing)."""
        enc = self.counter.encode
        line_prefix = ctx.line_prefix[-MAX_LINE_CHARS:]
        line_suffix = ctx.line_suffix[:MAX_LINE_CHARS]
        if self.fim:
            # The cursor line's indentation ends the prefix, as in the text models are trained
            # on: after the middle marker, Qwen2.5-Coder reads a bare indent as an empty middle
            # and stops at once (HumanEval single-line: 52.0% → see benchmarks/results). What is
            # typed after the indent still follows the marker, so typing only appends.
            lead = len(line_prefix) if plain_psm else len(line_prefix) - len(line_prefix.lstrip())
            if lead:
                ctx = replace(ctx, before=ctx.before + line_prefix[:lead])
                line_prefix = line_prefix[lead:]
        head: list[int] = []
        for snippet in ctx.snippets:
            if self._sep is not None:
                head.append(self._sep)
            head.extend(enc(snippet.text if snippet.text.endswith("\n") else snippet.text + "\n"))
        middle = list(enc(line_prefix))
        before = list(enc(ctx.before))
        suffix: list[int] = []
        if self.fim:
            suffix = list(enc(line_suffix + "\n" + ctx.after if line_suffix or ctx.after else ""))
        markers = 3 if self.fim else 0
        overflow = len(head) + len(before) + len(suffix) + len(middle) + markers
        overflow -= self.max_prompt_tokens
        if overflow > 0:
            # The context layer keeps within budget; this only guards against estimates gone wrong.
            # Drop what is furthest from the cursor first: snippets, then the start of `before`
            # (right after the prefix marker), then the end of the suffix, then the cursor line.
            for part, from_start in ((head, True), (before, True), (suffix, False), (middle, True)):
                cut = min(overflow, len(part))
                if from_start:
                    del part[:cut]
                else:
                    del part[len(part) - cut :]
                overflow -= cut
        if self.fim:
            assert self._pre is not None and self._suf is not None and self._mid is not None
            ids = [*head, self._pre, *before, self._suf, *suffix, self._mid]
        else:
            ids = head + before
        return Prompt(ids=ids + middle, middle_start=len(ids), template=self.template.name)
