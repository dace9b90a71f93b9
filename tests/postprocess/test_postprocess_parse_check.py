"""Parse-based ranking: candidates that add syntax errors go down or out."""

from postprocess_helpers import document

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.postprocess.parse_check import parse_penalty, rank_candidates

PYTHON = spec_by_name("python")
GO = spec_by_name("go")
RUST = spec_by_name("rust")
JAVASCRIPT = spec_by_name("javascript")


def test_penalty_counts_added_errors() -> None:
    text, offset = document(
        """
        def area(r):
            return █

        print(area(2))
        """
    )
    assert parse_penalty(text, offset, "3.14 * r * r", PYTHON) <= 0
    assert parse_penalty(text, offset, "3.14 * (r * r", PYTHON) > 0


def test_penalty_with_baseline_matches_reparse() -> None:
    text, offset = document("fn main() {\n    let x = █\n}\n")
    from codecomp_lsp.context.syntax import count_errors

    baseline = count_errors(text, RUST)
    assert baseline > 0  # the half-typed line is already broken
    for candidate in ("1;", "vec![1, 2;"):
        assert parse_penalty(text, offset, candidate, RUST) == parse_penalty(
            text, offset, candidate, RUST, baseline_errors=baseline
        )
    assert parse_penalty(text, offset, "1;", RUST) < 0  # completing the line fixes it


def test_ranking_rejects_unbalanced_python_and_keeps_good_one() -> None:
    text, offset = document(
        """
        def area(r):
            return █

        print(area(2))
        """
    )
    ranked = rank_candidates(["3.14 * (r * r", "3.14 * r * r"], text, offset, PYTHON)
    assert ranked == [("3.14 * r * r", 0)]


def test_ranking_rejects_extra_brace_in_go() -> None:
    text, offset = document(
        """
        package main

        func run(err error) {
        \tif err != nil {
        \t\t█
        \t}
        }
        """
    )
    candidates = ["panic(err)\n\t}", "panic(err)", "log.Fatal(err)"]
    ranked = rank_candidates(candidates, text, offset, GO)
    assert [c for c, _ in ranked] == ["panic(err)", "log.Fatal(err)"]


def test_ranking_is_stable_and_dedupes() -> None:
    text, offset = document("const x = █;\nconsole.log(x);\n")
    ranked = rank_candidates(["b", "a", "b", "c"], text, offset, JAVASCRIPT)
    assert [c for c, _ in ranked] == ["b", "a", "c"]
    assert all(penalty <= 0 for _, penalty in ranked)


def test_line_left_incomplete_is_not_worse_than_inserting_nothing() -> None:
    # Typing mid-function: the half-typed line is already an error; a candidate that
    # leaves it open adds nothing and keeps its place.
    text, offset = document(
        """
        function total(items) {
          const sum = items.reduce(█
          return sum;
        }
        """
    )
    candidates = ["(a, b) => a + b", "(a, b) => a + b, 0)", "(a, b) => a + b, 0)) }"]
    ranked = rank_candidates(candidates, text, offset, JAVASCRIPT)
    assert [c for c, _ in ranked] == candidates[:2]
    assert ranked[0][1] == 0 and ranked[1][1] < 0


def test_worse_candidates_are_sorted_when_none_is_clean() -> None:
    text, offset = document('fn main() {\n    let v = █\n    println!("{}", v);\n}\n')
    ranked = rank_candidates(["((1;", "1", "(1;"], text, offset, RUST)
    assert ranked == [("1", 1), ("(1;", 1), ("((1;", 2)]


def test_no_spec_means_no_check() -> None:
    assert parse_penalty("x = (", 5, "((", None) == 0
    assert rank_candidates(["((", "1", "(("], "x = ", 4, None) == [("((", 0), ("1", 0)]
