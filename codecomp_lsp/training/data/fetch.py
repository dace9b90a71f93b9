"""Downloading package sources from PyPI and npm, with their declared licenses.

Only registries reachable here are used; archives are cached on disk so a rebuild
of the corpus needs no network.
"""

from __future__ import annotations

import json
import tarfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codecomp_lsp.training.data.licenses import classify_license

PYPI_JSON = "https://pypi.org/pypi/{name}/json"
NPM_JSON = "https://registry.npmjs.org/{name}/latest"
TIMEOUT_S = 60


@dataclass(frozen=True)
class PackageSource:
    """A resolved package: where its archive lies and what license it declares."""

    ecosystem: str  # "pypi" or "npm"
    name: str
    version: str
    license: str  # one of licenses.ALLOWED
    url: str
    archive: Path


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        return json.load(response)


def _download(url: str, dest: Path) -> Path:
    if dest.exists() and dest.stat().st_size > 0:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, tmp.open("wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)
    tmp.replace(dest)
    return dest


def resolve_pypi(name: str, cache: Path) -> PackageSource | str:
    """Latest release's sdist (or a pure-Python wheel); a reason string when skipped."""
    meta_url = PYPI_JSON.format(name=name)
    meta = _get_json(meta_url)
    info = meta["info"]
    classifiers = [c for c in info.get("classifiers") or [] if c.startswith("License ::")]
    license_name = classify_license(
        info.get("license_expression") or "", (info.get("license") or "")[:2000], *classifiers
    )
    if license_name is None:
        return f"license not allowed: {info.get('license_expression') or info.get('license', '')[:60]!r} {classifiers}"
    files = meta.get("urls") or []
    chosen = next((f for f in files if f["packagetype"] == "sdist"), None)
    chosen = chosen or next((f for f in files if f["filename"].endswith("-none-any.whl")), None)
    if chosen is None:
        return "no sdist or pure-Python wheel"
    # Mirrors answer with URLs relative to the metadata document.
    url = urllib.parse.urljoin(meta_url, chosen["url"])
    archive = _download(url, cache / "pypi" / chosen["filename"])
    return PackageSource("pypi", info["name"], info["version"], license_name, url, archive)


def resolve_npm(name: str, cache: Path) -> PackageSource | str:
    meta_url = NPM_JSON.format(name=name.replace("/", "%2F"))
    meta = _get_json(meta_url)
    declared = meta.get("license")
    if isinstance(declared, dict):
        declared = declared.get("type", "")
    license_name = classify_license(str(declared or ""))
    if license_name is None:
        return f"license not allowed: {declared!r}"
    url = urllib.parse.urljoin(meta_url, meta["dist"]["tarball"])
    archive = _download(url, cache / "npm" / url.rsplit("/", 1)[-1])
    return PackageSource("npm", name, meta["version"], license_name, url, archive)


def iter_archive(archive: Path, max_member_bytes: int) -> Iterator[tuple[str, bytes]]:
    """(path inside the package, bytes) for each regular file, the top folder stripped."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir() and info.file_size <= max_member_bytes:
                    yield info.filename, zf.read(info)
        return
    with tarfile.open(archive) as tf:
        for member in tf:
            if not member.isfile() or member.size > max_member_bytes:
                continue
            handle = tf.extractfile(member)
            if handle is None:
                continue
            path = member.name.split("/", 1)[1] if "/" in member.name else member.name
            yield path, handle.read()
