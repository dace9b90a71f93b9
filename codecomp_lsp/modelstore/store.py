"""Where pulled models live, and what is installed.

One folder per model under the models directory (`$CODECOMP_MODELS`, else
`$XDG_CACHE_HOME/codecomp/models`, else `~/.cache/codecomp/models`):

    NAME/FILE              the verified download (a symlink into the HF cache when it came from there)
    NAME/converted/        what the loader opens: safetensors, tokenizer.json, config, codecomp-model.json
    .partial/NAME/         downloads in progress (resumed by the next pull, never loaded)

Each of the first two appears only by an atomic rename after it was checked, so a file or folder
that exists is complete: loading never re-hashes anything.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from codecomp_lsp.modelstore.catalog import CatalogEntry

MODELS_ENV = "CODECOMP_MODELS"
MANIFEST = "codecomp-model.json"
PACKAGE_DIR = Path(__file__).resolve().parent.parent


class ModelStoreError(RuntimeError):
    """A pull, conversion or removal failed; the message is meant for the user."""


def models_dir() -> Path:
    if override := os.environ.get(MODELS_ENV):
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "codecomp" / "models"


def disk_error(exc: OSError, where: Path, needed: int | None = None) -> ModelStoreError:
    """One message for the errors a user can act on: a full disk, no permission."""
    if exc.errno == errno.ENOSPC:
        free = shutil.disk_usage(where).free if where.exists() else 0
        need = f"; {needed / 1e6:,.0f} MB are needed" if needed else ""
        return ModelStoreError(
            f"no space left on the device of {where} ({free / 1e6:,.0f} MB free{need}); "
            f"free some space or set {MODELS_ENV} to another folder"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ModelStoreError(f"cannot write to {where}: {exc.strerror}; set {MODELS_ENV}")
    return ModelStoreError(f"could not write {where}: {exc}")


def require_space(where: Path, needed: int) -> None:
    where.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(where).free
    if free < needed:
        raise ModelStoreError(
            f"not enough disk space in {where}: {needed / 1e6:,.0f} MB needed, "
            f"{free / 1e6:,.0f} MB free; free some space or set {MODELS_ENV} to another folder"
        )


class InstallState(StrEnum):
    BUILT_IN = "built-in"
    INSTALLED = "installed"  # downloaded, verified and converted
    DOWNLOADED = "downloaded"  # verified, conversion still to do (done at the next pull or load)
    PARTIAL = "partial"  # a download was interrupted; `pull` resumes it
    ABSENT = "absent"


@dataclass(frozen=True)
class ModelStatus:
    entry: CatalogEntry
    state: InstallState
    path: Path | None  # what the loader opens (or the verified file before conversion)
    disk_bytes: int


class ModelStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or models_dir()).expanduser()

    def folder(self, entry: CatalogEntry) -> Path:
        return self.root / entry.name

    def source_file(self, entry: CatalogEntry) -> Path:
        return self.folder(entry) / entry.file

    def converted(self, entry: CatalogEntry) -> Path:
        return self.folder(entry) / "converted"

    def partial(self, entry: CatalogEntry) -> Path:
        return self.root / ".partial" / entry.name

    def embedded_path(self, entry: CatalogEntry) -> Path:
        return PACKAGE_DIR / entry.sources[0].path

    def manifest(self, entry: CatalogEntry) -> dict[str, Any] | None:
        try:
            data = json.loads((self.converted(entry) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("sha256") != entry.sha256:
            return None  # converted from another file: stale
        return data

    def status(self, entry: CatalogEntry) -> ModelStatus:
        if entry.embedded:
            path = self.embedded_path(entry)
            return ModelStatus(entry, InstallState.BUILT_IN, path, _size(path))
        folder = self.folder(entry)
        size = _size(folder)
        if self.manifest(entry) is not None and self.source_file(entry).exists():
            return ModelStatus(entry, InstallState.INSTALLED, self.converted(entry), size)
        if self.source_file(entry).exists():
            return ModelStatus(entry, InstallState.DOWNLOADED, self.source_file(entry), size)
        if self.partial(entry).is_dir() and any(self.partial(entry).iterdir()):
            return ModelStatus(entry, InstallState.PARTIAL, None, _size(self.partial(entry)))
        return ModelStatus(entry, InstallState.ABSENT, None, 0)

    def remove(self, entry: CatalogEntry) -> int:
        """Delete a pulled model and its partial downloads; the bytes freed."""
        if entry.embedded:
            raise ModelStoreError(f"{entry.name} is built into the package and cannot be removed")
        freed = 0
        for path in (self.folder(entry), self.partial(entry)):
            if path.exists() or path.is_symlink():
                freed += _size(path)
                shutil.rmtree(path)
        return freed


def _size(path: Path) -> int:
    """Bytes on disk under `path`, not following symlinks into the HF cache."""
    if path.is_symlink() or not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            file = Path(dirpath) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total
