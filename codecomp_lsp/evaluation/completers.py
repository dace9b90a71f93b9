"""What an evaluation asks for a completion: the server's own prompt path, or a baseline."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from codecomp_lsp.settings import Settings


class Completer(Protocol):
    name: str

    def complete(self, text: str, line: int, character: int, uri: str) -> str:
        """The text inserted at the cursor (the rest of the line)."""


class ModelCompleter:
    """A completion through the same context → prompt → engine → post-processing path as the
    server, single-line, greedy, explicitly invoked."""

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
        with the budget lifted, which scores the prompt path without the machine's speed."""
        from codecomp_lsp.engine.engine import Engine
        from codecomp_lsp.features.completion import CompletionService

        if server_defaults:
            self.settings = replace(
                Settings(), model=model, device=device, candidates=1, quantization=quantization
            )
        else:
            self.settings = replace(
                Settings(),
                model=model,
                device=device,
                multiline="never",
                candidates=1,
                maxNewTokens=max_new_tokens,
                timeBudgetMs=60000,
                quantization=quantization,
            )
        self.engine = Engine()
        self.engine.load(self.settings)
        self.engine.ready.wait()
        if self.engine.state != "ready":
            raise RuntimeError(f"model did not load: {self.engine.error}")
        self.service = CompletionService(self.engine, lambda: self.settings)
        info = self.engine.describe()
        self.name = str(info["model"])
        self.device = str(info["device"])

    def complete(self, text: str, line: int, character: int, uri: str) -> str:
        from codecomp_lsp.context.languages import language_for
        from codecomp_lsp.features.completion import CompletionQuery, DocumentSnapshot

        spec = language_for(None, uri)
        doc = DocumentSnapshot(uri, text, spec.name if spec else None)
        query = CompletionQuery(
            doc=doc, line=line, character=character, candidates=1, automatic=False, feature="eval"
        )
        outcome = self.engine.submit(lambda: self.service.complete(query), key=uri).future.result()
        return outcome.suggestions[0].text.split("\n", 1)[0] if outcome.suggestions else ""

    def close(self) -> None:
        self.engine.worker.shutdown(wait=True)
