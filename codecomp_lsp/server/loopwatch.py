"""How late the event loop wakes: the proof that no handler blocks it.

Everything slow (the model, tree-sitter on big windows, decoding big messages) runs on threads; the
loop itself only routes messages. A task sleeping `PERIOD_S` that wakes late measures any work
that held the loop meanwhile. `codecomp/stats` reports the worst lag and the stalls (≥ `STALL_S`);
each stall is one log line naming the last message read before it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

PERIOD_S = 0.05
STALL_S = 0.25


@dataclass
class LoopWatch:
    max_lag_s: float = 0.0
    stalls: int = 0
    last_method: str | None = None  # of the last message read (set by the intake)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(PERIOD_S)
            lag = loop.time() - started - PERIOD_S
            self.max_lag_s = max(self.max_lag_s, lag)
            if lag >= STALL_S:
                self.stalls += 1
                log.warning("event loop held for %.0f ms (after %s)", lag * 1000, self.last_method)

    def describe(self) -> dict[str, float | int]:
        return {"loopLagMaxMs": round(self.max_lag_s * 1000, 1), "loopStalls": self.stalls}
