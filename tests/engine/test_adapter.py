"""LoRA adapters served as models: the merge against PEFT's own, the base chosen from the adapter's
config (a catalog name or a folder), and adapters that cannot be served refused with a reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from codecomp_lsp.engine.loader import ModelLoadError, load_model
from codecomp_lsp.modelstore.adapter import (
    ADAPTER_CONFIG,
    AdapterError,
    is_adapter,
    read_adapter,
    set_base,
)
from codecomp_lsp.modelstore.resolve import choose_model


def make_adapter(base: Path, out: Path, *, base_name: str | None = None, seed: int = 0) -> Path:
    """A real PEFT LoRA adapter on `base` with random (non-zero) A and B, saved as PEFT saves."""
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    config = LoraConfig(
        r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False, lora_dropout=0.0
    )
    peft_model = get_peft_model(model, config)
    peft_model.save_pretrained(out)
    set_base(out, base_name or str(base))
    return out


def _logits(model, ids: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tiny_model_dir, tmp_path_factory.mktemp("adapter") / "lora")


def test_the_merge_gives_what_peft_gives(tiny_model_dir: Path, adapter_dir: Path) -> None:
    from peft import PeftModel

    assert is_adapter(adapter_dir) and not is_adapter(tiny_model_dir)
    ours = load_model(
        str(tiny_model_dir), device="cpu", dtype="float32", adapter=read_adapter(adapter_dir)
    )
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    ids = torch.tensor([ours.tokenizer.encode("def main():\n    return os.path.join(a, b)")])
    plain = _logits(base, ids)
    theirs = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    expected = _logits(theirs, ids)
    got = _logits(ours.model, ids)
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()
    assert (got - plain).abs().max() > 1e-2  # the adapter changed the model
    assert ours.name == f"lora (LoRA on {tiny_model_dir.name})"


def test_the_adapter_names_its_base_and_the_choice_follows(
    tiny_model_dir: Path, adapter_dir: Path, tmp_path: Path
) -> None:
    choice = choose_model(str(adapter_dir), "cpu")
    assert choice.spec == str(tiny_model_dir) and choice.adapter is not None
    assert choice.adapter.path == adapter_dir.resolve()
    assert choice.name.endswith(f"(LoRA on {tiny_model_dir.name})")
    # A catalog name as the base: the built-in model, wherever this machine keeps it.
    named = shutil.copytree(adapter_dir, tmp_path / "named")
    set_base(named, "codecomp-tiny")
    choice = choose_model(str(named), "cpu")
    assert choice.entry is not None and choice.entry.name == "codecomp-tiny"
    assert choice.name == "named (LoRA on codecomp-tiny)" and not choice.fallback
    # A base given relative to the adapter folder.
    shutil.copytree(tiny_model_dir, tmp_path / "base")
    relative = shutil.copytree(adapter_dir, tmp_path / "relative")
    set_base(relative, "../base")
    assert Path(choose_model(str(relative), "cpu").spec).resolve() == (tmp_path / "base").resolve()


def test_adapters_that_cannot_be_served_say_why(adapter_dir: Path, tmp_path: Path) -> None:
    def broken(name: str, **config: object) -> Path:
        folder = shutil.copytree(adapter_dir, tmp_path / name)
        data = json.loads((folder / ADAPTER_CONFIG).read_text())
        data.update(config)
        (folder / ADAPTER_CONFIG).write_text(json.dumps(data))
        return folder

    with pytest.raises(AdapterError, match="PREFIX_TUNING adapter"):
        read_adapter(broken("prefix", peft_type="PREFIX_TUNING"))
    with pytest.raises(AdapterError, match="DoRA"):
        read_adapter(broken("dora", use_dora=True))
    with pytest.raises(AdapterError, match="names no base"):
        read_adapter(broken("nobase", base_model_name_or_path=None))
    no_weights = broken("noweights")
    (no_weights / "adapter_model.safetensors").unlink()
    with pytest.raises(AdapterError, match="no adapter_model.safetensors"):
        read_adapter(no_weights)
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / ADAPTER_CONFIG).write_text("{not json")
    with pytest.raises(AdapterError, match="cannot read the adapter config"):
        choose_model(str(tmp_path / "garbage"), "cpu")


def test_an_adapter_for_another_base_is_refused_and_the_model_left_alone(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """The shipped codecomp-tiny has other shapes than the fixture model the adapter was made on."""
    from codecomp_lsp.engine.loader import default_model_path

    shipped = default_model_path()
    assert shipped is not None
    adapter = read_adapter(make_adapter(tiny_model_dir, tmp_path / "other"))
    with pytest.raises(ModelLoadError, match="trained on another base"):
        load_model(str(shipped), device="cpu", dtype="float32", adapter=adapter)
