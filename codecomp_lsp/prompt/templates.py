"""Fill-in-the-middle templates per model family, detected from the tokenizer's special tokens.

Every template is laid out prefix-suffix-middle with the cursor line's typed text placed after the
middle marker (as llama.cpp's infill endpoint does), so typing on a line only appends tokens and the
KV cache of everything before stays valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FimTemplate:
    """Marker strings of one model family; `None` markers are absent in that family."""

    name: str
    prefix: str
    suffix: str
    middle: str
    file_sep: str | None = None  # separates repository files (snippets) in the prompt
    stops: tuple[str, ...] = ()  # extra stop strings besides the tokenizer's eos
    # CodeLlama-style markers are plain words with spaces around them rather than special tokens.
    spaced: bool = False
    # Families whose markers are special tokens must contain all of these to be detected.
    detect: tuple[str, ...] = ()


TEMPLATES: dict[str, FimTemplate] = {
    t.name: t
    for t in (
        FimTemplate(
            name="codecomp",
            prefix="<|cc_prefix|>",
            suffix="<|cc_suffix|>",
            middle="<|cc_middle|>",
            file_sep="<|cc_file_sep|>",
            stops=(
                "<|endoftext|>",
                "<|cc_pad|>",
                "<|cc_file_sep|>",
                "<|cc_prefix|>",
                "<|cc_suffix|>",
            ),
            detect=("<|cc_prefix|>", "<|cc_suffix|>", "<|cc_middle|>"),
        ),
        FimTemplate(
            name="qwen",
            prefix="<|fim_prefix|>",
            suffix="<|fim_suffix|>",
            middle="<|fim_middle|>",
            file_sep="<|file_sep|>",
            stops=(
                "<|endoftext|>",
                "<|fim_pad|>",
                "<|repo_name|>",
                "<|file_sep|>",
                "<|fim_prefix|>",
                "<|fim_suffix|>",
                "<|fim_middle|>",
                "<|im_end|>",
            ),
            detect=("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>"),
        ),
        FimTemplate(
            name="codegemma",
            prefix="<|fim_prefix|>",
            suffix="<|fim_suffix|>",
            middle="<|fim_middle|>",
            file_sep="<|file_separator|>",
            stops=(
                "<|file_separator|>",
                "<|fim_prefix|>",
                "<|fim_suffix|>",
                "<|fim_middle|>",
                "<eos>",
            ),
            detect=("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>"),
        ),
        FimTemplate(
            name="starcoder",
            prefix="<fim_prefix>",
            suffix="<fim_suffix>",
            middle="<fim_middle>",
            file_sep="<file_sep>",
            stops=("<|endoftext|>", "<fim_pad>", "<file_sep>", "<fim_prefix>", "<fim_suffix>"),
            detect=("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
        ),
        FimTemplate(
            name="deepseek",
            prefix="<｜fim▁begin｜>",
            suffix="<｜fim▁hole｜>",
            middle="<｜fim▁end｜>",
            stops=("<｜end▁of▁sentence｜>", "<|EOT|>", "<｜fim▁begin｜>", "<｜fim▁hole｜>"),
            detect=("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
        ),
        FimTemplate(
            name="codellama",
            prefix="▁<PRE>",
            suffix="▁<SUF>",
            middle="▁<MID>",
            stops=("▁<EOT>", "<EOT>", "</s>"),
            spaced=True,
            detect=("▁<PRE>", "▁<SUF>", "▁<MID>"),
        ),
        # Models the user declares to be plain left-to-right: prefix only, no suffix.
        FimTemplate(name="none", prefix="", suffix="", middle=""),
    )
}

# Most specific first: CodeGemma and Qwen share their three FIM markers.
_DETECTION_ORDER = ("codecomp", "qwen", "codegemma", "starcoder", "deepseek", "codellama")


def detect_template(vocab: Iterable[str]) -> FimTemplate:
    """Pick the family whose markers are all in the vocabulary; plain prefix otherwise."""
    tokens = set(vocab)
    for name in _DETECTION_ORDER:
        template = TEMPLATES[name]
        if all(marker in tokens for marker in template.detect):
            return template
    return TEMPLATES["none"]


def template_by_name(name: str) -> FimTemplate:
    """Look a template up for the `fimTemplate` override; unknown names raise KeyError."""
    return TEMPLATES[name.lower()]
