"""Failpoints: make a real code path fail on purpose, so tests and the soak benchmark can check
what the user sees when the model breaks mid-request (nothing is mocked: the real server runs and
one real call raises).

`CODECOMP_FAILPOINTS="forward-error@3,forward-oom@5"`: the 3rd model forward raises RuntimeError,
the 5th torch.OutOfMemoryError; each fires once. Unset (always, outside tests), `hit()` is one
dictionary test.
"""

from __future__ import annotations

import os
import threading

import torch

__all__ = ["hit"]

_ERRORS: dict[str, type[BaseException]] = {
    "error": RuntimeError,
    "oom": torch.OutOfMemoryError,
}


def _parse(spec: str) -> dict[str, dict[int, str]]:
    points: dict[str, dict[int, str]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition("@")
        site, _, kind = name.rpartition("-")
        if kind not in _ERRORS or not site or not count.isdigit():
            raise ValueError(
                f"CODECOMP_FAILPOINTS: cannot read {item!r} (site-error@N or site-oom@N)"
            )
        points.setdefault(site, {})[int(count)] = kind
    return points


_POINTS = _parse(os.environ.get("CODECOMP_FAILPOINTS", ""))
_COUNTS: dict[str, int] = {}
_LOCK = threading.Lock()


def hit(site: str) -> None:
    """Count a pass through `site`; raise if a failpoint is set for this pass."""
    if not _POINTS:
        return
    planned = _POINTS.get(site)
    if not planned:
        return
    with _LOCK:
        _COUNTS[site] = _COUNTS.get(site, 0) + 1
        kind = planned.pop(_COUNTS[site], None)
    if kind is not None:
        raise _ERRORS[kind](f"failpoint {site}-{kind}@{_COUNTS[site]}")
