"""Parsing, error counting and diagnostics ranges on real snippets of every language."""

import pytest

from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.syntax import count_errors, parse, syntax_errors


def _spec(name: str) -> LanguageSpec:
    spec = spec_by_name(name)
    assert spec is not None
    return spec


VALID = {
    "python": 'def area(r: float) -> float:\n    """Circle area."""\n    return 3.14 * r**2\n',
    "javascript": "export function sum(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n}\n",
    "typescript": "interface P { x: number }\nexport const f = (p: P): number => p.x * 2;\n",
    "tsx": "export const App = ({ n }: { n: number }) => <ul>{[n].map((i) => <li>{i}</li>)}</ul>;\n",
    "go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\n',
    "rust": "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    "java": "public class A {\n    int twice(int x) { return 2 * x; }\n}\n",
    "c": '#include <stdio.h>\nint main(void) {\n    printf("%d\\n", 1);\n    return 0;\n}\n',
    "cpp": "#include <vector>\nint sum(const std::vector<int>& v) {\n  int s = 0;\n  for (int x : v) s += x;\n  return s;\n}\n",
}

# (broken source, expected message, expected text under the reported range)
BROKEN = {
    "python": ("x = foo(1, 2))\ny = 3\n", "Syntax error: unexpected `)`", ")"),
    "javascript": ("const x = foo(1;\n", "Missing `)`", ""),
    "typescript": ("const x: number = ;\n", "Syntax error: unexpected `=`", "="),
    "tsx": ("const a = <div>hi</div;\n", "Missing `>`", ""),
    "go": ("package main\nfunc main() {\n\tx := 1\n", "Missing `}`", ""),
    "rust": ("fn main() {\n    let x = 1\n}\n", "Missing `;`", ""),
    "java": ("class A { void f() { int x = 1 } }\n", "Missing `;`", ""),
    "c": ("int main() { int x = 1 +; }\n", "Syntax error: unexpected `+`", "+"),
    "cpp": ("int main() { return 0; }}\n", "Syntax error: unexpected `}`", "}"),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_code_has_no_errors(name: str) -> None:
    spec = _spec(name)
    tree = parse(VALID[name], spec)
    assert count_errors(tree, spec) == 0
    assert count_errors(VALID[name], spec) == 0
    assert syntax_errors(tree) == []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_code_is_reported(name: str) -> None:
    spec = _spec(name)
    source, message, under = BROKEN[name]
    tree = parse(source, spec)
    assert count_errors(tree, spec) >= 1
    issues = syntax_errors(tree, source)
    assert [issue.message for issue in issues] == [message]
    issue = issues[0]
    assert issue.start_line == issue.end_line
    text = source.split("\n")[issue.start_line]
    assert text[issue.start_col : issue.end_col] == under
    # Rebuilding the source from the tree gives the same ranges.
    assert syntax_errors(tree) == issues


def test_missing_ranges_point_where_the_token_belongs() -> None:
    spec = _spec("rust")
    source = "fn main() {\n    let x = 1\n}\n"
    (issue,) = syntax_errors(parse(source, spec), source)
    assert issue.missing
    assert (issue.start_line, issue.start_col, issue.end_col) == (1, 13, 13)


def test_counts_every_error_node() -> None:
    spec = _spec("javascript")
    one = "let a = f(1;\n"
    two = "let a = f(1;\nlet b = g(2;\n"
    assert count_errors(one, spec) == 1
    assert count_errors(two, spec) == 2


def test_columns_are_code_points_not_bytes() -> None:
    spec = _spec("python")
    source = "s = '😀中文' + f(1))\n"
    (issue,) = syntax_errors(parse(source, spec), source)
    assert issue.message == "Syntax error: unexpected `)`"
    assert issue.start_col == source.rindex(")")
    assert issue.end_col == issue.start_col + 1


def test_columns_without_text_after_leading_blank_lines() -> None:
    # The tree's root starts after leading whitespace; ranges must still be right.
    spec = _spec("python")
    source = "\n\n    \nx = '🎉' + g(2))\n"
    (issue,) = syntax_errors(parse(source, spec))
    assert issue.start_line == 3
    assert issue.start_col == source.split("\n")[3].rindex(")")


def test_multiline_error_is_cut_to_its_first_line() -> None:
    spec = _spec("python")
    source = "def f(x)\n    return x\n"
    issues = syntax_errors(parse(source, spec), source)
    assert len(issues) == 1
    assert issues[0].start_line == issues[0].end_line == 0
    assert issues[0].end_col <= len("def f(x)")


def test_unknown_character() -> None:
    spec = _spec("python")
    source = "x = 1\ny = $\n"
    (issue,) = syntax_errors(parse(source, spec), source)
    assert issue.message == "Syntax error: unexpected `$`"
    assert (issue.start_line, issue.start_col, issue.end_col) == (1, 4, 5)


def test_count_errors_skips_clean_subtrees_but_finds_deep_errors() -> None:
    spec = _spec("c")
    body = "".join(f"int f{i}(void) {{ return {i}; }}\n" for i in range(200))
    broken = body + "int g(void) { return (1 + ; }\n"
    assert count_errors(body, spec) == 0
    assert count_errors(broken, spec) >= 1
