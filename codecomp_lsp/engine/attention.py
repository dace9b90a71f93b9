"""Attention that computes each query row of a short call exactly as a one-row call would.

Speculative decoding verifies k drafted tokens in one forward and keeps those the model would have
picked one step at a time; that equals plain greedy decoding only if a k-row forward computes each
row bit for bit as k one-row forwards do. The int8/int4 kernels do (tested); PyTorch's SDPA does
not (a k-row causal call takes another kernel path than a one-row call, and the last bits differ —
measured on Qwen2.5-Coder in bf16 and fp32), which flipped near-tied tokens. So calls of up to
`ROWWISE_MAX` rows (decode steps, verification, batched candidates) run one SDPA call per query row
over the keys that row may see, the same call a plain step makes; prefill chunks keep the fused,
masked path. Causal language models without padding only: the engine never pads.

It is also the fast path: the query heads that share a key/value head go in as one call's rows
instead of SDPA's `enable_gqa` (which transformers picks on torch ≥ 2.13 and which is slow on the
CPU: 26 of a 57 ms decode step of Qwen2.5-Coder-0.5B at a 1k-token cache, measured).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = "codecomp_rowwise_sdpa"
ROWWISE_MAX = 8  # the verification call of DRAFT_TOKENS + 1 rows fits


def rowwise_sdpa(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    rows = query.shape[2]
    if rows > ROWWISE_MAX or dropout or kwargs.get("position_bias") is not None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    groups = heads // kv_heads
    start = key.shape[2] - rows  # keys before the first query row
    outputs = []
    for i in range(rows):
        # The query heads that share a key/value head ride as that head's query rows (transformers'
        # pack_gqa): one SDPA call over the unrepeated keys. `enable_gqa` does the same sum but
        # took 1.07 ms per layer at a 1k-token cache here against 0.08 ms packed.
        packed = query[:, :, i : i + 1].reshape(batch, kv_heads, groups, dim)
        out = functional.scaled_dot_product_attention(
            packed, key[:, :, : start + i + 1], value[:, :, : start + i + 1], scale=scaling
        )
        outputs.append(out.reshape(batch, heads, 1, dim))
    out = outputs[0] if rows == 1 else torch.cat(outputs, dim=2)
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, rowwise_sdpa)
# The masks SDPA gets: without one, transformers builds no mask for an attention it does not know,
# and the fused path would take a prefill chunk after cached tokens for a fresh causal prompt.
AttentionMaskInterface.register(NAME, sdpa_mask)


def use_rowwise_attention(model: Any) -> bool:
    """Switch a model that runs PyTorch's SDPA to the row-wise version; whether it was switched."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "_attn_implementation", None) != "sdpa":
        return False
    model.set_attn_implementation(NAME)
    return getattr(model.config, "_attn_implementation", None) == NAME
