"""PromptBuilder with a real (small, freshly trained) tokenizer."""

from __future__ import annotations

import bisect
import heapq
import string
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from transformers import PreTrainedTokenizerFast

from codecomp_lsp.context.types import CursorContext, Snippet
from codecomp_lsp.prompt.builder import MAX_LINE_CHARS, PromptBuilder, TokenCounter
from codecomp_lsp.prompt.templates import TEMPLATES, FimTemplate
from codecomp_lsp.training.special_tokens import (
    EOS_TOKEN,
    FILE_SEP,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    SPECIAL_TOKENS,
)
from codecomp_lsp.training.tokenizer import train_tokenizer

CODECOMP = TEMPLATES["codecomp"]


@pytest.fixture(scope="module")
def tok() -> PreTrainedTokenizerFast:
    texts = [
        Path(m.__file__).read_text(encoding="utf-8") for m in (bisect, heapq, string, textwrap)
    ]
    return train_tokenizer(texts, vocab_size=512)


@pytest.fixture(scope="module")
def ids_of(tok: PreTrainedTokenizerFast) -> dict[str, int]:
    vocab = tok.get_vocab()
    return {t: vocab[t] for t in SPECIAL_TOKENS}


def enc(tok: PreTrainedTokenizerFast, text: str) -> list[int]:
    return tok(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]


def ctx(
    before: str = "import os\n\ndef area(r):\n",
    line_prefix: str = "    return 3.14 * ",
    line_suffix: str = "",
    after: str = "\nprint(area(2))\n",
    snippets: tuple[Snippet, ...] = (),
) -> CursorContext:
    return CursorContext(
        language="python",
        before=before,
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        after=after,
        line=before.count("\n"),
        character=len(line_prefix),
        before_start_line=0,
        after_end_line=before.count("\n") + 1 + after.count("\n"),
        multiline=False,
        indent="    ",
        snippets=snippets,
    )


def builder(tok: PreTrainedTokenizerFast, max_tokens: int = 4096, template=CODECOMP):
    return PromptBuilder(tok, template, max_tokens)


def test_special_tokens_have_fixed_ids(ids_of: dict[str, int]) -> None:
    assert [ids_of[t] for t in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))


def test_layout(tok: PreTrainedTokenizerFast, ids_of: dict[str, int]) -> None:
    c = ctx(line_suffix=")  # radius", after="\nx = 1\n")
    prompt = builder(tok).build(c)
    # The cursor line's indentation ends the prefix; what is typed after it follows the middle.
    indent, typed = "    ", "return 3.14 * "
    assert c.line_prefix == indent + typed
    expected = [
        ids_of[FIM_PREFIX],
        *enc(tok, c.before + indent),
        ids_of[FIM_SUFFIX],
        *enc(tok, c.line_suffix + "\n" + c.after),
        ids_of[FIM_MIDDLE],
    ]
    assert prompt.ids[: prompt.middle_start] == expected
    assert prompt.ids[prompt.middle_start :] == enc(tok, typed)
    assert prompt.template == "codecomp"
    text = tok.decode(prompt.ids, skip_special_tokens=False)
    assert text == (
        f"{FIM_PREFIX}{c.before}{indent}{FIM_SUFFIX}{c.line_suffix}\n{c.after}{FIM_MIDDLE}{typed}"
    )


def test_layout_empty_suffix_and_after(tok: PreTrainedTokenizerFast, ids_of) -> None:
    prompt = builder(tok).build(ctx(line_suffix="", after=""))
    # Nothing after the cursor: no "\n" is invented between the markers.
    i = prompt.ids.index(ids_of[FIM_SUFFIX])
    assert prompt.ids[i + 1] == ids_of[FIM_MIDDLE]
    assert prompt.middle_start == i + 2


def test_layout_empty_line_suffix_keeps_newline(tok: PreTrainedTokenizerFast, ids_of) -> None:
    c = ctx(line_suffix="", after="y = 2\n")
    prompt = builder(tok).build(c)
    i = prompt.ids.index(ids_of[FIM_SUFFIX])
    j = prompt.ids.index(ids_of[FIM_MIDDLE])
    assert tok.decode(prompt.ids[i + 1 : j]) == "\ny = 2\n"


def test_empty_document(tok: PreTrainedTokenizerFast, ids_of) -> None:
    prompt = builder(tok).build(ctx(before="", line_prefix="", line_suffix="", after=""))
    assert prompt.ids == [ids_of[FIM_PREFIX], ids_of[FIM_SUFFIX], ids_of[FIM_MIDDLE]]
    assert prompt.middle_start == 3


def test_typing_only_changes_tokens_after_middle_start(tok: PreTrainedTokenizerFast) -> None:
    b = builder(tok)
    base = ctx(line_prefix="    ", line_suffix=")", after="\nnext_line()\n")
    first = b.build(base)
    typed = "result = compute(alpha, beta_2) + 'é😀'"
    for i in range(1, len(typed) + 1):
        c = replace(base, line_prefix=base.line_prefix + typed[:i], character=4 + i)
        prompt = b.build(c)
        assert prompt.middle_start == first.middle_start
        assert prompt.ids[: prompt.middle_start] == first.ids[: first.middle_start]
        assert tok.decode(prompt.ids[prompt.middle_start :]) == typed[:i]


@pytest.mark.parametrize("literal", [EOS_TOKEN, FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, FILE_SEP])
def test_literal_special_token_text_is_not_a_control_token(
    tok: PreTrainedTokenizerFast, ids_of: dict[str, int], literal: str
) -> None:
    c = ctx(
        before=f's = "{literal}"\n',
        line_prefix=f"t = '{literal}",
        line_suffix=f"{literal}'",
        after=f"# {literal}\n",
        snippets=(Snippet("other.py", f"# other.py\nX = '{literal}'\n"),),
    )
    prompt = builder(tok).build(c)
    special = set(ids_of.values())
    controls = [i for i in prompt.ids if i in special]
    assert controls == [
        ids_of[FILE_SEP],
        ids_of[FIM_PREFIX],
        ids_of[FIM_SUFFIX],
        ids_of[FIM_MIDDLE],
    ]
    assert ids_of[EOS_TOKEN] not in prompt.ids
    # The literal text is still there, spelled with ordinary tokens.
    assert tok.decode(prompt.ids[prompt.middle_start :]) == c.line_prefix


def test_snippets_come_first_separated_by_file_sep(tok: PreTrainedTokenizerFast, ids_of) -> None:
    s1 = Snippet("a.py", "# a.py\ndef helper():\n    return 1\n")
    s2 = Snippet("b.py", "# b.py\nCONST = 2")  # no trailing newline: one is added
    c = ctx(snippets=(s1, s2))
    prompt = builder(tok).build(c)
    sep = ids_of[FILE_SEP]
    head = [sep, *enc(tok, s1.text), sep, *enc(tok, s2.text + "\n")]
    assert prompt.ids[: len(head)] == head
    assert prompt.ids[len(head)] == ids_of[FIM_PREFIX]
    without = builder(tok).build(ctx())
    assert prompt.ids[len(head) :] == without.ids
    assert prompt.middle_start == len(head) + without.middle_start


def test_snippets_without_file_sep_in_vocab(tok: PreTrainedTokenizerFast, ids_of) -> None:
    template = FimTemplate(
        name="nosep", prefix=FIM_PREFIX, suffix=FIM_SUFFIX, middle=FIM_MIDDLE, file_sep="<|x|>"
    )
    s1 = Snippet("a.py", "# a.py\nA = 1\n")
    prompt = builder(tok, template=template).build(ctx(snippets=(s1,)))
    assert prompt.ids[: len(enc(tok, s1.text)) + 1] == [*enc(tok, s1.text), ids_of[FIM_PREFIX]]
    assert ids_of[FILE_SEP] not in prompt.ids


def test_missing_marker_raises(tok: PreTrainedTokenizerFast) -> None:
    with pytest.raises(ValueError, match="not in the vocabulary"):
        PromptBuilder(tok, TEMPLATES["qwen"], 1024)


def test_plain_template_is_prefix_only(tok: PreTrainedTokenizerFast, ids_of) -> None:
    b = builder(tok, template=TEMPLATES["none"])
    assert not b.fim
    c = ctx(line_suffix="ignored)", snippets=(Snippet("a.py", "# a.py\nA = 1\n"),))
    prompt = b.build(c)
    assert prompt.ids == [
        *enc(tok, "# a.py\nA = 1\n"),
        *enc(tok, c.before),
        *enc(tok, c.line_prefix),
    ]
    assert prompt.middle_start == len(prompt.ids) - len(enc(tok, c.line_prefix))
    assert not set(prompt.ids) & set(ids_of.values())


def test_budgets(tok: PreTrainedTokenizerFast) -> None:
    assert builder(tok, 1008).budgets() == (600, 250, 150)
    assert builder(tok, 1008, TEMPLATES["none"]).budgets() == (850, 0, 150)
    assert builder(tok, 10).budgets() == (38, 16, 9)  # never below a 64-token total


def test_long_cursor_line_is_windowed(tok: PreTrainedTokenizerFast, ids_of) -> None:
    line_prefix = "a" * 1000 + "b" * MAX_LINE_CHARS
    line_suffix = "c" * MAX_LINE_CHARS + "d" * 1000
    c = ctx(line_prefix=line_prefix, line_suffix=line_suffix, after="")
    prompt = builder(tok, 100_000).build(c)
    assert tok.decode(prompt.ids[prompt.middle_start :]) == "b" * MAX_LINE_CHARS
    i = prompt.ids.index(ids_of[FIM_SUFFIX])
    assert tok.decode(prompt.ids[i + 1 : prompt.middle_start - 1]) == "c" * MAX_LINE_CHARS + "\n"


# ---------------------------------------------------------------- overflow guard


def long_before(n_lines: int) -> str:
    return "".join(f"value_{i} = compute({i}, name='item{i}')\n" for i in range(n_lines))


def test_no_overflow_no_trimming(tok: PreTrainedTokenizerFast) -> None:
    c = ctx()
    full = builder(tok).build(c)
    exact = builder(tok, len(full.ids)).build(c)
    assert exact.ids == full.ids


def test_overflow_trims_start_of_before_first(tok: PreTrainedTokenizerFast, ids_of) -> None:
    c = ctx(before=long_before(200), line_suffix=")", after="\nprint(1)\n")
    limit = 128
    prompt = builder(tok, limit).build(c)
    assert len(prompt.ids) <= limit
    assert len(prompt.ids) == limit  # the budget is used, not over-trimmed
    before_ids = enc(tok, c.before + "    ")  # the cursor line's indent ends the prefix
    suffix_ids = enc(tok, c.line_suffix + "\n" + c.after)
    middle_ids = enc(tok, c.line_prefix.lstrip())
    kept = limit - 3 - len(suffix_ids) - len(middle_ids)
    assert kept > 0
    assert prompt.ids == [
        ids_of[FIM_PREFIX],
        *before_ids[-kept:],  # the lines nearest the cursor survive
        ids_of[FIM_SUFFIX],
        *suffix_ids,
        ids_of[FIM_MIDDLE],
        *middle_ids,
    ]
    assert prompt.ids[prompt.middle_start :] == middle_ids


def test_overflow_keeps_typing_stable(tok: PreTrainedTokenizerFast) -> None:
    b = builder(tok, 128)
    base = ctx(before=long_before(100))
    first = b.build(base)
    c = replace(base, line_prefix=base.line_prefix + "x")
    second = b.build(c)
    assert len(second.ids) <= 128
    # The cursor line is never cut while there are `before` tokens to drop.
    typed = c.line_prefix.lstrip()
    assert tok.decode(second.ids[second.middle_start :]) == typed
    assert second.ids[-len(enc(tok, typed)) :] == enc(tok, typed)
    assert first.ids[0] == second.ids[0]


def test_overflow_drops_snippets_before_before(tok: PreTrainedTokenizerFast, ids_of) -> None:
    snippet = Snippet("big.py", long_before(40))
    c = ctx(snippets=(snippet,))
    without = builder(tok).build(ctx())
    limit = len(without.ids) + 10
    prompt = builder(tok, limit).build(c)
    assert len(prompt.ids) == limit
    # The file's own prompt is intact; only the oldest snippet tokens went.
    assert prompt.ids[10:] == without.ids
    head = [ids_of[FILE_SEP], *enc(tok, snippet.text)]
    assert prompt.ids[:10] == head[-10:]


def test_overflow_trims_far_end_of_suffix_when_before_is_exhausted(
    tok: PreTrainedTokenizerFast, ids_of
) -> None:
    c = ctx(before="x = 1\n", line_suffix=")", after=long_before(200))
    limit = 96
    prompt = builder(tok, limit).build(c)
    assert len(prompt.ids) == limit
    middle_ids = enc(tok, c.line_prefix.lstrip())
    suffix_ids = enc(tok, c.line_suffix + "\n" + c.after)
    assert prompt.ids[:2] == [ids_of[FIM_PREFIX], ids_of[FIM_SUFFIX]]
    kept = limit - 3 - len(middle_ids)
    assert prompt.ids[2 : 2 + kept] == suffix_ids[:kept]  # the suffix next to the cursor stays
    assert prompt.ids[prompt.middle_start - 1] == ids_of[FIM_MIDDLE]
    assert prompt.ids[prompt.middle_start :] == middle_ids


@pytest.mark.parametrize("limit", [64, 100, 257])
def test_overflow_guard_always_fits(tok: PreTrainedTokenizerFast, ids_of, limit: int) -> None:
    c = ctx(
        before=long_before(300),
        line_prefix="    y = " + "z + " * 400,
        line_suffix="w" * 500,
        after=long_before(300),
        snippets=(Snippet("a.py", long_before(50)), Snippet("b.py", long_before(50))),
    )
    prompt = builder(tok, limit).build(c)
    assert len(prompt.ids) == limit
    assert prompt.ids.count(ids_of[FIM_PREFIX]) == 1
    assert prompt.ids[prompt.middle_start - 1] == ids_of[FIM_MIDDLE]
    # Whatever is left of the cursor line is its end (the text right before the cursor).
    kept = prompt.ids[prompt.middle_start :]
    assert kept == enc(tok, c.line_prefix)[-len(kept) :]


def test_overflow_plain_template(tok: PreTrainedTokenizerFast) -> None:
    c = ctx(before=long_before(100))
    prompt = builder(tok, 80, TEMPLATES["none"]).build(c)
    middle_ids = enc(tok, c.line_prefix)
    assert len(prompt.ids) == 80
    assert prompt.ids[prompt.middle_start :] == middle_ids
    assert prompt.ids[: prompt.middle_start] == enc(tok, c.before)[-(80 - len(middle_ids)) :]


# ---------------------------------------------------------------- token counter


class CountingTokenizer:
    def __init__(self, tok: PreTrainedTokenizerFast) -> None:
        self.tok = tok
        self.calls: list[str] = []

    def __call__(self, text: str, **kwargs):
        self.calls.append(text)
        return self.tok(text, **kwargs)


def test_token_counter_caches_and_evicts(tok: PreTrainedTokenizerFast) -> None:
    counting = CountingTokenizer(tok)
    counter = TokenCounter(counting, capacity=2)
    assert counter.encode("") == ()
    assert counting.calls == []
    a = counter.encode("alpha = 1")
    assert counter.encode("alpha = 1") == a
    assert counting.calls == ["alpha = 1"]
    assert counter.count("beta") == len(enc(tok, "beta"))
    counter.encode("alpha = 1")  # refresh: "beta" is now the oldest
    counter.encode("gamma")
    counter.encode("alpha = 1")
    assert counting.calls == ["alpha = 1", "beta", "gamma"]
    counter.encode("beta")
    assert counting.calls[-1] == "beta"
    assert counter.encode(EOS_TOKEN) == tuple(enc(tok, EOS_TOKEN))
    assert 0 not in counter.encode(EOS_TOKEN)


def test_plain_psm_layout_ends_the_prefix_with_the_typed_line(
    tok: PreTrainedTokenizerFast, ids_of: dict[str, int]
) -> None:
    # The ablation's "typed-line-after-middle" off: the model's own training layout.
    c = ctx(line_suffix=")", after="\nx = 1\n")
    prompt = builder(tok).build(c, plain_psm=True)
    assert prompt.ids == [
        ids_of[FIM_PREFIX],
        *enc(tok, c.before + c.line_prefix),
        ids_of[FIM_SUFFIX],
        *enc(tok, c.line_suffix + "\n" + c.after),
        ids_of[FIM_MIDDLE],
    ]
    assert prompt.middle_start == len(prompt.ids)
