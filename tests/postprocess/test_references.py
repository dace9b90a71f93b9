"""The reference check: names a suggestion uses that nothing the model saw defines."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from codecomp_lsp.features.completion import Suggestion
from codecomp_lsp.features.reference_check import ReferenceCheck
from codecomp_lsp.postprocess.references import known_names, unknown_names

DOC = "import os\n\n\ndef size_of(path):\n    return os.path.getsize("


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("path)", []),
        ("pathname)", ["pathname"]),
        ("os.path.join(path, name)", ["name"]),  # join: an attribute, never checked
        ("compute_size(path)", ["compute_size"]),
        ("sorted(path, key=lambda p: p.size, reverse=True)", []),  # builtins, kwargs, params
        ("[x for x in items]", ["items"]),
        ("for i, (a, b) in enumerate(pairs):", ["pairs"]),
        ("total = 0\n    for i in range(n): total += i", ["n"]),
        ("import numpy as np\nnp.zeros(3)", []),
        ("with open(path) as fh: fh.read()", []),
        ("'a string with words' + path  # and a comment with more", []),
        ("self.value", []),
        ("(n := len(path))", []),
    ],
)
def test_python_names_nothing_defines(text: str, unknown: list[str]) -> None:
    assert unknown_names(text, known_names([DOC], "python"), "python")[0] == unknown


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("xs.map(x => x * 2)", []),
        ("xs.map((a, b) => a + b)", []),
        ("({ total: xs.length })", []),
        ("helper(xs)", ["helper"]),
        ("const n = xs.length; return n + offset;", ["offset"]),
        ("console.log(JSON.stringify(xs))", []),
    ],
)
def test_typescript_names_nothing_defines(text: str, unknown: list[str]) -> None:
    known = known_names(["const xs: number[] = [1, 2];\n"], "typescript")
    assert unknown_names(text, known, "typescript")[0] == unknown


def test_languages_without_a_builtins_list_are_not_checked() -> None:
    assert unknown_names("made_up(thing)", known_names([""], "go"), "go") == ([], 0)


@dataclass
class _Doc:
    uri: str
    version: int
    text: str


def test_unknown_names_rank_last_and_a_lone_automatic_one_is_held_back() -> None:
    doc = _Doc("file:///a.py", 1, DOC)
    other = _Doc("file:///b.py", 3, "def from_another_file(x):\n    return x\n")
    check = ReferenceCheck()
    candidates = [
        Suggestion("invented_helper(path))", -0.1, 0),
        Suggestion("from_another_file(path))", -0.5, 0),
        Suggestion("path) + 1", -0.7, 1),  # a parse error still ranks after both
    ]
    ranked, held = check.apply(candidates, doc, [other], "python", automatic=True)
    assert [s.text for s in ranked] == [
        "from_another_file(path))",
        "invented_helper(path))",
        "path) + 1",
    ]
    assert held == 0
    lone = [Suggestion("invented_helper()", -0.1, None)]
    assert check.apply(lone, doc, [], "python", automatic=True) == ([], 1)
    assert check.apply(lone, doc, [], "python", automatic=False) == (lone, 0)
    mixed = [Suggestion("invented_helper(path)", -0.1, None)]  # path is known: shown
    assert check.apply(mixed, doc, [], "python", automatic=True) == (mixed, 0)
