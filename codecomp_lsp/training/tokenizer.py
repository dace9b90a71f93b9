"""Train the codecomp byte-level BPE tokenizer.

Byte-level BPE means every unicode string encodes and decodes back exactly, which
the server relies on to splice completions into documents. The pre-tokenizer is
code-aware: indentation runs and newlines stay separate pre-tokens (so common
indents become single tokens) and digits are split one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from codecomp_lsp.training.special_tokens import EOS_TOKEN, PAD_TOKEN, SPECIAL_TOKENS

# Alternatives are tried left to right at each position; text no branch matches
# still becomes its own piece, so the split never loses characters.
PRE_TOKENIZE_PATTERN: Final = "|".join(
    (
        r"[\r\n]+",  # line breaks (blank lines group together)
        r"[^\S\r\n]{2,}",  # indentation / alignment: a whole run of spaces or tabs
        r" ?\p{N}",  # one digit at a time, optionally after a single space
        r" ?[\p{L}\p{M}_]+",  # identifier-ish words with an optional leading space
        r" ?[^\s\p{L}\p{M}\p{N}_]+",  # operator / punctuation runs
        r"\s",  # any other single whitespace character
    )
)

MAX_TOKEN_CHARS: Final = 32  # keeps long comment rulers from eating the vocabulary


def build_pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    """Code-aware regex split followed by the byte-to-unicode mapping (no GPT-2 regex)."""
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRE_TOKENIZE_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = 8192, *, min_frequency: int = 2
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on `texts` with the codecomp special tokens.

    Special tokens take ids 0..5 in `SPECIAL_TOKENS` order. There is no unknown
    token (every byte is in the base alphabet) and nothing is added on encode: the
    server builds prompts itself. The vocabulary may come out smaller than
    `vocab_size` when the corpus has too few frequent pairs.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = build_pre_tokenizer()
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        show_progress=False,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        max_token_length=MAX_TOKEN_CHARS,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        extra_special_tokens=[t for t in SPECIAL_TOKENS if t not in (EOS_TOKEN, PAD_TOKEN)],
        add_bos_token=False,
        add_eos_token=False,
        clean_up_tokenization_spaces=False,
    )
