"""ModelWorker: one thread, FIFO order, supersede by key, errors to futures, shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from codecomp_lsp.engine.decoder import Cancelled
from codecomp_lsp.engine.worker import ModelWorker

TIMEOUT = 5


@pytest.fixture
def worker() -> Iterator[ModelWorker]:
    w = ModelWorker(name="test-worker")
    yield w
    w.shutdown(wait=True)


def block(worker: ModelWorker) -> tuple[threading.Event, threading.Event]:
    """Occupy the worker thread until the returned `release` event is set."""
    started, release = threading.Event(), threading.Event()

    def hold() -> str:
        started.set()
        assert release.wait(TIMEOUT)
        return "held"

    worker.submit(hold)
    assert started.wait(TIMEOUT)
    return started, release


def test_result_is_delivered(worker: ModelWorker) -> None:
    job = worker.submit(lambda: 41 + 1)
    assert job.future.result(TIMEOUT) == 42


def test_jobs_run_in_order_on_one_thread(worker: ModelWorker) -> None:
    ran: list[tuple[int, int, str]] = []
    _, release = block(worker)

    def make(i: int):
        def fn() -> int:
            t = threading.current_thread()
            ran.append((i, threading.get_ident(), t.name))
            return i

        return fn

    jobs = [worker.submit(make(i), key=None if i % 2 else f"doc{i}") for i in range(30)]
    assert worker.pending() == 30
    release.set()
    assert [j.future.result(TIMEOUT) for j in jobs] == list(range(30))
    assert [i for i, _, _ in ran] == list(range(30))
    assert len({ident for _, ident, _ in ran}) == 1
    assert ran[0][1] != threading.get_ident()
    assert ran[0][2] == "test-worker"
    assert worker.pending() == 0


def test_newer_job_for_same_key_supersedes_pending_one(worker: ModelWorker) -> None:
    _, release = block(worker)
    calls: list[str] = []
    old = worker.submit(lambda: calls.append("old"), key="doc")
    other = worker.submit(lambda: calls.append("other") or "other", key="other-doc")
    new = worker.submit(lambda: calls.append("new") or "new", key="doc")
    assert old.cancel.is_set()
    assert not new.cancel.is_set()
    assert not other.cancel.is_set()
    release.set()
    with pytest.raises(Cancelled):
        old.future.result(TIMEOUT)
    assert new.future.result(TIMEOUT) == "new"
    assert other.future.result(TIMEOUT) == "other"
    assert calls == ["other", "new"]  # the superseded job never ran


def test_supersede_cancels_every_older_job_of_the_key(worker: ModelWorker) -> None:
    _, release = block(worker)
    jobs = [worker.submit(lambda i=i: i, key="doc") for i in range(5)]
    assert [j.cancel.is_set() for j in jobs] == [True] * 4 + [False]
    release.set()
    assert jobs[-1].future.result(TIMEOUT) == 4
    for job in jobs[:-1]:
        assert isinstance(job.future.exception(TIMEOUT), Cancelled)


def test_supersede_false_keeps_older_jobs(worker: ModelWorker) -> None:
    _, release = block(worker)
    first = worker.submit(lambda: 1, key="__load__", supersede=False)
    second = worker.submit(lambda: 2, key="__load__", supersede=False)
    assert not first.cancel.is_set()
    release.set()
    assert first.future.result(TIMEOUT) == 1
    assert second.future.result(TIMEOUT) == 2


def test_unkeyed_jobs_are_never_superseded(worker: ModelWorker) -> None:
    _, release = block(worker)
    a = worker.submit(lambda: "a")
    b = worker.submit(lambda: "b")
    assert not a.cancel.is_set()
    release.set()
    assert (a.future.result(TIMEOUT), b.future.result(TIMEOUT)) == ("a", "b")


def test_running_job_sees_its_cancel_event_when_superseded(worker: ModelWorker) -> None:
    started = threading.Event()
    cancel = threading.Event()

    def long_job() -> str:
        started.set()
        if not cancel.wait(TIMEOUT):
            return "not cancelled"
        raise Cancelled()

    running = worker.submit(long_job, key="doc", cancel=cancel)
    assert running.cancel is cancel
    assert started.wait(TIMEOUT)
    newer = worker.submit(lambda: "newer", key="doc")
    assert cancel.is_set()
    with pytest.raises(Cancelled):
        running.future.result(TIMEOUT)
    assert newer.future.result(TIMEOUT) == "newer"


def test_caller_cancel_event_cancels_pending_job(worker: ModelWorker) -> None:
    _, release = block(worker)
    ev = threading.Event()
    calls: list[int] = []
    job = worker.submit(lambda: calls.append(1), key="doc", cancel=ev)
    ev.set()
    release.set()
    with pytest.raises(Cancelled):
        job.future.result(TIMEOUT)
    assert calls == []


def test_cancelled_future_skips_the_job(worker: ModelWorker) -> None:
    _, release = block(worker)
    calls: list[str] = []
    job = worker.submit(lambda: calls.append("x"))
    assert job.future.cancel()
    after = worker.submit(lambda: "after")
    release.set()
    assert after.future.result(TIMEOUT) == "after"
    assert job.future.cancelled()
    assert calls == []


def test_exception_propagates_and_worker_survives(worker: ModelWorker) -> None:
    def boom() -> None:
        raise KeyError("missing")

    failed = worker.submit(boom, key="doc")
    with pytest.raises(KeyError, match="missing"):
        failed.future.result(TIMEOUT)
    assert worker.submit(lambda: "still alive", key="doc").future.result(TIMEOUT) == "still alive"


def test_finished_keys_are_forgotten(worker: ModelWorker) -> None:
    worker.submit(lambda: None, key="doc").future.result(TIMEOUT)
    worker.submit(lambda: 1 / 0, key="doc2").future.exception(TIMEOUT)
    # A later job for the key is not cancelled by a finished one's bookkeeping.
    job = worker.submit(lambda: "ok", key="doc")
    assert job.future.result(TIMEOUT) == "ok"
    assert worker._live == {}


def test_shutdown_cancels_pending_keyed_jobs_and_stops_thread() -> None:
    w = ModelWorker()
    _, release = block(w)
    calls: list[str] = []
    pending = [w.submit(lambda i=i: calls.append(f"job{i}"), key=f"doc{i}") for i in range(3)]
    w.shutdown(wait=False)
    assert all(j.cancel.is_set() for j in pending)
    release.set()
    for job in pending:
        with pytest.raises(Cancelled):
            job.future.result(TIMEOUT)
    w._thread.join(TIMEOUT)
    assert not w._thread.is_alive()
    assert calls == []


def test_shutdown_wait_joins_the_thread() -> None:
    w = ModelWorker()
    w.submit(lambda: None).future.result(TIMEOUT)
    w.shutdown(wait=True)
    assert not w._thread.is_alive()


def test_submit_after_shutdown_does_not_hang() -> None:
    w = ModelWorker()
    w.shutdown(wait=True)
    calls: list[int] = []
    job = w.submit(lambda: calls.append(1), key="doc")
    with pytest.raises(Cancelled):
        job.future.result(TIMEOUT)
    assert job.cancel.is_set()
    assert calls == []
    unkeyed = w.submit(lambda: calls.append(2))
    with pytest.raises(Cancelled):
        unkeyed.future.result(TIMEOUT)
    assert calls == []


def test_submit_racing_shutdown_always_resolves() -> None:
    """Jobs submitted from other threads while shutting down either run or are cancelled."""
    for _ in range(20):
        w = ModelWorker()
        jobs = []
        go = threading.Event()

        def producer(jobs=jobs, w=w, go=go) -> None:
            go.wait(TIMEOUT)
            for i in range(50):
                jobs.append(w.submit(lambda i=i: i, key=f"k{i % 3}"))

        t = threading.Thread(target=producer)
        t.start()
        go.set()
        w.shutdown(wait=False)
        t.join(TIMEOUT)
        for job in jobs:
            exc = job.future.exception(TIMEOUT)  # raises TimeoutError if it would hang
            assert exc is None or isinstance(exc, Cancelled)
        w._thread.join(TIMEOUT)
        assert not w._thread.is_alive()
