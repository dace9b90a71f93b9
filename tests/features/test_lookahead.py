"""Working ahead on the real (fixture) model: a background prefill at the cursor makes the next
completion there reuse the whole prompt, and the completion after an accepted suggestion is the
one a request would compute, ready before it is asked for."""

from __future__ import annotations

import pytest

from codecomp_lsp.engine.engine import Engine
from codecomp_lsp.features.completion import CompletionQuery, CompletionService, DocumentSnapshot
from codecomp_lsp.features.lookahead import Lookahead, accepted
from codecomp_lsp.settings import Settings
from tests.features.scripted import ScriptedEngine
from tests.samples import LIST_FILES_PY


def test_accepted_moves_the_cursor_to_the_end_of_the_inserted_text() -> None:
    doc = DocumentSnapshot("file:///a.py", "def f():\n    return \n", "python")
    single = accepted(doc, 1, 11, "x + 1")
    assert single.doc.text == "def f():\n    return x + 1\n"
    assert (single.line, single.character) == (1, 16)
    block = accepted(doc, 1, 11, "(\n        1,\n    )")
    assert block.doc.text == "def f():\n    return (\n        1,\n    )\n"
    assert (block.line, block.character) == (3, 5)
    assert block.doc.uri == doc.uri


@pytest.fixture(scope="module")
def services(tiny_model_dir):
    settings = Settings(model=str(tiny_model_dir), dtype="float32", maxNewTokens=12)
    engine = Engine()
    engine.load(settings)
    engine.ready.wait(120)
    assert engine.state == "ready", engine.error
    completion = CompletionService(engine, lambda: settings)
    yield engine, completion, Lookahead(completion)
    engine.shutdown()


def _query(text: str, line: int, character: int, uri: str) -> CompletionQuery:
    return CompletionQuery(DocumentSnapshot(uri, text, "python"), line, character, automatic=False)


def _on_worker(engine: Engine, fn):
    return engine.submit(fn).future.result(60)


def test_a_prefilled_cursor_answers_from_the_cache(services) -> None:
    engine, completion, lookahead = services
    uri = "file:///warm.py"
    lines = LIST_FILES_PY.split("\n")
    line = len(lines) // 2
    query = _query(LIST_FILES_PY, line, len(lines[line]), uri)
    warm = _on_worker(engine, lambda: lookahead.prefill(query))
    assert warm is not None and warm.prefilled_tokens == warm.prompt_tokens > 100
    assert engine.stats.snapshot()["backgroundPrefills"] >= 1
    outcome = _on_worker(engine, lambda: completion.complete(query))
    assert outcome.result is not None
    assert outcome.result.prefilled_tokens <= 1  # the last prompt token, fed to start decoding
    # Same answer as without the warm-up.
    engine.cache.clear()
    cold = _on_worker(engine, lambda: completion.complete(query))
    assert [s.text for s in cold.suggestions] == [s.text for s in outcome.suggestions]
    assert cold.result is not None and cold.result.prefilled_tokens == cold.result.prompt_tokens


def _scripted(outputs: list[str]):
    engine = ScriptedEngine(outputs)
    settings = Settings(multiline="never")
    completion = CompletionService(engine, lambda: settings)
    return engine, completion, Lookahead(completion)


def test_the_completion_after_an_accepted_suggestion_is_ready_in_advance() -> None:
    engine, completion, lookahead = _scripted(["a + b"])
    uri = "file:///tab.py"
    query = _query("def add(a, b):\n    return \n\nprint(add(1, 2))\n", 1, 11, uri)
    first = completion.complete(query)
    assert [s.text for s in first.suggestions] == ["a + b"]
    engine.outputs = ["  # the sum"]
    ahead = lookahead.prefetch(query, "a + b")
    assert ahead is not None and [s.text for s in ahead.suggestions] == ["  # the sum"]
    # The model saw the document as it is after the acceptance, the cursor after the text.
    assert engine.prompts[-1][1:] == (1, len("    return a + b"))
    assert "    return a + b" in engine.prompts[-1][0]
    after = accepted(query.doc, query.line, query.character, "a + b")
    taken = lookahead.take(CompletionQuery(after.doc, after.line, after.character))
    assert taken is not None and [s.text for s in taken.suggestions] == ["  # the sum"]
    assert engine.stats.snapshot()["prefetchHits"] == 1
    assert len(engine.requests) == 2  # taking it ran nothing
    assert lookahead.take(CompletionQuery(after.doc, after.line, after.character)) is None
    # It is on screen now: typing its start is answered by typed-ahead.
    typed = accepted(after.doc, after.line, after.character, "  #")
    rest = completion.typed_ahead(typed)
    assert rest is not None and rest.suggestions[0].text == " the sum"


def test_the_prefetch_does_not_replace_the_suggestion_on_screen() -> None:
    engine, completion, lookahead = _scripted(["a + b"])
    query = _query("def add(a, b):\n    return ", 1, 11, "file:///shown.py")
    completion.complete(query)
    engine.outputs = ["  # the sum"]
    lookahead.prefetch(query, "a + b")
    typed = accepted(query.doc, query.line, query.character, "a ")
    rest = completion.typed_ahead(typed)
    assert rest is not None and rest.suggestions[0].text == "+ b"


def test_another_text_or_position_does_not_take_the_prefetch() -> None:
    engine, completion, lookahead = _scripted(["a + b"])
    uri = "file:///other.py"
    query = _query("def add(a, b):\n    return ", 1, 11, uri)
    lookahead.prefetch(query, "a + b")
    after = accepted(query.doc, query.line, query.character, "a + b")
    typo = DocumentSnapshot(uri, after.doc.text + "x", "python")
    assert lookahead.take(CompletionQuery(typo, after.line, after.character)) is None
    moved = CompletionQuery(after.doc, after.line, after.character - 1)
    assert lookahead.take(moved) is None
    menu = CompletionQuery(after.doc, after.line, after.character, candidates=3)
    assert lookahead.take(menu) is None
    lookahead.forget(uri)
    assert lookahead.take(CompletionQuery(after.doc, after.line, after.character)) is None
    assert engine.stats.snapshot()["prefetchHits"] == 0
