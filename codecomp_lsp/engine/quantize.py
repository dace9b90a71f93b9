"""Weight-only int8 and int4 on the CPU, with torch's own kernels.

Decoding reads every weight once per token, so it is bound by memory bandwidth: int8 weights are
half of bf16, int4 a quarter. Prefill multiplies hundreds of rows at once and is bound by
arithmetic, where the dense bf16/fp32 kernels win. A `QuantLinear` keeps both and picks by the
number of rows in the call: up to `quant_rows` (decode steps, speculative verification, batched menu
candidates) the quantized weight, above it the dense one. Calibration (precision.py) sets the
format and `quant_rows` per machine; 0 drops the quantized copy, `ALWAYS` drops the dense one.

- int8: symmetric per-output-channel scales, `torch._weight_int8pack_mm`.
- int4: asymmetric groups of 32 along the input (scale and zero per group, as llama.cpp's Q4 blocks),
  packed by `torch._convert_weight_to_int4pack_for_cpu`, `torch._weight_int4pack_mm_for_cpu`. A layer
  whose shape the kernel cannot take (out % 16, in % 32) falls back to int8.

Both kernels compute each row of a call independently (tested), so a speculative verification of k
rows gives the logits k single steps give.
"""

from __future__ import annotations

from enum import StrEnum

import torch
from torch import nn
from torch.nn import functional

ALWAYS = 1 << 30
ACT = torch.bfloat16  # both kernels are fast with bf16 inputs; int8 with fp32 takes a slow path
INT4_GROUP = 32
INT4_TILES = 2  # the packing's inner k-tiles


class Format(StrEnum):
    INT8 = "int8"
    INT4 = "int4"


Quantized = tuple[torch.Tensor, torch.Tensor]  # (weights, scales) as the format's kernel takes them


def int8_weights(weight: torch.Tensor) -> Quantized:
    """(int8 [out, in], fp32 scales [out]) with symmetric per-row scales."""
    w = weight.detach().float()
    scales = (w.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
    q = torch.round(w / scales[:, None]).clamp_(-127, 127).to(torch.int8)
    return q.contiguous(), scales


def int4_fits(weight: torch.Tensor) -> bool:
    out_features, in_features = weight.shape
    return out_features % 16 == 0 and in_features % INT4_GROUP == 0


def int4_weights(weight: torch.Tensor, group: int = INT4_GROUP) -> Quantized:
    """(packed uint8 [out, in/2], fp32 scales-and-zeros [in/group, out, 2]).

    Each group of `group` inputs maps onto 16 levels between its min and max; the kernel computes
    w = (q - 8) * scale + zero, so zero = min + 8 * scale."""
    rows, cols = weight.shape
    w = weight.detach().float().reshape(rows, cols // group, group)
    low, high = w.amin(-1, keepdim=True), w.amax(-1, keepdim=True)
    scales = ((high - low) / 15.0).clamp(min=1e-12)
    q = ((w - low) / scales).round_().clamp_(0, 15).to(torch.int32).reshape(rows, cols)
    zeros = low + 8.0 * scales
    scales_zeros = torch.cat([scales, zeros], dim=-1).transpose(0, 1).contiguous()
    return torch._convert_weight_to_int4pack_for_cpu(q, INT4_TILES), scales_zeros


def _expected(fmt: Format, weight: torch.Tensor) -> tuple[tuple[int, ...], torch.dtype]:
    rows, cols = weight.shape
    return ((rows, cols), torch.int8) if fmt == Format.INT8 else ((rows, cols // 2), torch.uint8)


def _fit(fmt: Format, cached: Quantized | None, weight: torch.Tensor) -> Quantized:
    """Cached weights when they have the format's shape, else a fresh quantization."""
    shape, dtype = _expected(fmt, weight)
    if cached is not None and tuple(cached[0].shape) == shape and cached[0].dtype == dtype:
        # A fresh allocation: tensors read from a safetensors file can sit at any offset, and the
        # kernels' vector loads crash on an unaligned one (seen: a segfault on cached weights).
        return cached[0].clone(), cached[1].float().clone()
    return int8_weights(weight) if fmt == Format.INT8 else int4_weights(weight)


class QuantLinear(nn.Module):
    """An nn.Linear with a dense weight and a quantized copy, chosen per call size."""

    def __init__(
        self,
        linear: nn.Linear,
        fmt: Format,
        quant_rows: int,
        cached: Quantized | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight: nn.Parameter | None = linear.weight
        self.bias = linear.bias
        self.quant_rows = quant_rows
        self.fmt = Format.INT8
        self.qweight: torch.Tensor | None = None
        self.qscales: torch.Tensor | None = None
        self.requantize(fmt, cached)

    def requantize(self, fmt: Format, cached: Quantized | None = None) -> None:
        """Replace the quantized copy with `fmt` (int8 where int4 does not fit this shape)."""
        assert self.weight is not None, "the dense weight was dropped"
        if fmt == Format.INT4 and not int4_fits(self.weight):
            fmt = Format.INT8
        self.fmt = fmt
        self.qweight = self.qscales = None  # free the old copy before making the new one
        q, scales = _fit(fmt, cached, self.weight)
        self.qweight, self.qscales = q, scales.to(ACT)

    def set_rows(self, quant_rows: int) -> None:
        """Use the quantized copy for calls of up to `quant_rows` rows; frees the unused copy."""
        self.quant_rows = quant_rows
        if quant_rows >= ALWAYS:
            self.weight = None
        elif quant_rows <= 0:
            self.qweight = self.qscales = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.numel() // self.in_features
        if self.weight is None or (self.qweight is not None and rows <= self.quant_rows):
            flat = x.reshape(rows, self.in_features).to(ACT).contiguous()
            if self.fmt == Format.INT8:
                out = torch._weight_int8pack_mm(flat, self.qweight, self.qscales)
            else:
                out = torch._weight_int4pack_mm_for_cpu(
                    flat, self.qweight, INT4_GROUP, self.qscales
                )
            out = out.to(x.dtype)
            if self.bias is not None:
                out = out + self.bias
            return out.reshape(*x.shape[:-1], self.out_features)
        return functional.linear(x, self.weight, self.bias)


class Int8Embedding(nn.Module):
    """Input embeddings as int8 rows: a lookup reads a few rows, so this only saves memory."""

    def __init__(self, embedding: nn.Embedding, cached: Quantized | None = None) -> None:
        super().__init__()
        q, scales = _fit(Format.INT8, cached, embedding.weight)
        self.register_buffer("qweight", q, persistent=False)
        self.register_buffer("qscales", scales, persistent=False)
        self.dtype = embedding.weight.dtype
        self.num_embeddings, self.embedding_dim = embedding.num_embeddings, embedding.embedding_dim

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        rows = self.qweight[ids].to(torch.float32) * self.qscales[ids].unsqueeze(-1)
        return rows.to(self.dtype)


def quant_linears(model: nn.Module) -> list[QuantLinear]:
    return [m for m in model.modules() if isinstance(m, QuantLinear)]


def quantized_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """{"<module>.qweight"/".qscales": tensor} of every quantized copy, to cache on disk."""
    tensors = {}
    for name, module in model.named_modules():
        if isinstance(module, QuantLinear | Int8Embedding) and module.qweight is not None:
            tensors[f"{name}.qweight"] = module.qweight
            tensors[f"{name}.qscales"] = module.qscales
    return tensors


def quantize_model(
    model: nn.Module,
    fmt: Format = Format.INT8,
    quant_rows: int = ALWAYS,
    cached: dict[str, torch.Tensor] | None = None,
) -> int:
    """Give every nn.Linear (lm_head included) a quantized copy in `fmt`, and the input embeddings
    int8 rows (unless they are tied to lm_head). `cached`: quantized_state() of an earlier run, used
    where it fits. Returns the number of linears converted."""
    cached = cached or {}

    def saved(name: str) -> Quantized | None:
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
                setattr(parent, name, QuantLinear(child, fmt, quant_rows, saved(full)))
                count += 1
            elif isinstance(child, nn.Embedding) and child is emb and not tied:
                setattr(parent, name, Int8Embedding(child, saved(full)))
    return count
