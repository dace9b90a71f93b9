"""Snippets: definitions from other open documents used near the cursor."""

import pytest

from codecomp_lsp.context.definitions import MAX_LINES
from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.snippets import (
    collect_snippets,
    definitions_of,
    display_path,
    identifiers_in,
)
from codecomp_lsp.context.types import Snippet


def words(text: str) -> int:
    return len(text.split()) + text.count("\n")


def _spec(name: str) -> LanguageSpec:
    spec = spec_by_name(name)
    assert spec is not None
    return spec


# language -> (other file name, other file text, code using it, expected snippet heads)
CASES: dict[str, tuple[str, str, str, list[str]]] = {
    "python": (
        "pkg/util.py",
        (
            "import os\n\nLIMIT = 10\n\n\ndef helper(x: int) -> int:\n"
            '    """Double x."""\n    return x * 2\n\n\nclass Box:\n'
            "    def open(self) -> None:\n        pass\n"
        ),
        "from pkg.util import helper\n\nprint(helper(LIMIT))\n",
        ["LIMIT = 10", "def helper(x: int) -> int:"],
    ),
    "javascript": (
        "src/math.js",
        (
            "export const SCALE = 3;\n\n/** Adds. */\nexport function add(a, b) {\n"
            "  return a + b;\n}\n\nexport class Counter {\n  increment(by) {\n"
            "    this.n += by;\n  }\n}\n"
        ),
        "import { add } from './math.js';\nconst c = new Counter();\nc.increment(add(1, 2));\n",
        ["/** Adds. */", "export class Counter {"],
    ),
    "typescript": (
        "src/geo.ts",
        (
            "export interface Point { x: number; y: number }\n"
            "export function dist(a: Point, b: Point): number {\n"
            "  return Math.hypot(a.x - b.x, a.y - b.y);\n}\n"
            "export type Id = string;\n"
        ),
        "const p: Point = { x: 1, y: 2 };\nconsole.log(dist(p, p));\n",
        ["export interface Point", "export function dist("],
    ),
    "tsx": (
        "src/Button.tsx",
        (
            "export function Button({ label }: { label: string }) {\n"
            "  return <button>{label}</button>;\n}\n"
            "export function Unused() {\n  return null;\n}\n"
        ),
        "export const App = () => <Button label='ok' />;\n",
        ["export function Button("],
    ),
    "go": (
        "geo/point.go",
        (
            "package geo\n\ntype Point struct {\n\tX, Y float64\n}\n\n"
            "// Dist returns the distance.\nfunc Dist(a, b Point) float64 {\n\treturn 0\n}\n\n"
            "func (p *Point) Scale(f float64) {\n\tp.X *= f\n}\n"
        ),
        "package main\n\nfunc main() {\n\tp := geo.Point{}\n\tp.Scale(2)\n}\n",
        ["type Point struct {", "func (p *Point) Scale("],
    ),
    "rust": (
        "src/geo.rs",
        (
            "/// A point.\n#[derive(Debug)]\npub struct Point {\n    pub x: f64,\n}\n\n"
            "impl Point {\n    pub fn norm(&self) -> f64 {\n        self.x.abs()\n    }\n}\n"
        ),
        'fn main() {\n    let p = Point { x: 1.0 };\n    println!("{}", p.norm());\n}\n',
        ["/// A point.", "impl Point {"],
    ),
    "java": (
        "src/Geometry.java",
        (
            "public class Geometry {\n    public static final double EPS = 1e-9;\n\n"
            "    /** Distance. */\n    public static double dist(double a, double b) {\n"
            "        return Math.abs(a - b);\n    }\n}\n"
        ),
        "class Main {\n    void run() {\n        double d = Geometry.dist(1, 2);\n    }\n}\n",
        ["public class Geometry {"],
    ),
    "c": (
        "src/geo.h",
        (
            "#ifndef GEO_H\n#define GEO_H\n#define SQUARE(x) ((x) * (x))\n"
            "typedef struct point { double x, y; } point_t;\n"
            "double dist(point_t a, point_t b);\n#endif\n"
        ),
        "int main(void) {\n    point_t p = {0};\n    return (int)dist(p, p) + SQUARE(2);\n}\n",
        ["#define SQUARE(x)", "typedef struct point", "double dist("],
    ),
    "cpp": (
        "src/vec.hpp",
        (
            "#pragma once\nnamespace geo {\nclass Vec {\n public:\n  double length() const;\n"
            "};\ntemplate <typename T> T clamp(T v, T lo, T hi) { return v < lo ? lo : v; }\n}\n"
        ),
        "int main() {\n  geo::Vec v;\n  return clamp(v.length(), 0.0, 1.0);\n}\n",
        ["class Vec {", "template <typename T> T clamp("],
    ),
}


def _collect(name: str, budget: int = 10_000, reverse: bool = False) -> tuple[Snippet, ...]:
    path, other_text, window, _ = CASES[name]
    spec = _spec(name)
    current = "file:///work/proj/src/main.x"
    docs = [
        (f"file:///work/proj/{path}", other_text, spec),
        (current, window, spec),
        ("file:///work/proj/zzz/other.txt", "Point dist helper", None),
    ]
    if reverse:
        docs.reverse()
    return collect_snippets(window, spec, current, docs, count_tokens=words, budget=budget)


@pytest.mark.parametrize("name", sorted(CASES))
def test_definitions_found_across_documents(name: str) -> None:
    path, _, _, heads = CASES[name]
    spec = _spec(name)
    snippets = _collect(name)
    assert len(snippets) == len(heads)
    for snippet, head in zip(snippets, heads, strict=True):
        assert snippet.text.split("\n")[1].startswith(head)
    for snippet in snippets:
        assert snippet.text.startswith(f"{spec.line_comment} path: {snippet.path}\n")
        assert snippet.text.endswith("\n")
        assert snippet.path.endswith(path.split("/")[-1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_snippets_are_deterministic(name: str) -> None:
    first = _collect(name)
    assert _collect(name) == first
    assert _collect(name, reverse=True) == first


def test_member_shown_under_its_class_header() -> None:
    (snippet,) = _collect("rust")[1:]
    assert snippet.text.split("\n")[1:3] == [
        "impl Point {",
        "    pub fn norm(&self) -> f64 {",
    ]


def test_member_skipped_when_its_class_is_shown() -> None:
    texts = [s.text for s in _collect("javascript")]
    assert sum("increment(by)" in text for text in texts) == 1


def test_current_document_and_unused_names_are_skipped() -> None:
    snippets = _collect("tsx")
    assert len(snippets) == 1
    assert "Unused" not in snippets[0].text
    window = CASES["python"][2]
    alone = collect_snippets(
        window,
        _spec("python"),
        "file:///a.py",
        [("file:///a.py", "def helper():\n    pass\n", _spec("python"))],
        count_tokens=words,
        budget=1000,
    )
    assert alone == ()


def test_other_language_families_are_ignored() -> None:
    window = "print(helper(1))\n"
    docs = [
        (
            "file:///x/util.js",
            "export function helper(a) {\n  return a;\n}\n",
            _spec("javascript"),
        ),
    ]
    result = collect_snippets(
        window,
        _spec("python"),
        "file:///x/main.py",
        docs,
        count_tokens=words,
        budget=1000,
    )
    assert result == ()
    # TypeScript sees JavaScript definitions (same family).
    result = collect_snippets(
        "helper(1);\n",
        _spec("typescript"),
        "file:///x/main.ts",
        docs,
        count_tokens=words,
        budget=1000,
    )
    assert len(result) == 1 and result[0].text.startswith("// path: util.js\n")


def test_budget_is_respected_and_stable() -> None:
    full = _collect("c")
    costs = [words(snippet.text) for snippet in full]
    assert len(full) == 3
    budget = costs[0] + costs[2]
    limited = _collect("c", budget=budget)
    assert sum(words(s.text) for s in limited) <= budget
    assert limited == (full[0], full[2]) or limited == (full[0], full[1])
    assert _collect("c", budget=0) == ()
    assert _collect("c", budget=costs[0] - 1) == tuple(s for s in full if words(s.text) < costs[0])


def test_names_defined_in_the_window_are_not_looked_up() -> None:
    window = "def helper(x):\n    return x\n\nhelper(LIMIT)\n"
    path, text, _, _ = CASES["python"]
    snippets = collect_snippets(
        window,
        _spec("python"),
        "file:///p/main.py",
        [(f"file:///p/{path}", text, _spec("python"))],
        count_tokens=words,
        budget=1000,
    )
    assert [s.text.split("\n")[1] for s in snippets] == ["LIMIT = 10"]


def test_long_definitions_are_shortened() -> None:
    body = "".join(f"    total += {i}\n" for i in range(60))
    methods = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(30))
    text = (
        'def long_function(a, b):\n    """Sum a lot."""\n    total = 0\n'
        f'{body}    return total\n\n\nclass Big:\n    """Many methods."""\n\n{methods}'
    )
    index = definitions_of("file:///p/long.py", text, _spec("python"))
    by_name = {d.names[0]: d for d in index}
    func = by_name["long_function"].text.split("\n")
    assert func == ["def long_function(a, b):", '    """Sum a lot."""', "    ..."]
    big = by_name["Big"].text.split("\n")
    assert len(big) <= MAX_LINES
    assert big[:3] == ["class Big:", '    """Many methods."""', "    def m0(self): ..."]
    assert big[-1] == "    ..."
    js = "export function longOne(a) {\n" + "".join(f"  a += {i};\n" for i in range(40)) + "}\n"
    (definition,) = definitions_of("file:///p/long.js", js, _spec("javascript"))
    assert definition.text.split("\n") == [
        "export function longOne(a) {",
        "  // ...",
        "}",
    ]


def test_definition_index_is_cached_per_version() -> None:
    spec = _spec("go")
    text = CASES["go"][1]
    first = definitions_of("file:///p/a.go", text, spec)
    assert definitions_of("file:///p/a.go", text, spec) is first
    changed = definitions_of("file:///p/a.go", text + "\nfunc Extra() {}\n", spec)
    assert changed is not first
    assert ("Extra",) in [d.names for d in changed]


def test_identifiers_skip_comments_and_strings() -> None:
    source = "# helper is mentioned here\nx = 'LIMIT'\nvalue = compute(x)\n"
    assert identifiers_in(source, _spec("python")) == {"x", "value", "compute"}
    assert "helper" in identifiers_in(source, None)


def test_display_paths() -> None:
    assert display_path("file:///w/p/pkg/u.py", "file:///w/p/main.py") == "pkg/u.py"
    assert display_path("file:///w/p/lib/u.py", "file:///w/p/app/main.py") == "lib/u.py"
    assert display_path("file:///w/p/My%20Dir/u.py", "file:///w/p/m.py") == "My Dir/u.py"
    assert display_path("untitled:Untitled-1", "file:///w/m.py") == "untitled:Untitled-1"
