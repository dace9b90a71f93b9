"""Which model answers with nothing configured: the best pulled one for the device, else the
built-in model (and the reason says how to get a better one)."""

from __future__ import annotations

import json
from pathlib import Path

from codecomp_lsp.modelstore.catalog import load_catalog
from codecomp_lsp.modelstore.resolve import choose_model
from codecomp_lsp.modelstore.store import MANIFEST, InstallState, ModelStore


def _install(store: ModelStore, name: str, converted: bool = True) -> None:
    """Lay out a pulled model as `pull` leaves it (the store trusts what is in place)."""
    entry = load_catalog().get(name)
    assert entry is not None
    store.folder(entry).mkdir(parents=True)
    store.source_file(entry).write_bytes(b"verified by pull")
    if converted:
        store.converted(entry).mkdir()
        manifest = {"name": name, "sha256": entry.sha256}
        (store.converted(entry) / MANIFEST).write_text(json.dumps(manifest))


def test_nothing_pulled_means_the_built_in_model_and_the_command_to_run(tmp_path: Path) -> None:
    choice = choose_model(None, "cpu", ModelStore(tmp_path))
    assert choice.name == "codecomp-tiny" and choice.fallback
    assert "codecomp models pull qwen2.5-coder-0.5b" in choice.reason
    assert Path(choice.spec, "config.json").is_file()
    assert not choice.needs_pull


def test_the_best_pulled_model_for_the_device(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    _install(store, "qwen2.5-coder-1.5b")
    assert choose_model(None, "cpu", store).name == "qwen2.5-coder-1.5b"  # better than tiny
    _install(store, "qwen2.5-coder-0.5b")
    cpu = choose_model(None, "cpu", store)
    assert cpu.name == "qwen2.5-coder-0.5b" and not cpu.fallback
    assert cpu.reason == "the best pulled model for cpu"
    assert cpu.spec == str(store.converted(load_catalog().get("qwen2.5-coder-0.5b")))
    assert choose_model(None, "cuda", store).name == "qwen2.5-coder-1.5b"


def test_a_downloaded_but_unconverted_model_is_chosen_and_converted_at_load(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    _install(store, "qwen2.5-coder-0.5b", converted=False)
    choice = choose_model(None, "cpu", store)
    assert choice.name == "qwen2.5-coder-0.5b"
    assert choice.state is InstallState.DOWNLOADED and choice.needs_pull


def test_a_configured_model_wins(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    _install(store, "qwen2.5-coder-0.5b")
    by_name = choose_model("qwen2.5-coder-1.5b", "cpu", store)
    assert by_name.name == "qwen2.5-coder-1.5b" and by_name.needs_pull
    assert by_name.reason == "configured (catalog)"
    by_path = choose_model(str(tmp_path), "cpu", store)
    assert by_path.spec == str(tmp_path) and by_path.entry is None and not by_path.fallback
    hub = choose_model("Qwen/Qwen2.5-Coder-0.5B", "cpu", store)
    assert hub.spec == "Qwen/Qwen2.5-Coder-0.5B" and hub.reason == "configured"
    tiny = choose_model("codecomp-tiny", "cpu", store)
    assert tiny.name == "codecomp-tiny" and not tiny.needs_pull
