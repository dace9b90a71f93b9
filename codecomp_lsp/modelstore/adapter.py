"""LoRA adapter folders as models: what `codecomp finetune --lora` writes (a PEFT LoRA adapter:
`adapter_config.json` + `adapter_model.safetensors`, a few MB) names its base model, and `--model
FOLDER` serves the base with the adapter folded in. This module only reads the folder; the merge
is the engine's (`engine/adapter.py`), so `resolve` can pick the base without loading weights."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


class AdapterError(ValueError):
    """The folder is not an adapter we can serve; the message is meant for the user."""


@dataclass(frozen=True)
class Adapter:
    path: Path
    base: str  # a catalog name, a model folder or a hub id (PEFT's base_model_name_or_path)
    rank: int
    alpha: float
    rslora: bool = False
    fan_in_fan_out: bool = False

    @property
    def scale(self) -> float:
        """PEFT's scaling of B·A: alpha / r, or alpha / sqrt(r) for rank-stabilised LoRA."""
        return self.alpha / (self.rank**0.5 if self.rslora else self.rank)

    @property
    def weights(self) -> Path:
        return self.path / ADAPTER_WEIGHTS

    @property
    def name(self) -> str:
        return self.path.name


def is_adapter(spec: str | Path | None) -> bool:
    """A folder with an adapter config and no model config of its own."""
    if not spec:
        return False
    path = Path(spec).expanduser()
    return (path / ADAPTER_CONFIG).is_file() and not (path / "config.json").is_file()


def read_adapter(spec: str | Path) -> Adapter:
    path = Path(spec).expanduser().resolve()
    try:
        config = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdapterError(f"cannot read the adapter config in {path}: {exc}") from exc
    if not isinstance(config, dict):
        raise AdapterError(f"{path / ADAPTER_CONFIG} is not a JSON object")
    kind = config.get("peft_type")
    if kind != "LORA":
        raise AdapterError(f"{path} holds a {kind or 'unknown'} adapter; only LoRA is served")
    if config.get("use_dora"):
        raise AdapterError(f"{path} is a DoRA adapter; only plain LoRA is served")
    base = config.get("base_model_name_or_path")
    if not isinstance(base, str) or not base:
        raise AdapterError(f"{path / ADAPTER_CONFIG} names no base model")
    rank, alpha = config.get("r"), config.get("lora_alpha")
    if not isinstance(rank, int) or rank <= 0 or not isinstance(alpha, int | float):
        raise AdapterError(f"{path / ADAPTER_CONFIG} has no valid r / lora_alpha")
    if not (path / ADAPTER_WEIGHTS).is_file():
        raise AdapterError(f"{path} has no {ADAPTER_WEIGHTS}")
    return Adapter(
        path=path,
        base=base,
        rank=rank,
        alpha=float(alpha),
        rslora=bool(config.get("use_rslora")),
        fan_in_fan_out=bool(config.get("fan_in_fan_out")),
    )


def set_base(path: Path, base: str) -> None:
    """Point a saved adapter at `base` (a catalog name keeps it portable between machines)."""
    config_path = path / ADAPTER_CONFIG
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
