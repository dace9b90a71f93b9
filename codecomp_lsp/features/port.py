"""The model port: everything the features ask of a model, declared in one place.

The in-process engine (engine/engine.py) implements it today; a remote backend (vLLM, llama.cpp's
server) implements the same calls, so completion, hover, quick fixes and code actions do not know
which one answers. `generate` and `prompt_builder` run on the model worker thread (`submit`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from codecomp_lsp.engine.decoder import Decoder, GenerationRequest, GenerationResult
from codecomp_lsp.engine.generation import RemoteEngine
from codecomp_lsp.engine.loader import LoadedModel
from codecomp_lsp.engine.stats import Stats
from codecomp_lsp.engine.worker import Job
from codecomp_lsp.prompt.builder import PromptBuilder


class ModelPort(Protocol):
    stats: Stats
    loaded: LoadedModel | None  # the tokenizer, template and limits of the model that answers
    error: str | None

    @property
    def usable(self) -> bool:
        """A model is loaded and answering."""
        ...

    def submit(
        self,
        fn: Callable[[], Any],
        *,
        key: str | None = None,
        cancel: threading.Event | None = None,
        background: bool = False,
    ) -> Job:
        """Run `fn` on the model thread; a newer job for the same key supersedes older ones.
        A background job is cancelled by any foreground one."""
        ...

    def require(self) -> tuple[LoadedModel, Decoder | RemoteEngine]:
        """The loaded model, or EngineUnavailable with the reason for the user."""
        ...

    def prompt_builder(self, max_prompt_tokens: int, new_tokens: int) -> PromptBuilder:
        """The prompt builder for this model and budget (one token cache per model)."""
        ...

    def generate(self, req: GenerationRequest) -> GenerationResult:
        """Decode the request's candidates (prefix cache, cancellation, deadline, streaming)."""
        ...
