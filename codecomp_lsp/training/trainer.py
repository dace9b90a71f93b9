"""`codecomp train`: the FromScratch / Resume recipes on the one loop, on CUDA when present.

One run directory holds everything: the tokenizer, the tokenized corpus
(`train.bin`/`heldout.bin`, uint16), `checkpoint.pt` (model, optimizer, RNG,
step; replaced atomically) and `log.jsonl`. Running the same command again
resumes where the last run stopped, so training survives sessions that end.
"""

from __future__ import annotations

import json
import platform
import random
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast

from codecomp_lsp.training.data.build import read_corpus
from codecomp_lsp.training.loop import (
    batches,
    estimate_loss,
    make_optimizer,
    random_window,
    run,
    training_device,
)
from codecomp_lsp.training.model import build_model, save_model
from codecomp_lsp.training.recipes import FromScratch, Resume
from codecomp_lsp.training.special_tokens import EOS_TOKEN
from codecomp_lsp.training.tokenizer import train_tokenizer

CHECKPOINT = "checkpoint.pt"


def _texts(path: Path, seed: int) -> list[str]:
    texts = [record["text"] for record in read_corpus(path)]
    random.Random(seed).shuffle(texts)  # interleave packages and languages
    return texts


def prepare_tokenizer(
    run_dir: Path, corpus_dir: Path, recipe: FromScratch
) -> PreTrainedTokenizerFast:
    tok_dir = run_dir / "tokenizer"
    if (tok_dir / "tokenizer.json").exists():
        return PreTrainedTokenizerFast.from_pretrained(tok_dir)
    sample: list[str] = []
    size = 0
    for text in _texts(corpus_dir / "train.jsonl.gz", recipe.seed):
        sample.append(text)
        size += len(text)
        if size >= recipe.tokenizer_sample_bytes:
            break
    tokenizer = train_tokenizer(sample, recipe.shape.vocab_size)
    tokenizer.model_max_length = recipe.shape.context
    tokenizer.save_pretrained(tok_dir)
    return tokenizer


def tokenize_split(
    run_dir: Path, corpus_dir: Path, split: str, tokenizer: PreTrainedTokenizerFast, seed: int
) -> np.ndarray:
    """The split as one uint16 token stream, documents separated by EOS (cached)."""
    out = run_dir / f"{split}.bin"
    if not out.exists():
        eos = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
        texts = _texts(corpus_dir / f"{split}.jsonl.gz", seed)
        backend = tokenizer.backend_tokenizer
        chunks: list[np.ndarray] = []
        for start in range(0, len(texts), 512):
            for encoding in backend.encode_batch_fast(
                texts[start : start + 512], add_special_tokens=False
            ):
                chunks.append(np.asarray(encoding.ids + [eos], dtype=np.uint16))
        tmp = out.with_suffix(".tmp")
        np.concatenate(chunks).tofile(tmp)
        tmp.replace(out)
    return np.fromfile(out, dtype=np.uint16)


def hardware_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} threads"


def heldout_windows(stream: np.ndarray, context: int, count: int) -> list[list[int]]:
    """Fixed held-out windows, evenly spaced (the same windows at every evaluation)."""
    stride = max(1, (len(stream) - context) // count)
    return [stream[i * stride : i * stride + context].tolist() for i in range(count)]


def _save_checkpoint(path: Path, model, optimizer, state: dict) -> None:  # noqa: ANN001
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "state": state,
            "torch_rng": torch.get_rng_state(),
        },
        tmp,
    )
    tmp.replace(path)


def _trim_log(log_path: Path, step: int) -> None:
    """Steps logged after the last checkpoint will be redone: drop them."""
    if log_path.exists():
        kept = [
            line
            for line in log_path.read_text().splitlines()
            if line.strip() and json.loads(line)["step"] <= step
        ]
        log_path.write_text("".join(line + "\n" for line in kept))


def train_run(
    corpus_dir: Path,
    run_dir: Path,
    recipe: FromScratch | Resume,
    *,
    device: str | None = None,
    max_minutes: float | None = None,
    progress: bool = True,
) -> dict:
    """Train (or resume) until the recipe's token budget or `max_minutes` is spent.

    A `FromScratch` recipe on a run directory with a checkpoint resumes it; `Resume`
    insists on one.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt = run_dir / CHECKPOINT
    if isinstance(recipe, FromScratch) and ckpt.exists():
        recipe = Resume(recipe)
    if isinstance(recipe, Resume) and not ckpt.exists():
        raise FileNotFoundError(f"nothing to resume: no {ckpt}")
    base = recipe.recipe if isinstance(recipe, Resume) else recipe
    config = recipe.loop(max_minutes)
    dev = training_device(device)
    torch.manual_seed(base.seed)
    tokenizer = prepare_tokenizer(run_dir, corpus_dir, base)
    train_stream = tokenize_split(run_dir, corpus_dir, "train", tokenizer, base.seed)
    heldout_stream = tokenize_split(run_dir, corpus_dir, "heldout", tokenizer, base.seed)
    model = build_model(base.shape, tokenizer).to(dev)
    optimizer = make_optimizer(model, config)
    state = {"step": 0, "tokens": 0, "seconds": 0.0, "rng": random.Random(base.seed).getstate()}
    if isinstance(recipe, Resume):
        saved = torch.load(ckpt, map_location=dev, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        torch.set_rng_state(saved["torch_rng"])
    rng = random.Random()
    rng.setstate(state["rng"])
    context = base.shape.context
    train_batches = batches(
        random_window(train_stream, context, rng),
        tokenizer,
        rng,
        batch_size=base.batch_size,
        seq_len=context,
        fim_rate=base.fim_rate,
        spm_rate=base.spm_rate,
    )
    heldout = heldout_windows(heldout_stream, context, base.eval_windows)
    log_path = run_dir / "log.jsonl"
    _trim_log(log_path, state["step"])
    meta = {
        "recipe": asdict(base),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_tokens_available": int(len(train_stream)),
        "heldout_tokens": int(len(heldout_stream)),
        "hardware": hardware_name(dev),
        "torch": torch.__version__,
    }
    (run_dir / "run.json").write_text(json.dumps(meta, indent=1))

    def checkpoint() -> None:
        state["rng"] = rng.getstate()
        _save_checkpoint(ckpt, model, optimizer, state)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=config.steps,
            initial=state["step"],
            unit="step",
            file=sys.stderr,
            dynamic_ncols=True,
        )
    session_start_step = state["step"]
    with log_path.open("a") as log:

        def on_step(step: dict) -> None:
            state["step"] = step["step"]
            state["tokens"] += base.tokens_per_step
            state["seconds"] += step["seconds"]
            record = {
                "step": step["step"],
                "loss": round(step["loss"], 4),
                "lr": step["lr"],
                "tokens": state["tokens"],
                "tok_s": round(base.tokens_per_step / step["seconds"]),
            }
            if "heldout_loss" in step:
                record["heldout_loss"] = round(step["heldout_loss"], 4)
            log.write(json.dumps(record) + "\n")
            log.flush()
            if bar is not None:
                bar.set_postfix(
                    loss=f"{record['loss']:.3f}",
                    tok_s=record["tok_s"],
                    **({"heldout": record["heldout_loss"]} if "heldout_loss" in record else {}),
                )
                bar.update(1)

        result = run(
            config,
            model,
            train_batches,
            optimizer=optimizer,
            start_step=state["step"],
            evaluate=lambda: estimate_loss(
                model, heldout, pad_id=tokenizer.pad_token_id, bf16=config.bf16
            ),
            on_step=on_step,
            checkpoint=checkpoint,
        )
    checkpoint()
    if bar is not None:
        bar.close()
    return {
        **meta,
        "step": state["step"],
        "steps": config.steps,
        "tokens": state["tokens"],
        "train_seconds": round(state["seconds"], 1),
        "session_steps": state["step"] - session_start_step,
        "finished": state["step"] >= config.steps,
        "stopped_for_time": result.stopped_for_time,
    }


def export_model(run_dir: Path, out_dir: Path, recipe: FromScratch) -> Path:
    """Write the checkpoint as a standard Hugging Face model: bf16 safetensors + tokenizer."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(run_dir / "tokenizer")
    model = build_model(recipe.shape, tokenizer)
    saved = torch.load(run_dir / CHECKPOINT, map_location="cpu", weights_only=False)
    model.load_state_dict(saved["model"])
    save_model(model, tokenizer, out_dir, dtype=torch.bfloat16)
    state = saved["state"]
    (out_dir / "training.json").write_text(
        json.dumps(
            {
                "steps": state["step"],
                "tokens": state["tokens"],
                "train_seconds": round(state["seconds"], 1),
                "recipe": asdict(recipe),
                **json.loads((run_dir / "run.json").read_text()),
            },
            indent=1,
        )
    )
    return out_dir
