"""Incremental reparsing gives the trees a fresh parse gives, over many random edits."""

from __future__ import annotations

import random

import pytest

from codecomp_lsp.context.incremental import byte_edit, insertion_edit, point_at, reparse
from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.context.syntax import count_errors, parse, syntax_errors

SOURCES = {
    "python": '''class Box:
    """A box."""

    def __init__(self, items=None):
        self.items = list(items or [])  # é 😀

    def add(self, item):
        if item is None:
            raise ValueError("no item")
        self.items.append(item)
        return len(self.items)


def total(boxes):
    return sum(len(b.items) for b in boxes)
''',
    "javascript": """function total(boxes) {
  let n = 0;
  for (const b of boxes) {
    n += b.items.length; // é
  }
  return `total: ${n}`;
}

class Box {
  constructor(items) { this.items = items || []; }
}
""",
    "go": """package main

import "fmt"

func total(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

func main() { fmt.Println(total([]int{1, 2})) }
""",
}
PIECES = [
    "(",
    ")",
    ":",
    "\n",
    "    ",
    "x",
    "'",
    '"',
    '"""',
    "{",
    "}",
    "[",
    "]",
    ";",
    "é",
    "😀",
    "#",
    "//",
    "/*",
    "return ",
    " = ",
    ",",
    "\\",
    "def f",
    "if x",
    "\t",
]


def _spec(name: str) -> LanguageSpec:
    spec = spec_by_name(name)
    assert spec is not None
    return spec


def _same(tree, fresh, data: bytes, spec: LanguageSpec) -> None:
    assert str(tree.root_node) == str(fresh.root_node)
    assert count_errors(tree, spec) == count_errors(fresh, spec)
    assert syntax_errors(tree, data) == syntax_errors(fresh, data)
    assert tree.root_node.end_point == fresh.root_node.end_point


def _random_piece(rnd: random.Random) -> str:
    if rnd.random() < 0.7:
        return rnd.choice(PIECES)
    return "".join(rnd.choice("ab \n\t(){}[]'\"é😀:;#") for _ in range(rnd.randrange(5)))


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("language", sorted(SOURCES))
def test_random_edits_match_a_fresh_parse(language: str, seed: int) -> None:
    rnd = random.Random(seed)
    spec = _spec(language)
    text = SOURCES[language]
    base = ("test-incremental", language, seed)
    parsed(text, spec, base=base)
    for _ in range(12):
        at = rnd.randrange(len(text) + 1)
        text = text[:at] + _random_piece(rnd) + text[at + rnd.randrange(0, 12) :]
        data = text.encode("utf-8", "surrogatepass")
        _same(parsed(text, spec, base=base).tree, parse(data, spec), data, spec)


def test_the_edit_turns_old_into_new() -> None:
    rnd = random.Random(7)
    for _ in range(2000):
        old, new = ("".join(rnd.choice("ab\né😀") for _ in range(rnd.randrange(30))) for _ in "ab")
        a, b = old.encode(), new.encode()
        edit = byte_edit(a, b)
        if edit is None:
            assert a == b
            continue
        rebuilt = (
            a[: edit.start_byte] + b[edit.start_byte : edit.new_end_byte] + a[edit.old_end_byte :]
        )
        assert rebuilt == b
        assert edit.start_byte <= edit.old_end_byte and edit.start_byte <= edit.new_end_byte
        b[edit.start_byte :].decode()  # every cut lies on a character boundary
        a[edit.old_end_byte :].decode()
        assert edit.start_point == point_at(a, edit.start_byte) == point_at(b, edit.start_byte)
        assert edit.old_end_point == point_at(a, edit.old_end_byte)
        assert edit.new_end_point == point_at(b, edit.new_end_byte)


def test_long_texts_find_the_edit_far_in() -> None:
    old = ("x = 1\n" * 20_000).encode()
    new = old[:70_001] + b"yy" + old[70_003:]
    edit = byte_edit(old, new)
    assert edit is not None
    assert (edit.start_byte, edit.old_end_byte, edit.new_end_byte) == (70_001, 70_003, 70_003)
    ins = insertion_edit(old, 12, b"a\nbc")
    assert ins.new_end_point == (3, 2) and ins.start_point == (2, 0)


def test_the_old_tree_is_left_alone() -> None:
    spec = _spec("python")
    old = b"def f(x):\n    return x\n"
    tree = parse(old, spec)
    before = str(tree.root_node)
    reparse(old, tree, b"def f(x:\n    return x\n", spec)
    assert str(tree.root_node) == before and not tree.root_node.has_error


def test_a_half_typed_line_reparses_from_the_version_before_it_broke() -> None:
    spec = _spec("python")
    lines = SOURCES["python"].split("\n")
    base = ("test-steady", "python")
    parsed("\n".join(lines), spec, base=base)
    for typed in ("x = (", "x = (1", "x = (1,", "x = (1, 2", "x = (1, 2)"):
        text = "\n".join([*lines[:3], "    " + typed, *lines[3:]])
        data = text.encode()
        _same(parsed(text, spec, base=base).tree, parse(data, spec), data, spec)
