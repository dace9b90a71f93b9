"""Indentation of multi-line completions follows the document (tabs vs spaces, unit)."""

from postprocess_helpers import make_ctx

from codecomp_lsp.postprocess.indentation import (
    document_indent_unit,
    reindent,
    strip_first_line_indent,
)


def test_spaces_from_the_model_become_tabs_in_a_tab_document() -> None:
    ctx = make_ctx(
        """
        func main() {
        \tfor i := 0; i < 3; i++ {█
        \t}
        }
        """,
        "go",
        multiline=True,
        block_indent="\t\t",
    )
    raw = "\n        fmt.Println(i)\n        if i > 1 {\n            break\n        }"
    assert reindent(raw, ctx) == "\n\t\tfmt.Println(i)\n\t\tif i > 1 {\n\t\t\tbreak\n\t\t}"


def test_tabs_from_the_model_become_spaces_in_a_space_document() -> None:
    ctx = make_ctx(
        """
        class Cart:
            def total(self):█
        """,
        "python",
        multiline=True,
        block_indent="        ",
    )
    raw = "\n\t\tresult = 0\n\t\tfor item in self.items:\n\t\t\tresult += item\n\t\treturn result"
    assert reindent(raw, ctx) == (
        "\n        result = 0\n        for item in self.items:\n"
        "            result += item\n        return result"
    )


def test_two_space_levels_are_rescaled_to_four() -> None:
    ctx = make_ctx(
        """
        def show(items):
            █
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )
    raw = "for x in items:\n      print(x)\n    return len(items)"
    assert reindent(raw, ctx) == "for x in items:\n        print(x)\n    return len(items)"


def test_matching_indentation_is_left_alone() -> None:
    ctx = make_ctx(
        """
        function f(a) {
          █
        }
        """,
        "javascript",
        multiline=True,
        block_indent="  ",
    )
    raw = "if (a) {\n    return 1;\n  }\n  return 0;"
    assert reindent(raw, ctx) == raw


def test_rust_alignment_spaces_are_kept() -> None:
    ctx = make_ctx(
        """
        fn main() {
            let total = add(1,█
        }
        """,
        "rust",
        multiline=True,
        block_indent="    ",
    )
    raw = "\n                    2);"
    assert reindent(raw, ctx) == raw


def test_repeated_indentation_on_the_first_line_is_dropped() -> None:
    ctx = make_ctx("def f():\n    █\n", "python", multiline=True, block_indent="    ")
    assert strip_first_line_indent("    return 1", ctx) == "return 1"
    partial = make_ctx("def f():\n  █\n", "python", multiline=True, block_indent="    ")
    assert strip_first_line_indent("  return 1", partial) == "  return 1"
    mid_line = make_ctx("x =█\n", "python")
    assert strip_first_line_indent(" 1", mid_line) == " 1"


def test_document_unit_is_inferred() -> None:
    two = make_ctx("if (a) {\n  if (b) {\n    █\n", "javascript")
    assert document_indent_unit(two) == "  "
    tabs = make_ctx("func f() {\n\tx := 1\n█\n", "go")
    assert document_indent_unit(tabs) == "\t"
    header = make_ctx("def f():█\n", "python", multiline=True, block_indent="    ")
    assert document_indent_unit(header) == "    "


def test_typed_space_is_not_doubled() -> None:
    from codecomp_lsp.postprocess.pipeline import clean_completion

    ctx = make_ctx("def f(x):\n    if █\n", "python")
    assert clean_completion(" x > 0:", ctx) == "x > 0:"
    # Without a typed space the model's leading space stays.
    ctx = make_ctx("def f(x):\n    return x +█\n", "python")
    assert clean_completion(" 1", ctx) == " 1"


def test_lines_one_space_past_the_body_are_shifted_back() -> None:
    # Qwen answered an empty `def main():` body with "# Check…\n     if …" (issue #13): the
    # first line sits at the cursor's 4 spaces, the rest one column too deep.
    ctx = make_ctx(
        """
        import os


        def main():
            █
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )
    raw = "# Check if the data directory exists\n     if not os.path.exists('data'):\n         os.makedirs('data')"
    assert reindent(raw, ctx) == (
        "# Check if the data directory exists\n    if not os.path.exists('data'):\n"
        "        os.makedirs('data')"
    )


def test_a_shifted_block_keeps_a_first_line_that_carries_its_own_indent() -> None:
    ctx = make_ctx("def main():\n█\n", "python", multiline=True, block_indent="    ")
    raw = "    # Check\n     if ready:\n         go()"
    assert reindent(raw, ctx) == "    # Check\n    if ready:\n        go()"


def test_visual_alignment_under_an_open_bracket_is_left_alone() -> None:
    ctx = make_ctx("def main():\n    █\n", "python", multiline=True, block_indent="    ")
    raw = "total = compute(alpha,\n                beta)\nreturn total"
    assert reindent(raw, ctx) == raw


def test_a_shifted_block_is_fixed_when_a_dedented_line_follows_it() -> None:
    # HumanEval/95, multi-line infilling (issue #13): Qwen put every line one column too deep
    # and went on past the block with `else:` at the enclosing level; that last line (cut
    # anyway) hid the offset, so the block came back 1 column off.
    from codecomp_lsp.postprocess.pipeline import clean_completion

    ctx = make_ctx(
        """
        def check(state, keys):
            for key in keys:
                if state == "start":
                    █
        """,
        "python",
        multiline=True,
        block_indent=" " * 12,
    )
    s13, s17 = " " * 13, " " * 17
    raw = f" if key.islower():\n{s17}state = 1\n{s13}else:\n{s17}state = 2\n        else:\n"
    s12, s16 = " " * 12, " " * 16
    assert (
        clean_completion(raw, ctx)
        == f"if key.islower():\n{s16}state = 1\n{s12}else:\n{s16}state = 2"
    )
