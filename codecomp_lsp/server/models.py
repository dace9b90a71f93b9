"""The model's life in the server: load (pull and convert first when needed) with `$/progress`,
readiness that invoked requests can await, the one-time messages about which model answers, and
the `codecomp/models` and `codecomp/pullModel` requests."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from codecomp_lsp.engine.engine import Engine, EngineState
from codecomp_lsp.engine.loader import pick_device, pick_dtype
from codecomp_lsp.modelstore.catalog import load_catalog
from codecomp_lsp.modelstore.listing import catalog_listing
from codecomp_lsp.modelstore.progress import human_bytes
from codecomp_lsp.modelstore.pull import pull
from codecomp_lsp.modelstore.resolve import choose_model, recommended
from codecomp_lsp.modelstore.store import ModelStoreError
from codecomp_lsp.server.progress import WorkProgress

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

    from codecomp_lsp.server.state import ServerState

log = logging.getLogger(__name__)

MODELS_METHOD = "codecomp/models"
PULL_METHOD = "codecomp/pullModel"
PULL_COMMAND = "codecomp.pullModel"
INVOKED_WAIT_S = 600  # an invoked request waits this long for a pull and load, then answers empty

_STAGE_WORDS = {
    "download": "downloading",
    "verify": "verifying",
    "convert": "converting",
    "load": "loading",
}


def _progress_message(name: str, stage: str, done: int, total: int) -> tuple[str, int | None]:
    word = _STAGE_WORDS.get(stage, stage)
    if total <= 0:
        return f"{word} {name}", None
    percent = min(100, int(100 * done / total))
    if stage in ("download", "verify"):
        return f"{word} {name}: {human_bytes(done)} / {human_bytes(total)}", percent
    return f"{word} {name}", percent


class ModelControl:
    """What the server knows about its model beyond the engine: readiness, messages, pulls."""

    def __init__(self, server: LanguageServer, state: ServerState) -> None:
        self.server = server
        self.state = state
        self.engine: Engine = state.engine
        self.started = False  # the first load is asked for once the client's settings are in
        self._ready: asyncio.Event | None = None
        self._reported_error: str | None = None
        self._told_fallback = False

    def _event(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    # -- loading -----------------------------------------------------------------------------
    def load(self, force: bool = False) -> None:
        """(Re)load when the model settings changed, or always with `force` (after a pull)."""
        self.started = True
        settings = self.state.settings
        if force:
            self.engine.forget_model()
        if settings.model_key == self.engine.model_key:
            return
        self._event().clear()
        name = settings.model or "the default model"
        progress = WorkProgress(
            self.server, "codecomp", enabled=self.state.client.progress, kind="load"
        )
        begun = asyncio.ensure_future(progress.begin(f"loading {name}"))
        loop = asyncio.get_running_loop()

        def on_progress(stage: str, done: int, total: int) -> None:
            message, percent = _progress_message(name, stage, done, total)
            progress.report(message, percent, force=stage == "load")

        def done(engine: Engine) -> None:
            loop.call_soon_threadsafe(
                lambda: asyncio.ensure_future(self._finished(progress, begun))
            )

        self.engine.load(settings, on_done=done, on_progress=on_progress)

    async def _finished(self, progress: WorkProgress, begun: asyncio.Future[bool]) -> None:
        await begun
        info = self.engine.describe()
        if info["state"] == EngineState.READY:
            progress.end(f"{info['model']} on {info['device']}")
        else:
            progress.end("failed")
        self._event().set()
        if info["error"]:
            self.report_error(info["error"])
        choice = self.engine.choice
        if info["state"] == EngineState.READY and choice and choice.fallback:
            self._tell_fallback()

    def _tell_fallback(self) -> None:
        if self._told_fallback:
            return
        self._told_fallback = True
        device = self.engine.loaded.device.type if self.engine.loaded else "cpu"
        best = recommended(device) or "qwen2.5-coder-0.5b"
        self.server.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info,
                message=(
                    "codecomp: the small built-in model codecomp-tiny is answering; its "
                    f"suggestions are weak. `codecomp models pull {best}` (or the command "
                    f"codecomp.pullModel) gets a real one."
                ),
            )
        )

    def report_error(self, message: str) -> None:
        if message != self._reported_error:
            self._reported_error = message
            self.server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error, message=f"codecomp: {message}"
                )
            )

    @property
    def ready(self) -> bool:
        return (
            self.engine.state in (EngineState.READY, EngineState.FAILED) and self._event().is_set()
        )

    async def wait_ready(self, timeout: float = INVOKED_WAIT_S) -> bool:
        """True once a load finished (ready or failed); False after `timeout`."""
        try:
            await asyncio.wait_for(self._event().wait(), timeout)
        except TimeoutError:
            return False
        return True

    # -- the model requests ------------------------------------------------------------------
    def models(self) -> dict[str, Any]:
        choice = self.engine.choice
        return catalog_listing(pick_device("auto").type, in_use=choice.name if choice else None)

    async def pull(self, name: Any) -> dict[str, Any]:
        if not isinstance(name, str) or not name:
            raise JsonRpcInvalidParams('codecomp/pullModel needs {"name": a catalog name}')
        entry = load_catalog().get(name)
        if entry is None:
            known = ", ".join(load_catalog().names())
            raise JsonRpcInvalidParams(f"no model {name!r} in the catalog (known: {known})")
        progress = WorkProgress(
            self.server,
            f"codecomp: pulling {name}",
            enabled=self.state.client.progress,
            kind="pull",
        )
        await progress.begin()
        settings = self.state.settings

        def on_progress(stage: str, done: int, total: int) -> None:
            message, percent = _progress_message(name, stage, done, total)
            progress.report(message, percent)

        try:
            device = pick_device(settings.device)
            folder = await asyncio.to_thread(
                pull, entry, pick_dtype(settings.dtype, device), None, on_progress
            )
        except ModelStoreError as exc:
            progress.end("failed")
            self.report_error(str(exc))
            raise JsonRpcInternalError(str(exc)) from None
        progress.end(f"{name} is installed")
        # Switch when this pull changes which model answers: the configured one, or the default.
        wanted = settings.model in (None, name)
        if wanted and choose_model(settings.model, device.type).name != (
            self.engine.choice.name if self.engine.choice else None
        ):
            self.load(force=True)
        return {"name": name, "path": str(folder), "switching": wanted}
