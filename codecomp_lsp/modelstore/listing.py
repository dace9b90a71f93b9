"""The catalog as the user sees it: each model with its install state, one row shape for the
command line (`codecomp models list --json`) and the server (`codecomp/models`)."""

from __future__ import annotations

from typing import Any

from codecomp_lsp.modelstore.catalog import load_catalog
from codecomp_lsp.modelstore.resolve import choose_model, recommended
from codecomp_lsp.modelstore.store import InstallState, ModelStore


def catalog_listing(
    device_type: str, store: ModelStore | None = None, in_use: str | None = None
) -> dict[str, Any]:
    store = store or ModelStore()
    default = choose_model(None, device_type, store)
    rows = []
    for entry in load_catalog().entries:
        status = store.status(entry)
        rows.append(
            {
                "name": entry.name,
                "description": entry.description,
                "family": entry.family,
                "parameters": entry.parameters,
                "quantization": entry.quantization,
                "sizeBytes": entry.size,
                "license": entry.license,
                "state": str(status.state),
                "installed": status.state in (InstallState.INSTALLED, InstallState.BUILT_IN),
                "path": str(status.path) if status.path else None,
                "diskBytes": status.disk_bytes,
                "default": entry.name == default.name,
                "inUse": entry.name == in_use,
            }
        )
    return {
        "modelsDir": str(store.root),
        "recommended": recommended(device_type),
        "defaultReason": default.reason,
        "models": rows,
    }
