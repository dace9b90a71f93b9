"""Bracket balance against the code around the cursor, with strings and comments ignored."""

from postprocess_helpers import make_ctx

from codecomp_lsp.postprocess.brackets import balance_brackets
from codecomp_lsp.postprocess.scanner import ScanState, scan, syntax_for


def test_closer_already_in_the_suffix_is_cut() -> None:
    ctx = make_ctx("print(█)\n", "python")
    assert balance_brackets('"hi")', ctx) == '"hi"'


def test_closer_of_the_completion_own_call_is_kept() -> None:
    ctx = make_ctx("print(█)\n", "python")
    assert balance_brackets("foo()", ctx) == "foo()"


def test_closer_the_prefix_needs_is_kept_when_nothing_follows() -> None:
    ctx = make_ctx("const m = Math.max(█\n", "javascript")
    assert balance_brackets("a, b);", ctx) == "a, b);"


def test_closer_on_a_following_line_counts_as_suffix() -> None:
    ctx = make_ctx(
        """
        values = compute(
            first,
            █
        )
        """,
        "python",
    )
    assert balance_brackets("second)", ctx) == "second"


def test_unmatched_closer_beyond_the_prefix_is_cut() -> None:
    ctx = make_ctx("x = compute(a, b█\n", "python")
    assert balance_brackets(")) + 1", ctx) == ")"


def test_mismatched_closer_is_cut() -> None:
    ctx = make_ctx("let v = vec![1, 2█\n", "rust")
    assert balance_brackets(", 3)];", ctx) == ", 3"


def test_brackets_inside_strings_are_ignored() -> None:
    ctx = make_ctx("print(█)\n", "python")
    assert balance_brackets('"(:")', ctx) == '"(:"'


def test_brackets_inside_comments_are_ignored() -> None:
    ctx = make_ctx("foo(█)\n", "javascript")
    assert balance_brackets("a /* ( */)", ctx) == "a /* ( */"


def test_enclosing_block_closer_already_below_is_cut() -> None:
    ctx = make_ctx(
        """
        function f() {█
        }
        """,
        "javascript",
        multiline=True,
    )
    assert balance_brackets("\n  return 1;\n}", ctx) == "\n  return 1;\n"


def test_enclosing_block_closer_is_kept_when_missing() -> None:
    ctx = make_ctx(
        """
        function f() {█
        """,
        "javascript",
        multiline=True,
    )
    assert balance_brackets("\n  return 1;\n}", ctx) == "\n  return 1;\n}"


def test_block_closer_above_a_cut_window_is_judged_by_the_text_below() -> None:
    # The window starts inside a function whose `{` is not shown.
    source = """
          const x = 1;
          █
        }
        """
    kept = make_ctx(source.replace("        }\n", ""), "typescript", before_start_line=40)
    cut = make_ctx(source, "typescript", before_start_line=40)
    assert balance_brackets("return x;\n}", kept) == "return x;\n}"
    assert balance_brackets("return x;\n}", cut) == "return x;\n"


def _scan(text: str, language: str) -> ScanState:
    state = ScanState()
    scan(text, syntax_for(language), state)
    return state


def test_scanner_rust_lifetimes_and_char_literals() -> None:
    state = _scan("fn f<'a>(x: &'a str) -> char { let c = '{'; '}' }", "rust")
    assert state.stack == [] and state.strays == 0


def test_scanner_go_raw_string_and_rune() -> None:
    state = _scan("s := `a\n(b` + string('(')\n", "go")
    assert state.stack == [] and state.strays == 0 and state.string is None


def test_scanner_python_comment_and_triple_quotes() -> None:
    state = _scan('x = [  # ]\n    """ ] \n ] """, 1]\n', "python")
    assert state.stack == [] and state.strays == 0
