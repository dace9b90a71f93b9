"""Overlap with the text after the cursor: the rest of the line and the following lines."""

from postprocess_helpers import make_ctx

from codecomp_lsp.postprocess.overlap import (
    duplicates_following,
    strip_after_overlap,
    strip_suffix_overlap,
)


def test_duplicated_semicolon_is_dropped() -> None:
    ctx = make_ctx("const total = █;\n", "javascript")
    assert strip_suffix_overlap("compute(a);", ctx) == "compute(a)"


def test_duplicated_closing_quote_is_dropped() -> None:
    ctx = make_ctx('name = "█"\n', "python")
    assert strip_suffix_overlap('Alice"', ctx) == "Alice"


def test_duplicated_close_paren_is_dropped() -> None:
    ctx = make_ctx("print(█)\n", "python")
    assert strip_suffix_overlap('"hi")', ctx) == '"hi"'


def test_longest_overlap_wins() -> None:
    ctx = make_ctx("fmt.Println(█)\n", "go")
    assert strip_suffix_overlap('"n =", n)', ctx) == '"n =", n'
    ctx = make_ctx("if (█) {\n", "javascript")
    assert strip_suffix_overlap("x > 0) {", ctx) == "x > 0"


def test_overlap_that_would_unbalance_brackets_is_kept() -> None:
    ctx = make_ctx("print(█)\n", "python")
    assert strip_suffix_overlap("foo()", ctx) == "foo()"


def test_overlap_inside_a_word_is_kept() -> None:
    ctx = make_ctx("let s = pr█n(x);\n", "rust")
    assert strip_suffix_overlap("intln", ctx) == "intln"


def test_lines_already_below_are_dropped() -> None:
    ctx = make_ctx(
        """
        def area(r):
            █
            return result
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )
    assert strip_after_overlap("result = 3.14159 * r * r\n    return result", ctx) == (
        "result = 3.14159 * r * r"
    )


def test_completion_that_retypes_the_next_lines_and_goes_on_is_cut() -> None:
    ctx = make_ctx(
        """
        function greet(name) {
          █
          console.log(message);
          return message;
        }
        """,
        "javascript",
        multiline=True,
        block_indent="  ",
    )
    raw = "const message = `Hello, ${name}`;\n  console.log(message);\n  return message;\n}\n"
    assert strip_after_overlap(raw, ctx) == "const message = `Hello, ${name}`;"


def test_a_single_matching_line_in_the_middle_is_kept() -> None:
    ctx = make_ctx(
        """
        def f(x):
            █
            return x
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )
    raw = "if x < 0:\n        return x\n    x += 1"
    assert strip_after_overlap(raw, ctx) == raw


def test_closing_brace_of_own_block_is_not_taken_for_the_one_below() -> None:
    ctx = make_ctx(
        """
        func run() {
        \t█
        }
        """,
        "go",
        multiline=True,
        block_indent="\t",
    )
    raw = "if err != nil {\n\t\treturn\n\t}"
    assert strip_after_overlap(raw, ctx) == raw


def test_whole_completion_already_below() -> None:
    ctx = make_ctx("def f(x):\n    █\n    return x\n", "python", multiline=True)
    assert strip_after_overlap("return x", ctx) == ""


def test_completion_that_only_retypes_the_suffix_is_a_duplicate() -> None:
    ctx = make_ctx("draw(█ctx, x, y)\n", "javascript")
    assert duplicates_following("ctx, x", ctx)
    assert not duplicates_following("canvas, ", ctx)
