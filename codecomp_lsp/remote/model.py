"""Open a remote engine: find the tokenizer of the model it serves, here, and describe the model the
way the features know a local one (`LoadedModel`, without weights).

The prompt is built and counted in the engine's own tokens, so the budget holds and the engine's
prefix cache sees what ours would. The tokenizer comes from, in order: `remoteTokenizer` (a model
folder, a .gguf file, a catalog name or a hub id in the local cache), `remoteModel` read the same
way, or the path the engine itself reports loading (vLLM's model `root`, llama-server's
`model_path`), which is a local path when the engine runs on this machine or shares its disk.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import torch

from codecomp_lsp.engine.loader import (
    LoadedModel,
    ModelLoadError,
    _manifest,
    load_tokenizer,
    model_source,
    stop_ids,
)
from codecomp_lsp.modelstore.adapter import AdapterError
from codecomp_lsp.modelstore.resolve import choose_model
from codecomp_lsp.prompt.templates import detect_template, template_by_name
from codecomp_lsp.remote.backend import RemoteBackend, probe
from codecomp_lsp.remote.chars import CHARS_PER_TOKEN, CharTokenizer, guess_template
from codecomp_lsp.remote.http import Endpoint, RemoteError
from codecomp_lsp.remote.llamacpp import LlamaCppBackend
from codecomp_lsp.remote.openai import OpenAIBackend
from codecomp_lsp.settings import Settings

BACKENDS: dict[str, type[RemoteBackend]] = {"openai": OpenAIBackend, "llamacpp": LlamaCppBackend}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def api_key(env_name: str) -> str:
    """The API key from the environment variable the settings name ("" when none is named)."""
    if not env_name:
        return ""
    if not _ENV_NAME.match(env_name):
        raise RemoteError(f"codecomp.apiKeyEnv must name an environment variable, not {env_name!r}")
    value = os.environ.get(env_name)
    if not value:
        raise RemoteError(f"codecomp.apiKeyEnv names {env_name}, which is not set for the server")
    return value


def _local_spec(name: str) -> str | None:
    """A loader spec for `name` when its tokenizer is on this machine, else None."""
    if not name:
        return None
    try:
        choice = choose_model(name, "cpu")
    except AdapterError:  # an adapter folder: its base's tokenizer is the one to use
        return None
    if choice.adapter is not None:
        return choice.spec or None
    if choice.entry is not None:
        return choice.spec or None  # a catalog model: its folder once pulled
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf" and (path.parent / "converted" / "config.json").is_file():
        # A pulled catalog model's GGUF: its converted folder has the same tokenizer, and
        # reading it from there takes a second instead of rebuilding it from the GGUF.
        return str(path.parent / "converted")
    if path.exists():
        return str(path)
    return name if name.count("/") == 1 and not name.startswith((".", "/", "~")) else None


def _served(kind: str, endpoint: Endpoint) -> tuple[str, str, int | None, int | None]:
    """(model name, the path the engine loaded it from, its context length, its parallel slots)
    as the engine says."""
    if kind == "openai":
        models = probe(endpoint, "models").get("data") or []
        if not models or not isinstance(models[0], dict):
            raise RemoteError(f"the engine at {endpoint.url} lists no model at /models")
        first = models[0]
        limit = first.get("max_model_len")
        return str(first.get("id", "")), str(first.get("root") or ""), limit, None
    props = probe(endpoint, "props")
    settings = props.get("default_generation_settings") or {}
    limit = settings.get("n_ctx") if isinstance(settings, dict) else None
    path = str(props.get("model_path") or "")
    slots = props.get("total_slots")
    limit = limit if isinstance(limit, int) else None
    return Path(path).name, path, limit, slots if isinstance(slots, int) and slots > 0 else None


def _tokenizer(specs: list[str]) -> tuple[Any, str]:
    errors = []
    for spec in specs:
        try:
            tokenizer, _ = load_tokenizer(spec)
            return tokenizer, spec
        except (OSError, ValueError, ModelLoadError) as exc:
            errors.append(f"{spec}: {exc}")
    tried = "; ".join(errors) or "nothing to try"
    raise ModelLoadError(
        "could not load the remote model's tokenizer here (tried "
        f"{tried}); set codecomp.remoteTokenizer to a local model folder, a .gguf file or a "
        "pulled catalog model, e.g. `codecomp models pull qwen2.5-coder-0.5b`"
    )


def _model_eos(source: str) -> Any:
    """The eos_token_id of the model's generation config, where the folder has one."""
    try:
        folder, _ = model_source(source)
        config = json.loads((Path(folder) / "generation_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, ModelLoadError):
        return None
    return config.get("eos_token_id") if isinstance(config, dict) else None


def _char_fallback(name: str, fim: str, why: ModelLoadError) -> CharTokenizer:
    """The character stand-in, when the FIM template is known from the settings or the name."""
    try:
        template = template_by_name(fim) if fim != "auto" else guess_template(name)
    except KeyError as exc:
        raise ModelLoadError(f"unknown FIM template {fim!r}") from exc
    if template is None:
        raise ModelLoadError(
            f"{why}; without it, set codecomp.fimTemplate to the remote model's family"
        ) from why
    return CharTokenizer(template)


def open_remote(settings: Settings) -> tuple[RemoteBackend, LoadedModel, str | None]:
    """The backend for the settings, the model it serves, and a warning for the user (or None)."""
    started = time.perf_counter()
    kind = settings.backend
    if kind not in BACKENDS:
        raise ModelLoadError(f"unknown backend {kind!r}")
    if not settings.endpoint:
        raise ModelLoadError(f"codecomp.backend is {kind}: set codecomp.endpoint to its URL")
    endpoint = Endpoint(
        settings.endpoint, api_key(settings.apiKeyEnv), settings.remoteTimeoutMs / 1000
    )
    warning = None
    name, root, limit, slots = settings.remoteModel, "", None, None
    try:
        served, root, limit, slots = _served(kind, endpoint)
        name = name or served
    except RemoteError as exc:
        if kind == "openai" and not name:  # every request must name the model
            message = f"{exc} (to start without asking it, set codecomp.remoteModel)"
            raise ModelLoadError(message) from exc
        warning = f"{exc}; completions will fail until it answers"
    specs = [s for s in (settings.remoteTokenizer, settings.remoteModel) if s]
    specs = [spec for s in specs if (spec := _local_spec(s))]
    if root and Path(root).exists():
        specs.append(_local_spec(root) or root)
    fim = settings.fimTemplate
    try:
        tokenizer, source = _tokenizer(specs)
        units = 1
    except ModelLoadError as exc:
        tokenizer, source, units = _char_fallback(name, fim, exc), "", CHARS_PER_TOKEN
        note = (
            f"no tokenizer for {name or 'the remote model'} here: prompts are counted in "
            f"characters ({CHARS_PER_TOKEN} per token) and sent as text; set "
            "codecomp.remoteTokenizer for exact budgets"
        )
        warning = f"{warning}; {note}" if warning else note
    manifest = _manifest(model_source(source)[0]) if source else {}
    if fim == "auto" and manifest.get("fimTemplate"):
        fim = str(manifest["fimTemplate"])
    try:
        if isinstance(tokenizer, CharTokenizer):
            template = tokenizer.template
        elif fim != "auto":
            template = template_by_name(fim)
        else:
            template = detect_template(tokenizer.get_vocab())
    except KeyError as exc:
        raise ModelLoadError(f"unknown FIM template {fim!r}") from exc
    loaded = LoadedModel(
        model=None,
        tokenizer=tokenizer,
        name=name or str(manifest.get("name") or Path(source).name),
        device=torch.device("cpu"),
        dtype=torch.float32,
        template=template,
        stop_ids=frozenset() if units > 1 else stop_ids(tokenizer, template, _model_eos(source)),
        reusable_cache=True,
        load_seconds=time.perf_counter() - started,
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
        context_limit=limit if isinstance(limit, int) and limit > 0 else None,
        units_per_token=units,
    )
    backend = BACKENDS[kind](endpoint, loaded, name)
    backend.max_per_request = slots
    return backend, loaded, warning
