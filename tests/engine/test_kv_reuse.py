"""KV-cache reuse is exact: across a scripted editing session, greedy tokens with reuse equal a
from-scratch run, and typing on a line is served almost entirely from the cache."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from codecomp_lsp.engine.decoder import Cancelled, GenerationRequest
from codecomp_lsp.engine.engine import Engine
from codecomp_lsp.features.completion import CompletionQuery, CompletionService, DocumentSnapshot
from codecomp_lsp.settings import Settings

HEADER = "import os\nimport sys\n\n\n"
BODY = '''def read_config(path):
    """Read key=value lines from path into a dict."""
    config = {}
    with open(path) as handle:
        for line in handle:
            key, _, value = line.partition("=")
            config[key.strip()] = value.strip()
    return config


class Loader:
    def __init__(self, root):
        self.root = root

    def load(self, name):
        full = os.path.join(self.root, name)
'''
OTHER = (
    HEADER
    + """def write_config(path, config):
    with open(path, "w") as handle:
        for key, value in config.items():
            handle.write(f"{key}={value}\\n")
"""
)


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    settings = Settings(
        model=str(tiny_model_dir), dtype="float32", maxNewTokens=12, multiline="never"
    )
    engine = Engine()
    engine.load(settings)
    engine.ready.wait(120)
    assert engine.state == "ready", engine.error
    yield engine, settings
    engine.shutdown()


def run(engine: Engine, service: CompletionService, uri: str, text: str, line: int, character: int):
    query = CompletionQuery(DocumentSnapshot(uri, text, "python"), line, character, automatic=False)
    return engine.submit(lambda: service.complete(query), key=uri).future.result(60)


def test_reuse_is_token_identical_to_scratch_across_an_editing_session(engine):
    engine, settings = engine
    reuse = CompletionService(engine, lambda: settings)
    scratch = CompletionService(engine, lambda: replace(settings, kvReuse=False))
    a, b = "file:///proj/loader.py", "file:///proj/writer.py"
    text = HEADER + BODY + "        return "
    last = text.count("\n")
    steps: list[tuple[str, str, str, int, int]] = []  # (label, uri, text, line, character)

    def add(
        label: str, uri: str, body: str, line: int | None = None, col: int | None = None
    ) -> None:
        lines = body.split("\n")
        ln = len(lines) - 1 if line is None else line
        steps.append((label, uri, body, ln, len(lines[ln]) if col is None else col))

    add("cold", a, text)
    for ch in "open(":  # typing on the line
        text += ch
        add("type", a, text)
    text = text[:-1]
    add("backspace", a, text)
    text = "# loader module\n" + text  # an edit above the cursor
    add("edit-above", a, text)
    add("switch-doc", b, OTHER)
    add("switch-back", a, text)
    first = run(engine, reuse, a, text, text.count("\n"), len(text.split("\n")[-1]))
    accepted = text + (first.suggestions[0].text if first.suggestions else "full")
    add("accept", a, accepted)
    middle = accepted.index("class Loader")
    pasted = accepted[:middle] + "CACHE = {}\nLIMIT = 10\n\n\n" + accepted[middle:]
    add("paste-middle", a, pasted)

    typing_ratios = []
    for label, uri, body, line, col in steps:
        got = run(engine, reuse, uri, body, line, col)
        want = run(engine, scratch, uri, body, line, col)
        assert want.result.reused_tokens == 0
        assert got.result.candidates[0].token_ids == want.result.candidates[0].token_ids, label
        assert [s.text for s in got.suggestions] == [s.text for s in want.suggestions], label
        if label in ("type", "backspace", "switch-back", "accept"):
            typing_ratios.append(got.result.reused_tokens / got.result.prompt_tokens)
        if label in ("cold", "edit-above"):
            # Only the prefix marker can be shared with what is cached.
            assert got.result.reused_tokens <= 1, label
    assert last > 10
    # Typing, backspace, coming back to a document and accepting a suggestion hit the cache.
    assert min(typing_ratios) > 0.9, typing_ratios


def test_batched_candidates_keep_the_greedy_first(engine):
    engine, settings = engine
    service = CompletionService(engine, lambda: settings)
    text = HEADER + BODY + "        return "
    line, col = text.count("\n"), len("        return ")
    single = CompletionQuery(
        DocumentSnapshot("file:///g.py", text, "python"), line, col, automatic=False
    )
    batch = replace(single, candidates=3)
    one = engine.submit(lambda: service.complete(single), key="g").future.result(60)
    three = engine.submit(lambda: service.complete(batch), key="g").future.result(60)
    assert three.result.candidates[0].token_ids == one.result.candidates[0].token_ids
    assert len(three.result.candidates) == 3


def test_cancelled_request_raises_and_keeps_its_prefill(engine):
    engine, settings = engine
    loaded, decoder = engine.require()
    ids = loaded.tokenizer(HEADER + BODY, add_special_tokens=False)["input_ids"]
    cancel = threading.Event()
    cancel.set()
    request = GenerationRequest(key="cancel-doc", prompt_ids=ids, cancel=cancel)
    with pytest.raises(Cancelled):
        engine.submit(lambda: decoder.run(request), key="cancel-doc").future.result(60)

    # A cancellation after prefill stops decoding at the next step and reports it.
    steps = []

    def on_text(row: int, text: str) -> None:
        steps.append(text)
        cancel2.set()

    cancel2 = threading.Event()
    request2 = GenerationRequest(
        key="cancel-doc", prompt_ids=ids, max_new_tokens=50, cancel=cancel2, on_text=on_text
    )
    result = engine.submit(lambda: decoder.run(request2), key="cancel-doc").future.result(60)
    assert result.cancelled and len(steps) == 1
    assert result.candidates[0].finish == "cancelled"
