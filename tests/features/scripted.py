"""A ModelIO whose "model" writes scripted text: prompts, filtering and parsing stay real."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from codecomp_lsp.context.cursor import extract_context
from codecomp_lsp.engine.decoder import Candidate, GenerationResult
from codecomp_lsp.engine.stats import Stats
from codecomp_lsp.features.modelio import ModelIO
from codecomp_lsp.settings import Settings


class FakeEngine:
    def __init__(self) -> None:
        self.stats = Stats()
        self.state = "ready"
        self.usable = True
        self.loaded = None
        self.error = None


class ScriptedIO(ModelIO):
    def __init__(self, outputs: list[str], *, chat: bool = False, **settings: Any) -> None:
        super().__init__(FakeEngine(), lambda: Settings(**settings))  # type: ignore[arg-type]
        self.outputs = outputs
        self.calls = 0
        self.chat_mode = chat
        self.prompts: list[Any] = []
        self.kwargs: dict[str, Any] = {}

    @property
    def chat(self) -> bool:  # type: ignore[override]
        return self.chat_mode

    def fim_context(self, text, line, character, spec, *, multiline=None):  # type: ignore[override]
        self.prompts.append((text, line, character))
        ctx = extract_context(
            text,
            line,
            character,
            spec,
            count_tokens=lambda s: max(1, len(s) // 4),
            prefix_budget=2000,
            suffix_budget=1000,
        )
        return ctx if multiline is None else replace(ctx, multiline=multiline)

    def fim_ids(self, ctx):  # type: ignore[override]
        return [1, 2, 3]

    def chat_ids(self, prompt, system=None):  # type: ignore[override]
        self.prompts.append(("chat", prompt))
        return [4, 5, 6]

    def generate(self, ids, **kwargs):  # type: ignore[override]
        self.calls += 1
        self.kwargs = kwargs
        return GenerationResult(
            candidates=[
                Candidate(text, [0], -0.1 * i, "stop") for i, text in enumerate(self.outputs)
            ],
            prompt_tokens=len(ids),
            reused_tokens=0,
            prefilled_tokens=len(ids),
            generated_tokens=len(self.outputs),
            prefill_ms=0,
            first_token_ms=0,
            total_ms=0,
        )
