"""Small helpers shared by the benchmark scripts: percentiles, ratios, tables, process memory."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


def ensure_repo_on_path() -> None:
    """Scripts run as `python benchmarks/x.py` import `benchmarks.*` and `codecomp_lsp.*`."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between ranks (numpy's default);
    None for no values."""
    ordered = sorted(v for v in values if v is not None and not math.isnan(v))
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    rank = max(0.0, min(100.0, q)) / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: Iterable[float]) -> dict[str, float | int | None]:
    """n, mean, p50, p95, p99, max of the values (None where there are none)."""
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return {
        "n": len(vals),
        "mean": sum(vals) / len(vals) if vals else None,
        "p50": percentile(vals, 50),
        "p95": percentile(vals, 95),
        "p99": percentile(vals, 99),
        "max": max(vals) if vals else None,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator ÷ denominator, or None when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def fmt(value: float | int | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    if abs(value) >= 100:
        digits = 0
    return f"{value:,.{digits}f}{unit}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}×"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def process_memory(pid: int) -> dict[str, int | None]:
    """Resident and peak resident memory of a process in bytes (Linux /proc, else psutil)."""
    out: dict[str, int | None] = {"rss": None, "peak_rss": None}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    kb = int(rest.split()[0])
                    out["rss" if key == "VmRSS" else "peak_rss"] = kb * 1024
        return out
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        out["rss"] = psutil.Process(pid).memory_info().rss
    except Exception:  # noqa: BLE001 - memory is reported as unknown
        pass
    return out


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (LSP's default position encoding)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def machine_description() -> str:
    import platform

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model or platform.processor() or platform.machine()}, {cores} cores"
