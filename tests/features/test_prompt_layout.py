"""`promptLayout`: where the text typed on the cursor line goes, per request kind."""

from __future__ import annotations

from dataclasses import replace

import pytest

from codecomp_lsp.features.completion import CompletionQuery, CompletionService, DocumentSnapshot
from codecomp_lsp.settings import Settings
from tests.features.scripted import ScriptedEngine

TEXT = "def area(r):\n    return 3.14 * \n\nprint(area(2))\n"


def _ids_after_middle(layout: str, automatic: bool) -> list[int]:
    engine = ScriptedEngine(["r * r"])
    settings = replace(Settings(), promptLayout=layout)
    service = CompletionService(engine, lambda: settings)
    doc = DocumentSnapshot("file:///a.py", TEXT, "python")
    query = CompletionQuery(doc=doc, line=1, character=18, automatic=automatic)
    outcome = service.complete(query)
    assert [s.text for s in outcome.suggestions] == ["r * r"]
    ids = engine.requests[-1].prompt_ids
    assert service.prompt_ids(query) == ids  # background prefill fills exactly this prompt
    loaded, _ = engine.require()
    middle = loaded.tokenizer.get_vocab()[loaded.template.middle]
    # Whatever layout, the prompt reads back as the document around the cursor.
    assert engine.prompts[-1][1:] == (1, 18)
    return ids[ids.index(middle) + 1 :]


@pytest.mark.parametrize(
    ("layout", "automatic", "typed_after_middle"),
    [
        ("auto", True, True),  # as the user types: the cache stays valid
        ("auto", False, False),  # invoked: the model's own layout
        ("cached", False, True),
        ("psm", True, False),
    ],
)
def test_typed_text_follows_the_middle_marker_only_where_the_layout_says(
    layout: str, automatic: bool, typed_after_middle: bool
) -> None:
    tail = _ids_after_middle(layout, automatic)
    assert bool(tail) == typed_after_middle
