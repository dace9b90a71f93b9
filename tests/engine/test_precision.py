"""The precision policy measures once per model and machine, caches the choice and the int8
weights, and follows an explicit setting."""

from __future__ import annotations

from pathlib import Path

import torch

from codecomp_lsp.engine.loader import load_model
from codecomp_lsp.engine.precision import _cache_dir, apply_precision
from codecomp_lsp.engine.quantize import ALWAYS, dual_linears


def test_auto_measures_then_reuses_the_choice_and_the_int8_weights(tiny_model_dir: Path) -> None:
    first = load_model(str(tiny_model_dir), dtype="float32")
    small = apply_precision(first.model, torch.device("cpu"), "auto", source="fixture")
    assert small.source == "small model" and small.int8_rows == 0  # the fixture stays dense
    choice = apply_precision(first.model, torch.device("cpu"), "auto", "fixture", min_parameters=0)
    assert choice.source == "measured"
    assert {"decode.dense", "decode.int8", "prefill.dense", "prefill.int8"} <= set(choice.ms)
    assert all(layer.int8_rows == choice.int8_rows for layer in dual_linears(first.model))
    second = load_model(str(tiny_model_dir), dtype="float32")
    again = apply_precision(second.model, torch.device("cpu"), "auto", "fixture", min_parameters=0)
    assert again.source == "cached" and again.int8_rows == choice.int8_rows
    if choice.int8_rows > 0:
        assert list(_cache_dir().glob("*.int8.safetensors"))
        ids = torch.tensor([[1, 2, 3, 4, 5, 6]])
        with torch.inference_mode():
            assert torch.equal(first.model(ids).logits, second.model(ids).logits)


def test_the_setting_wins(tiny_model_dir: Path) -> None:
    loaded = load_model(str(tiny_model_dir), dtype="float32")
    forced = apply_precision(loaded.model, torch.device("cpu"), "int8", source="fixture-int8")
    assert forced.source == "setting" and forced.int8_rows == ALWAYS
    assert all(layer.weight is None for layer in dual_linears(loaded.model))
    plain = load_model(str(tiny_model_dir), dtype="float32")
    none = apply_precision(plain.model, torch.device("cpu"), "none", source="fixture")
    assert none.int8_rows == 0 and not dual_linears(plain.model)
    assert (
        apply_precision(plain.model, torch.device("meta"), "auto", "x").source
        == "not on this device"
    )
