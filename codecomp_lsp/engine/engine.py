"""The engine: the model worker thread, the loaded model, the prefix cache and the counters, together."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import Any

import torch

from codecomp_lsp.engine.decoder import Decoder, GenerationRequest, GenerationResult
from codecomp_lsp.engine.kvcache import PrefixCache
from codecomp_lsp.engine.loader import LoadedModel, ModelLoadError, load_model
from codecomp_lsp.engine.stats import Stats
from codecomp_lsp.engine.worker import Job, ModelWorker
from codecomp_lsp.settings import Settings

log = logging.getLogger(__name__)


class EngineUnavailable(RuntimeError):
    """No model is loaded (it failed, or none was configured); the message is for the user."""


class Engine:
    """Owns everything the model thread touches; other threads talk to it through jobs."""

    def __init__(self, stats: Stats | None = None) -> None:
        self.stats = stats or Stats()
        self.worker = ModelWorker()
        self.cache = PrefixCache(budget_bytes=Settings().cacheMemoryMB << 20)
        self.loaded: LoadedModel | None = None
        self.decoder: Decoder | None = None
        self.state = "idle"  # idle → loading → ready | failed
        self.error: str | None = None
        self._model_key: tuple[Any, ...] | None = None
        self.ready = threading.Event()

    # -- jobs -------------------------------------------------------------------------------
    def load(
        self, settings: Settings, on_done: Callable[[Engine], None] | None = None
    ) -> Job | None:
        """Queue a (re)load when the model settings changed; jobs queued after it see the new model."""
        self.cache.budget_bytes = settings.cacheMemoryMB << 20
        if settings.model_key == self._model_key:
            return None
        self._model_key = settings.model_key
        self.state = "loading"
        self.ready.clear()

        def job() -> Engine:
            self.loaded = self.decoder = None
            self.cache.clear()
            gc.collect()
            try:
                self.loaded = load_model(
                    settings.model,
                    device=settings.device,
                    dtype=settings.dtype,
                    fim_template=settings.fimTemplate,
                    allow_pickle=settings.allowPickle,
                    trust_remote_code=settings.trustRemoteCode,
                )
                self.decoder = Decoder(self.loaded, self.cache)
                self.state, self.error = "ready", None
            except (ModelLoadError, torch.OutOfMemoryError) as exc:
                self.state, self.error = "failed", str(exc)
                log.error("model load failed: %s", exc)
            except Exception as exc:  # noqa: BLE001 - any loader failure must leave the server up
                self.state, self.error = "failed", f"could not load model: {exc!r}"
                log.exception("model load failed")
            finally:
                self.ready.set()
            if on_done is not None:
                on_done(self)
            return self

        return self.worker.submit(job, key="__load__", supersede=False)

    def submit(
        self,
        fn: Callable[[], Any],
        *,
        key: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Job:
        """Run `fn` on the model thread; a job for the same key supersedes older ones."""
        return self.worker.submit(fn, key=key, cancel=cancel)

    # -- called on the model thread ----------------------------------------------------------
    def require(self) -> tuple[LoadedModel, Decoder]:
        if self.loaded is None or self.decoder is None:
            raise EngineUnavailable(self.error or "the model is not loaded")
        return self.loaded, self.decoder

    def generate(self, req: GenerationRequest) -> GenerationResult:
        _, decoder = self.require()
        try:
            result = decoder.run(req)
        except torch.OutOfMemoryError as exc:
            self.cache.clear()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            raise EngineUnavailable(
                f"out of memory while generating ({exc}); the KV cache was cleared"
            ) from exc
        self.stats.add(
            promptTokens=result.prompt_tokens,
            reusedTokens=result.reused_tokens,
            prefilledTokens=result.prefilled_tokens,
            generatedTokens=result.generated_tokens,
        )
        self.stats.first_token(result.first_token_ms)
        return result

    def describe(self) -> dict[str, Any]:
        loaded = self.loaded
        return {
            "state": self.state,
            "error": self.error,
            "model": loaded.name if loaded else None,
            "device": str(loaded.device) if loaded else None,
            "dtype": str(loaded.dtype).removeprefix("torch.") if loaded else None,
            "template": loaded.template.name if loaded else None,
            "cacheEntries": len(self.cache),
            "cacheBytes": self.cache.nbytes,
        }

    def shutdown(self) -> None:
        self.worker.shutdown()
