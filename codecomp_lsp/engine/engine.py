"""The engine: the model worker thread, the loaded model, the prefix cache and the counters, together."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any

import torch

from codecomp_lsp.engine.attention import use_rowwise_attention
from codecomp_lsp.engine.decoder import DRAFT_TOKENS, Decoder, GenerationRequest, GenerationResult
from codecomp_lsp.engine.generation import EngineUnavailable, RemoteEngine
from codecomp_lsp.engine.kvcache import PrefixCache
from codecomp_lsp.engine.loader import (
    LoadedModel,
    ModelLoadError,
    load_model,
    load_within,
    pick_device,
    pick_dtype,
)
from codecomp_lsp.engine.memory import out_of_memory, recover
from codecomp_lsp.engine.precision import PrecisionChoice, apply_precision
from codecomp_lsp.engine.quantize import ALWAYS, quant_linears
from codecomp_lsp.engine.stats import Stats
from codecomp_lsp.engine.worker import Job, ModelWorker
from codecomp_lsp.modelstore.adapter import Adapter, AdapterError
from codecomp_lsp.modelstore.pull import pull
from codecomp_lsp.modelstore.resolve import ModelChoice, choose_model, fallback_choice
from codecomp_lsp.modelstore.store import ModelStoreError
from codecomp_lsp.prompt.builder import PromptBuilder, TokenCounter
from codecomp_lsp.settings import Settings

log = logging.getLogger(__name__)


class EngineState(StrEnum):
    IDLE = "idle"  # no load asked for yet
    PULLING = "pulling"  # downloading, verifying or converting a catalog model
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"  # not even the built-in model loads


# (stage, done, total) while a model is pulled: "download", "verify", "convert", then "load".
ProgressFn = Callable[[str, int, int], None]
# Opens the remote engine the settings name: (its backend, the model it serves, a warning).
RemoteOpener = Callable[[Settings], tuple[RemoteEngine, LoadedModel, str | None]]


class Engine:
    """Owns everything the model thread touches; other threads talk to it through jobs."""

    def __init__(self, stats: Stats | None = None, remote: RemoteOpener | None = None) -> None:
        self.stats = stats or Stats()
        self.remote = remote  # remote/model.py's open_remote, where remote engines are wired in
        self.worker = ModelWorker()
        self.cache = PrefixCache(budget_bytes=Settings().cacheMemoryMB << 20)
        self.loaded: LoadedModel | None = None
        self.decoder: Decoder | RemoteEngine | None = None  # a remote one decodes elsewhere
        self.state = EngineState.IDLE
        self.error: str | None = None  # why the chosen model is not the one answering, or none is
        self.choice: ModelChoice | None = None  # the model answering, and why it was chosen
        self.precision: PrecisionChoice | None = None  # quantized or dense per call size, and why
        self.rowwise = False  # short calls' attention row by row (attention.py)
        self.degraded: str | None = None  # slower kernels since a failure (memory.py), and why
        self._model_key: tuple[Any, ...] | None = None
        self.ready = threading.Event()
        self._builders: dict[int, PromptBuilder] = {}  # by prompt budget; one token cache
        self._counter: TokenCounter | None = None
        self._builder_lock = threading.Lock()

    @property
    def model_key(self) -> tuple[Any, ...] | None:
        """The model settings of the last load asked for (None: none yet, or forgotten)."""
        return self._model_key

    def forget_model(self) -> None:
        """Make the next `load` run even with the same settings (a pull changed what they mean)."""
        self._model_key = None

    # -- jobs -------------------------------------------------------------------------------
    def load(
        self,
        settings: Settings,
        on_done: Callable[[Engine], None] | None = None,
        on_progress: ProgressFn | None = None,
    ) -> Job | None:
        """Queue a (re)load when the model settings changed; jobs queued after it see the new model."""
        self.cache.budget_bytes = settings.cacheMemoryMB << 20
        if settings.model_key == self._model_key:
            return None
        self._model_key = settings.model_key
        self.state = EngineState.LOADING
        self.ready.clear()
        progress = on_progress or (lambda stage, done, total: None)

        def job() -> Engine:
            self.loaded = self.decoder = None
            with self._builder_lock:
                self._builders.clear()
                self._counter = None
            self.cache.clear()
            gc.collect()
            try:
                self._load_chosen(settings, progress)
            except Exception as exc:  # noqa: BLE001 - any loader failure must leave the server up
                self.state, self.error = EngineState.FAILED, f"could not load a model: {exc!r}"
                log.exception("model load failed")
            finally:
                self.ready.set()
            if on_done is not None:
                on_done(self)
            return self

        return self.worker.submit(job, key="__load__", supersede=False)

    def _load_chosen(self, settings: Settings, progress: ProgressFn) -> None:
        """Pull and load the chosen model; on any failure, the built-in model with the reason."""
        if settings.backend != "local":
            self._open_remote(settings)
            return
        try:
            device = pick_device(settings.device)
        except ModelLoadError as exc:
            self.state, self.error = EngineState.FAILED, str(exc)
            return
        try:
            choice = choose_model(settings.model, device.type)
        except AdapterError as exc:
            self.error = str(exc)
            log.error("adapter %s unusable, using the built-in model: %s", settings.model, exc)
            self._open_fallback(settings, f"{settings.model} could not be used")
            return
        self.error = None
        try:
            spec = choice.spec
            if choice.needs_pull and choice.entry is not None:
                self.state = EngineState.PULLING
                folder = pull(choice.entry, pick_dtype(settings.dtype, device), progress=progress)
                spec = str(folder)
            self.state = EngineState.LOADING
            progress("load", 0, 1)
            self._open(spec, settings, choice.adapter)
            self.choice = choice
            return
        except (ModelLoadError, ModelStoreError, torch.OutOfMemoryError) as exc:
            if choice.fallback:
                self.state, self.error = EngineState.FAILED, str(exc)
                log.error("model load failed: %s", exc)
                return
            self.error = f"{choice.name}: {exc}"
            log.error("model %s failed, using the built-in model: %s", choice.name, exc)
        self._open_fallback(settings, f"{choice.name} could not be used")

    def _open_fallback(self, settings: Settings, reason: str) -> None:
        self.choice = fallback_choice(reason)
        self.state = EngineState.LOADING
        try:
            self._open(self.choice.spec, replace(settings, fimTemplate="auto"))
        except (ModelLoadError, torch.OutOfMemoryError) as exc:
            self.state, self.error = EngineState.FAILED, f"{self.error}; the built-in model: {exc}"

    def _open(self, spec: str, settings: Settings, adapter: Adapter | None = None) -> None:
        self.loaded = load_within(
            lambda: load_model(
                spec,
                device=settings.device,
                dtype=settings.dtype,
                fim_template=settings.fimTemplate,
                allow_pickle=settings.allowPickle,
                trust_remote_code=settings.trustRemoteCode,
                adapter=adapter,
            ),
            settings.loadTimeoutMs / 1000,
            spec,
        )
        # Before the precision calibration, so that it times the attention that will run.
        self.rowwise = use_rowwise_attention(self.loaded.model)
        try:
            self.precision = apply_precision(
                self.loaded.model, self.loaded.device, settings.quantization, source=spec
            )
        except Exception as exc:  # noqa: BLE001 - a failed calibration must not cost the model
            log.exception("precision calibration failed; the dense weights answer")
            for layer in quant_linears(self.loaded.model):
                layer.set_rows(0 if layer.weight is not None else ALWAYS)
            dense = str(self.loaded.dtype).removeprefix("torch.")
            self.precision = PrecisionChoice(dense, "none", 0, f"calibration failed: {exc}")
        drafts = self._draft_tokens() if settings.speculative else 0
        self.decoder = Decoder(self.loaded, self.cache, speculative=drafts > 0, draft_tokens=drafts)
        self.state = EngineState.READY

    def _open_remote(self, settings: Settings) -> None:
        """A shared engine answers: no fallback to a local model, which the user did not ask for
        and which would answer differently; a clear error until the settings are fixed."""
        self.precision, self.rowwise, self.choice = None, False, None
        if self.remote is None:
            self.state, self.error = EngineState.FAILED, "remote backends are not wired in here"
            return
        try:
            backend, self.loaded, warning = self.remote(settings)
        except (ModelLoadError, EngineUnavailable) as exc:
            self.state, self.error = EngineState.FAILED, str(exc)
            log.error("remote backend unusable: %s", exc)
            return
        self.decoder = backend
        self.error = warning
        info = backend.describe()
        reason = f"served by the {info['backend']} engine at {info['endpoint']}"
        self.choice = ModelChoice(info["endpoint"], self.loaded.name, reason)
        self.state = EngineState.READY

    def _draft_tokens(self) -> int:
        """Drafts per verification, so that verifying gives what plain greedy steps give: with
        row-wise attention (attention.py) and the int8/int4 kernels, which compute each row alone,
        a k-row forward is bit for bit k one-row forwards (tested), so drafts stay within the
        quantized call sizes. Dense fp32 matches at the token level on the fixture; dense
        bf16/fp16 does not (GEMV and GEMM round differently), so no drafts there."""
        assert self.loaded is not None and self.precision is not None
        rows = self.precision.quant_rows
        if not self.rowwise and rows > 0:
            return 0
        if rows >= ALWAYS:
            return DRAFT_TOKENS
        if rows > 1:
            return min(DRAFT_TOKENS, rows - 1)
        return DRAFT_TOKENS if rows <= 0 and self.loaded.dtype == torch.float32 else 0

    def forget_document(self, key: str) -> None:
        """A closed document's cached prefix is memory no request will reuse."""
        self.cache.remove(key)

    def submit(
        self,
        fn: Callable[[], Any],
        *,
        key: str | None = None,
        cancel: threading.Event | None = None,
        background: bool = False,
    ) -> Job:
        """Run `fn` on the model thread; a job for the same key supersedes older ones, and any
        foreground job cancels the background ones."""
        return self.worker.submit(fn, key=key, cancel=cancel, background=background)

    # -- the model port (features/port.py) ----------------------------------------------------
    @property
    def usable(self) -> bool:
        """A model is loaded and answering."""
        return self.state == EngineState.READY and self.loaded is not None

    def prompt_builder(self, max_prompt_tokens: int, new_tokens: int) -> PromptBuilder:
        """The prompt builder for this model and budget; every builder shares one token cache."""
        loaded, _ = self.require()
        budget = loaded.prompt_budget(max_prompt_tokens, new_tokens)
        with self._builder_lock:
            builder = self._builders.get(budget)
            if builder is None or not builder.serves(loaded.tokenizer, loaded.template, budget):
                if self._counter is None or self._counter._tokenizer is not loaded.tokenizer:
                    self._counter = TokenCounter(loaded.tokenizer)
                builder = PromptBuilder(loaded.tokenizer, loaded.template, budget, self._counter)
                self._builders[budget] = builder
            return builder

    # -- called on the model thread ----------------------------------------------------------
    def require(self) -> tuple[LoadedModel, Decoder | RemoteEngine]:
        if self.loaded is None or self.decoder is None:
            raise EngineUnavailable(self.error or "the model is not loaded")
        return self.loaded, self.decoder

    def generate(self, req: GenerationRequest) -> GenerationResult:
        _, decoder = self.require()
        try:
            result = decoder.run(req)
        except (RuntimeError, MemoryError) as exc:
            if not out_of_memory(exc):
                raise
            self.cache.clear()
            gc.collect()
            change = recover(exc)
            if change:
                self.degraded = change
            raise EngineUnavailable(
                f"out of memory while generating ({exc}); the KV cache was cleared"
                + (f"; {change}" if change else "")
            ) from exc
        if req.prefill_only or req.background:  # not a request's work: kept out of its figures
            self.stats.add(
                backgroundPrefills=int(req.prefill_only),
                backgroundTokens=result.prefilled_tokens,
                backgroundGenerated=result.generated_tokens,
            )
            return result
        self.stats.add(
            promptTokens=result.prompt_tokens,
            reusedTokens=result.reused_tokens,
            prefilledTokens=result.prefilled_tokens,
            generatedTokens=result.generated_tokens,
            draftedTokens=result.drafted_tokens,
            acceptedTokens=result.accepted_tokens,
            decodeForwards=result.forwards,
        )
        self.stats.first_token(result.first_token_ms)
        return result

    def describe(self) -> dict[str, Any]:
        loaded = self.loaded
        choice = self.choice
        decoder = self.decoder
        remote = {} if decoder is None or isinstance(decoder, Decoder) else decoder.describe()
        local = {
            "backend": "local",
            "state": str(self.state),
            "error": self.error,
            "choiceReason": choice.reason if choice else None,
            "loadSeconds": round(loaded.load_seconds, 2) if loaded else None,
            "precision": self.precision.describe() if loaded and self.precision else None,
            # Drafts per speculative verification (0: plain decoding) and whether short calls'
            # attention runs row by row, which makes verification give plain decoding's tokens.
            "draftTokens": self.decoder.draft_tokens
            if loaded and self.decoder and self.decoder.speculative
            else 0,
            "rowwiseAttention": self.rowwise,
            "degraded": self.degraded,
            "fallback": bool(choice and choice.fallback),
            "model": loaded.name if loaded else None,
            "device": str(loaded.device) if loaded else None,
            "dtype": str(loaded.dtype).removeprefix("torch.") if loaded else None,
            "template": loaded.template.name if loaded else None,
            "cacheEntries": len(self.cache),
            "cacheBytes": self.cache.nbytes,
        }
        return local | remote

    def shutdown(self) -> None:
        self.worker.shutdown()
