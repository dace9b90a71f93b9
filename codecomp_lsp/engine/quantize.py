"""Weight-only int8 on the CPU: per-output-channel scales, torch's `_weight_int8pack_mm` kernel.

Decoding reads every weight once per token, so it is bound by memory bandwidth: int8 weights are
half of bf16 and a quarter of fp32. Prefill multiplies hundreds of rows at once and is bound by
arithmetic, where the dense bf16/fp32 kernels win. A `DualLinear` keeps both and picks by the number
of rows in the call: up to `int8_rows` (decode steps, speculative verification, batched menu
candidates) int8, above it the dense weight. Calibration (precision.py) sets `int8_rows` per
machine; 0 drops the int8 copy, `ALWAYS` drops the dense one.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

ALWAYS = 1 << 30
INT8_ACT = torch.bfloat16  # the kernel is fast with bf16 inputs; fp32 inputs take a slow path


def int8_weights(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 [out, in], scales [out]) with symmetric per-row scales."""
    w = weight.detach().float()
    scales = (w.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
    q = torch.round(w / scales[:, None]).clamp_(-127, 127).to(torch.int8)
    return q.contiguous(), scales


def _fit(
    cached: tuple[torch.Tensor, torch.Tensor] | None, weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cached int8 weights when they have the right shape, else a fresh quantization."""
    if cached is not None and cached[0].shape == weight.shape and cached[0].dtype == torch.int8:
        # A fresh allocation: tensors read from a safetensors file can sit at any offset, and the
        # kernel's vector loads crash on an unaligned one (seen: a segfault on the cached weights).
        return cached[0].clone(), cached[1].float()
    return int8_weights(weight)


class DualLinear(nn.Module):
    def __init__(
        self,
        linear: nn.Linear,
        int8_rows: int,
        cached: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        q, scales = _fit(cached, linear.weight)
        self.register_buffer("qweight", q, persistent=False)
        self.register_buffer("qscales", scales.to(INT8_ACT), persistent=False)
        self.weight: nn.Parameter | None = linear.weight
        self.bias = linear.bias
        self.int8_rows = int8_rows

    def set_rows(self, int8_rows: int) -> None:
        """Use int8 for calls of up to `int8_rows` rows; frees whichever copy is no longer used."""
        self.int8_rows = int8_rows
        if int8_rows >= ALWAYS:
            self.weight = None
        elif int8_rows <= 0:
            self.qweight = self.qscales = None  # type: ignore[assignment]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.numel() // self.in_features
        if self.weight is None or (self.qweight is not None and rows <= self.int8_rows):
            flat = x.reshape(rows, self.in_features).to(INT8_ACT).contiguous()
            out = torch._weight_int8pack_mm(flat, self.qweight, self.qscales).to(x.dtype)
            if self.bias is not None:
                out = out + self.bias
            return out.reshape(*x.shape[:-1], self.out_features)
        return functional.linear(x, self.weight, self.bias)


class Int8Embedding(nn.Module):
    """Input embeddings as int8 rows: a lookup reads a few rows, so this only saves memory."""

    def __init__(
        self, embedding: nn.Embedding, cached: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> None:
        super().__init__()
        q, scales = _fit(cached, embedding.weight)
        self.register_buffer("qweight", q, persistent=False)
        self.register_buffer("qscales", scales, persistent=False)
        self.dtype = embedding.weight.dtype
        self.num_embeddings, self.embedding_dim = embedding.num_embeddings, embedding.embedding_dim

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        rows = self.qweight[ids].to(torch.float32) * self.qscales[ids].unsqueeze(-1)
        return rows.to(self.dtype)


def dual_linears(model: nn.Module) -> list[DualLinear]:
    return [m for m in model.modules() if isinstance(m, DualLinear)]


def quantize_model(
    model: nn.Module, int8_rows: int = ALWAYS, cached: dict[str, torch.Tensor] | None = None
) -> int:
    """Give every nn.Linear (lm_head included) an int8 copy, and the input embeddings int8 rows
    (unless they are tied to lm_head). `cached`: {"<module>.qweight"/".qscales": tensor} from an
    earlier run, used where it fits. Returns the number of linears converted."""
    cached = cached or {}

    def saved(name: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        if f"{name}.qweight" in cached and f"{name}.qscales" in cached:
            return cached[f"{name}.qweight"], cached[f"{name}.qscales"]
        return None

    emb = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    tied = emb is not None and head is not None and emb.weight is head.weight
    count = 0
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            full = f"{parent_name}.{name}" if parent_name else name
            if isinstance(child, nn.Linear):
                setattr(parent, name, DualLinear(child, int8_rows, saved(full)))
                count += 1
            elif isinstance(child, nn.Embedding) and child is emb and not tied:
                setattr(parent, name, Int8Embedding(child, saved(full)))
    return count
