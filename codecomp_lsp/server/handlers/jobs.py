"""Model work for the assist features: a job on the engine's worker, awaited with a timeout."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from codecomp_lsp.server.core import CodecompServer

SLACK_S = 0.25  # awaited a little past the decoder's own deadline


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned future's exception so asyncio does not log it as lost."""
    if not future.cancelled():
        future.exception()


async def model_job(
    ls: CodecompServer,
    fn: Callable[[], Any],
    *,
    key: str,
    cancel: threading.Event,
    timeout: float | None,
) -> Any:
    """Run `fn` on the model worker; TimeoutError when `timeout` passes (the job is cancelled)."""
    job = ls.state.engine.submit(fn, key=key, cancel=cancel)
    future = asyncio.wrap_future(job.future)
    future.add_done_callback(_consume)
    try:
        if timeout is None:
            return await asyncio.shield(future)
        return await asyncio.wait_for(asyncio.shield(future), timeout)
    except (asyncio.CancelledError, TimeoutError):
        cancel.set()
        raise
