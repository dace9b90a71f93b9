"""codecomp/models, codecomp/pullModel and the codecomp.pullModel command."""

from __future__ import annotations

from typing import Any

from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.models import MODELS_METHOD, PULL_COMMAND, PULL_METHOD


def register(server: CodecompServer) -> None:
    @server.feature(MODELS_METHOD)
    def models(ls: CodecompServer, params: Any = None) -> dict[str, Any]:
        return ls.models.models()

    @server.feature(PULL_METHOD)
    async def pull_model(ls: CodecompServer, params: Any = None) -> dict[str, Any]:
        name = params.get("name") if isinstance(params, dict) else getattr(params, "name", None)
        return await ls.models.pull(name)

    @server.command(PULL_COMMAND)
    async def pull_model_command(ls: CodecompServer, *args: Any) -> dict[str, Any]:
        return await ls.models.pull(args[0] if args else None)
