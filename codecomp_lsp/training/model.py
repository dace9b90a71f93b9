"""The codecomp model: a small Llama over the codecomp tokenizer, and how it is saved.

One definition for the real codecomp-tiny (`codecomp train`) and the test fixture
(`tiny.py`), so both load the same way through the server's model loader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

from codecomp_lsp.training.special_tokens import EOS_TOKEN, FILE_SEP, PAD_TOKEN


@dataclass(frozen=True)
class ModelShape:
    vocab_size: int = 8192  # the tokenizer's target; the model takes the trained size
    hidden_size: int = 256
    layers: int = 6
    heads: int = 4
    kv_heads: int = 2
    context: int = 1024


def ffn_size(hidden_size: int) -> int:
    """Llama's SwiGLU width: 8/3 of the hidden size, rounded up to a multiple of 32."""
    return 32 * math.ceil(8 * hidden_size / 3 / 32)


def build_model(shape: ModelShape, tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    """Freshly initialised weights (seed torch first for reproducible ones)."""
    eos_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=ffn_size(shape.hidden_size),
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        max_position_embeddings=shape.context,
        tie_word_embeddings=True,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        pad_token_id=tokenizer.convert_tokens_to_ids(PAD_TOKEN),
    )
    return LlamaForCausalLM(config)


def save_model(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerFast,
    out_dir: Path,
    dtype: torch.dtype | None = None,
) -> Path:
    """Save as a standard Hugging Face model (safetensors + tokenizer) whose generation
    stops at the end of the document or when the model moves on to another file."""
    eos_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    if dtype is not None:
        model = model.to(dtype)
    model.eval()
    model.generation_config = GenerationConfig(
        bos_token_id=eos_id,
        eos_token_id=[eos_id, tokenizer.convert_tokens_to_ids(FILE_SEP)],
        pad_token_id=tokenizer.convert_tokens_to_ids(PAD_TOKEN),
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
