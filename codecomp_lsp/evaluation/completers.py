"""What an evaluation asks for a completion: the server's own prompt path, or a baseline."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Protocol

from codecomp_lsp.settings import Settings


class Completer(Protocol):
    name: str

    def complete(self, text: str, line: int, character: int, uri: str, extent: str = "line") -> str:
        """The text inserted at the cursor: the rest of the line for `extent` "line", else all
        the completer would insert."""


class RepeatedAsks:
    """The engine, answering a request it already answered from memory: greedy decoding is
    deterministic, so a variant that only changes post-processing (most of an ablation) asks
    the model nothing new. Requests with a deadline that could bite are always decoded."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._answers: dict[tuple, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def generate(self, req: Any) -> Any:
        tight = req.deadline is not None and req.deadline - time.monotonic() < 30
        if tight or req.temperature > 0 or req.on_text is not None or req.on_finish is not None:
            return self._engine.generate(req)
        key = (
            tuple(req.prompt_ids),
            req.max_new_tokens,
            req.candidates,
            req.stop_check is None,
            req.banned_first,
        )
        if key not in self._answers:
            self._answers[key] = self._engine.generate(req)
        return self._answers[key]


class ModelCompleter:
    """A completion through the same context → prompt → engine → post-processing path as the
    server, greedy, explicitly invoked."""

    def __init__(
        self,
        model: str | None,
        *,
        device: str = "auto",
        max_new_tokens: int = 48,
        server_defaults: bool = False,
        quantization: str = "auto",
    ) -> None:
        """`server_defaults`: the settings a server started with none uses (multi-line where
        the syntax tree says so, the 5 s time budget) — what a user gets; otherwise single-line
        for line tasks with the budget lifted, which scores the prompt path without the
        machine's speed."""
        from codecomp_lsp.engine.engine import Engine
        from codecomp_lsp.features.completion import CompletionService

        self.server_defaults = server_defaults
        self.max_new_tokens = max_new_tokens
        self.base = replace(
            Settings(), model=model, device=device, candidates=1, quantization=quantization
        )
        if not server_defaults:
            self.base = replace(self.base, timeBudgetMs=60000)
        self.variant: dict = {}
        self.settings = self.base
        self.last_score: float | None = None  # the last answer's mean token log-probability
        self.engine = Engine()
        self.engine.load(self.settings)
        self.engine.ready.wait()
        if self.engine.state != "ready":
            raise RuntimeError(f"model did not load: {self.engine.error}")
        self.service = CompletionService(RepeatedAsks(self.engine), lambda: self.settings)
        info = self.engine.describe()
        self.model_name = str(info["model"])
        self.name = self.model_name
        self.device = str(info["device"])

    def configure(self, label: str | None = None, **changes: object) -> None:
        """Score a variant next: settings changed over the base ones (none: the base), without
        reloading the model — stages switched off, another time budget, more candidates."""
        self.variant = changes
        self.name = f"{self.model_name} {label}" if label else self.model_name

    def _settings_for(self, extent: str) -> Settings:
        settings = self.base
        if not self.server_defaults:
            if extent == "line":
                settings = replace(settings, multiline="never", maxNewTokens=self.max_new_tokens)
            else:  # the server decides the extent; room for a block
                settings = replace(settings, maxNewTokens=128)
        return replace(settings, **self.variant)

    def complete(self, text: str, line: int, character: int, uri: str, extent: str = "line") -> str:
        from codecomp_lsp.context.languages import language_for
        from codecomp_lsp.features.completion import CompletionQuery, DocumentSnapshot

        self.settings = self._settings_for(extent)
        spec = language_for(None, uri)
        doc = DocumentSnapshot(uri, text, spec.name if spec else None)
        query = CompletionQuery(
            doc=doc,
            line=line,
            character=character,
            candidates=self.settings.candidates,
            automatic=False,
            feature="eval",
        )
        outcome = self.engine.submit(lambda: self.service.complete(query), key=uri).future.result()
        self.last_score = outcome.suggestions[0].score if outcome.suggestions else None
        if not outcome.suggestions:
            return ""
        text = outcome.suggestions[0].text
        return text.split("\n", 1)[0] if extent == "line" else text

    def close(self) -> None:
        self.engine.worker.shutdown(wait=True)
