"""End-to-end cleaning of raw completions in Python, JavaScript, Go and Rust."""

from postprocess_helpers import make_ctx

from codecomp_lsp.postprocess import clean_completion
from codecomp_lsp.postprocess.whitespace import strip_trailing_whitespace
from codecomp_lsp.stages import Stage


def test_print_hi_with_auto_inserted_paren() -> None:
    ctx = make_ctx("print(█)\n", "python")
    assert clean_completion('"hi")', ctx) == '"hi"'


def test_double_closer_against_suffix() -> None:
    ctx = make_ctx("    x = max(█)\n", "python")
    assert clean_completion("foo(a, b))", ctx) == "foo(a, b)"


def test_single_line_mode_keeps_the_first_line() -> None:
    ctx = make_ctx("const url = █\n", "javascript")
    assert clean_completion("base + path;\nfetch(url);\n", ctx) == "base + path;"


def test_python_block_end_to_end() -> None:
    ctx = make_ctx(
        """
        def mean(values):
            █

        print(mean([1, 2]))
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )
    raw = (
        "if not values:  \n        return 0.0\n    return sum(values) / len(values)\n\n\n"
        "def median(values):\n    pass\n"
    )
    assert clean_completion(raw, ctx) == (
        "if not values:\n        return 0.0\n    return sum(values) / len(values)"
    )


def test_javascript_body_without_the_auto_inserted_brace() -> None:
    ctx = make_ctx(
        """
        function add(a, b) {█
        }
        """,
        "javascript",
        multiline=True,
        block_indent="  ",
    )
    raw = "\n  return a + b;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}\n"
    assert clean_completion(raw, ctx) == "\n  return a + b;"


def test_go_with_spaces_from_the_model() -> None:
    ctx = make_ctx(
        """
        func sum(xs []int) int {
        \ttotal := 0
        \t█
        }
        """,
        "go",
        multiline=True,
        block_indent="\t",
    )
    raw = "for _, x := range xs {\n        total += x\n    }\n    return total\n}\n"
    assert clean_completion(raw, ctx) == "for _, x := range xs {\n\t\ttotal += x\n\t}"


def test_rust_match_arm_single_line() -> None:
    ctx = make_ctx(
        """
        fn name(n: u8) -> &'static str {
            match n {
                0 => █,
                _ => "many",
            }
        }
        """,
        "rust",
    )
    assert clean_completion('"zero",', ctx) == '"zero"'


def test_rust_closing_brace_typed_by_the_editor() -> None:
    ctx = make_ctx(
        """
        impl Point {
            fn norm(&self) -> f64 {█}
        }
        """,
        "rust",
        multiline=True,
        block_indent="        ",
    )
    raw = "\n        (self.x * self.x + self.y * self.y).sqrt()\n    }"
    assert clean_completion(raw, ctx) == (
        "\n        (self.x * self.x + self.y * self.y).sqrt()\n    "
    )


def test_nothing_useful_gives_none() -> None:
    ctx = make_ctx("x = █\n", "python")
    assert clean_completion("   \n\n", ctx) is None
    assert clean_completion("\nfoo()", ctx) is None
    assert clean_completion(")", ctx) is None


def test_completion_equal_to_what_follows_gives_none() -> None:
    ctx = make_ctx("draw(█ctx, x, y)\n", "javascript")
    assert clean_completion("ctx, x, y)", ctx) is None
    block = make_ctx("def f(x):\n    █\n    return x\n", "python", multiline=True)
    assert clean_completion("return x\n", block) is None


def test_completion_that_retypes_the_rest_of_a_word_gives_none() -> None:
    ctx = make_ctx("    pri█nt(total)\n", "python")
    assert clean_completion("nt", ctx) is None
    assert clean_completion("nt(total)", ctx) is None


def test_indentation_already_typed_is_not_repeated() -> None:
    ctx = make_ctx("def f(x):\n    █\n", "python", multiline=True, block_indent="    ")
    raw = "    y = x * 2\n    return y\n"
    assert clean_completion(raw, ctx) == "y = x * 2\n    return y"


def test_repetition_of_lines_above_gives_none() -> None:
    ctx = make_ctx(
        """
        fn main() {
            let a = parse(&args[1]);
            let b = parse(&args[2]);
            █
        }
        """,
        "rust",
        multiline=True,
        block_indent="    ",
    )
    raw = "let a = parse(&args[1]);\n    let b = parse(&args[2]);\n"
    assert clean_completion(raw, ctx) is None


def test_windows_newlines_and_unknown_language() -> None:
    ctx = make_ctx("echo █\n", None)
    assert clean_completion("hello\r\nworld", ctx) == "hello"


def test_trailing_whitespace_is_stripped_but_not_before_code() -> None:
    ctx = make_ctx("x = █\n", "python", multiline=True)
    assert strip_trailing_whitespace("a  \n  b \t\n\n", ctx) == "a\n  b"
    before_code = make_ctx("x = █+ 1\n", "python")
    assert strip_trailing_whitespace("a ", before_code) == "a "


def test_the_suffix_the_model_repeated_goes_before_brackets_are_balanced() -> None:
    # HumanEval/86 random-span infilling (issue #13): the cursor is inside `s.sp|lit(' ')])`.
    # Balancing first dropped `])`, so `lit(' ')` stayed and the line read `split(' ')lit(' ')])`.
    ctx = make_ctx("    return ' '.join([''.join(sorted(list(i))) █lit(' ')])\n", "python")
    assert clean_completion(" for i in s.split(' ')])\n\n", ctx) == "for i in s.sp"


def test_each_postprocessing_stage_can_be_switched_off() -> None:
    ctx = make_ctx("x = 1█;\n", "javascript")
    assert clean_completion("0;", ctx) == "0"
    assert clean_completion("0;", ctx, off=frozenset({Stage.SUFFIX_OVERLAP})) == "0;"
    ctx = make_ctx("y = f(█\n", "python")
    assert clean_completion("a))", ctx) == "a)"
    assert clean_completion("a))", ctx, off=frozenset({Stage.BRACKETS})) == "a))"
    block = make_ctx("def f(x):\n    █\n", "python", multiline=True, block_indent="    ")
    assert clean_completion("  y = x\n\treturn y", block) == "y = x\n    return y"
    off = frozenset({Stage.INDENTATION})
    assert clean_completion("  y = x\n\treturn y", block, off=off) == "  y = x\n\treturn y"
    following = make_ctx("    pri█nt(total)\n", "python")
    assert clean_completion("nt", following) is None
    assert clean_completion("nt", following, off=frozenset({Stage.DUPLICATE_CHECK})) == "nt"
