"""The precision policy: measured on this machine, once per model and CPU, then cached.

`quantization: auto` times short calls (1, 2, 4 and 8 rows: decode steps, the first forward after
a keystroke, speculative verification) and one prefill chunk with the dense weights and with each
quantized format (quantize.py), keeps the format that decodes fastest, and uses it for the call
sizes where it beats the dense weights — typically decode on a CPU, where the dense kernels win
prefill. The quantized weights are
cached beside the choice, so later loads skip the quantization.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from codecomp_lsp.engine.quantize import (
    ALWAYS,
    Format,
    Int8Embedding,
    quant_linears,
    quantize_model,
    quantized_state,
)
from codecomp_lsp.modelstore.store import models_dir

log = logging.getLogger(__name__)

WIN = 0.95  # a quantized format must be at least 5% faster to be used for a call size
PREFILL_ROWS = 256
VERIFY_ROWS = 8
# Below this, `auto` keeps the dense weights: such a model decodes in a few ms anyway, and
# rounding moves a small model's greedy choices more (int8 changed codecomp-tiny's answers).
AUTO_MIN_PARAMETERS = 100_000_000
# What `auto` times, in this order. int4 is not among them: on the first 300 HumanEval single-line
# tasks Qwen2.5-Coder-0.5B fell from 55.3% (bf16, and int8) to 48.3% with int4 weights (session 5,
# AMD EPYC), though it decodes 1.7× faster than int8. `quantization: int4` asks for it.
AUTO_FORMATS = (Format.INT8,)
# Bumped when the rules below change: a choice cached under other rules is measured again.
POLICY = 5


@dataclass
class PrecisionChoice:
    dense: str  # the dtype of the dense weights
    quant: str  # the quantized format ("int8", "int4"), or "none"
    quant_rows: int  # the quantized weights for calls of up to this many rows (ALWAYS: always)
    source: str  # "measured", "cached", "setting", "small model", "not on this device"
    ms: dict[str, float] = field(default_factory=dict)  # {"decode.dense": …, "decode.int8": …, …}

    def describe(self) -> dict[str, Any]:
        rows = "all" if self.quant_rows >= ALWAYS else self.quant_rows
        return {**asdict(self), "quant_rows": rows}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            lines = info.read().splitlines()
    except OSError:
        return "unknown"
    model = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")
    flags = next((ln.split(":", 1)[1] for ln in lines if ln.startswith("flags")), "")
    return f"{model}|{hashlib.sha256(flags.encode()).hexdigest()[:12]}|{os.cpu_count()}"


def _model_key(model: Any, source: str) -> str:
    config = json.dumps(model.config.to_dict(), sort_keys=True, default=str)
    digest = hashlib.sha256(f"{source}|{config}|{torch.__version__}".encode()).hexdigest()
    return digest[:24]


def _cache_dir() -> Path:
    return models_dir() / ".precision"


# Call sizes timed, by name: decode steps (1 row), the first forward after a keystroke and short
# speculative verifications (2, 4), a full verification (8), and a prefill chunk.
_SIZES = (("decode", 1), ("rows2", 2), ("rows4", 4), ("verify", VERIFY_ROWS))
_PAST = 64  # cached tokens before each short call
_ROUNDS = 5


def _short_calls(
    model: Any, linears: list[Any], label: str, ms: dict[str, float], arg: str
) -> None:
    """Time the dense weights against `label`'s for each short call size, round by round in
    turn over one cache (cropped back after each call), and keep each one's median: a burst of
    noise from elsewhere lands on both, not on one alone. Timed one after the other, two runs on
    one machine chose differently (98 vs 95 ms, then 92.5 vs 99 ms, for an 8-row call)."""
    from transformers import DynamicCache

    ids = torch.randint(0, model.config.vocab_size, (1, _PAST + VERIFY_ROWS))
    cache = DynamicCache(config=model.config)
    model(input_ids=ids[:, :_PAST], use_cache=True, logits_to_keep=1, **{arg: cache})
    for phase, rows in _SIZES:
        times: dict[str, list[float]] = {"dense": [], label: []}
        for round_ in range(_ROUNDS + 1):  # round 0 warms the kernels of both
            for name, quant_rows in (("dense", 0), (label, ALWAYS)):
                for layer in linears:
                    layer.quant_rows = quant_rows  # a measurement switch: nothing is freed yet
                started = time.perf_counter()
                model(input_ids=ids[:, _PAST : _PAST + rows], logits_to_keep=1, **{arg: cache})
                took = (time.perf_counter() - started) * 1000
                cache.crop(-rows)  # back to the _PAST cached tokens
                if round_:
                    times[name].append(took)
        for name, values in times.items():
            ms[f"{phase}.{name}"] = statistics.median(values)


def _prefill(model: Any, linears: list[Any], label: str, ms: dict[str, float], arg: str) -> None:
    ids = torch.randint(0, model.config.vocab_size, (1, PREFILL_ROWS))
    times: dict[str, list[float]] = {"dense": [], label: []}
    for round_ in range(3):
        for name, quant_rows in (("dense", 0), (label, ALWAYS)):
            for layer in linears:
                layer.quant_rows = quant_rows
            started = time.perf_counter()
            model(input_ids=ids, use_cache=False, logits_to_keep=1)
            if round_:
                times[name].append((time.perf_counter() - started) * 1000)
    for name, values in times.items():
        ms[f"prefill.{name}"] = statistics.median(values)


def _measure(model: Any, linears: list[Any], label: str, ms: dict[str, float]) -> None:
    import inspect

    arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    _short_calls(model, linears, label, ms, arg)
    _prefill(model, linears, label, ms, arg)


@torch.inference_mode()
def calibrate(model: Any, formats: tuple[Format, ...]) -> tuple[Format, int, dict[str, float]]:
    """Time the dense weights and each format on `model` (quantized in formats[0]); return the
    format that decodes fastest and the call sizes to use it for (0: none). The model's layers
    are left in the returned format."""
    linears = quant_linears(model)
    ms: dict[str, float] = {}
    for index, fmt in enumerate(formats):
        if index:
            for layer in linears:
                layer.requantize(fmt)
        _measure(model, linears, fmt.value, ms)
    best = min(formats, key=lambda fmt: ms[f"decode.{fmt.value}"])
    if best != formats[-1]:
        for layer in linears:
            layer.requantize(best)
    name = best.value
    faster = all(ms[f"{phase}.{name}"] < WIN * ms[f"{phase}.dense"] for phase, _ in _SIZES)
    if faster and ms[f"prefill.{name}"] <= ms["prefill.dense"] / WIN:
        return best, ALWAYS, ms
    # The quantized weights for every call size up to the largest where they are faster, as
    # long as they are faster at each smaller one. The first forward after a keystroke is often
    # 2 rows (the typed character, and the token before it tokenized again), which dense bf16
    # ran at 2× a 1-row int8 step. Only quantized calls verify drafts exactly, so this also
    # bounds the drafts (engine.py): letting int8 verify 8 rows at equal cost (98 vs 95 ms)
    # made the typing replay worse — most inline answers are 2-3 tokens (session 5, AMD EPYC).
    rows = 0
    for phase, size in _SIZES:
        if ms[f"{phase}.{name}"] >= WIN * ms[f"{phase}.dense"]:
            break
        rows = size
    return best, rows, ms


def _save(path: Path, model: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(quantized_state(model), str(tmp))
    os.replace(tmp, path)


def _load(path: Path) -> dict[str, torch.Tensor] | None:
    if not path.exists():
        return None
    try:
        return load_file(str(path))
    except (OSError, ValueError, RuntimeError):
        return None


def _cached_choice(
    record: Any, formats: tuple[Format, ...]
) -> tuple[Format, int, dict[str, float]] | None:
    """A machine's cached choice, if it was made among the same formats (a record from before
    int4 was not: the machine is measured again)."""
    if not isinstance(record, dict) or record.get("formats") != [f.value for f in formats]:
        return None
    if record.get("policy") != POLICY:
        return None
    rows = record.get("quant_rows", record.get("int8_rows"))
    try:
        fmt = Format(record.get("quant", "int8"))
    except ValueError:
        return None
    if not isinstance(rows, int):
        return None
    ms = record.get("ms", {})
    return fmt, rows, ms if isinstance(ms, dict) else {}


def apply_precision(
    model: Any,
    device: torch.device,
    mode: str,
    source: str,
    min_parameters: int = AUTO_MIN_PARAMETERS,
    formats: tuple[Format, ...] = AUTO_FORMATS,
) -> PrecisionChoice:
    """Quantize (or not) a loaded model per `mode`; on the CPU only (the kernels are CPU ones)."""
    dense = str(next(model.parameters()).dtype).removeprefix("torch.")
    if mode == "none":
        return PrecisionChoice(dense, "none", 0, "setting")
    if device.type != "cpu":
        return PrecisionChoice(dense, "none", 0, "not on this device")
    if mode == "auto" and sum(p.numel() for p in model.parameters()) < min_parameters:
        return PrecisionChoice(dense, "none", 0, "small model")
    key = _model_key(model, source)
    choice_file = _cache_dir() / f"{key}.json"
    machine = _cpu_name()
    try:
        known = _cached_choice(json.loads(choice_file.read_text()).get(machine), formats)
    except (OSError, ValueError, AttributeError):
        known = None
    started = time.perf_counter()
    if mode != "auto":
        fmt, rows, ms, how = Format(mode), ALWAYS, {}, "setting"
    elif known is not None:
        (fmt, rows, ms), how = known, "cached"
        if rows <= 0:
            return PrecisionChoice(dense, "none", 0, how, ms)
    else:
        fmt, rows, ms, how = formats[0], -1, {}, "measured"
    weights_file = _cache_dir() / f"{key}.{fmt.value}.safetensors"
    saved = _load(weights_file)
    quantize_model(model, fmt, ALWAYS, saved)
    if rows < 0:
        fmt, rows, ms = calibrate(model, formats)
        weights_file = _cache_dir() / f"{key}.{fmt.value}.safetensors"
        saved = None
        try:
            record = json.loads(choice_file.read_text()) if choice_file.exists() else {}
            record[machine] = {
                "policy": POLICY,
                "formats": [f.value for f in formats],
                "quant": fmt.value,
                "quant_rows": rows,
                "ms": ms,
            }
            choice_file.parent.mkdir(parents=True, exist_ok=True)
            choice_file.write_text(json.dumps(record, indent=1))
        except OSError as exc:
            log.warning("could not cache the precision choice: %s", exc)
    if rows > 0 and saved is None:
        try:
            _save(weights_file, model)
        except OSError as exc:
            log.warning("could not cache the quantized weights: %s", exc)
    for layer in quant_linears(model):
        layer.set_rows(rows)
    if rows <= 0:
        _drop_int8_embeddings(model)
    log.info(
        "precision: %s for ≤ %s rows (%s) in %.1fs", fmt, rows, how, time.perf_counter() - started
    )
    quant = fmt.value if rows > 0 else "none"
    return PrecisionChoice(dense, quant, rows, how, {k: round(v, 2) for k, v in ms.items()})


def _drop_int8_embeddings(model: Any) -> None:
    """Quantization lost here: the embeddings go back to dense rows of the model's dtype."""
    embedding = model.get_input_embeddings()
    if isinstance(embedding, Int8Embedding):
        dense = torch.nn.Embedding(embedding.num_embeddings, embedding.embedding_dim)
        weight = embedding.qweight.float() * embedding.qscales.float().unsqueeze(-1)
        dense.weight = torch.nn.Parameter(weight.to(embedding.dtype), requires_grad=False)
        model.set_input_embeddings(dense)
