"""Cursor context: windows, snapping, the single/multi-line decision, mid-word, unicode."""

from itertools import pairwise

import pytest

from codecomp_lsp.context.cursor import extract_context
from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.types import CursorContext

CURSOR = "█"


def words(text: str) -> int:
    """A deterministic stand-in tokenizer: one token per word, plus one per line."""
    return len(text.split()) + text.count("\n")


def _spec(name: str | None) -> LanguageSpec | None:
    if name is None:
        return None
    spec = spec_by_name(name)
    assert spec is not None
    return spec


def at(
    marked: str,
    language: str | None,
    *,
    prefix_budget: int = 10_000,
    suffix_budget: int = 10_000,
    line_step: int = 16,
) -> CursorContext:
    """Context for a source whose cursor position is marked with CURSOR."""
    assert marked.count(CURSOR) == 1
    head, tail = marked.split(CURSOR)
    line = head.count("\n")
    character = len(head) - (head.rfind("\n") + 1)
    return extract_context(
        head + tail,
        line,
        character,
        _spec(language),
        count_tokens=words,
        prefix_budget=prefix_budget,
        suffix_budget=suffix_budget,
        line_step=line_step,
    )


# ---------------------------------------------------------------- multiline decision

MULTILINE_CASES = [
    # python
    ("python", "def area(r):\n    █\n", True),
    ("python", "class Shape:\n    █\n\nx = 1\n", True),
    ("python", "for i in range(3):\n    █\nprint(i)\n", True),
    ("python", "if ok:\n    █\nelse:\n    pass\n", True),
    ("python", "class A:\n    def f(self):  # todo\n        █\n    x = 1\n", True),
    ("python", "def area(r):█", True),
    ("python", "def area(r):\n    █\n    return r * r\n", False),
    ("python", "total = compute(a, █)\n", False),
    ("python", "y = items[1:█]\n", False),
    ("python", "    █return x\n", False),
    ("python", "def f():\n    x = 1\n    █\n\ny = 2\n", True),
    ("python", "def f():\n    x = 1\n    █\n    y = 2\n", False),
    # javascript
    ("javascript", "function sum(xs) {\n  █\n}\n", True),
    ("javascript", "function sum(xs) {█}\n", True),
    ("javascript", "function sum(xs) {\n  █\n  return 0;\n}\n", False),
    ("javascript", "const total = xs.reduce(█);\n", False),
    ("javascript", "if (a) {\n  run();\n  █\n}\n", True),
    ("javascript", "function open() {\n  █\n", True),
    ("javascript", "if (ready) {\n  █}\n", True),
    ("javascript", "if (ready) {\n  █go();\n}\n", False),
    # typescript
    ("typescript", "class Stack<T> {\n  █\n}\n", True),
    ("typescript", "function f(a: number): number {\n  return a█\n}\n", False),
    ("typescript", "const x: Record<string, number> = {█};\n", True),
    # tsx
    ("tsx", "export function App() {\n  █\n}\n", True),
    ("tsx", "const el = <div className=█ />;\n", False),
    # go
    ("go", "package main\n\nfunc main() {\n\t█\n}\n", True),
    ("go", "package main\n\nfunc main() {\n\tfmt.Println(█)\n}\n", False),
    ("go", "package main\n\ntype S struct {\n\t█\n}\n", True),
    # rust
    ("rust", "fn main() {\n    █\n}\n", True),
    ("rust", "impl Point {\n    █\n}\n", True),
    ("rust", "fn main() {\n    let v = vec![1, █];\n}\n", False),
    # java
    ("java", "class A {\n    void f() {\n        █\n    }\n}\n", True),
    ("java", "class A {\n    int f() { return g(█); }\n}\n", False),
    ("java", "class A {\n    void f() {\n        █\n        g();\n    }\n}\n", False),
    # c
    ("c", "int main(void) {\n    █\n}\n", True),
    ("c", 'int main(void) {\n    printf("%d", █);\n}\n', False),
    ("c", "struct point {\n    █\n};\n", True),
    # cpp
    ("cpp", "namespace ns {\nclass A {\n  █\n};\n}\n", True),
    ("cpp", "int f() {\n  return std::max(█);\n}\n", False),
    ("cpp", "int f() {\n  // nothing yet\n  █\n}\n", True),
    # no language: indentation heuristics
    (None, "def area(r):\n    █\n", True),
    (None, "function f() {\n    █\n}\n", True),
    (None, "x = compute(█)\n", False),
]


@pytest.mark.parametrize(("language", "marked", "expected"), MULTILINE_CASES)
def test_multiline_decision(language: str | None, marked: str, expected: bool) -> None:
    ctx = at(marked, language)
    assert ctx.multiline is expected
    assert (ctx.block_indent is not None) is expected


def test_comment_colon_is_not_a_python_header() -> None:
    ctx = at("data = {\n    'a':█\n}\n", "python")
    assert not ctx.multiline


def test_block_indent_follows_the_file() -> None:
    two = "function a() {\n  return 1;\n}\nfunction b() {\n█\n}\n"
    ctx = at(two, "javascript")
    assert ctx.multiline and ctx.block_indent == "  "
    tabs = "package main\n\nfunc a() {\n\tx := 1\n}\n\nfunc b() {\n█\n}\n"
    ctx = at(tabs, "go")
    assert ctx.multiline and ctx.block_indent == "\t"
    nested = "class A:\n    def f(self):\n        return 1\n\n    def g(self):█"
    ctx = at(nested, "python")
    assert ctx.multiline and ctx.indent == "    " and ctx.block_indent == "        "


def test_block_indent_trusts_the_editor_indent() -> None:
    ctx = at("def f():\n  █\n", "python")
    assert ctx.multiline and ctx.indent == "  " and ctx.block_indent == "  "


# ---------------------------------------------------------------- cursor line split


def test_line_split_and_fields() -> None:
    source = "import os\n\ndef f(x):\n    return os.pa█th.join(x)\n\nprint(f(1))\n"
    ctx = at(source, "python")
    assert ctx.language == "python"
    assert ctx.line == 3 and ctx.character == len("    return os.pa")
    assert ctx.line_prefix == "    return os.pa"
    assert ctx.line_suffix == "th.join(x)"
    assert ctx.before == "import os\n\ndef f(x):\n"
    assert ctx.after == "\nprint(f(1))\n"
    assert ctx.before_start_line == 0 and ctx.after_end_line == 7  # the "" after the last \n
    assert ctx.indent == "    "
    assert not ctx.multiline and ctx.block_indent is None


def test_no_language_means_none() -> None:
    assert at("hello █world\n", None).language is None


def test_positions_are_clamped() -> None:
    text = "a = 1\nb = 2\n"
    ctx = extract_context(
        text,
        99,
        99,
        _spec("python"),
        count_tokens=words,
        prefix_budget=100,
        suffix_budget=100,
    )
    assert ctx.line == 2 and ctx.character == 0 and ctx.before == "a = 1\nb = 2\n"
    ctx = extract_context(
        text,
        0,
        50,
        _spec("python"),
        count_tokens=words,
        prefix_budget=100,
        suffix_budget=100,
    )
    assert ctx.character == 5 and ctx.line_prefix == "a = 1" and ctx.line_suffix == ""


def test_crlf_lines() -> None:
    text = "a = 1\r\nb = 2\r\nc = 3\r\n"
    ctx = extract_context(
        text,
        1,
        5,
        _spec("python"),
        count_tokens=words,
        prefix_budget=100,
        suffix_budget=100,
    )
    assert ctx.before == "a = 1\n"
    assert ctx.line_prefix == "b = 2" and ctx.line_suffix == ""
    assert ctx.after == "c = 3\n"


def test_unicode_columns() -> None:
    source = "msg = '😀 你好'\nname = '中文😀'█ + suffix\n"
    ctx = at(source, "python")
    assert ctx.character == len("name = '中文😀'")
    assert ctx.line_prefix == "name = '中文😀'"
    assert ctx.line_suffix == " + suffix"
    emoji_header = "def 变量(x):  # 😀\n    █\n"
    ctx = at(emoji_header, "python")
    assert ctx.multiline and ctx.block_indent == "    "
    go = 'package main\n\nfunc main() {\n\ts := "😀😀"; fmt.Println(█)\n}\n'
    assert not at(go, "go").multiline


# ---------------------------------------------------------------- mid-word


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("result = comp█utation(x)\n", True),
        ("result = computa█tion(x)\n", True),
        ("result = computati█on(x)\n", False),  # only two word characters follow
        ("result = █computation(x)\n", False),  # nothing word-like before
        ("result = computation█(x)\n", False),
        ("value = 中文█中文中文\n", True),
    ],
)
def test_mid_word(marked: str, expected: bool) -> None:
    assert at(marked, "python").mid_word is expected


# ---------------------------------------------------------------- windows

LONG = "".join(f"value_{i} = compute(value_{i - 1}, {i})\n" for i in range(400))
LONG_LINES = LONG.split("\n")


def _long_ctx(line: int, current: str | None = None, character: int | None = None) -> CursorContext:
    lines = list(LONG_LINES)
    if current is not None:
        lines[line] = current
    text = "\n".join(lines)
    col = len(lines[line]) if character is None else character
    return extract_context(
        text,
        line,
        col,
        _spec("python"),
        count_tokens=words,
        prefix_budget=300,
        suffix_budget=120,
    )


def test_budgets_are_respected() -> None:
    ctx = _long_ctx(200)
    assert 0 < words(ctx.before) <= 300
    assert 0 < words(ctx.after) <= 120
    assert ctx.before_start_line % 16 == 0
    # Snapping gives back less than one step of lines.
    grown = "\n".join(LONG_LINES[ctx.before_start_line - 16 : 200]) + "\n"
    assert words(grown) > 300
    assert ctx.before == "\n".join(LONG_LINES[ctx.before_start_line : 200]) + "\n"
    assert ctx.after == "\n".join(LONG_LINES[201 : ctx.after_end_line]) + "\n"


def test_typing_on_the_line_keeps_the_prefix_window() -> None:
    base = _long_ctx(200)
    line = LONG_LINES[200]
    for typed in ("", "v", "value_", line, line + " + extra_tokens " * 40, "x" * 500):
        ctx = _long_ctx(200, current=typed)
        assert ctx.before == base.before
        assert ctx.before_start_line == base.before_start_line
        assert ctx.after == base.after
    # Moving the cursor along the line changes nothing either.
    for col in range(0, len(line), 7):
        ctx = _long_ctx(200, character=col)
        assert ctx.before_start_line == base.before_start_line and ctx.before == base.before


def test_moving_down_changes_the_start_rarely() -> None:
    starts = [_long_ctx(line).before_start_line for line in range(150, 214)]
    assert all(start % 16 == 0 for start in starts)
    changes = sum(1 for a, b in pairwise(starts) if a != b)
    assert changes == 4  # 64 lines, one change per 16 lines
    # Runs between changes are exactly one step long.
    runs = [starts.count(value) for value in sorted(set(starts))]
    assert all(run == 16 for run in runs[1:-1])


def test_moving_down_within_a_step_keeps_the_start() -> None:
    first_of_run = next(
        line
        for line in range(150, 200)
        if _long_ctx(line).before_start_line != _long_ctx(line - 1).before_start_line
    )
    start = _long_ctx(first_of_run).before_start_line
    for step in range(1, 16):
        ctx = _long_ctx(first_of_run + step)
        assert ctx.before_start_line == start
        assert ctx.before.startswith(LONG_LINES[start] + "\n")
    assert _long_ctx(first_of_run + 16).before_start_line == start + 16


def test_small_file_starts_at_zero() -> None:
    ctx = at("a = 1\nb = 2\nc = 3█\n", "python", prefix_budget=100)
    assert ctx.before_start_line == 0 and ctx.before == "a = 1\nb = 2\n"


def test_prefix_window_ignores_the_current_line_even_with_no_budget() -> None:
    ctx = at("a = 1\nb = 2\nc█ = 3\n", "python", prefix_budget=0)
    assert ctx.before == "" and ctx.before_start_line == 2
    assert ctx.line_prefix == "c"


def test_after_window_prefers_a_natural_boundary() -> None:
    body = "".join(f"    step_{i}()\n" for i in range(6))
    source = "x = 1█\n" + "".join(f"def f{j}():\n{body}\n" for j in range(10))
    ctx = at(source, "python", suffix_budget=40)
    assert words(ctx.after) <= 40
    kept = ctx.after.split("\n")
    # The window ends at the end of a function, not in its middle.
    next_line = source.split("\n")[ctx.after_end_line]
    assert next_line == "" or not next_line.startswith(" ")
    assert kept[0] == "def f0():"


def test_after_is_empty_at_the_end() -> None:
    ctx = at("a = 1\nb█", "python")
    assert ctx.after == "" and ctx.line_suffix == ""
    assert not ctx.multiline  # mid-expression: the rest of the line
    ctx = at("a = 1\n█", "python")
    assert ctx.after == "" and ctx.multiline  # an empty last line: a block may follow
