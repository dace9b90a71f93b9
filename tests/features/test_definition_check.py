"""The definition check in the completion path: answers that bind the names the lines below
need rank first, and one starting with the binding is decoded when no answer binds them."""

from __future__ import annotations

from dataclasses import replace

from codecomp_lsp.context.needed import NeededNames
from codecomp_lsp.engine.decoder import GenerationRequest, GenerationResult
from codecomp_lsp.features.completion import CompletionQuery, CompletionService, DocumentSnapshot
from codecomp_lsp.features.completion_types import Suggestion
from codecomp_lsp.features.definition_check import bound_count, rank_by_definitions
from codecomp_lsp.settings import Settings
from codecomp_lsp.stages import Stage
from tests.features.scripted import ScriptedEngine

MODP = (
    "def modp(n: int, p: int):\n"
    '    """2^n modulo p."""\n'
    "    \n"
    "    for i in range(n):\n"
    "        ret = (2 * ret) % p\n"
    "    return ret\n"
)


class ByOpening(ScriptedEngine):
    """Answers by what follows the middle marker: `openings[text]` after that text, else the
    scripted outputs."""

    def __init__(self, outputs: list[str], openings: dict[str, str]) -> None:
        super().__init__(outputs)
        self.openings = openings

    def generate(self, req: GenerationRequest) -> GenerationResult:
        loaded, _ = self.require()
        middle = loaded.tokenizer.get_vocab()[loaded.template.middle]
        typed = self.decode(req.prompt_ids[req.prompt_ids.index(middle) + 1 :])
        if typed in self.openings:
            saved, self.outputs = self.outputs, [self.openings[typed]]
            try:
                return super().generate(req)
            finally:
                self.outputs = saved
        return super().generate(req)


def _complete(
    engine: ScriptedEngine, text: str = MODP, *, off: tuple[Stage, ...] = (), candidates: int = 1
) -> list[str]:
    settings = replace(Settings(), disabledStages=off)
    service = CompletionService(engine, lambda: settings)
    doc = DocumentSnapshot("file:///modp.py", text, "python")
    query = CompletionQuery(doc=doc, line=2, character=4, automatic=False, candidates=candidates)
    return [s.text for s in service.complete(query).suggestions]


def test_when_no_answer_binds_the_name_one_starting_with_its_binding_is_decoded() -> None:
    engine = ByOpening(["if n == 0:"], {"ret =": " 1"})
    assert _complete(engine) == ["ret = 1", "if n == 0:"]
    first, guided = engine.requests
    assert guided.prompt_ids[: len(first.prompt_ids)] == first.prompt_ids  # the cache serves it
    assert guided.candidates == 1 and guided.temperature == 0.0
    loaded, _ = engine.require()
    banned = {loaded.tokenizer.decode([i]).strip() for i in guided.banned_first}
    assert banned == {"ret"}  # `ret = ret …` would read it unbound
    assert engine.stats.snapshot()["definitionAnswers"] == 1


def test_an_answer_that_binds_the_name_asks_for_nothing_more() -> None:
    engine = ByOpening(["ret = 1"], {"ret =": " 2"})
    assert _complete(engine) == ["ret = 1"]
    assert len(engine.requests) == 1


def test_a_guided_answer_that_still_reads_the_name_unbound_is_dropped() -> None:
    engine = ByOpening(["if n == 0:"], {"ret =": " ret * 2"})
    assert _complete(engine) == ["if n == 0:"]
    assert len(engine.requests) == 2


def test_switched_off_the_model_answers_alone() -> None:
    engine = ByOpening(["if n == 0:"], {"ret =": " 1"})
    assert _complete(engine, off=(Stage.DEFINITION_CHECK,)) == ["if n == 0:"]
    assert len(engine.requests) == 1


def test_among_candidates_the_one_that_binds_ranks_first() -> None:
    engine = ByOpening(["if n == 0:", "ret = 1", "pass"], {})
    assert _complete(engine, candidates=3)[0] == "ret = 1"
    assert len(engine.requests) == 1


def test_the_check_applies_on_empty_lines_only() -> None:
    engine = ByOpening(["f n == 0:"], {"ret =": " 1"})
    settings = Settings()
    service = CompletionService(engine, lambda: settings)
    text = MODP.replace("    \n    for", "    i\n    for")
    doc = DocumentSnapshot("file:///modp.py", text, "python")
    query = CompletionQuery(doc=doc, line=2, character=5, automatic=False)
    assert [s.text for s in service.complete(query).suggestions] == ["f n == 0:"]
    assert len(engine.requests) == 1


def test_binding_counts_what_is_bound_before_it_is_read() -> None:
    needed = NeededNames(("a", "b"), opens_block=False, in_block=(), called=())
    assert bound_count('a, b = x.split("/")', needed) == 2
    assert bound_count("a = int(x)", needed) == 1
    assert bound_count("a = a + 1", needed) == 0
    assert bound_count("for a in b:", needed) == 1
    assert bound_count("print(a, b)", needed) == 0
    ranked = rank_by_definitions(
        [Suggestion("print(a)", 0.0, 0), Suggestion("a = 1", -1.0, 0), Suggestion("x(", 0, 2)],
        needed,
    )
    assert [s.text for s in ranked] == ["a = 1", "print(a)", "x("]  # parse errors still first
