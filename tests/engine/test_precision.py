"""The precision policy measures once per model and machine, caches the choice and the quantized
weights, and follows an explicit setting."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from codecomp_lsp.engine.loader import load_model
from codecomp_lsp.engine.precision import _cache_dir, _cpu_name, _model_key, apply_precision
from codecomp_lsp.engine.quantize import ALWAYS, Format, quant_linears


def test_auto_measures_then_reuses_the_choice_and_the_int8_weights(tiny_model_dir: Path) -> None:
    first = load_model(str(tiny_model_dir), dtype="float32")
    small = apply_precision(first.model, torch.device("cpu"), "auto", source="fixture")
    assert small.source == "small model" and small.quant_rows == 0  # the fixture stays dense
    both = (Format.INT8, Format.INT4)
    choice = apply_precision(first.model, torch.device("cpu"), "auto", "fixture", 0, both)
    assert choice.source == "measured"
    for phase in ("decode", "verify", "prefill"):
        assert {f"{phase}.dense", f"{phase}.int8", f"{phase}.int4"} <= set(choice.ms)
    assert all(layer.quant_rows == choice.quant_rows for layer in quant_linears(first.model))
    if choice.quant_rows > 0:  # the fastest decoder among the formats
        fastest = min(("int8", "int4"), key=lambda fmt: choice.ms[f"decode.{fmt}"])
        assert choice.quant == fastest
        assert {layer.fmt.value for layer in quant_linears(first.model)} <= {fastest, "int8"}
    second = load_model(str(tiny_model_dir), dtype="float32")
    again = apply_precision(second.model, torch.device("cpu"), "auto", "fixture", 0, both)
    assert again.source == "cached" and again.quant_rows == choice.quant_rows
    assert again.quant == choice.quant
    if choice.quant_rows > 0:
        assert list(_cache_dir().glob(f"*.{choice.quant}.safetensors"))
        ids = torch.tensor([[1, 2, 3, 4, 5, 6]])
        with torch.inference_mode():
            assert torch.equal(first.model(ids).logits, second.model(ids).logits)


def test_the_setting_wins(tiny_model_dir: Path) -> None:
    loaded = load_model(str(tiny_model_dir), dtype="float32")
    forced = apply_precision(loaded.model, torch.device("cpu"), "int8", source="fixture-int8")
    assert forced.source == "setting" and forced.quant_rows == ALWAYS and forced.quant == "int8"
    assert all(layer.weight is None for layer in quant_linears(loaded.model))
    four = load_model(str(tiny_model_dir), dtype="float32")
    forced4 = apply_precision(four.model, torch.device("cpu"), "int4", source="fixture-int4")
    assert forced4.quant == "int4" and forced4.quant_rows == ALWAYS
    assert Format.INT4 in {layer.fmt for layer in quant_linears(four.model)}
    plain = load_model(str(tiny_model_dir), dtype="float32")
    none = apply_precision(plain.model, torch.device("cpu"), "none", source="fixture")
    assert none.quant_rows == 0 and not quant_linears(plain.model)
    assert (
        apply_precision(plain.model, torch.device("meta"), "auto", "x").source
        == "not on this device"
    )


def test_a_choice_made_before_int4_is_measured_again(tiny_model_dir: Path) -> None:
    """A cache written when only int8 was timed does not hide int4 from a later version."""
    loaded = load_model(str(tiny_model_dir), dtype="float32")
    choice_file = _cache_dir() / f"{_model_key(loaded.model, 'fixture-old')}.json"
    choice_file.parent.mkdir(parents=True, exist_ok=True)
    choice_file.write_text(json.dumps({_cpu_name(): {"int8_rows": 1, "ms": {}}}))
    both = (Format.INT8, Format.INT4)
    remeasured = apply_precision(loaded.model, torch.device("cpu"), "auto", "fixture-old", 0, both)
    assert remeasured.source == "measured" and "decode.int4" in remeasured.ms
    assert json.loads(choice_file.read_text())[_cpu_name()]["formats"] == ["int8", "int4"]
    # The default formats differ from that record's: measured again, among int8 alone.
    again = load_model(str(tiny_model_dir), dtype="float32")
    default = apply_precision(again.model, torch.device("cpu"), "auto", "fixture-old", 0)
    assert default.source == "measured" and "decode.int4" not in default.ms
    assert default.quant in ("int8", "none")
