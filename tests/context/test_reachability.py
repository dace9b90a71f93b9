"""Where an answer may not start with `return` (or another block ending): an empty line with
statements after it at its own indentation — and nowhere else."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from codecomp_lsp.context.cursor import extract_context
from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.reachability import forbidden_endings
from codecomp_lsp.prompt.bans import first_token_bans


def _endings(text: str, language: str = "python") -> tuple[str, ...]:
    """The cursor is where `|` stands (removed)."""
    before, after = text.split("|")
    line = before.count("\n")
    character = len(before.split("\n")[-1])
    ctx = extract_context(
        before + after,
        line,
        character,
        spec_by_name(language),
        count_tokens=len,
        prefix_budget=10_000,
        suffix_budget=10_000,
    )
    return forbidden_endings(ctx)


def test_an_empty_line_before_more_statements_must_not_end_the_block() -> None:
    text = (
        "def below_zero(operations):\n"
        "    |\n"
        "    for op in operations:\n"
        "        balance += op\n"
        "    return False\n"
    )
    assert _endings(text) == ("return", "raise", "break", "continue")
    # A comment between changes nothing: the loop still follows.
    assert _endings(text.replace("    |\n", "    |\n    # add them up\n"))


@pytest.mark.parametrize(
    "text",
    [
        # Nothing follows in the block: the last line may well return.
        "def f(x):\n    y = x * 2\n    |\n",
        "def f(x):\n    if x:\n        |\n    return 0\n",  # the next line is outside this block
        "def f(x):\n    if x:\n        y = 1\n    |\nelse_branch = 1\n",
        "def f(x):\n    if x:\n        |\n    else:\n        pass\n",
        "def f(x):\n    try:\n        |\n    except ValueError:\n        pass\n",
        "def f(x):\n    ret|\n    y = 1\n",  # something typed: the user's words lead
        "def f(x):\n    |  # note\n    y = 1\n",  # text after the cursor
    ],
)
def test_elsewhere_any_answer_may_end_the_block(text: str) -> None:
    assert _endings(text) == ()


def test_in_braced_languages_a_closing_brace_ends_the_block() -> None:
    assert _endings("function f(a) {\n  |\n  a.push(1);\n}\n", "javascript") == (
        "return",
        "throw",
        "break",
        "continue",
    )
    assert _endings("function f(a) {\n  a.push(1);\n  |\n}\n", "javascript") == ()
    assert _endings("switch (x) {\n  case 1:\n    |\n  case 2:\n    y();\n}\n", "javascript") == ()


def test_the_banned_tokens_are_the_keywords_as_whole_words(tiny_model_dir) -> None:  # noqa: ANN001
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    bans = first_token_bans(tokenizer, ("return", "raise"))
    texts = {tokenizer.decode([i]) for i in bans}
    assert bans and all(t.lstrip(" \t").startswith(("return", "raise")) for t in texts)
    for text in texts:
        body = text.lstrip(" \t")
        rest = body[6:] if body.startswith("return") else body[5:]
        assert not rest or not (rest[0].isalnum() or rest[0] == "_"), text
    assert tokenizer.encode("return")[0] in bans
    returned = tokenizer.encode("returned")
    assert len(returned) > 1 or returned[0] not in bans
    assert first_token_bans(tokenizer, ("return", "raise")) is bans  # found once
    assert first_token_bans(tokenizer, ()) == frozenset()
