"""One thread owns the model: jobs run there in order, and a newer job for a key supersedes older ones.

Background jobs (prefilling a document the user may type in next, prefetching the completion after
an accepted suggestion) are the lowest priority: any other job cancels every background job that
is queued or running, which stops at its next cancellation check (a prefill chunk, a decode step).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from codecomp_lsp.engine.decoder import Cancelled

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Job:
    fn: Callable[[], Any]
    key: str | None
    cancel: threading.Event = field(default_factory=threading.Event)
    future: Future = field(default_factory=Future)
    background: bool = False


class ModelWorker:
    """A single daemon thread with a FIFO of jobs; LSP handlers await the futures it resolves."""

    def __init__(self, name: str = "codecomp-model") -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._live: dict[str, list[Job]] = {}
        self._background: set[Job] = set()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(
        self,
        fn: Callable[[], Any],
        *,
        key: str | None = None,
        cancel: threading.Event | None = None,
        supersede: bool = True,
        background: bool = False,
    ) -> Job:
        job = Job(fn=fn, key=key, cancel=cancel or threading.Event(), background=background)
        with self._lock:
            if self._closed:
                # The thread is gone (or going): nothing would ever resolve this future.
                job.cancel.set()
                job.future.set_exception(Cancelled())
                return job
            if background:
                self._background.add(job)
            else:
                for waiting in self._background:
                    waiting.cancel.set()
            if key is not None:
                if supersede:
                    for older in self._live.get(key, []):
                        older.cancel.set()
                self._live.setdefault(key, []).append(job)
            # Enqueued under the lock so that no job can land behind shutdown's sentinel.
            self._queue.put(job)
        return job

    def pending(self) -> int:
        return self._queue.qsize()

    def shutdown(self, wait: bool = False) -> None:
        with self._lock:
            self._closed = True
            for jobs in self._live.values():
                for job in jobs:
                    job.cancel.set()
            self._queue.put(None)
        if wait:
            self._thread.join(timeout=10)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the thread to end; whether it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                if job.cancel.is_set():
                    raise Cancelled()
                if job.future.set_running_or_notify_cancel():
                    job.future.set_result(job.fn())
            except BaseException as exc:  # noqa: BLE001 - the job's caller decides what an error means
                if not job.future.done():
                    job.future.set_exception(exc)
                if not isinstance(exc, Cancelled | Exception):
                    raise
            finally:
                if job.background:
                    with self._lock:
                        self._background.discard(job)
                if job.key is not None:
                    with self._lock:
                        jobs = self._live.get(job.key, [])
                        if job in jobs:
                            jobs.remove(job)
                        if not jobs:
                            self._live.pop(job.key, None)
