"""`$/progress` for long work (a model pull or load, a code action): one sequence per job, fed
from any thread, throttled, and — when the client offers it — cancellable."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

REPORT_EVERY_S = 0.2
CREATE_TIMEOUT_S = 5


class WorkProgress:
    """begin → report … → end; a client without progress support makes every call a no-op."""

    def __init__(
        self,
        server: LanguageServer,
        title: str,
        *,
        enabled: bool,
        kind: str = "work",
        cancel: threading.Event | None = None,
    ) -> None:
        self.server = server
        self.title = title
        self.enabled = enabled
        self.cancel = cancel  # set when the user presses the progress' cancel button
        self.token = f"codecomp-{kind}-{uuid.uuid4().hex}"  # kind: load, pull, action
        self.loop = asyncio.get_running_loop()
        self._live = False
        self._last = 0.0

    async def begin(self, message: str | None = None) -> bool:
        if not self.enabled:
            return False
        progress = self.server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(self.token), CREATE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - a client may refuse progress; the work goes on
            return False
        progress.begin(
            self.token,
            types.WorkDoneProgressBegin(
                title=self.title, message=message, cancellable=self.cancel is not None
            ),
        )
        registered = progress.tokens.get(self.token)
        if registered is not None and self.cancel is not None:
            cancel = self.cancel
            registered.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)
        self._live = True
        return True

    def report(self, message: str, percent: int | None = None, *, force: bool = False) -> None:
        """Thread-safe; drops reports closer than REPORT_EVERY_S unless `force`."""
        now = time.monotonic()
        if not force and now - self._last < REPORT_EVERY_S:
            return
        self._last = now
        self.loop.call_soon_threadsafe(self._report, message, percent)

    def _report(self, message: str, percent: int | None) -> None:
        if self._live and self.token in self.server.work_done_progress.tokens:
            self.server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percent)
            )

    def end(self, message: str) -> None:
        if not self._live:
            return
        self._live = False
        progress = self.server.work_done_progress
        if self.token in progress.tokens:
            progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            progress.tokens.pop(self.token, None)


@asynccontextmanager
async def work_progress(
    server: LanguageServer, title: str, *, enabled: bool, cancel: threading.Event
) -> AsyncIterator[Callable[[str], None]]:
    """Progress around a block of work; yields a thread-safe `report(message)`."""
    progress = WorkProgress(server, title, enabled=enabled, kind="action", cancel=cancel)
    await progress.begin()
    try:
        yield lambda message: progress.report(message, force=True)
    finally:
        progress.end("cancelled" if cancel.is_set() else "done")
