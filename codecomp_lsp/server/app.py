"""The server assembled: the core object and each feature's handlers (server/handlers/)."""

from __future__ import annotations

from typing import Any

from codecomp_lsp.server.core import CodecompServer
from codecomp_lsp.server.handlers import (
    actions,
    completion,
    diagnostics,
    feedback,
    hover,
    lifecycle,
    models,
    sync,
)


def create_server(overrides: dict[str, Any] | None = None) -> CodecompServer:
    server = CodecompServer(overrides)
    lifecycle.register(server)
    sync.register(server, diagnostics.register(server))
    completion.register(server)
    feedback.register(server)
    hover.register(server)
    actions.register(server)
    models.register(server)
    return server
