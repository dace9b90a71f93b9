"""Degenerate repetition is cut, keeping the first copy."""

from postprocess_helpers import make_ctx

from codecomp_lsp.postprocess.repetition import cut_repetition


def test_line_repeated_three_times_is_cut() -> None:
    ctx = make_ctx(
        """
        function count(items) {
          let n = 0;
          █
        }
        """,
        "javascript",
        multiline=True,
    )
    raw = "n += 1;\n  n += 1;\n  n += 1;\n  n += 1;\n  return n;"
    assert cut_repetition(raw, ctx) == "n += 1;"


def test_line_said_twice_is_kept() -> None:
    ctx = make_ctx("def f(x):\n    █\n", "python", multiline=True)
    raw = "x = step(x)\n    x = step(x)\n    return x"
    assert cut_repetition(raw, ctx) == raw


def test_repeated_closers_at_different_depths_are_kept() -> None:
    ctx = make_ctx("fn main() {\n    loop {\n        if a {█\n", "rust", multiline=True)
    raw = "\n            b();\n        }\n    }\n}"
    assert cut_repetition(raw, ctx) == raw


def test_token_run_repeated_within_a_line_is_cut() -> None:
    ctx = make_ctx("    result = █\n", "python")
    raw = 'data.get("a").get("a").get("a").get("a")'
    assert cut_repetition(raw, ctx) == 'data.get("a")'


def test_zero_lists_are_not_a_token_run() -> None:
    ctx = make_ctx("let grid = █\n", "rust")
    raw = "[0, 0, 0, 0, 0, 0, 0, 0];"
    assert cut_repetition(raw, ctx) == raw


def test_replay_of_the_lines_above_the_cursor_is_cut() -> None:
    ctx = make_ctx(
        """
        def invoice(price, qty):
            total = price * qty
            tax = total * 0.2
            █
        """,
        "python",
        multiline=True,
        block_indent="    ",
    )
    raw = "return total + tax\n    total = price * qty\n    tax = total * 0.2\n"
    assert cut_repetition(raw, ctx) == "return total + tax"
    assert cut_repetition("total = price * qty\n    tax = total * 0.2", ctx) == ""


def test_go_block_repeated_inside_the_completion_is_cut() -> None:
    ctx = make_ctx("func main() {\n\t█\n}\n", "go", multiline=True)
    raw = "x := read()\n\tfmt.Println(x)\n\tx := read()\n\tfmt.Println(x)\n\tdone()"
    assert cut_repetition(raw, ctx) == "x := read()\n\tfmt.Println(x)"


def test_block_shaped_like_the_one_above_is_kept() -> None:
    ctx = make_ctx(
        """
        function paint(items, others) {
          items.forEach((x) => {
            use(x);
          });
          █
        }
        """,
        "javascript",
        multiline=True,
    )
    raw = "others.forEach((y) => {\n    use(y);\n  });"
    assert cut_repetition(raw, ctx) == raw
