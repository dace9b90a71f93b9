"""`codecomp data`: build the training corpus in one reproducible command.

Output (in `out_dir`): `train.jsonl.gz` and `heldout.jsonl.gz` (one JSON object
per file: package, path, language, text), `manifest.json` (every package with
version, license, archive URL and hash, and every kept file's SHA-256 and split)
and `report.md` (what was kept and dropped, by reason). Archives are cached under
`out_dir/raw`, so a rebuild needs no network.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import sys
import sysconfig
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from codecomp_lsp.training.data.dedup import NearDuplicateIndex, exact_key
from codecomp_lsp.training.data.fetch import (
    PackageSource,
    iter_archive,
    resolve_npm,
    resolve_pypi,
)
from codecomp_lsp.training.data.filters import (
    EXCLUDED_DIRS_STDLIB,
    MAX_FILE_BYTES,
    language_of,
    normalise,
    reject_reason,
)
from codecomp_lsp.training.data.sources import EXCLUDED_PACKAGES, NPM_PACKAGES, PYPI_PACKAGES

log = logging.getLogger(__name__)

HELDOUT_PERCENT = 4
MAX_PACKAGE_BYTES = 3_000_000  # no single package dominates the corpus


def is_heldout(ecosystem: str, name: str) -> bool:
    """Split by package, deterministically: a package is held out or not as a whole."""
    digest = hashlib.sha256(f"{ecosystem}:{name.lower()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELDOUT_PERCENT


@dataclass
class BuildStats:
    kept_files: Counter = field(default_factory=Counter)
    kept_bytes: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    skipped_packages: dict[str, str] = field(default_factory=dict)


def _stdlib_source() -> PackageSource:
    root = Path(sysconfig.get_paths()["stdlib"])
    version = ".".join(map(str, sys.version_info[:3]))
    return PackageSource("cpython", "cpython-stdlib", version, "PSF", str(root), root)


def _iter_stdlib(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in EXCLUDED_DIRS_STDLIB for part in rel.parts[:-1]):
            continue
        try:
            if path.stat().st_size <= MAX_FILE_BYTES:
                yield rel.as_posix(), path.read_bytes()
        except OSError:
            continue


def _resolve_all(cache: Path, languages: set[str], stats: BuildStats) -> list[PackageSource]:
    jobs: list[tuple[str, str]] = []
    if "python" in languages:
        jobs += [("pypi", n) for n in PYPI_PACKAGES]
    if languages & {"javascript", "typescript"}:
        jobs += [("npm", n) for n in NPM_PACKAGES]
    jobs = [(e, n) for e, n in dict.fromkeys(jobs) if n.lower() not in EXCLUDED_PACKAGES]

    def resolve(job: tuple[str, str]) -> PackageSource | str:
        ecosystem, name = job
        try:
            return (resolve_pypi if ecosystem == "pypi" else resolve_npm)(name, cache)
        except Exception as exc:  # network or metadata trouble skips one package
            return f"fetch failed: {exc}"

    sources: list[PackageSource] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for (ecosystem, name), result in zip(jobs, pool.map(resolve, jobs), strict=True):
            if isinstance(result, str):
                stats.skipped_packages[f"{ecosystem}:{name}"] = result
                log.info("skip %s:%s — %s", ecosystem, name, result)
            else:
                sources.append(result)
    return sources


def build_corpus(out_dir: Path, languages: set[str] | None = None) -> BuildStats:
    languages = languages or {"python", "javascript", "typescript"}
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    stats = BuildStats()
    sources = []
    if "python" in languages:
        sources.append(_stdlib_source())
    sources += _resolve_all(out_dir / "raw", languages, stats)
    exact_seen: set[str] = set()
    near = NearDuplicateIndex()
    manifest: list[dict] = []
    # Held-out packages are indexed first so that a file shared with a training
    # package is dropped from training, never from evaluation.
    sources.sort(key=lambda s: (not is_heldout(s.ecosystem, s.name), s.ecosystem, s.name.lower()))
    with (
        gzip.open(out_dir / "train.jsonl.gz", "wt", encoding="utf-8") as train_out,
        gzip.open(out_dir / "heldout.jsonl.gz", "wt", encoding="utf-8") as heldout_out,
    ):
        for source in sources:
            heldout = source.ecosystem != "cpython" and is_heldout(source.ecosystem, source.name)
            split = "heldout" if heldout else "train"
            members = (
                _iter_stdlib(source.archive)
                if source.ecosystem == "cpython"
                else iter_archive(source.archive, MAX_FILE_BYTES)
            )
            files: list[dict] = []
            package_bytes = 0
            for path, data in members:
                language = language_of(path)
                if language is None or language not in languages:
                    continue
                reason = reject_reason(path, data)
                if reason is None and package_bytes + len(data) > MAX_PACKAGE_BYTES:
                    reason = "package byte cap"
                if reason is None:
                    text = normalise(data.decode("utf-8"))
                    key = exact_key(text)
                    if key in exact_seen:
                        reason = "exact duplicate"
                    elif near.add(text):
                        reason = "near duplicate"
                    exact_seen.add(key)
                if reason is not None:
                    stats.dropped[reason] += 1
                    continue
                package_bytes += len(text.encode())
                record = {"package": source.name, "path": path, "language": language, "text": text}
                (heldout_out if heldout else train_out).write(json.dumps(record) + "\n")
                files.append(
                    {
                        "path": path,
                        "sha256": hashlib.sha256(text.encode()).hexdigest(),
                        "bytes": len(text.encode()),
                        "language": language,
                    }
                )
                stats.kept_files[(split, language)] += 1
                stats.kept_bytes[(split, language)] += len(text.encode())
            manifest.append(
                {
                    "ecosystem": source.ecosystem,
                    "name": source.name,
                    "version": source.version,
                    "license": source.license,
                    "source": source.url,
                    "archive_sha256": _sha256_file(source.archive),
                    "split": split,
                    "files": files,
                }
            )
            log.info(
                "%s:%s %s → %d files (%s)",
                source.ecosystem,
                source.name,
                source.version,
                len(files),
                split,
            )
    (out_dir / "manifest.json").write_text(
        json.dumps({"packages": manifest, "skipped": stats.skipped_packages}, indent=1)
    )
    (out_dir / "report.md").write_text(render_report(stats, manifest, time.monotonic() - started))
    return stats


def _sha256_file(path: Path) -> str:
    if not path.is_file():
        return ""  # the standard library is a folder, not an archive
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def render_report(stats: BuildStats, manifest: list[dict], seconds: float) -> str:
    lines = ["# Corpus build report", "", f"Built in {seconds:.0f} s.", ""]
    lines += ["| split | language | files | MB |", "|---|---|---:|---:|"]
    for key in sorted(stats.kept_files):
        split, language = key
        lines.append(
            f"| {split} | {language} | {stats.kept_files[key]:,} | {stats.kept_bytes[key] / 1e6:.1f} |"
        )
    licenses = Counter(p["license"] for p in manifest)
    lines += [
        "",
        "Packages by license: " + ", ".join(f"{k} {v}" for k, v in licenses.most_common()),
    ]
    heldout = sorted(f"{p['ecosystem']}:{p['name']}" for p in manifest if p["split"] == "heldout")
    lines += ["", f"Held-out packages ({len(heldout)}): " + ", ".join(heldout)]
    lines += ["", "| dropped because | files |", "|---|---:|"]
    lines += [f"| {reason} | {n:,} |" for reason, n in stats.dropped.most_common()]
    lines += ["", f"Skipped packages ({len(stats.skipped_packages)}):", ""]
    lines += [f"- {name}: {why}" for name, why in sorted(stats.skipped_packages.items())]
    return "\n".join(lines) + "\n"


def read_corpus(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)
