"""The structural part of hover: definitions, signatures, docstrings and references per grammar."""

from __future__ import annotations

import pytest

from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.signatures import clean_comment, python_string_value
from codecomp_lsp.context.symbols import (
    Symbol,
    document_symbols,
    enclosing_symbol,
    symbol_at,
)


def _spec(name: str) -> LanguageSpec:
    spec = spec_by_name(name)
    assert spec is not None
    return spec


TS_SAMPLE = (
    "/** A point. */\n"
    "interface Point { x: number; y: number }\n"
    "\n"
    "/** Adds. */\n"
    "function add(a: number, b: number): number {\n"
    "  return a + b;\n"
    "}\n"
    "\n"
    "type Id = string;\n"
    "\n"
    "class Box<T> {\n"
    "  /** The value. */\n"
    "  private value: T;\n"
    "  /** Get it. */\n"
    "  get(): T { return this.value; }\n"
    "}\n"
    "\n"
    "const total: number = add(1, 2);\n"
)

SOURCES = {
    "python": (
        "import os\n"
        "\n"
        "LIMIT = 10\n"
        '"""How many items to keep."""\n'
        "\n"
        "\n"
        "# Adds two numbers.\n"
        "@cache\n"
        "def add(a: int, b: int = 2) -> int:\n"
        '    """Return the sum of a and b."""\n'
        "    return a + b\n"
        "\n"
        "\n"
        "class Greeter(Base):\n"
        '    """Says hello."""\n'
        "\n"
        "    def greet(self, name):\n"
        '        """Greet someone by name."""\n'
        '        message = f"hi {name}"\n'
        "        return message\n"
        "\n"
        "\n"
        "def main():\n"
        "    total = add(1, 2)\n"
        "    g = Greeter()\n"
        '    g.greet("bob")\n'
        "    print(total, LIMIT)\n"
    ),
    "javascript": (
        "/**\n"
        " * Adds two numbers.\n"
        " * @param {number} a\n"
        " */\n"
        "export function add(a, b) {\n"
        "  return a + b;\n"
        "}\n"
        "\n"
        "// The answer.\n"
        "const LIMIT = 42;\n"
        "\n"
        "/** Greets people. */\n"
        "class Greeter extends Base {\n"
        "  // Greet someone.\n"
        "  greet(name) {\n"
        "    const message = `hi ${name}`;\n"
        "    return message;\n"
        "  }\n"
        "}\n"
        "\n"
        "const square = (x) => x * x;\n"
        "\n"
        "function main() {\n"
        "  const total = add(1, 2);\n"
        '  new Greeter().greet("bob");\n'
        "  console.log(square(total), LIMIT);\n"
        "}\n"
    ),
    "typescript": TS_SAMPLE,
    "go": (
        "package main\n"
        "\n"
        "// Add returns the sum of a and b.\n"
        "func Add(a int, b int) int {\n"
        "\treturn a + b\n"
        "}\n"
        "\n"
        "// Point is a point.\n"
        "type Point struct {\n"
        "\tX int\n"
        "}\n"
        "\n"
        "// Norm returns the norm.\n"
        "func (p *Point) Norm() int {\n"
        "\treturn p.X\n"
        "}\n"
        "\n"
        "// Limit is the limit.\n"
        "var Limit = 10\n"
        "\n"
        "func main() {\n"
        "\ttotal := Add(1, 2)\n"
        "\tp := &Point{}\n"
        "\tp.Norm()\n"
        "\t_ = total + Limit\n"
        "}\n"
    ),
    "rust": (
        "/// Adds two numbers.\n"
        "pub fn add(a: i32, b: i32) -> i32 {\n"
        "    a + b\n"
        "}\n"
        "\n"
        "/// A point.\n"
        "#[derive(Debug)]\n"
        "struct Point { x: i32 }\n"
        "\n"
        "impl Point {\n"
        "    /// The norm.\n"
        "    fn norm(&self) -> i32 { self.x }\n"
        "}\n"
        "\n"
        "const LIMIT: i32 = 10;\n"
        "\n"
        "fn main() {\n"
        "    let total = add(1, 2);\n"
        "    let p = Point { x: 1 };\n"
        "    p.norm();\n"
        '    println!("{}", total + LIMIT);\n'
        "}\n"
    ),
    "java": (
        "/** Math helpers. */\n"
        "public class S {\n"
        "    /** The limit. */\n"
        "    static final int LIMIT = 10;\n"
        "\n"
        "    /**\n"
        "     * Adds two numbers.\n"
        "     * @param a first\n"
        "     */\n"
        "    public static int add(int a, int b) {\n"
        "        return a + b;\n"
        "    }\n"
        "\n"
        "    void main() {\n"
        "        int total = add(1, 2);\n"
        "        new S().helper();\n"
        "    }\n"
        "\n"
        "    // Helps.\n"
        "    void helper() {}\n"
        "}\n"
    ),
    "c": (
        "#include <stdio.h>\n"
        "\n"
        "/* Adds two numbers. */\n"
        "int add(int a, int b) {\n"
        "    return a + b;\n"
        "}\n"
        "\n"
        "// A point.\n"
        "struct point { int x; };\n"
        "\n"
        "#define LIMIT 10\n"
        "\n"
        "static int counter = 0; // calls so far\n"
        "\n"
        "int main(void) {\n"
        "    int total = add(1, 2);\n"
        '    printf("%d\\n", total + LIMIT);\n'
        "    return 0;\n"
        "}\n"
    ),
    "cpp": (
        "// Adds two numbers.\n"
        "int add(int a, int b) {\n"
        "    return a + b;\n"
        "}\n"
        "\n"
        "/// A greeter.\n"
        "class Greeter {\n"
        "public:\n"
        "    /// Greets.\n"
        "    void greet(const char* name);\n"
        "    int count = 0;\n"
        "};\n"
        "\n"
        "void Greeter::greet(const char* name) {\n"
        "    count++;\n"
        "}\n"
        "\n"
        "namespace util {\n"
        "// Squares.\n"
        "template <typename T>\n"
        "T square(T x) { return x * x; }\n"
        "}\n"
        "\n"
        "int main() {\n"
        "    int total = add(1, 2);\n"
        "    Greeter g;\n"
        '    g.greet("bob");\n'
        "    return util::square(total);\n"
        "}\n"
    ),
    "tsx": TS_SAMPLE
    + (
        "\n"
        "export const Badge = ({ label }: { label: string }) => <b>{label}</b>;\n"
        "\n"
        "const view = <Badge label={Id} />;\n"
    ),
}

# (language, name, kind, container, signature, docstring)
DEFINITIONS = [
    ("python", "LIMIT", "variable", None, "LIMIT = 10", "How many items to keep."),
    (
        "python",
        "add",
        "function",
        None,
        "@cache\ndef add(a: int, b: int = 2) -> int:",
        "Return the sum of a and b.",
    ),
    ("python", "Greeter", "class", None, "class Greeter(Base):", "Says hello."),
    ("python", "greet", "method", "Greeter", "def greet(self, name):", "Greet someone by name."),
    (
        "javascript",
        "add",
        "function",
        None,
        "export function add(a, b)",
        "Adds two numbers.\n@param {number} a",
    ),
    ("javascript", "LIMIT", "constant", None, "const LIMIT = 42;", "The answer."),
    ("javascript", "Greeter", "class", None, "class Greeter extends Base", "Greets people."),
    ("javascript", "greet", "method", "Greeter", "greet(name)", "Greet someone."),
    ("javascript", "square", "function", None, "const square = (x) =>", None),
    (
        "typescript",
        "Point",
        "interface",
        None,
        "interface Point { x: number; y: number }",
        "A point.",
    ),
    ("typescript", "add", "function", None, "function add(a: number, b: number): number", "Adds."),
    ("typescript", "Id", "type", None, "type Id = string;", None),
    ("typescript", "value", "field", "Box", "private value: T", "The value."),
    ("typescript", "get", "method", "Box", "get(): T", "Get it."),
    ("tsx", "add", "function", None, "function add(a: number, b: number): number", "Adds."),
    (
        "tsx",
        "Badge",
        "function",
        None,
        "export const Badge = ({ label }: { label: string }) =>",
        None,
    ),
    (
        "go",
        "Add",
        "function",
        None,
        "func Add(a int, b int) int",
        "Add returns the sum of a and b.",
    ),
    ("go", "Point", "type", None, "type Point struct {\n\tX int\n}", "Point is a point."),
    ("go", "Norm", "method", "Point", "func (p *Point) Norm() int", "Norm returns the norm."),
    ("go", "Limit", "variable", None, "var Limit = 10", "Limit is the limit."),
    ("rust", "add", "function", None, "pub fn add(a: i32, b: i32) -> i32", "Adds two numbers."),
    ("rust", "Point", "struct", None, "struct Point { x: i32 }", "A point."),
    ("rust", "norm", "method", "Point", "fn norm(&self) -> i32", "The norm."),
    ("rust", "LIMIT", "constant", None, "const LIMIT: i32 = 10;", None),
    ("java", "S", "class", None, "public class S", "Math helpers."),
    ("java", "LIMIT", "field", "S", "static final int LIMIT = 10;", "The limit."),
    (
        "java",
        "add",
        "method",
        "S",
        "public static int add(int a, int b)",
        "Adds two numbers.\n@param a first",
    ),
    ("java", "helper", "method", "S", "void helper()", "Helps."),
    ("c", "add", "function", None, "int add(int a, int b)", "Adds two numbers."),
    ("c", "point", "struct", None, "struct point { int x; }", "A point."),
    ("c", "LIMIT", "macro", None, "#define LIMIT 10", None),
    ("c", "counter", "variable", None, "static int counter = 0;", "calls so far"),
    ("cpp", "add", "function", None, "int add(int a, int b)", "Adds two numbers."),
    ("cpp", "Greeter", "class", None, "class Greeter", "A greeter."),
    ("cpp", "square", "function", None, "template <typename T>\nT square(T x)", "Squares."),
]


def _find(symbols: tuple[Symbol, ...], name: str, kind: str) -> Symbol:
    matches = [s for s in symbols if s.name == name and s.kind == kind]
    assert matches, f"no {kind} {name} in {[(s.name, s.kind) for s in symbols]}"
    return matches[0]


@pytest.mark.parametrize(
    ("language", "name", "kind", "container", "signature", "docstring"), DEFINITIONS
)
def test_definitions_have_signature_and_docstring(
    language: str,
    name: str,
    kind: str,
    container: str | None,
    signature: str,
    docstring: str | None,
) -> None:
    symbols = document_symbols(f"file:///s/{language}", SOURCES[language], _spec(language))
    symbol = _find(symbols, name, kind)
    assert symbol.signature == signature
    assert symbol.docstring == docstring
    assert symbol.container == container
    assert not symbol.local


def test_every_shipped_grammar_is_covered() -> None:
    from codecomp_lsp.context.languages import all_specs

    assert {s.name for s in all_specs()} == {language for language, *_ in DEFINITIONS}


def test_locals_know_their_scope() -> None:
    symbols = document_symbols("file:///s.py", SOURCES["python"], _spec("python"))
    total = _find(symbols, "total", "variable")
    assert total.local and total.scope is not None
    assert total.scope[0] == 22  # def main():


# (language, line containing, word hovered, role, resolved header or None, signature start)
REFERENCES = [
    ("python", "total = add", "add", "call", "(function) add", "@cache"),
    ("python", "g.greet", "greet", "call", "(method) Greeter.greet", "def greet"),
    ("python", "g = Greeter", "Greeter", "call", "(class) Greeter", "class Greeter"),
    ("python", "print(total", "print", "call", None, None),
    ("python", "print(total, LIMIT", "LIMIT", "reference", "(variable) LIMIT", "LIMIT = 10"),
    ("python", "def add", "add", "definition", "(function) add", "@cache"),
    ("python", "def add", "def", "definition", "(function) add", "@cache"),
    ("javascript", "const total = add", "add", "call", "(function) add", "export function"),
    ("javascript", "new Greeter", "Greeter", "call", "(class) Greeter", "class Greeter"),
    ("javascript", '.greet("bob', "greet", "call", "(method) Greeter.greet", "greet(name)"),
    ("javascript", "square(total", "square", "call", "(function) square", "const square"),
    ("javascript", "LIMIT);", "LIMIT", "reference", "(constant) LIMIT", "const LIMIT"),
    ("typescript", "= add(1", "add", "call", "(function) add", "function add"),
    ("tsx", "<Badge", "Badge", "reference", "(function) Badge", "export const Badge"),
    ("go", "total := Add", "Add", "call", "(function) Add", "func Add"),
    ("go", "p.Norm", "Norm", "call", "(method) Point.Norm", "func (p *Point)"),
    ("go", "&Point", "Point", "reference", "(type) Point", "type Point struct"),
    ("rust", "let total = add", "add", "call", "(function) add", "pub fn add"),
    ("rust", "p.norm", "norm", "call", "(method) Point.norm", "fn norm"),
    ("rust", "println!", "println", "call", None, None),
    ("java", "int total = add", "add", "call", "(method) S.add", "public static int add"),
    ("java", "helper();", "helper", "call", "(method) S.helper", "void helper()"),
    ("java", "new S()", "S", "call", "(class) S", "public class S"),
    ("c", "int total = add", "add", "call", "(function) add", "int add"),
    ("c", "total + LIMIT", "LIMIT", "reference", "(macro) LIMIT", "#define LIMIT"),
    ("cpp", "g.greet", "greet", "call", "(method) Greeter.greet", "void Greeter::greet"),
    ("cpp", "util::square", "square", "call", "(function) square", "template <typename T>"),
]


@pytest.mark.parametrize(("language", "context", "word", "role", "header", "signature"), REFERENCES)
def test_hover_target_resolves_references(
    language: str, context: str, word: str, role: str, header: str | None, signature: str | None
) -> None:
    text = SOURCES[language]
    lines = text.split("\n")
    line = next(i for i, row in enumerate(lines) if context in row)
    col = lines[line].index(context) + context.index(word) + 1
    target = symbol_at(text, _spec(language), line, col, uri=f"file:///s/{language}")
    assert target is not None
    assert target.role == role
    assert target.name == word or role == "definition"
    if header is None:
        assert target.symbol is None
        assert target.expression.startswith(word)
    else:
        assert target.symbol is not None
        assert target.symbol.header == header
        assert target.symbol.signature.startswith(signature or "")


def test_an_out_of_line_definition_borrows_the_declaration_s_doc_comment() -> None:
    text = SOURCES["cpp"]
    line = text.split("\n").index('    g.greet("bob");')
    target = symbol_at(text, _spec("cpp"), line, 7)
    assert target is not None and target.symbol is not None
    assert target.symbol.signature == "void Greeter::greet(const char* name)"
    assert target.symbol.docstring == "Greets."


def test_hover_range_is_the_identifier() -> None:
    text = SOURCES["python"]
    target = symbol_at(text, _spec("python"), 23, 13)
    assert target is not None
    assert target.range == (23, 12, 23, 15)  # `add` in `total = add(1, 2)`


def test_nothing_to_say_inside_an_expression() -> None:
    assert symbol_at(SOURCES["python"], _spec("python"), 10, len("    return a ")) is None


def test_a_call_resolves_to_a_definition_in_another_open_document() -> None:
    utils = 'def slugify(title):\n    """Lower-case words joined by dashes."""\n    return "-".join(title.lower().split())\n'
    main = "from utils import slugify\n\nprint(slugify('A B'))\n"
    target = symbol_at(
        main,
        _spec("python"),
        2,
        8,
        uri="file:///p/main.py",
        open_docs=[("file:///p/utils.py", utils, _spec("python"))],
    )
    assert target is not None and target.symbol is not None
    assert target.role == "call"
    assert target.symbol.uri == "file:///p/utils.py"
    assert target.symbol.signature == "def slugify(title):"
    assert target.symbol.docstring == "Lower-case words joined by dashes."


def test_other_documents_of_another_language_family_are_not_searched() -> None:
    js = "function slugify(t) { return t; }\n"
    target = symbol_at(
        "print(slugify('x'))\n",
        _spec("python"),
        0,
        8,
        uri="file:///p/main.py",
        open_docs=[("file:///p/u.js", js, _spec("javascript"))],
    )
    assert target is not None and target.symbol is None


def test_a_local_of_another_function_is_not_a_match() -> None:
    text = "def f():\n    value = 1\n    return value\n\n\ndef g():\n    return value\n"
    target = symbol_at(text, _spec("python"), 6, len("    return va"))
    assert target is None  # `value` in g is not f's local


def test_unicode_columns_are_code_points() -> None:
    text = "s = 'ünïcødé'; t = len(s)\n"
    target = symbol_at(text, _spec("python"), 0, text.index("len") + 1)
    assert target is not None
    assert target.range == (0, text.index("len"), 0, text.index("len") + 3)


def test_enclosing_symbol_finds_the_innermost_function() -> None:
    text = SOURCES["python"]
    symbol = enclosing_symbol(text, _spec("python"), 18, 8, kinds=frozenset({"method", "class"}))
    assert symbol is not None and symbol.name == "greet"
    in_body = enclosing_symbol(
        text, _spec("python"), 18, 8, kinds=frozenset({"method"}), header_only=True
    )
    assert in_body is None  # the position is in the body, not the header


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/**\n * Adds.\n * @param a first\n */", "Adds.\n@param a first"),
        ("/* plain */", "plain"),
        ("/// Rust docs", "Rust docs"),
        ("// Go docs", "Go docs"),
        ("# python comment", "python comment"),
    ],
)
def test_comment_markers_are_stripped(raw: str, expected: str) -> None:
    assert clean_comment(raw) == expected


def test_python_string_values() -> None:
    assert (
        python_string_value('"""\n    Summary.\n\n    Details.\n    """') == "Summary.\n\nDetails."
    )
    assert python_string_value("r'raw'") == "raw"
