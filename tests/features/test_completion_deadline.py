"""The time budget counts from the request's arrival: a request that waited it out behind other
work answers at once with nothing instead of running the model for an answer nobody waits for."""

from __future__ import annotations

import time

import pytest

from codecomp_lsp.engine.engine import Engine
from codecomp_lsp.features.completion import CompletionQuery, CompletionService, DocumentSnapshot
from codecomp_lsp.settings import Settings


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    engine = Engine()
    engine.load(Settings(model=str(tiny_model_dir), dtype="float32"))
    engine.ready.wait(120)
    assert engine.state == "ready", engine.error
    yield engine
    engine.shutdown()


def _query(received: float) -> CompletionQuery:
    text = "def add(a, b):\n    return a"
    doc = DocumentSnapshot("file:///deadline.py", text, "python")
    return CompletionQuery(doc, 1, len("    return a"), automatic=False, received=received)


def test_a_request_that_waited_out_its_budget_is_not_run(engine, monkeypatch) -> None:
    settings = Settings(model="x", timeBudgetMs=1000)
    service = CompletionService(engine, lambda: settings)
    called = []
    monkeypatch.setattr(engine, "generate", lambda request: called.append(request))
    outcome = engine.submit(lambda: service.complete(_query(time.monotonic() - 2))).future.result(
        30
    )
    assert outcome.suggestions == [] and outcome.reason == "deadline"
    assert called == []


def test_the_deadline_counts_from_arrival(engine, monkeypatch) -> None:
    settings = Settings(model="x", timeBudgetMs=1000)
    service = CompletionService(engine, lambda: settings)
    seen = []
    real = engine.generate

    def spy(request):
        seen.append(request.deadline)
        return real(request)

    monkeypatch.setattr(engine, "generate", spy)
    received = time.monotonic() - 0.4
    engine.submit(lambda: service.complete(_query(received))).future.result(30)
    assert seen and seen[0] == pytest.approx(received + 1.0)
