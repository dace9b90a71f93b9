"""Counters behind `codecomp/stats`: what the engine did, and how long each feature took."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from typing import Any


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Stats:
    """Thread-safe counters; latencies keep the last `window` samples per feature."""

    COUNTERS = (
        "requests",
        "cancelled",
        "superseded",
        "errors",
        "typedAheadHits",
        "emptyResults",
        "suppressedSecrets",
        "promptTokens",
        "reusedTokens",
        "prefilledTokens",
        "generatedTokens",
        "draftedTokens",  # prompt-lookup drafts proposed
        "acceptedTokens",  # … and confirmed by the model
        "decodeForwards",  # forward passes while decoding (speculative steps count once)
    )

    def __init__(self, window: int = 1000) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, int] = dict.fromkeys(self.COUNTERS, 0)
        self._latency: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=window))
        self._ttft: deque[float] = deque(maxlen=window)

    def add(self, **counts: int) -> None:
        """Count; a name outside COUNTERS is a bug (a misspelling would count silently)."""
        unknown = set(counts) - set(self.COUNTERS)
        if unknown:
            raise KeyError(f"unknown counter(s): {', '.join(sorted(unknown))}")
        with self._lock:
            for name, value in counts.items():
                self._counters[name] += value

    def latency(self, feature: str, ms: float) -> None:
        with self._lock:
            self._latency[feature].append(ms)

    def first_token(self, ms: float) -> None:
        with self._lock:
            self._ttft.append(ms)

    def snapshot(self, **extra: Any) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = dict(self._counters)
            out["latencyMs"] = {
                feature: {
                    "p50": round(percentile(list(v), 50), 2),
                    "p95": round(percentile(list(v), 95), 2),
                    "count": len(v),
                }
                for feature, v in self._latency.items()
            }
            out["firstTokenMs"] = {
                "p50": round(percentile(list(self._ttft), 50), 2),
                "p95": round(percentile(list(self._ttft), 95), 2),
            }
        prompt = out["promptTokens"]
        out["reuseRatio"] = round(out["reusedTokens"] / prompt, 4) if prompt else 0.0
        out.update(extra)
        return out

    def reset(self) -> None:
        with self._lock:
            self._counters = dict.fromkeys(self.COUNTERS, 0)
            self._latency.clear()
            self._ttft.clear()
