"""The FIM transform: layouts, content preservation and rates."""

from __future__ import annotations

import random

import pytest
from transformers import PreTrainedTokenizerFast

from codecomp_lsp.training.corpus import default_corpus_texts, pack_windows
from codecomp_lsp.training.fim import (
    PSM_TEMPLATE,
    SPM_TEMPLATE,
    FimSplit,
    apply_fim,
    apply_fim_to_context,
    format_fim,
    split_document,
    template_parts,
    undo_fim,
)
from codecomp_lsp.training.special_tokens import EOS_TOKEN, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from codecomp_lsp.training.tokenizer import train_tokenizer

DOCS = [
    "",
    "x",
    "def add(a, b):\n    return a + b\n",
    "héllo 🙂 wörld\n\tindent {braces} {prefix}\n",
]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return default_corpus_texts(40)


@pytest.fixture(scope="module")
def tokenizer(corpus: list[str]) -> PreTrainedTokenizerFast:
    return train_tokenizer(corpus, 1024)


def test_layouts_are_the_specified_strings() -> None:
    split = FimSplit(prefix="P", middle="M", suffix="S")
    assert format_fim(split, "psm") == "<|cc_prefix|>P<|cc_suffix|>S<|cc_middle|>M<|endoftext|>"
    assert format_fim(split, "spm") == "<|cc_suffix|>S<|cc_prefix|>P<|cc_middle|>M<|endoftext|>"
    assert PSM_TEMPLATE.format(prefix="P", suffix="S", middle="M") == format_fim(split, "psm")
    assert SPM_TEMPLATE.format(prefix="P", suffix="S", middle="M") == format_fim(split, "spm")
    assert template_parts("spm") == [
        FIM_SUFFIX,
        "suffix",
        FIM_PREFIX,
        "prefix",
        FIM_MIDDLE,
        "middle",
        EOS_TOKEN,
    ]


def test_split_covers_document_on_characters() -> None:
    rng = random.Random(0)
    text = "ab🙂cd\n  ef"
    cuts = set()
    for _ in range(300):
        split = split_document(text, rng)
        assert split.document == text
        cuts.add(len(split.prefix))
        cuts.add(len(split.prefix) + len(split.middle))
    assert cuts == set(range(len(text) + 1))  # every character boundary is reachable


@pytest.mark.parametrize("seed", range(5))
def test_undo_recovers_document(seed: int, corpus: list[str]) -> None:
    rng = random.Random(seed)
    for doc in DOCS + corpus[:20]:
        sample = apply_fim(doc, rng, fim_rate=0.5, spm_rate=0.5)
        assert sample.endswith(EOS_TOKEN)
        assert undo_fim(sample) == doc


def test_rates_are_respected() -> None:
    rng = random.Random(7)
    samples = [apply_fim("some code\n", rng, fim_rate=0.3, spm_rate=0.25) for _ in range(4000)]
    fim = [s for s in samples if s.startswith((FIM_PREFIX, FIM_SUFFIX))]
    spm = [s for s in fim if s.startswith(FIM_SUFFIX)]
    assert abs(len(fim) / len(samples) - 0.3) < 0.03
    assert abs(len(spm) / len(fim) - 0.25) < 0.04
    assert all(apply_fim("a", rng, fim_rate=0.0) == "a" + EOS_TOKEN for _ in range(50))
    assert all(
        apply_fim("a", rng, fim_rate=1.0).startswith((FIM_PREFIX, FIM_SUFFIX)) for _ in range(50)
    )


def test_context_fim_keeps_length_and_content(tokenizer: PreTrainedTokenizerFast) -> None:
    docs = ["def f(x):\n    return x * 2\n", "class A:\n    pass\n", "print('héllo')\n"] * 20
    windows = pack_windows(docs, tokenizer, 64)
    eos_id = tokenizer.eos_token_id
    sentinels = {tokenizer.convert_tokens_to_ids(t) for t in (FIM_PREFIX, FIM_SUFFIX)}
    rng = random.Random(3)
    transformed = 0
    for window in windows:
        out = apply_fim_to_context(window, tokenizer, rng, fim_rate=1.0)
        assert len(out) <= len(window)
        assert out.count(eos_id) == window.count(eos_id)
        originals = tokenizer.decode(window).split(EOS_TOKEN)
        fragments = tokenizer.decode(out).split(EOS_TOKEN)
        for original, fragment in zip(originals, fragments, strict=True):
            restored = undo_fim(fragment)
            # Only the tail of the suffix may be trimmed, to make room for the three
            # sentinels and the extra tokens that cutting words in two can cost.
            assert original.startswith(restored)
            assert len(tokenizer.encode(original[len(restored) :])) <= 8
        transformed += sum(1 for i in out if i in sentinels)
    assert transformed > len(windows)  # most fragments really were rearranged


def test_context_fim_rate_zero_is_identity(tokenizer: PreTrainedTokenizerFast) -> None:
    window = tokenizer.encode("a = 1\n<|endoftext|>b = 2\n")
    assert apply_fim_to_context(window, tokenizer, random.Random(0), fim_rate=0.0) == window
