"""detect_template: each model family is recognised from its tokenizer vocabulary."""

from __future__ import annotations

import pytest

from codecomp_lsp.prompt.templates import TEMPLATES, detect_template, template_by_name
from codecomp_lsp.training.special_tokens import SPECIAL_TOKENS

PLAIN = ["def", "return", "Ġself", "<|endoftext|>", "<s>", "</s>", "<unk>"]

CODECOMP = [*PLAIN, *SPECIAL_TOKENS]
QWEN = [
    *PLAIN,
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
    "<|im_start|>",
    "<|im_end|>",
]
CODEGEMMA = [
    *PLAIN,
    "<bos>",
    "<eos>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|file_separator|>",
]
STARCODER = [
    *PLAIN,
    "<fim_prefix>",
    "<fim_middle>",
    "<fim_suffix>",
    "<fim_pad>",
    "<filename>",
    "<gh_stars>",
    "<file_sep>",
    "<repo_name>",
]
DEEPSEEK = [
    *PLAIN,
    "<｜begin▁of▁sentence｜>",
    "<｜end▁of▁sentence｜>",
    "<｜fim▁hole｜>",
    "<｜fim▁begin｜>",
    "<｜fim▁end｜>",
    "<|EOT|>",
]
CODELLAMA = [*PLAIN, "▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"]


@pytest.mark.parametrize(
    ("vocab", "name"),
    [
        (CODECOMP, "codecomp"),
        (QWEN, "qwen"),
        (CODEGEMMA, "codegemma"),
        (STARCODER, "starcoder"),
        (DEEPSEEK, "deepseek"),
        (CODELLAMA, "codellama"),
        (PLAIN, "none"),
        ([], "none"),
    ],
)
def test_detect_family(vocab: list[str], name: str) -> None:
    assert detect_template(vocab).name == name
    # Any iterable works, including a tokenizer's get_vocab() dict (keys are the tokens).
    assert detect_template(iter(vocab)).name == name
    assert detect_template({tok: i for i, tok in enumerate(vocab)}).name == name


def test_qwen_wins_over_codegemma_when_both_markers_present() -> None:
    assert detect_template([*QWEN, "<|file_separator|>"]).name == "qwen"


def test_codegemma_without_repo_name() -> None:
    vocab = [t for t in QWEN if t != "<|repo_name|>"]
    # Qwen's FIM markers but neither <|repo_name|> nor <|file_separator|>: not a known family.
    assert detect_template(vocab).name == "none"
    assert detect_template([*vocab, "<|file_separator|>"]).name == "codegemma"


@pytest.mark.parametrize(
    "vocab",
    [
        ["<|cc_prefix|>", "<|cc_suffix|>"],  # middle marker missing
        ["<|fim_prefix|>", "<|fim_suffix|>", "<|repo_name|>"],
        ["<fim_prefix>", "<fim_middle>"],
        ["<｜fim▁begin｜>", "<｜fim▁end｜>"],
        ["<PRE>", "<SUF>", "<MID>"],  # CodeLlama markers need their leading ▁
        ["fim_prefix", "fim_suffix", "fim_middle"],
    ],
)
def test_partial_marker_sets_are_not_detected(vocab: list[str]) -> None:
    assert detect_template([*PLAIN, *vocab]).name == "none"


def test_detected_template_markers() -> None:
    t = detect_template(CODECOMP)
    assert (t.prefix, t.suffix, t.middle, t.file_sep) == (
        "<|cc_prefix|>",
        "<|cc_suffix|>",
        "<|cc_middle|>",
        "<|cc_file_sep|>",
    )
    assert detect_template(QWEN).file_sep == "<|file_sep|>"
    assert detect_template(CODEGEMMA).file_sep == "<|file_separator|>"
    assert detect_template(STARCODER).file_sep == "<file_sep>"
    assert detect_template(DEEPSEEK).file_sep is None
    assert detect_template(CODELLAMA).spaced
    none = detect_template(PLAIN)
    assert (none.prefix, none.suffix, none.middle, none.file_sep) == ("", "", "", None)


@pytest.mark.parametrize("name", [n for n in TEMPLATES if n != "none"])
def test_every_family_detects_from_its_own_markers(name: str) -> None:
    t = TEMPLATES[name]
    markers = [t.prefix, t.suffix, t.middle, *t.detect]
    if t.file_sep:
        markers.append(t.file_sep)
    assert detect_template(markers).name == name
    assert set(t.detect) >= {t.prefix, t.suffix, t.middle}


def test_template_by_name() -> None:
    assert template_by_name("qwen") is TEMPLATES["qwen"]
    assert template_by_name("CodeGemma") is TEMPLATES["codegemma"]
    with pytest.raises(KeyError):
        template_by_name("gpt2")
