"""Where a completion ends: the line, the Python block, the brace block, the line cap."""

from postprocess_helpers import make_ctx

from codecomp_lsp.postprocess.truncate import first_line, truncate_block


def test_single_line_keeps_up_to_first_newline() -> None:
    assert first_line("x + 1\nprint(x)\n") == "x + 1"


def test_python_block_stops_at_dedent() -> None:
    ctx = make_ctx(
        """
        def total(items):
            █
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )
    raw = (
        "result = 0\n"
        "    for item in items:\n"
        "        result += item\n"
        "\n"
        "    return result\n"
        "\n\n"
        "def other():\n"
        "    pass\n"
    )
    assert truncate_block(raw, ctx) == (
        "result = 0\n    for item in items:\n        result += item\n\n    return result\n\n"
    )


def test_python_block_after_header_uses_block_indent() -> None:
    ctx = make_ctx(
        """
        def sign(x):
            if x > 0:█
            return -1
        """,
        "python",
        multiline=True,
        block_indent="        ",
    )
    raw = "\n        return 1\n    return -1\n"
    assert truncate_block(raw, ctx) == "\n        return 1"


def test_python_block_without_block_indent_uses_first_generated_line() -> None:
    ctx = make_ctx("def area(r):█\n", "python", multiline=True)
    raw = "\n    return 3.14 * r * r\n\nprint(area(2))\n"
    assert truncate_block(raw, ctx) == "\n    return 3.14 * r * r\n"


def test_python_lines_inside_brackets_are_not_a_dedent() -> None:
    ctx = make_ctx(
        """
        def load(path):
            data = read(█
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )
    raw = "\n        path,\n        encoding='utf-8',\n)\n    return data\ndef other():\n"
    assert truncate_block(raw, ctx) == (
        "\n        path,\n        encoding='utf-8',\n)\n    return data"
    )


def test_python_triple_quoted_string_is_not_a_dedent() -> None:
    ctx = make_ctx("def usage():\n    █\n", "python", multiline=True, block_indent="    ")
    raw = 'return """\nUsage: tool [options]\n"""\nprint(usage())\n'
    assert truncate_block(raw, ctx) == 'return """\nUsage: tool [options]\n"""'


def test_javascript_stops_after_closing_the_enclosing_block() -> None:
    ctx = make_ctx(
        """
        function add(a, b) {█
        }
        """,
        "javascript",
        multiline=True,
        block_indent="  ",
    )
    raw = "\n  const sum = a + b;\n  return sum;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}\n"
    assert truncate_block(raw, ctx) == "\n  const sum = a + b;\n  return sum;\n}"


def test_go_stops_when_the_block_it_opened_closes() -> None:
    ctx = make_ctx(
        """
        func main() {
        \titems := load()
        \t█
        }
        """,
        "go",
        multiline=True,
        block_indent="\t",
    )
    raw = 'for _, it := range items {\n\t\tfmt.Println(it)\n\t}\n\tfmt.Println("done")\n}\n'
    assert truncate_block(raw, ctx) == "for _, it := range items {\n\t\tfmt.Println(it)\n\t}"


def test_go_callback_closing_keeps_the_whole_line() -> None:
    ctx = make_ctx(
        """
        func main() {
        \tgo func() {█
        }
        """,
        "go",
        multiline=True,
        block_indent="\t\t",
    )
    raw = "\n\t\twork()\n\t}()\n\tdone()\n}\n"
    assert truncate_block(raw, ctx) == "\n\t\twork()\n\t}()"


def test_rust_else_branch_is_cut_after_the_closing_brace() -> None:
    ctx = make_ctx(
        """
        fn sign(x: i32) -> i32 {
            if x > 0 {
                █
            }
        }
        """,
        "rust",
        multiline=True,
        block_indent="        ",
    )
    raw = "1\n    } else {\n        -1\n    }\n}\n"
    assert truncate_block(raw, ctx) == "1\n    }"


def test_brace_in_string_does_not_end_the_block() -> None:
    ctx = make_ctx(
        """
        function render() {
          █
        }
        """,
        "javascript",
        multiline=True,
        block_indent="  ",
    )
    raw = 'const close = "}";\n  return close;\n}\n'
    assert truncate_block(raw, ctx) == 'const close = "}";\n  return close;\n}'


def test_line_cap() -> None:
    ctx = make_ctx("█\n", "javascript", multiline=True, block_indent="")
    raw = "\n".join(f"let x{i} = {i};" for i in range(30))
    assert truncate_block(raw, ctx, max_lines=5).split("\n") == [
        f"let x{i} = {i};" for i in range(5)
    ]
    assert len(truncate_block(raw, ctx).split("\n")) == 16


def test_line_cap_does_not_count_an_empty_first_line() -> None:
    ctx = make_ctx("def f():█\n", "python", multiline=True, block_indent="    ")
    raw = "\n" + "\n".join(f"    x{i} = {i}" for i in range(30))
    assert truncate_block(raw, ctx, max_lines=3) == "\n    x0 = 0\n    x1 = 1\n    x2 = 2"


def _body_ctx():
    return make_ctx(
        """
        def main():
            █
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )


def test_a_block_cut_off_mid_comment_ends_at_its_last_complete_statement() -> None:
    # Issue #13: a block ended mid-comment at the token cap.
    from codecomp_lsp.postprocess.pipeline import clean_completion

    raw = "items = load()\n    total = sum(items)\n    # Now print the result of the\n    # computation for the"
    assert (
        clean_completion(raw, _body_ctx(), cut_off=True) == "items = load()\n    total = sum(items)"
    )
    # The same text that ended on its own (a stop token) is kept whole.
    assert clean_completion(raw, _body_ctx()) == raw


def test_a_block_cut_off_mid_statement_drops_the_half_line() -> None:
    from codecomp_lsp.postprocess.pipeline import clean_completion

    raw = "items = load()\n    total = sum(it"
    assert clean_completion(raw, _body_ctx(), cut_off=True) == "items = load()"


def test_a_cut_off_block_that_already_ended_is_not_cut_further() -> None:
    from codecomp_lsp.postprocess.pipeline import clean_completion

    raw = "return 1\n\n\ndef other():\n    x = (1,"
    assert clean_completion(raw, _body_ctx(), cut_off=True) == "return 1"


def test_a_line_cut_off_by_the_deadline_ends_at_its_last_complete_expression() -> None:
    # Issue #13: under a tight time budget a shorter complete answer beats a truncated one.
    from codecomp_lsp.postprocess.pipeline import clean_completion
    from codecomp_lsp.postprocess.truncate import cut_unfinished_line

    ctx = make_ctx("def mean(values):\n    █\n", "python")
    assert cut_unfinished_line("total = sum(values) / len(", ctx) == "total = sum(values)"
    assert cut_unfinished_line("return total", ctx) == "return total"  # complete: kept
    # Seen under a 1 s budget: nothing complete to cut back to, so nothing is shown.
    for truncated in ("S1 =", "for", "try", 'if text[i] == " "', "x = y."):
        assert cut_unfinished_line(truncated, ctx) is None, truncated
    assert cut_unfinished_line("for i in range(n):", ctx) == "for i in range(n):"
    assert cut_unfinished_line("else:", ctx) == "else:"
    assert cut_unfinished_line("print(f'{total", ctx) is None  # never closed anywhere
    assert cut_unfinished_line("x = values[0] + values[", ctx) == "x = values[0]"
    assert clean_completion("total = sum(values) / len(", ctx, cut_off=True) == (
        "total = sum(values)"
    )
    # An answer that ended on its own is not touched, nor one whose line ended.
    assert clean_completion("total = sum(values) / len(", ctx) == "total = sum(values) / len("
    assert clean_completion("total = f(\n", ctx, cut_off=True) == "total = f("
    # Inside the call the user opened, the cut keeps what closes nothing of the prefix.
    inside = make_ctx("print(█)\n", "python")
    assert cut_unfinished_line("len(items), sorted(", inside) == "len(items)"
    assert clean_completion('"hello wor', inside, cut_off=True) is None
