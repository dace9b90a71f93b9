"""The precision policy: measured on this machine, once per model and CPU, then cached.

`quantization: auto` times a few decode steps (1 row), a speculative-verification-sized call
(8 rows) and one prefill chunk with the dense weights and with int8 (quantize.py), and keeps int8
for the call sizes where it is faster — typically decode on a CPU, where the dense kernels win
prefill. The int8 weights are cached beside the choice, so later loads skip the quantization.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from codecomp_lsp.engine.quantize import (
    ALWAYS,
    DualLinear,
    Int8Embedding,
    dual_linears,
    quantize_model,
)
from codecomp_lsp.modelstore.store import models_dir

log = logging.getLogger(__name__)

WIN = 0.95  # int8 must be at least 5% faster to be used for a call size
PREFILL_ROWS = 256
VERIFY_ROWS = 8
# Below this, `auto` keeps the dense weights: such a model decodes in a few ms anyway, and int8's
# rounding moves a small model's greedy choices more (it changed codecomp-tiny's answers).
AUTO_MIN_PARAMETERS = 100_000_000


@dataclass
class PrecisionChoice:
    dense: str  # the dtype of the dense weights
    int8_rows: int  # int8 for calls of up to this many rows (0: never, ALWAYS: always)
    source: str  # "measured", "cached", "setting", "not on this device"
    ms: dict[str, float] = field(default_factory=dict)  # {"decode.dense": …, "decode.int8": …, …}

    def describe(self) -> dict[str, Any]:
        rows = "all" if self.int8_rows >= ALWAYS else self.int8_rows
        return {**asdict(self), "int8_rows": rows}


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


def _timed_forward(model: Any, rows: int, past_len: int, repeat: int) -> float:
    """The best of `repeat` forwards of `rows` new tokens after a `past_len`-token cache, in ms."""
    import inspect

    from transformers import DynamicCache

    best = float("inf")
    ids = torch.randint(0, model.config.vocab_size, (1, past_len + rows))
    arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    for _ in range(repeat + 1):  # the first run warms the kernels
        cache = DynamicCache(config=model.config)
        if past_len:
            model(input_ids=ids[:, :past_len], use_cache=True, logits_to_keep=1, **{arg: cache})
        started = time.perf_counter()
        model(input_ids=ids[:, past_len:], use_cache=True, logits_to_keep=1, **{arg: cache})
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


@torch.inference_mode()
def calibrate(model: Any) -> tuple[int, dict[str, float]]:
    """Time dense and int8 per call size on `model` (already quantized); return int8_rows."""
    linears = dual_linears(model)
    ms: dict[str, float] = {}
    for mode, rows in (("dense", 0), ("int8", ALWAYS)):
        for layer in linears:
            layer.int8_rows = rows  # a measurement switch: nothing is freed yet
        ms[f"decode.{mode}"] = _timed_forward(model, 1, 64, 3)
        ms[f"verify.{mode}"] = _timed_forward(model, VERIFY_ROWS, 64, 2)
        ms[f"prefill.{mode}"] = _timed_forward(model, PREFILL_ROWS, 0, 1)
    if ms["decode.int8"] >= WIN * ms["decode.dense"]:
        return 0, ms
    if ms["prefill.int8"] <= ms["prefill.dense"] / WIN:
        return ALWAYS, ms
    return (VERIFY_ROWS if ms["verify.int8"] < WIN * ms["verify.dense"] else 1), ms


def _save_int8(path: Path, model: Any) -> None:
    tensors = {}
    for name, module in model.named_modules():
        if isinstance(module, DualLinear | Int8Embedding) and module.qweight is not None:
            tensors[f"{name}.qweight"] = module.qweight
            tensors[f"{name}.qscales"] = module.qscales
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def apply_precision(
    model: Any,
    device: torch.device,
    mode: str,
    source: str,
    min_parameters: int = AUTO_MIN_PARAMETERS,
) -> PrecisionChoice:
    """Quantize (or not) a loaded model per `mode`; on the CPU only (the kernel is a CPU one)."""
    dense = str(next(model.parameters()).dtype).removeprefix("torch.")
    if mode == "none":
        return PrecisionChoice(dense, 0, "setting")
    if device.type != "cpu":
        return PrecisionChoice(dense, 0, "not on this device")
    if mode == "auto" and sum(p.numel() for p in model.parameters()) < min_parameters:
        return PrecisionChoice(dense, 0, "small model")
    key = _model_key(model, source)
    choice_file = _cache_dir() / f"{key}.json"
    weights_file = _cache_dir() / f"{key}.int8.safetensors"
    machine = _cpu_name()
    cached: dict[str, Any] = {}
    try:
        cached = json.loads(choice_file.read_text()).get(machine, {})
    except (OSError, ValueError, AttributeError):
        cached = {}
    started = time.perf_counter()
    saved: dict[str, torch.Tensor] | None = None
    if weights_file.exists():
        try:
            saved = load_file(str(weights_file))
        except (OSError, ValueError, RuntimeError):
            saved = None
    quantize_model(model, ALWAYS, saved)
    if mode == "int8":
        rows, ms, how = ALWAYS, {}, "setting"
    elif cached and isinstance(cached.get("int8_rows"), int):
        rows, ms, how = cached["int8_rows"], cached.get("ms", {}), "cached"
    else:
        rows, ms = calibrate(model)
        how = "measured"
        try:
            record = json.loads(choice_file.read_text()) if choice_file.exists() else {}
            record[machine] = {"int8_rows": rows, "ms": ms}
            choice_file.parent.mkdir(parents=True, exist_ok=True)
            choice_file.write_text(json.dumps(record, indent=1))
        except OSError as exc:
            log.warning("could not cache the precision choice: %s", exc)
    if rows > 0 and saved is None:
        try:
            _save_int8(weights_file, model)
        except OSError as exc:
            log.warning("could not cache the int8 weights: %s", exc)
    for layer in dual_linears(model):
        layer.set_rows(rows)
    if rows <= 0:
        _drop_int8_embeddings(model)
    log.info("precision: int8 rows %s (%s) in %.1fs", rows, how, time.perf_counter() - started)
    return PrecisionChoice(dense, rows, how, {k: round(v, 2) for k, v in ms.items()})


def _drop_int8_embeddings(model: Any) -> None:
    """int8 lost here: the embeddings go back to dense rows of the model's dtype."""
    embedding = model.get_input_embeddings()
    if isinstance(embedding, Int8Embedding):
        dense = torch.nn.Embedding(embedding.num_embeddings, embedding.embedding_dim)
        weight = embedding.qweight.float() * embedding.qscales.float().unsqueeze(-1)
        dense.weight = torch.nn.Parameter(weight.to(embedding.dtype), requires_grad=False)
        model.set_input_embeddings(dense)
