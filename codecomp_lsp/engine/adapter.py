"""Fold a LoRA adapter into the base model's weights once, at load: W += scale · B·A.

Merged, the adapter costs nothing per token and the precision step (int8/int4) quantizes the
adapted weights like any others. Done here rather than through `peft`, which is a training
dependency only: a LoRA adapter on linear layers is two matrices per layer and one product.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from safetensors.torch import load_file

from codecomp_lsp.modelstore.adapter import Adapter, AdapterError

# PEFT's saved keys: base_model.model.<module>.lora_A.weight (the adapter name is dropped on save).
_KEY = re.compile(
    r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<part>[AB])(?:\.[^.]+)?\.weight$"
)


def adapter_pairs(adapter: Adapter) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Module name → (A: rank × in, B: out × rank), checked for completeness."""
    try:
        tensors = load_file(str(adapter.weights))
    except Exception as exc:  # noqa: BLE001 - a corrupt file raises SafetensorError, OSError, …
        raise AdapterError(f"cannot read {adapter.weights}: {exc}") from exc
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        match = _KEY.match(key)
        if match is None:
            raise AdapterError(
                f"{adapter.weights}: {key!r} is not a LoRA weight of a linear layer "
                "(embedding adapters and saved modules are not served)"
            )
        parts.setdefault(match["module"], {})[match["part"]] = tensor
    if not parts:
        raise AdapterError(f"{adapter.weights} holds no LoRA weights")
    pairs = {}
    for module, ab in parts.items():
        if set(ab) != {"A", "B"}:
            raise AdapterError(f"{adapter.weights}: {module} has lora_A or lora_B missing")
        pairs[module] = (ab["A"], ab["B"])
    return pairs


def _target(model: Any, name: str) -> torch.nn.Module | None:
    """The module an adapter key names; PEFT saves full paths from the causal-LM wrapper."""
    for candidate in (name, name.removeprefix("model.")):
        try:
            return model.get_submodule(candidate)
        except AttributeError:
            continue
    return None


@torch.no_grad()
def merge_adapter(model: Any, adapter: Adapter) -> int:
    """Add the adapter's update to every layer it names; returns how many layers changed.

    All pairs are checked before any weight changes, so a mismatched adapter leaves the model
    as it was (and the caller's error names the layer)."""
    pairs = adapter_pairs(adapter)
    updates = []
    for name, (a, b) in pairs.items():
        module = _target(model, name)
        weight = getattr(module, "weight", None)
        if not isinstance(weight, torch.Tensor) or weight.dim() != 2:
            raise AdapterError(f"{adapter.path}: the base model has no linear layer {name}")
        out_features, in_features = weight.shape
        if adapter.fan_in_fan_out:
            out_features, in_features = in_features, out_features
        if a.shape != (adapter.rank, in_features) or b.shape != (out_features, adapter.rank):
            raise AdapterError(
                f"{adapter.path}: {name} is {tuple(weight.shape)} in the base model but the "
                f"adapter's A·B is {tuple(b.shape)}·{tuple(a.shape)} (trained on another base?)"
            )
        updates.append((weight, a, b))
    for weight, a, b in updates:
        delta = (b.float() @ a.float()) * adapter.scale
        if adapter.fan_in_fan_out:
            delta = delta.T
        weight.copy_((weight.float() + delta.to(weight.device)).to(weight.dtype))
    return len(updates)
