"""Completion never shows a candidate that carries a secret: not in the result, not as a partial
result, not in the streamed ghost text; each refused candidate is counted."""

from __future__ import annotations

import random
import string

import pytest

from codecomp_lsp.engine.decoder import Candidate, GenerationResult
from codecomp_lsp.engine.engine import Engine
from codecomp_lsp.features.completion import CompletionQuery, CompletionService, DocumentSnapshot
from codecomp_lsp.settings import Settings

TOKEN = "ghp_" + "".join(random.Random(7).choice(string.ascii_letters) for _ in range(36))


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    settings = Settings(model=str(tiny_model_dir), dtype="float32", multiline="never")
    engine = Engine()
    engine.load(settings)
    engine.ready.wait(120)
    assert engine.state == "ready", engine.error
    yield engine, settings
    engine.shutdown()


def _scripted(outputs: list[str]):
    """Replace the decoder: stream each output token by token (by character), then finish."""

    def generate(request):
        for row, text in enumerate(outputs):
            for end in range(1, len(text) + 1):
                if request.on_text is not None:
                    request.on_text(row, text[:end])
            if request.on_finish is not None:
                request.on_finish(row, text)
        return GenerationResult(
            candidates=[Candidate(t, [1], -0.1 * i, "stop") for i, t in enumerate(outputs)],
            prompt_tokens=len(request.prompt_ids),
            reused_tokens=0,
            prefilled_tokens=len(request.prompt_ids),
            generated_tokens=len(outputs),
            prefill_ms=0,
            first_token_ms=0,
            total_ms=0,
        )

    return generate


def _complete(engine, settings, monkeypatch, outputs, text, **query_args):
    monkeypatch.setattr(engine, "generate", _scripted(outputs))
    engine.stats.reset()
    service = CompletionService(engine, lambda: settings)
    line = text.count("\n")
    character = len(text.split("\n")[-1])
    query = CompletionQuery(
        DocumentSnapshot("file:///s.py", text, "python"),
        line,
        character,
        candidates=len(outputs),
        automatic=False,
        **query_args,
    )
    outcome = engine.submit(lambda: service.complete(query)).future.result(60)
    return outcome, engine.stats.snapshot()["suppressedSecrets"]


def test_a_secret_candidate_is_dropped_and_counted(engine, monkeypatch):
    engine, settings = engine
    streamed: list[str] = []
    partial: list[str] = []
    outcome, suppressed = _complete(
        engine,
        settings,
        monkeypatch,
        [f"'{TOKEN}'", "os.environ['GITHUB_TOKEN']"],
        "import os\n\ntoken = ",
        on_text=streamed.append,
        on_candidate=lambda s: partial.append(s.text),
    )
    texts = [s.text for s in outcome.suggestions]
    assert texts == ["os.environ['GITHUB_TOKEN']"]
    assert suppressed == 1
    assert all(TOKEN not in t for t in partial)
    # The ghost text stopped before the key prefix and never showed any of the token.
    assert streamed and all("ghp" not in s for s in streamed)


def test_a_secret_completed_after_what_the_user_typed_is_refused(engine, monkeypatch):
    engine, settings = engine
    key = "AKIA" + "".join(random.Random(9).choice(string.ascii_uppercase) for _ in range(16))
    outcome, suppressed = _complete(
        engine, settings, monkeypatch, [key[6:] + '"'], f'aws_access_key_id = "{key[:6]}'
    )
    assert outcome.suggestions == []
    assert suppressed == 1


def test_deny_patterns_from_the_settings_apply(engine, monkeypatch):
    engine, settings = engine
    from dataclasses import replace

    strict = replace(settings, denyPatterns=(r"internal\.corp",))
    outcome, suppressed = _complete(
        engine, strict, monkeypatch, ["'https://api.internal.corp/v1'", "'https://x.org'"], "u = "
    )
    assert [s.text for s in outcome.suggestions] == ["'https://x.org'"]
    assert suppressed == 1


def test_ordinary_completions_pass(engine, monkeypatch):
    engine, settings = engine
    outcome, suppressed = _complete(
        engine, settings, monkeypatch, ["compute_total(items)"], "result = "
    )
    assert [s.text for s in outcome.suggestions] == ["compute_total(items)"]
    assert suppressed == 0
