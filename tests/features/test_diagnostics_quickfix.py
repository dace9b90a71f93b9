"""Syntax problems (messages, tight ranges) and quick fixes that must parse to be offered."""

from __future__ import annotations

import random
import string
import threading

import pytest

from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.syntax import count_errors
from codecomp_lsp.features.diagnostics import Problem, find_problems
from codecomp_lsp.features.modelio import TextChange, diff_change, point_to_offset
from codecomp_lsp.features.quickfix import (
    QuickFixService,
    Repair,
    parser_repairs,
    rank_repairs,
    verify_repair,
)
from codecomp_lsp.settings import Settings
from tests.features.scripted import ScriptedIO


def _spec(name: str) -> LanguageSpec:
    spec = spec_by_name(name)
    assert spec is not None
    return spec


# (language, text, (line, start, end), message)
PROBLEMS = [
    ("python", "def add(a, b:\n    return a + b\n", (0, 7, 8), "Syntax error: `(` is never closed"),
    ("python", "def f()\n    return 1\n", (0, 7, 7), "Missing `:`"),
    ("python", "if ready  # go\n    run()\n", (0, 8, 8), "Missing `:`"),
    ("python", "print('hi)\n", (0, 6, 10), "Syntax error: unterminated string"),
    ("python", "x = (1, 2))\n", (0, 10, 11), "Syntax error: unexpected `)`"),
    (
        "python",
        "import os\n\n\ndef main():\n    files = os.listdir('.'\n    for f in files:\n        print(f)\n",
        (4, 22, 23),
        "Syntax error: `(` is never closed",
    ),
    ("javascript", "function f(a, b {\n  return a + b;\n}\n", (0, 15, 15), "Missing `)`"),
    ("javascript", "const x = foo(1, 2;\n", (0, 18, 18), "Missing `)`"),
    ("javascript", "const z = 1 +;\n", (0, 12, 13), "Syntax error: unexpected `+`"),
    ("go", "package main\n\nfunc f(a int {\n\treturn a\n}\n", (2, 12, 12), "Missing `)`"),
    ("rust", "fn g() { let x = 1 }\n", (0, 18, 18), "Missing `;`"),
    ("java", "class A { void f() { int x = 1 } }\n", (0, 30, 30), "Missing `;`"),
    ("c", "int g() { return 1 }\n", (0, 18, 18), "Missing `;`"),
]


@pytest.mark.parametrize(("language", "text", "where", "message"), PROBLEMS)
def test_problem_message_and_tight_range(
    language: str, text: str, where: tuple[int, int, int], message: str
) -> None:
    problems = find_problems(text, _spec(language))
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.start_line, problem.start_col, problem.end_col) == where
    assert problem.end_line == problem.start_line
    assert problem.message == message


def test_multi_line_expressions_are_not_unclosed_brackets() -> None:
    text = "total = compute(\n    1,\n    2,\n)\nvalue = [\n    3,\n]\n"
    assert find_problems(text, _spec("python")) == []


def test_columns_are_code_points() -> None:
    text = "s = 'ü😀' + foo(1,\n"
    (problem,) = find_problems(text, _spec("python"))
    assert problem.start_col == text.index("(")


@pytest.mark.parametrize(("language", "text", "where", "message"), PROBLEMS)
def test_a_parser_repair_fixes_every_problem(
    language: str, text: str, where: tuple[int, int, int], message: str
) -> None:
    spec = _spec(language)
    lines = text.split("\n")
    (problem,) = find_problems(text, spec)
    ranked = rank_repairs(lines, parser_repairs(lines, problem, spec), spec)
    assert ranked, "no verified repair"
    for repair, errors in ranked:
        fixed = "\n".join(
            lines[: repair.first] + repair.text.split("\n") + lines[repair.last + 1 :]
        )
        assert count_errors(fixed, spec) == errors
    best, errors = ranked[0]
    assert errors == 0


def test_a_candidate_that_does_not_parse_is_rejected() -> None:
    spec = _spec("javascript")
    lines = ["const x = foo(1, 2;", "console.log(x);", ""]
    baseline = count_errors("\n".join(lines), spec)
    bad = Repair(0, 0, "const x = foo((1, 2;", "model")
    worse = Repair(0, 0, "const x = = foo(1, 2);", "model")
    same = Repair(0, 0, "const x = foo(1, 2;", "model")
    good = Repair(0, 0, "const x = foo(1, 2);", "model")
    assert verify_repair(lines, bad, spec, baseline) is None
    assert verify_repair(lines, worse, spec, baseline) is None
    assert verify_repair(lines, same, spec, baseline) is None
    assert verify_repair(lines, good, spec, baseline) == 0
    ranked = rank_repairs(lines, [bad, worse, same, good], spec)
    assert [r.text for r, _ in ranked] == ["const x = foo(1, 2);"]


def test_a_repair_that_moves_the_error_elsewhere_on_its_lines_is_rejected() -> None:
    spec = _spec("python")
    lines = ["def add(a, b:", "    return a + b", ""]
    baseline = count_errors("\n".join(lines), spec)
    # Closes the bracket but leaves the header without its colon.
    assert verify_repair(lines, Repair(0, 0, "def add(a, b)", "model"), spec, baseline) is None


def test_model_candidates_are_verified_and_ranked_with_parser_repairs() -> None:
    text = "def add(a, b:\n    return a + b\n"
    spec = _spec("python")
    (problem,) = find_problems(text, spec)
    io = ScriptedIO(
        [
            "def add(a, b) ->:\n",  # does not parse: rejected
            "def add(a: int, b: int):\n",  # parses: offered
            "def add(a, b:\n",  # the broken line again: rejected
        ]
    )
    service = QuickFixService(io)
    fixes = service.fixes("file:///a.py", text, spec, problem, model=True)
    assert io.calls == 1
    # The region was cut out and handed to the model as a hole at its indentation.
    hole_text, line, character = io.prompts[0]
    assert hole_text.split("\n")[0] == "" and (line, character) == (0, 0)
    assert io.kwargs["candidates"] == Settings().quickFixCandidates
    results = []
    for fix in fixes:
        change = fix.change
        start = point_to_offset(text, change.start_line, change.start_col)
        end = point_to_offset(text, change.end_line, change.end_col)
        fixed = text[:start] + change.new_text + text[end:]
        assert count_errors(fixed, spec) == 0
        results.append((fix.source, fixed.split("\n")[0]))
    assert ("parser", "def add(a, b):") in results
    assert ("model", "def add(a: int, b: int):") in results
    assert all("->:" not in line for _, line in results)
    assert fixes[0].title == "Fix syntax: def add(a, b):"  # the smallest change ranks first
    assert len(fixes) <= 3
    # Cached per text: a second request does not run the model again.
    assert service.fixes("file:///a.py", text, spec, problem, model=True) == fixes
    assert io.calls == 1


def test_a_model_repair_carrying_a_secret_is_dropped_and_counted() -> None:
    token = "ghp_" + "".join(random.Random(3).choice(string.ascii_letters) for _ in range(36))
    text = "token = get(1, 2\nprint(token)\n"
    spec = _spec("python")
    (problem,) = find_problems(text, spec)
    io = ScriptedIO([f"token = '{token}'\n"])
    fixes = QuickFixService(io).fixes("file:///s.py", text, spec, problem, model=True)
    assert all(token not in fix.change.new_text for fix in fixes)
    assert io.engine.stats.snapshot()["suppressedSecrets"] == 1
    assert fixes and fixes[0].source == "parser"


def test_parser_only_fixes_do_not_touch_the_model() -> None:
    io = ScriptedIO(["anything"])
    text = "x = [1, 2\n"
    (problem,) = find_problems(text, _spec("python"))
    fixes = QuickFixService(io).fixes("file:///x.py", text, _spec("python"), problem, model=False)
    assert io.calls == 0
    assert [f.change.new_text for f in fixes] == ["]"]


def test_a_missing_brace_at_the_end_goes_on_its_own_line() -> None:
    text = "function g() {\n  return 1;\n"
    spec = _spec("javascript")
    lines = text.split("\n")
    (problem,) = find_problems(text, spec)
    best, errors = rank_repairs(lines, parser_repairs(lines, problem, spec), spec)[0]
    assert errors == 0 and best.text == "  return 1;\n}"


def test_diff_change_is_minimal() -> None:
    assert diff_change("abc", "abc") is None
    assert diff_change("def f(a:\n  x", "def f(a):\n  x") == TextChange(0, 7, 0, 7, ")")
    assert diff_change("a\nbXc\nd", "a\nbc\nd") == TextChange(1, 1, 1, 2, "")


def test_problem_key_is_hashable_for_caching() -> None:
    problem = Problem(0, 1, 0, 2, "m", "syntax-error")
    assert {problem.key: 1}[problem.key] == 1
    assert threading.Event  # the service is used from the worker and from to_thread


def test_a_fix_is_offered_when_another_error_stays_elsewhere_in_the_file() -> None:
    # tree-sitter folds the unclosed call below into one error with the missing colon, so fixing
    # the colon leaves the error count as it was; the repaired line is clean, so it is offered.
    spec = _spec("python")
    lines = ["def area(width, height)", "    return width * height", "", "", "print(area(2, 3)", ""]
    baseline = count_errors("\n".join(lines), spec)
    fixed = Repair(0, 0, "def area(width, height):", "parser")
    assert verify_repair(lines, fixed, spec, baseline) is not None
    # Still rejected: a repair that leaves an error on its own line.
    assert (
        verify_repair(lines, Repair(0, 0, "def area(width, height) ->:", "model"), spec, baseline)
        is None
    )


def test_a_model_repair_must_keep_the_code_it_fixes() -> None:
    from codecomp_lsp.features.quickfix import keeps_identifiers

    broken = "def area(width, height)"
    assert keeps_identifiers(broken, "def area(width, height):")
    assert keeps_identifiers(broken, "def area(width: int, height: int) -> int:")
    # Seen with Qwen2.5-Coder-0.5B: the header replaced by a comment parses, but deletes code.
    assert not keeps_identifiers(broken, "# Define a function to calculate the area of a rectangle")
    assert not keeps_identifiers(broken, "# def area(width, height):")
    assert not keeps_identifiers(broken, "def area(width):")
