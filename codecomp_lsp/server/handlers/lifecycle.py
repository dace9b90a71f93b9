"""initialize, initialized, configuration, stats and shutdown."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Any

from lsprotocol import types

from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.state import ClientFeatures

log = logging.getLogger(__name__)

STATS_METHOD = "codecomp/stats"
CONFIGURATION_PULL_TIMEOUT_S = 5


async def pull_configuration(ls: CodecompServer, timeout: float | None) -> Any:
    """The client's `codecomp` section (VS Code keeps settings there); None when it has none."""
    request = ls.workspace_configuration_async(
        types.ConfigurationParams(items=[types.ConfigurationItem(section="codecomp")])
    )
    try:
        result = await (asyncio.wait_for(request, timeout) if timeout else request)
    except Exception as exc:  # noqa: BLE001 - the settings we have stay in force
        log.info("workspace/configuration pull failed: %s", exc)
        return None
    return result[0] if result else None


def stats_snapshot(ls: CodecompServer) -> dict[str, Any]:
    state = ls.state
    info = state.engine.describe()
    return state.stats.snapshot(
        backend=info["backend"],
        endpoint=info.get("endpoint"),
        device=info["device"],
        model=info["model"],
        modelState=info["state"],
        modelError=info["error"],
        modelReason=info["choiceReason"],
        modelFallback=info["fallback"],
        modelLoadSeconds=info["loadSeconds"],
        precision=info["precision"],
        draftTokens=info["draftTokens"],
        rowwiseAttention=info["rowwiseAttention"],
        degraded=info["degraded"],
        dtype=info["dtype"],
        template=info["template"],
        cacheEntries=info["cacheEntries"],
        cacheBytes=info["cacheBytes"],
        openDocuments=len(state.documents.docs),
        documents=[
            {"uri": uri, "version": doc.version, **doc.digest()}
            for uri, doc in list(state.documents.docs.items())
        ],
        settings=asdict(ls.settings),
        **state.loop_watch.describe(),
        acceptance=ls.feedback.snapshot(),
    )


def register(server: CodecompServer) -> None:
    init_messages: list[str] = []

    @server.feature(types.INITIALIZE)
    def initialize(ls: CodecompServer, params: types.InitializeParams) -> None:
        ls.state.client = ClientFeatures.from_capabilities(params.capabilities)
        ls.state.documents.encoding = ls.state.client.position_encoding
        # Shown once the client is initialized: nothing may be sent before our answer.
        init_messages[:] = ls.apply_settings(
            "initialization", params.initialization_options, announce=False
        )

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CodecompServer, params: types.InitializedParams) -> None:
        if ls.state.initialized:
            log.warning("initialized received twice: ignored")
            return
        ls.state.initialized = True
        for message in init_messages:
            ls.tell(message, types.MessageType.Warning)
        if ls.state.client.configuration:
            pulled = await pull_configuration(ls, CONFIGURATION_PULL_TIMEOUT_S)
            if isinstance(pulled, dict) and pulled:
                ls.apply_settings("configuration", pulled)
        ls.models.load()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: CodecompServer, params: types.DidChangeConfigurationParams
    ) -> None:
        raw = params.settings
        if isinstance(raw, dict) and "codecomp" in raw:
            raw = raw["codecomp"]
        elif ls.state.client.configuration:
            raw = await pull_configuration(ls, None)
        else:
            return
        if raw is None or raw == {}:
            return  # eglot sends {} on connect; an empty pull means the client has no opinion
        ls.apply_settings("configuration", raw)

    @server.feature(STATS_METHOD)
    def stats(ls: CodecompServer, params: Any = None) -> dict[str, Any]:
        if isinstance(params, dict) and params.get("reset") or getattr(params, "reset", False):
            ls.state.stats.reset()
            ls.feedback.reset()
        return stats_snapshot(ls)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: CodecompServer, params: Any = None) -> None:
        ls.state.shut_down = True
        ls.state.engine.shutdown()
