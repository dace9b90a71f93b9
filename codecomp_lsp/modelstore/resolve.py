"""Which model answers: the configured one, else the best pulled catalog model for the device,
else the built-in codecomp-tiny — with the reason, so the user can be told why."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from codecomp_lsp.modelstore.adapter import Adapter, AdapterError, is_adapter, read_adapter
from codecomp_lsp.modelstore.catalog import CATALOG_FILE, CatalogEntry, load_catalog, read_catalog
from codecomp_lsp.modelstore.store import InstallState, ModelStore

FALLBACK_MODEL = "codecomp-tiny"


@dataclass(frozen=True)
class ModelChoice:
    spec: str  # what the loader opens: a folder, a .gguf file or a hub id ("" until pulled)
    name: str  # what the user sees
    reason: str
    fallback: bool = False  # the built-in model, because nothing better is pulled or loads
    entry: CatalogEntry | None = None  # set for catalog models
    state: InstallState | None = None  # of a catalog model when chosen
    adapter: Adapter | None = None  # a LoRA adapter folded into `spec`'s weights at load

    @property
    def needs_pull(self) -> bool:
        """Download or conversion still to do before this model can load."""
        return self.entry is not None and self.state in (
            InstallState.ABSENT,
            InstallState.PARTIAL,
            InstallState.DOWNLOADED,
        )


def fallback_choice(reason: str) -> ModelChoice:
    entry = read_catalog(CATALOG_FILE).get(FALLBACK_MODEL)  # whatever catalog is in use
    assert entry is not None, "the catalog lists the built-in model"
    path = ModelStore().embedded_path(entry)
    return ModelChoice(str(path), entry.name, reason, True, entry, InstallState.BUILT_IN)


def _catalog_choice(entry: CatalogEntry, store: ModelStore, reason: str) -> ModelChoice:
    status = store.status(entry)
    spec = (
        str(status.path) if status.state in (InstallState.INSTALLED, InstallState.BUILT_IN) else ""
    )
    return ModelChoice(spec, entry.name, reason, False, entry, status.state)


def choose_model(
    configured: str | None, device_type: str, store: ModelStore | None = None
) -> ModelChoice:
    """The model to load for a `model` setting (None: not configured) on a device type.

    An adapter folder (`codecomp finetune --lora`) chooses its base model the same way, with the
    adapter attached; AdapterError says what is wrong with one."""
    store = store or ModelStore()
    catalog = load_catalog()
    if configured and is_adapter(configured):
        return _adapter_choice(read_adapter(configured), device_type, store)
    if configured:
        entry = catalog.get(configured)
        if entry is None:
            name = Path(configured).name if Path(configured).expanduser().exists() else configured
            return ModelChoice(configured, name, "configured")
        if entry.embedded:
            return _catalog_choice(entry, store, "configured")
        return _catalog_choice(entry, store, "configured (catalog)")
    for name in catalog.preference(device_type):
        entry = catalog.get(name)
        if entry is None or entry.embedded:
            continue
        if store.status(entry).state in (InstallState.INSTALLED, InstallState.DOWNLOADED):
            return _catalog_choice(entry, store, f"the best pulled model for {device_type}")
    best = catalog.preference(device_type)
    hint = f"; `codecomp models pull {best[0]}` gets a real one" if best else ""
    return fallback_choice(f"no catalog model is pulled{hint}")


def _adapter_choice(adapter: Adapter, device_type: str, store: ModelStore) -> ModelChoice:
    base = adapter.base
    if load_catalog().get(base) is None and (adapter.path / base).exists():
        base = str(adapter.path / base)  # a base named relative to the adapter folder
    if is_adapter(base):
        raise AdapterError(f"{adapter.path}: its base {base} is an adapter too")
    choice = choose_model(base, device_type, store)
    return replace(
        choice,
        name=f"{adapter.name} (LoRA on {choice.name})",
        reason=f"{choice.reason}; adapter {adapter.path}",
        adapter=adapter,
    )


def recommended(device_type: str) -> str | None:
    """The catalog model to pull first on this device type."""
    order = load_catalog().preference(device_type)
    return order[0] if order else None
