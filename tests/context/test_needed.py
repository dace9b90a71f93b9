"""Which names the empty line at the cursor must bind: read below, bound nowhere, mentioned
nowhere above — and what an answer binding them starts with."""

from __future__ import annotations

import pytest

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.needed import HORIZON_LINES, NeededNames, needed_names
from codecomp_lsp.context.syntax import parse


def _needed(
    text: str, language: str = "python", elsewhere: frozenset[str] = frozenset()
) -> NeededNames | None:
    """The cursor is where `|` stands (removed)."""
    offset = text.index("|")
    text = text.replace("|", "", 1)
    return needed_names(parse(text, spec_by_name(language)), text, offset, language, elsewhere)


MODP = (
    "def modp(n: int, p: int):\n"
    '    """2^n modulo p."""\n'
    "    |\n"
    "    for i in range(n):\n"
    "        ret = (2 * ret) % p\n"
    "    return ret\n"
)


def test_a_name_read_before_anything_binds_it_is_needed() -> None:
    needed = _needed(MODP)
    assert needed == NeededNames(("ret",), opens_block=False, in_block=(), called=())
    assert needed.opening() == "ret ="


def test_several_names_are_bound_together_in_the_order_they_are_read() -> None:
    text = (
        "def simplify(x, n):\n"
        "    |\n"
        '    c, d = n.split("/")\n'
        "    numerator = int(a) * int(c)\n"
        "    denom = int(b) * int(d)\n"
        "    return numerator / denom\n"
    )
    needed = _needed(text)
    assert needed is not None and needed.names == ("a", "b")
    assert needed.opening() == "a, b ="


def test_a_block_that_reads_a_name_gets_a_for_header() -> None:
    text = (
        "def longest(strings):\n"
        "    maxlen = max(len(x) for x in strings)\n"
        "    |\n"
        "        if len(s) == maxlen:\n"
        "            return s\n"
    )
    needed = _needed(text)
    assert needed is not None and needed.opens_block and needed.in_block == ("s",)
    assert needed.opening() == "for s"


def test_a_name_called_below_is_a_function_whose_block_names_are_its_parameters() -> None:
    text = (
        "def string_xor(a, b):\n"
        '    """XOR of two strings of 0s and 1s."""\n'
        "    |\n"
        "        if i == j:\n"
        "            return '0'\n"
        "        return '1'\n"
        "    return ''.join(xor(x, y) for x, y in zip(a, b))\n"
    )
    needed = _needed(text)
    assert needed is not None and needed.called == ("xor",)
    assert needed.opening() == "def xor(i, j"


def test_an_accumulator_needs_its_start_value() -> None:
    text = "def count(xs):\n    |\n    for x in xs:\n        total += x\n    return total\n"
    needed = _needed(text)
    assert needed is not None and needed.names == ("total",)
    assert needed.opening() == "total ="


@pytest.mark.parametrize(
    "text",
    [
        MODP.replace("    |\n", "    ret|\n"),  # something typed: the user's words lead
        MODP.replace('"""2^n modulo p."""', "print(ret)"),  # read above the cursor
        MODP.replace("    for i", "    ret = 1\n    for i"),  # bound below before it is read
        MODP.replace("def modp", "ret = 1\n\n\ndef modp"),  # a global of the file
        MODP.replace("def modp", "def helper():\n    ret = 0\n\n\ndef modp"),  # named elsewhere
        MODP.replace("def modp", "from helpers import *\n\n\ndef modp"),  # could come from it
        MODP.replace("ret", "len"),  # a builtin
        MODP.replace("    |\n", "|\n").replace("def modp(n: int, p: int):\n", ""),  # no function
        MODP.replace("    return ret\n", "    return ret\n    if (p:\n"),  # a broken parse
        MODP.replace("    |\n", "    |\n" + "    pass\n" * (HORIZON_LINES + 1)),  # too far below
        "def f(cmd):\n    |\n    match cmd:\n        case [x]:\n            return x\n",
        "def f(xs):\n    total = 0\n    |\n    for x in xs:\n        total += x\n",
    ],
)
def test_no_name_is_needed_where_the_file_may_bind_it_or_the_user_leads(text: str) -> None:
    assert _needed(text) is None


def test_names_in_the_other_open_documents_are_not_needed() -> None:
    assert _needed(MODP, elsewhere=frozenset({"ret"})) is None


def test_only_python_is_checked() -> None:
    text = "function f(n) {\n  |\n  for (const i of n) { ret = ret * 2; }\n  return ret;\n}\n"
    assert _needed(text, "javascript") is None
