"""Fill-in-the-middle (FIM) data transform (Bavarian et al. 2022, "Efficient
Training of Language Models to Fill in the Middle").

A document is cut at two uniformly random *character* positions into
prefix/middle/suffix and re-laid-out so a left-to-right model learns to produce
the middle after seeing both sides. Character-level cuts (rather than token-level)
teach the model to complete from a cursor that sits inside a token. The layouts
below are the contract with the server's prompt builder.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from transformers import PreTrainedTokenizerFast

from codecomp_lsp.training.special_tokens import EOS_TOKEN, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX

FimMode = Literal["psm", "spm"]

# Prefix-Suffix-Middle.
PSM_TEMPLATE: Final = (
    f"{FIM_PREFIX}{{prefix}}{FIM_SUFFIX}{{suffix}}{FIM_MIDDLE}{{middle}}{EOS_TOKEN}"
)
# Suffix-Prefix-Middle as specified for codecomp. Note: the SPM variant that
# Bavarian et al. (appendix D) and StarCoder train with is instead
# `<PRE><SUF>{suffix}<MID>{prefix}{middle}`; everything here follows this constant.
SPM_TEMPLATE: Final = (
    f"{FIM_SUFFIX}{{suffix}}{FIM_PREFIX}{{prefix}}{FIM_MIDDLE}{{middle}}{EOS_TOKEN}"
)
TEMPLATES: Final[dict[FimMode, str]] = {"psm": PSM_TEMPLATE, "spm": SPM_TEMPLATE}


@dataclass(frozen=True)
class FimMarkers:
    """The marker tokens a model family was trained with, so that fine-tuning another family
    (Qwen2.5-Coder: `<|fim_prefix|>`…) teaches the layout its server prompts use. `spm` is
    False for families trained on PSM only: their fragments are all laid out PSM."""

    prefix: str = FIM_PREFIX
    suffix: str = FIM_SUFFIX
    middle: str = FIM_MIDDLE
    eos: str = EOS_TOKEN
    spm: bool = True

    def parts(self, mode: FimMode) -> list[str]:
        """`template_parts(mode)` with this family's markers (no trailing EOS)."""
        rename = {FIM_PREFIX: self.prefix, FIM_SUFFIX: self.suffix, FIM_MIDDLE: self.middle}
        parts = [rename.get(p, p) for p in template_parts(mode)]
        return parts[:-1] if parts[-1] == EOS_TOKEN else parts


CODECOMP_MARKERS: Final = FimMarkers()


@dataclass(frozen=True)
class FimSplit:
    """A document cut into three spans; `prefix + middle + suffix` is the document."""

    prefix: str
    middle: str
    suffix: str

    @property
    def document(self) -> str:
        return self.prefix + self.middle + self.suffix


def split_document(text: str, rng: random.Random) -> FimSplit:
    """Cut `text` at two uniformly random character positions (either may coincide)."""
    lo, hi = sorted((rng.randint(0, len(text)), rng.randint(0, len(text))))
    return FimSplit(text[:lo], text[lo:hi], text[hi:])


def template_parts(mode: FimMode) -> list[str]:
    """The layout of `mode` as a flat list of literal tokens and field names.

    Field names are "prefix", "middle" or "suffix"; everything else is a special
    token. Lets token-id code follow the same single source of truth as the strings.
    """
    parts: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(TEMPLATES[mode]):
        if literal:
            parts.append(literal)
        if field is not None:
            parts.append(field)
    return parts


def format_fim(split: FimSplit, mode: FimMode) -> str:
    """Render `split` as one training string in `mode`, ending with EOS."""
    return TEMPLATES[mode].format(prefix=split.prefix, middle=split.middle, suffix=split.suffix)


def apply_fim(
    text: str, rng: random.Random, *, fim_rate: float = 0.5, spm_rate: float = 0.5
) -> str:
    """Document-level FIM: with probability `fim_rate` return a FIM rendering of
    `text` (SPM with probability `spm_rate`, else PSM), otherwise `text` as is.

    Either way the result ends with EOS, so samples can be concatenated directly.
    """
    if rng.random() >= fim_rate:
        return text + EOS_TOKEN
    mode: FimMode = "spm" if rng.random() < spm_rate else "psm"
    return format_fim(split_document(text, rng), mode)


def undo_fim(sample: str) -> str:
    """Invert `apply_fim`: recover the original document from a training string.

    Assumes the document itself contains no special-token strings.
    """
    body = sample.removesuffix(EOS_TOKEN)
    if body.startswith(FIM_PREFIX):
        prefix, rest = body[len(FIM_PREFIX) :].split(FIM_SUFFIX, 1)
        suffix, middle = rest.split(FIM_MIDDLE, 1)
    elif body.startswith(FIM_SUFFIX):
        suffix, rest = body[len(FIM_SUFFIX) :].split(FIM_PREFIX, 1)
        prefix, middle = rest.split(FIM_MIDDLE, 1)
    else:
        return body
    return prefix + middle + suffix


def _token_id(tokenizer: PreTrainedTokenizerFast, token: str) -> int:
    token_id = tokenizer.convert_tokens_to_ids(token)
    if not isinstance(token_id, int):
        raise TypeError(f"{token!r} is not a single token")
    return token_id


def fim_fragment_ids(
    ids: Sequence[int],
    tokenizer: PreTrainedTokenizerFast,
    mode: FimMode,
    rng: random.Random,
    markers: FimMarkers = CODECOMP_MARKERS,
) -> list[int] | None:
    """FIM-transform one document fragment given as token ids, never growing it.

    The fragment is decoded, cut on characters, and the three spans re-encoded
    separately. No EOS is added: in a packed context the separator that follows a
    complete document already ends the middle, as in the template. Returns None when
    the fragment cannot be transformed faithfully (it starts or ends inside a
    multi-byte character, or the suffix is too short to absorb the sentinels).
    """
    text = tokenizer.decode(ids)
    if "\ufffd" in text:
        return None
    split = split_document(text, rng)
    spans = {
        "prefix": tokenizer.encode(split.prefix, add_special_tokens=False),
        "middle": tokenizer.encode(split.middle, add_special_tokens=False),
        "suffix": tokenizer.encode(split.suffix, add_special_tokens=False),
    }
    parts = markers.parts(mode)
    n_sentinels = sum(1 for p in parts if p not in spans)
    excess = n_sentinels + sum(len(v) for v in spans.values()) - len(ids)
    if excess > 0:
        if len(spans["suffix"]) < excess:
            return None
        suffix = spans["suffix"][: len(spans["suffix"]) - excess]
        while suffix and tokenizer.decode(suffix).endswith("\ufffd"):
            suffix.pop()  # never leave half a UTF-8 character behind
        spans["suffix"] = suffix
    out: list[int] = []
    for part in parts:
        out.extend(spans[part] if part in spans else [_token_id(tokenizer, part)])
    return out


def apply_fim_to_context(
    ids: Sequence[int],
    tokenizer: PreTrainedTokenizerFast,
    rng: random.Random,
    *,
    fim_rate: float = 0.5,
    spm_rate: float = 0.5,
    markers: FimMarkers = CODECOMP_MARKERS,
) -> list[int]:
    """Context-level FIM: after packing documents into a training window, split it
    at EOS and transform each fragment independently with probability `fim_rate`.

    Unlike document-level FIM, no FIM sample is later cut apart by packing.

    The result is never longer than `ids` (suffixes are trimmed to make room for
    the sentinels) but can be shorter, so callers pad.
    """
    eos_id = _token_id(tokenizer, markers.eos)
    out: list[int] = []
    fragment: list[int] = []

    def flush() -> None:
        if fragment and rng.random() < fim_rate:
            mode: FimMode = "spm" if markers.spm and rng.random() < spm_rate else "psm"
            transformed = fim_fragment_ids(fragment, tokenizer, mode, rng, markers)
            out.extend(fragment if transformed is None else transformed)
        else:
            out.extend(fragment)
        fragment.clear()

    for token_id in ids:
        if token_id == eos_id:
            flush()
            out.append(token_id)
        else:
            fragment.append(token_id)
    flush()
    return out
