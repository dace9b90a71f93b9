"""The codecomp tokenizer: exact round-trips, special tokens, code-aware splits."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from codecomp_lsp.training.corpus import default_corpus_texts
from codecomp_lsp.training.special_tokens import (
    EOS_TOKEN,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    PAD_TOKEN,
    SPECIAL_TOKENS,
)
from codecomp_lsp.training.tokenizer import train_tokenizer

TRICKY_TEXTS = [
    "",
    " ",
    "\n",
    "def f(x):\n    return x  + 1\n",
    "class A:\n\tdef g(self):\n\t\tpass\r\n",
    "trailing spaces   \n\n\n   \t \n",
    "héllo wörld — “quotes” ½ ﬁ Å Å",  # precomposed and decomposed forms must survive
    "中文 日本語 한국어 العربية עברית",
    "emoji 🙂👍🏽 👨‍👩‍👧 flags 🇫🇷",
    "zero\u200bwidth\ufeffbom\u00a0nbsp\u2028line-sep",
    "nul\x00byte\x7fdel\x1besc",
    "<|endoftext|> <|endoftext <|cc_pad| |>",
    "x = 0x1F + 3.14e-10 - 1_000_000",
    " leading space and trailing ",
]


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    return train_tokenizer(default_corpus_texts(60), 2048)


def random_unicode(rng: random.Random, length: int) -> str:
    """Random valid code points (no lone surrogates), biased towards ASCII and whitespace."""
    chars: list[str] = []
    for _ in range(length):
        pick = rng.random()
        if pick < 0.5:
            chars.append(chr(rng.randint(0x20, 0x7E)))
        elif pick < 0.65:
            chars.append(rng.choice(" \t\n\r"))
        else:
            cp = rng.randint(0, 0x10FFFF)
            chars.append(chr(cp if not 0xD800 <= cp <= 0xDFFF else 0xFFFD))
    return "".join(chars)


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_round_trip_tricky_text(tokenizer: PreTrainedTokenizerFast, text: str) -> None:
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_round_trip_random_unicode(tokenizer: PreTrainedTokenizerFast) -> None:
    rng = random.Random(1234)
    for _ in range(200):
        text = random_unicode(rng, rng.randint(1, 80))
        assert tokenizer.decode(tokenizer.encode(text)) == text


def test_round_trip_source_files(tokenizer: PreTrainedTokenizerFast) -> None:
    for text in default_corpus_texts(120)[60:]:  # files the tokenizer was not trained on
        assert tokenizer.decode(tokenizer.encode(text)) == text


def test_special_tokens_have_fixed_single_ids(tokenizer: PreTrainedTokenizerFast) -> None:
    for expected_id, token in enumerate(SPECIAL_TOKENS):
        assert tokenizer.convert_tokens_to_ids(token) == expected_id
        assert tokenizer.encode(token) == [expected_id]
        ids = tokenizer.encode(f"a = 1{token}b = 2")
        assert ids.count(expected_id) == 1
    assert tokenizer.eos_token == EOS_TOKEN
    assert tokenizer.bos_token == EOS_TOKEN
    assert tokenizer.pad_token == PAD_TOKEN
    assert tokenizer.unk_token is None


def test_encode_adds_nothing(tokenizer: PreTrainedTokenizerFast) -> None:
    ids = tokenizer.encode("import os\n")
    assert tokenizer.eos_token_id not in ids
    assert tokenizer("import os\n")["input_ids"] == ids


def test_fim_prompt_tokenizes_to_sentinels(tokenizer: PreTrainedTokenizerFast) -> None:
    prompt = f"{FIM_PREFIX}def f():\n    {FIM_SUFFIX}\n{FIM_MIDDLE}"
    ids = tokenizer.encode(prompt)
    assert ids[0] == tokenizer.convert_tokens_to_ids(FIM_PREFIX)
    assert ids[-1] == tokenizer.convert_tokens_to_ids(FIM_MIDDLE)
    assert tokenizer.decode(ids) == prompt
    assert tokenizer.decode(ids, skip_special_tokens=True) == "def f():\n    \n"


@pytest.mark.parametrize("width", [4, 8, 12])
def test_indentation_run_is_one_token(tokenizer: PreTrainedTokenizerFast, width: int) -> None:
    ids = tokenizer.encode("x = 1\n" + " " * width + "return x\n")
    pieces = [tokenizer.decode([i]) for i in ids]
    assert pieces[pieces.index("\n") + 1] == " " * width


def test_newlines_and_digits_split(tokenizer: PreTrainedTokenizerFast) -> None:
    pieces = [tokenizer.decode([i]) for i in tokenizer.encode("total = 1234567\n    pass\n")]
    assert all(sum(c.isdigit() for c in piece) <= 1 for piece in pieces)
    for piece in pieces:  # a newline never shares a token with anything but newlines
        assert "\n" not in piece or set(piece) <= {"\n", "\r"}


def test_save_and_load_offline(tokenizer: PreTrainedTokenizerFast, tmp_path: Path) -> None:
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    for text in TRICKY_TEXTS:
        assert loaded.encode(text) == tokenizer.encode(text)
        assert loaded.decode(loaded.encode(text)) == text
    for expected_id, token in enumerate(SPECIAL_TOKENS):
        assert loaded.encode(token) == [expected_id]
    assert set(SPECIAL_TOKENS) <= set(loaded.all_special_tokens)
    assert (loaded.eos_token_id, loaded.bos_token_id, loaded.pad_token_id) == (0, 0, 4)


def test_training_is_deterministic() -> None:
    texts = default_corpus_texts(20)
    first = train_tokenizer(texts, 1024).backend_tokenizer.to_str()
    assert train_tokenizer(texts, 1024).backend_tokenizer.to_str() == first
