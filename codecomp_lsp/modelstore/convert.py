"""Convert a verified GGUF once into a folder the loader opens in seconds.

De-quantizing a GGUF and building its tokenizer from the GGUF vocabulary take ~40 s for the 0.5B
model on 2 CPU cores; the same weights as safetensors in the engine's dtype and the tokenizer as
tokenizer.json load in ~3 s. The folder appears by an atomic rename, with a manifest naming the file
it came from, so a half-converted folder is never loaded.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from codecomp_lsp.modelstore.catalog import CatalogEntry
from codecomp_lsp.modelstore.fetch import ProgressFn
from codecomp_lsp.modelstore.store import (
    MANIFEST,
    ModelStore,
    ModelStoreError,
    disk_error,
    require_space,
)

log = logging.getLogger(__name__)


def _dense_size(gguf: Path, dtype: torch.dtype) -> tuple[int, int]:
    """Bytes of the de-quantized weights (the disk the conversion needs), and the tensor count."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(gguf)
    except (ValueError, OSError) as exc:
        raise ModelStoreError(f"{gguf} is not a readable GGUF file: {exc}") from None
    elements = sum(int(t.n_elements) for t in reader.tensors)
    return elements * torch.empty((), dtype=dtype).element_size(), len(reader.tensors)


@contextmanager
def _tensor_progress(on_tensor: Callable[[int], None]) -> Iterator[None]:
    """transformers de-quantizes GGUF tensors under a bare tqdm bar that no setting silences;
    counting the tensors ourselves turns that noise into the pull's own progress."""
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)

    def counting(iterable: Iterable[Any], **_kwargs: Any) -> Iterator[Any]:
        for i, item in enumerate(iterable, 1):
            yield item
            on_tensor(i)

    gguf_utils.tqdm = counting
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def convert_gguf(
    store: ModelStore, entry: CatalogEntry, dtype: torch.dtype, progress: ProgressFn
) -> Path:
    """GGUF → NAME/converted (safetensors in `dtype`, tokenizer.json, config, manifest)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig
    from transformers.utils import logging as hf_logging

    source = store.source_file(entry)
    if not source.exists():
        raise ModelStoreError(f"{entry.name} is not downloaded: run `codecomp models pull`")
    final = store.converted(entry)
    tmp = final.with_name(f".converting-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    needed, tensors = _dense_size(source, dtype)
    require_space(store.root, int(needed * 1.05))
    started = time.perf_counter()
    steps = tensors + 2  # the tokenizer, each tensor, the save
    progress("convert", 0, steps)
    folder, name = str(source.parent), source.name
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        progress("convert", 1, steps)
        with _tensor_progress(lambda i: progress("convert", 1 + i, steps)):
            model = AutoModelForCausalLM.from_pretrained(
                folder,
                gguf_file=name,
                dtype=dtype,
                quantization_config=GgufConfig(gguf_file=name, dequantize=True),
            )
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        manifest: dict[str, Any] = {
            "name": entry.name,
            "sha256": entry.sha256,
            "source": entry.file,
            "dtype": str(dtype).removeprefix("torch."),
            "fimTemplate": entry.fim_template,
            "license": entry.license,
            "transformers": _transformers_version(),
            "convertSeconds": round(time.perf_counter() - started, 1),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        del model
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise disk_error(exc, store.root, needed) from None
    except (ValueError, RuntimeError, KeyError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelStoreError(f"could not convert {source}: {exc}") from None
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
    progress("convert", steps, steps)
    log.info("converted %s in %.1fs", entry.name, time.perf_counter() - started)
    return final


def _transformers_version() -> str:
    import transformers

    return transformers.__version__
