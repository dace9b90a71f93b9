"""Extract function as the server builds it: parameters, return values and the call site from
the selection's names, refusals where the construction would change behaviour, and — the point
of building it — the extracted program runs the same as the original."""

from __future__ import annotations

import pytest

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.features.extract import (
    Extraction,
    build_extraction,
    function_name,
    plan_extraction,
)
from codecomp_lsp.features.refactor import RefactorService
from codecomp_lsp.features.refactor_check import check_extract, selection_facts
from tests.samples import TOTAL_SIZE_PY

PY = TOTAL_SIZE_PY

SCORES = """def grade(scores, cutoff):
    passed = []
    best = None
    for s in scores:
        if s >= cutoff:
            passed.append(s)
        if best is None or s > best:
            best = s
    ratio = len(passed) / len(scores)
    if ratio > 0.5:
        return "good", best
    return "poor", best
"""


def _extracted(text: str, language: str, rows: tuple[int, int], name: str) -> tuple[str, str]:
    spec = spec_by_name(language)
    facts = selection_facts(text, spec, *rows)
    plan = plan_extraction(text, spec, facts)
    assert isinstance(plan, Extraction), plan
    function, call = build_extraction(text, spec, facts, plan, name)
    indent = text.split("\n")[rows[0]][: -len(text.split("\n")[rows[0]].lstrip())]
    at = RefactorService._top_level_row(text, spec, facts)
    new, why = check_extract(text, spec, facts, function, [indent + row for row in call], at)
    return new, why or ""


def test_a_loop_becomes_a_function_of_the_locals_it_reads() -> None:
    new, why = _extracted(PY, "python", (6, 9), "sum_sizes")
    assert why == ""
    assert "def sum_sizes(path, total):\n" in new and "    return total\n" in new
    assert "    total = sum_sizes(path, total)\n    return total\n" in new


def _run(source: str, call: str) -> object:
    scope: dict = {}
    exec(compile(source, "<extracted>", "exec"), scope)
    return eval(call, scope)


@pytest.mark.parametrize(
    ("rows", "params"),
    [((1, 7), "(scores, cutoff)"), ((3, 7), "(scores, cutoff, passed, best)"), ((8, 11), "")],
)
def test_extracted_code_runs_the_same(rows: tuple[int, int], params: str) -> None:
    new, why = _extracted(SCORES, "python", rows, "collect")
    assert why == "", new
    assert f"def collect{params}" in new or not params
    for args in ("([1, 9, 5], 4)", "([3], 4)", "([7, 8], 1)"):
        assert _run(new, f"grade{args}") == _run(SCORES, f"grade{args}"), new


def test_a_selection_that_returns_at_the_end_of_its_function_is_returned() -> None:
    new, why = _extracted(SCORES, "python", (8, 11), "verdict")
    assert why == "" and "    return verdict(passed, scores, best)\n" in new, new


@pytest.mark.parametrize(
    ("source", "rows", "reason"),
    [
        (SCORES, (8, 10), "the selection returns from the function before its end"),
        (
            "def f(xs):\n    for x in xs:\n        if x:\n            break\n    return 1\n",
            (2, 3),
            "the selection breaks or continues a loop around it",
        ),
        (
            "def f(xs):\n    for x in xs:\n        yield x\n",
            (1, 2),
            "the selection yields or awaits",
        ),
        (
            "n = 0\ndef f():\n    global n\n    n += 1\n",
            (2, 3),
            "the selection declares global or nonlocal names",
        ),
    ],
)
def test_selections_it_cannot_keep_equivalent_are_refused(source, rows, reason) -> None:
    spec = spec_by_name("python")
    assert plan_extraction(source, spec, selection_facts(source, spec, *rows)) == reason


JS = """export function stats(values) {
  let total = 0;
  let count = 0;
  for (const v of values) {
    total += v;
    count += 1;
  }
  const mean = total / count;
  const spread = Math.max(...values) - Math.min(...values);
  return { mean, spread };
}
"""


def test_javascript_extractions_declare_or_assign_what_they_give_back() -> None:
    assigned, why = _extracted(JS, "javascript", (3, 6), "addUp")
    assert why == "", assigned
    assert "  [count, total] = addUp(values, total, count);\n" in assigned
    assert "function addUp(values, total, count) {\n" in assigned
    declared, why = _extracted(JS, "javascript", (7, 8), "measure")
    assert why == "", declared
    assert "  const [mean, spread] = measure(total, count, values);\n" in declared
    method = "class A {\n  f() {\n    const x = this.y;\n    return x;\n  }\n}\n"
    spec = spec_by_name("javascript")
    facts = selection_facts(method, spec, 2, 2)
    assert "`this`" in str(plan_extraction(method, spec, facts))


def test_the_model_names_the_function_and_the_name_is_made_unique() -> None:
    python, js = spec_by_name("python"), spec_by_name("javascript")
    assert function_name("sum_sizes(path, total)", python, set()) == "sum_sizes"
    assert function_name(" `def` collect_scores", python, set()) == "collect_scores"
    assert function_name("total", python, {"total"}) == "total_2"
    assert function_name("", python, set()) == "new_function"
    assert function_name("return", js, set()) == "newFunction"
    assert function_name("addUp", js, {"addUp", "addUp2"}) == "addUp3"
