"""Load a causal LM and its tokenizer from a local directory, a GGUF file or a hub id — offline first."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from codecomp_lsp.engine.adapter import merge_adapter
from codecomp_lsp.modelstore.adapter import Adapter, AdapterError
from codecomp_lsp.prompt.templates import FimTemplate, detect_template, template_by_name

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "codecomp-tiny"


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message is meant for the user."""


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    name: str
    device: torch.device
    dtype: torch.dtype
    template: FimTemplate
    stop_ids: frozenset[int]
    reusable_cache: (
        bool  # every layer's cache can be cropped (no sliding windows, no recurrent state)
    )
    load_seconds: float
    has_chat_template: bool
    context_limit: int | None = None  # a remote engine's context length (weights not here)
    # Prompt units per model token: 1, or CHARS_PER_TOKEN when a remote model's tokenizer is not
    # here and prompts are counted in characters (remote/chars.py).
    units_per_token: int = 1

    def prompt_budget(self, requested: int, new_tokens: int) -> int:
        """`requested` prompt tokens, fewer when prompt + output would pass the positions the
        model was trained on (codecomp-tiny knows 1,024; beyond that its output is noise)."""
        limit = self.context_limit or getattr(
            getattr(self.model, "config", None), "max_position_embeddings", None
        )
        if not isinstance(limit, int) or limit <= 0:
            return requested * self.units_per_token
        return max(64, min(requested, limit - new_tokens)) * self.units_per_token


def default_model_path() -> Path | None:
    """The shipped codecomp-tiny, inside the installed package or beside a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (
        here / "models" / DEFAULT_MODEL_NAME,
        here.parent / "models" / DEFAULT_MODEL_NAME,
    ):
        if (candidate / "config.json").is_file():
            return candidate
    return None


def pick_device(requested: str) -> torch.device:
    if requested and requested != "auto":
        try:
            device = torch.device(requested)
        except RuntimeError as exc:
            raise ModelLoadError(f"unknown device {requested!r}: {exc}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ModelLoadError(f"device {requested!r} was asked for but CUDA is not available")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ModelLoadError("device 'mps' was asked for but MPS is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}
_DTYPES |= {"float16": torch.float16, "fp16": torch.float16}


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _fastest_cpu_dtype() -> torch.dtype:
    """bf16 where the CPU has native bf16 matmul (AMX or AVX512-BF16), else fp32.

    Measured on a 2-core Sapphire Rapids with Qwen2.5-Coder-0.5B: bf16 prefills 1,500 tokens in 1.3 s
    against 4.7 s in fp32, and decodes at the same speed; without those units bf16 is emulated and
    slower. A rule rather than a timing at start-up, so the choice (and the output) is reproducible.
    """
    flags = _cpu_flags()
    if {"amx_bf16", "avx512_bf16"} & flags:
        return torch.bfloat16
    return torch.float32


def pick_dtype(requested: str, device: torch.device) -> torch.dtype:
    if requested and requested != "auto":
        if requested not in _DTYPES:
            raise ModelLoadError(
                f"unknown dtype {requested!r}; use auto, float32, bfloat16 or float16"
            )
        return _DTYPES[requested]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return _fastest_cpu_dtype()


def model_source(spec: str) -> tuple[str, dict[str, Any]]:
    """Map a --model value to from_pretrained's path and kwargs (gguf_file for GGUF)."""
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelLoadError(f"GGUF file not found: {path}")
        return str(path.parent), {"gguf_file": path.name}
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if not (path / "config.json").is_file() and len(ggufs) == 1:
            return str(path), {"gguf_file": ggufs[0].name}
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{path} has no config.json (and not exactly one .gguf file)")
        return str(path), {}
    if path.exists():
        raise ModelLoadError(f"{path} is neither a model directory nor a .gguf file")
    if spec.count("/") != 1 or spec.startswith((".", "/", "~")):
        raise ModelLoadError(
            f"model not found: {spec!r} is not a directory, a .gguf file or a hub id"
        )
    return spec, {}


def from_pretrained_local(factory: Any, source: str, kwargs: dict[str, Any]) -> Any:
    """Local cache first; the hub only when the user allowed network and the cache misses."""
    try:
        return factory.from_pretrained(source, local_files_only=True, **kwargs)
    except OSError:
        if os.environ.get("HF_HUB_OFFLINE") == "1" or Path(source).exists():
            raise
        return factory.from_pretrained(source, **kwargs)


def load_tokenizer(spec: str) -> tuple[Any, int | None]:
    """The tokenizer of a --model value and its position limit, without loading the weights
    (benchmarks and tools that count tokens the way the engine does)."""
    from transformers import AutoConfig, AutoTokenizer

    source, kwargs = model_source(spec)
    tokenizer = from_pretrained_local(AutoTokenizer, source, kwargs)
    try:
        config = AutoConfig.from_pretrained(source, local_files_only=True, **kwargs)
        limit = getattr(config.get_text_config(decoder=True), "max_position_embeddings", None)
    except (OSError, ValueError):
        limit = None
    return tokenizer, limit


def _manifest(source: str) -> dict[str, Any]:
    """The note `codecomp models` leaves in a folder it converted: the catalog name, FIM template."""
    try:
        data = json.loads((Path(source) / "codecomp-model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def stop_ids(tokenizer: Any, template: FimTemplate, eos: Any = None) -> frozenset[int]:
    """The template's end markers, the tokenizer's eos and the model's (`eos`: its
    generation config's eos_token_id, an int or a list)."""
    vocab = tokenizer.get_vocab()
    ids = {vocab[s] for s in template.stops if s in vocab}
    for source in (tokenizer.eos_token_id, eos):
        if isinstance(source, int):
            ids.add(source)
        elif isinstance(source, list):
            ids.update(i for i in source if isinstance(i, int))
    return frozenset(ids)


def load_model(
    spec: str | None,
    *,
    device: str = "auto",
    dtype: str = "auto",
    fim_template: str | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    dequantize_gguf: bool = True,
    adapter: Adapter | None = None,
) -> LoadedModel:
    """Load and place a model; raise ModelLoadError with a message a user can act on.

    `adapter`, a LoRA adapter trained on this model, is folded into the weights before they move
    to the device (and before any quantization, which then sees the adapted weights)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    if not spec:
        default = default_model_path()
        if default is None:
            raise ModelLoadError(
                "no model given and the default codecomp-tiny is not installed; pass --model "
                "(a local model directory, a .gguf file or a hub id) or set codecomp.model"
            )
        spec = str(default)
    source, kwargs = model_source(spec)
    torch_device = pick_device(device)
    torch_dtype = pick_dtype(dtype, torch_device)
    common = {"trust_remote_code": trust_remote_code, **kwargs}
    try:
        tokenizer = from_pretrained_local(AutoTokenizer, source, common)
        model_kwargs: dict[str, Any] = {"dtype": torch_dtype, **common}
        if "gguf_file" not in kwargs:
            model_kwargs["use_safetensors"] = None if allow_pickle else True
        elif dequantize_gguf:
            from transformers import GgufConfig

            # Packed GGUF blocks run through slow fallback kernels on CPU; dense weights decode ~10x faster.
            model_kwargs["quantization_config"] = GgufConfig(
                gguf_file=kwargs["gguf_file"], dequantize=True
            )
        model = from_pretrained_local(AutoModelForCausalLM, source, model_kwargs)
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt file raises anything (SafetensorError, …)
        hint = ""
        if "safetensors" in str(exc).lower() and not allow_pickle:
            hint = " (only safetensors weights are loaded unless allowPickle is set)"
        raise ModelLoadError(f"could not load model {spec!r}: {exc}{hint}") from exc
    if adapter is not None:
        try:
            layers = merge_adapter(model, adapter)
        except AdapterError as exc:
            raise ModelLoadError(str(exc)) from exc
        log.info("merged the LoRA adapter %s into %d layers", adapter.path, layers)
    try:
        model.to(torch_device)
    except (RuntimeError, torch.OutOfMemoryError) as exc:
        raise ModelLoadError(f"could not move model to {torch_device}: {exc}") from exc
    model.eval()
    vocab = tokenizer.get_vocab()
    manifest = _manifest(source)
    if (not fim_template or fim_template == "auto") and manifest.get("fimTemplate"):
        fim_template = str(manifest["fimTemplate"])
    if fim_template and fim_template != "auto":
        try:
            template = template_by_name(fim_template)
        except KeyError as exc:
            raise ModelLoadError(f"unknown FIM template {fim_template!r}") from exc
    else:
        template = detect_template(vocab)
    layer_types = getattr(model.config.get_text_config(decoder=True), "layer_types", None) or []
    reusable = all(t == "full_attention" for t in layer_types)
    name = str(manifest.get("name") or (Path(spec).name if Path(spec).exists() else spec))
    loaded = LoadedModel(
        model=model,
        tokenizer=tokenizer,
        name=name if adapter is None else f"{adapter.name} (LoRA on {name})",
        device=torch_device,
        dtype=torch_dtype,
        template=template,
        stop_ids=stop_ids(
            tokenizer, template, getattr(model.generation_config, "eos_token_id", None)
        ),
        reusable_cache=reusable,
        load_seconds=time.perf_counter() - started,
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
    )
    log.info(
        "loaded %s on %s (%s), template %s, %.1fs",
        loaded.name,
        torch_device,
        torch_dtype,
        template.name,
        loaded.load_seconds,
    )
    return loaded


def load_within(load: Callable[[], LoadedModel], timeout_s: float, what: str) -> LoadedModel:
    """Run `load` on its own thread and give up after `timeout_s`: a read that never returns (a
    stalled network filesystem, a wedged disk, a pipe where a file belongs) must not hold the model
    thread forever. Python cannot stop the stuck thread; it is left behind, and what it loads, if
    it ever finishes, is dropped."""
    box: Future[LoadedModel] = Future()

    def run() -> None:
        try:
            box.set_result(load())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box.set_exception(exc)

    threading.Thread(target=run, name="codecomp-load", daemon=True).start()
    try:
        return box.result(timeout=timeout_s)
    except FutureTimeout:
        log.error("loading %s: no result after %.0f s; left behind", what, timeout_s)
        raise ModelLoadError(
            f"loading {what} did not finish within {timeout_s:g} s (is a file on a stalled disk "
            "or network filesystem?); raise loadTimeoutMs if this machine is only slow"
        ) from None
