"""`codecomp train`: the codecomp-tiny recipe, resumable, on CUDA when present.

One run directory holds everything: the tokenizer, the tokenized corpus
(`train.bin`/`heldout.bin`, uint16), `checkpoint.pt` (model, optimizer, RNG,
step; replaced atomically) and `log.jsonl`. Running the same command again
resumes where the last run stopped, so training survives sessions that end.
"""

from __future__ import annotations

import json
import math
import platform
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from codecomp_lsp.training.data.build import read_corpus
from codecomp_lsp.training.fim import apply_fim_to_context
from codecomp_lsp.training.loop import make_batch
from codecomp_lsp.training.special_tokens import EOS_TOKEN, FILE_SEP, PAD_TOKEN
from codecomp_lsp.training.tiny import ffn_size
from codecomp_lsp.training.tokenizer import train_tokenizer


@dataclass(frozen=True)
class ModelShape:
    vocab_size: int = 8192
    hidden_size: int = 256
    layers: int = 6
    heads: int = 4
    kv_heads: int = 2
    context: int = 1024


@dataclass(frozen=True)
class Recipe:
    shape: ModelShape = ModelShape()
    total_tokens: int = 20_000_000
    batch_size: int = 8
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.1
    max_grad_norm: float = 1.0
    fim_rate: float = 0.5
    spm_rate: float = 0.5
    eval_every: int = 200
    checkpoint_every: int = 50
    eval_windows: int = 32
    seed: int = 0
    tokenizer_sample_bytes: int = 40_000_000

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.shape.context

    @property
    def steps(self) -> int:
        return math.ceil(self.total_tokens / self.tokens_per_step)


def lr_at(step: int, recipe: Recipe) -> float:
    if step < recipe.warmup_steps:
        return recipe.lr * (step + 1) / recipe.warmup_steps
    progress = min(1.0, (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps))
    return recipe.lr * (
        recipe.min_lr_ratio + (1 - recipe.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    )


def pick_device(requested: str | None = None) -> torch.device:
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _texts(path: Path, seed: int) -> list[str]:
    texts = [record["text"] for record in read_corpus(path)]
    random.Random(seed).shuffle(texts)  # interleave packages and languages
    return texts


def prepare_tokenizer(run_dir: Path, corpus_dir: Path, recipe: Recipe) -> PreTrainedTokenizerFast:
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


def build_model(shape: ModelShape, tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    eos_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=ffn_size(shape.hidden_size),
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        max_position_embeddings=shape.context,
        tie_word_embeddings=True,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        pad_token_id=tokenizer.convert_tokens_to_ids(PAD_TOKEN),
    )
    return LlamaForCausalLM(config)


def _windows(stream: np.ndarray, context: int, rng: random.Random) -> Iterator[list[int]]:
    while True:
        start = rng.randrange(0, len(stream) - context)
        yield stream[start : start + context].tolist()


@torch.no_grad()
def heldout_loss(
    model: LlamaForCausalLM, stream: np.ndarray, recipe: Recipe, pad_id: int, device: torch.device
) -> float:
    """Mean next-token loss on fixed held-out windows (same windows every time)."""
    model.eval()
    context = recipe.shape.context
    stride = max(1, (len(stream) - context) // recipe.eval_windows)
    losses = []
    for i in range(recipe.eval_windows):
        window = stream[i * stride : i * stride + context].tolist()
        ids, labels = make_batch([window], context, pad_id)
        with bf16_autocast(device):
            losses.append(float(model(input_ids=ids.to(device), labels=labels.to(device)).loss))
    model.train()
    return sum(losses) / len(losses)


def bf16_autocast(device: torch.device) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16)


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


def train_run(
    corpus_dir: Path,
    run_dir: Path,
    recipe: Recipe,
    *,
    device: str | None = None,
    max_minutes: float | None = None,
    progress: bool = True,
) -> dict:
    """Train (or resume) until the recipe's token budget or `max_minutes` is spent."""
    run_dir.mkdir(parents=True, exist_ok=True)
    dev = pick_device(device)
    torch.manual_seed(recipe.seed)
    tokenizer = prepare_tokenizer(run_dir, corpus_dir, recipe)
    train_stream = tokenize_split(run_dir, corpus_dir, "train", tokenizer, recipe.seed)
    heldout_stream = tokenize_split(run_dir, corpus_dir, "heldout", tokenizer, recipe.seed)
    pad_id = tokenizer.pad_token_id
    model = build_model(recipe.shape, tokenizer).to(dev)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": recipe.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=recipe.lr,
        betas=(0.9, 0.95),
    )
    state = {"step": 0, "tokens": 0, "seconds": 0.0, "rng": random.Random(recipe.seed).getstate()}
    ckpt = run_dir / "checkpoint.pt"
    if ckpt.exists():
        saved = torch.load(ckpt, map_location=dev, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        torch.set_rng_state(saved["torch_rng"])
    rng = random.Random()
    rng.setstate(state["rng"])
    windows = _windows(train_stream, recipe.shape.context, rng)
    log_path = run_dir / "log.jsonl"
    if log_path.exists():  # steps logged after the last checkpoint will be redone
        kept = [
            line
            for line in log_path.read_text().splitlines()
            if line.strip() and json.loads(line)["step"] <= state["step"]
        ]
        log_path.write_text("".join(line + "\n" for line in kept))
    meta = {
        "recipe": asdict(recipe),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_tokens_available": int(len(train_stream)),
        "heldout_tokens": int(len(heldout_stream)),
        "hardware": hardware_name(dev),
        "torch": torch.__version__,
    }
    (run_dir / "run.json").write_text(json.dumps(meta, indent=1))

    def save() -> None:
        state["rng"] = rng.getstate()
        tmp = ckpt.with_suffix(".tmp")
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "state": state,
                "torch_rng": torch.get_rng_state(),
            },
            tmp,
        )
        tmp.replace(ckpt)

    started = time.monotonic()
    session_start_step = state["step"]
    model.train()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=recipe.steps,
            initial=state["step"],
            unit="step",
            file=sys.stderr,
            dynamic_ncols=True,
        )
    stopped_for_time = False
    with log_path.open("a") as log:
        while state["step"] < recipe.steps:
            if max_minutes is not None and time.monotonic() - started > max_minutes * 60:
                stopped_for_time = True
                break
            step_start = time.monotonic()
            for group in optimizer.param_groups:
                group["lr"] = lr_at(state["step"], recipe)
            drawn = [next(windows) for _ in range(recipe.batch_size)]
            fimmed = [
                apply_fim_to_context(
                    w, tokenizer, rng, fim_rate=recipe.fim_rate, spm_rate=recipe.spm_rate
                )
                for w in drawn
            ]
            input_ids, labels = make_batch(fimmed, recipe.shape.context, pad_id)
            with bf16_autocast(dev):
                loss = model(input_ids=input_ids.to(dev), labels=labels.to(dev)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state["step"] += 1
            state["tokens"] += recipe.tokens_per_step
            elapsed = time.monotonic() - step_start
            state["seconds"] += elapsed
            record = {
                "step": state["step"],
                "loss": round(loss.item(), 4),
                "lr": lr_at(state["step"] - 1, recipe),
                "tokens": state["tokens"],
                "tok_s": round(recipe.tokens_per_step / elapsed),
            }
            if state["step"] % recipe.eval_every == 0 or state["step"] == recipe.steps:
                record["heldout_loss"] = round(
                    heldout_loss(model, heldout_stream, recipe, pad_id, dev), 4
                )
            log.write(json.dumps(record) + "\n")
            log.flush()
            if bar is not None:
                bar.set_postfix(
                    loss=f"{record['loss']:.3f}",
                    tok_s=record["tok_s"],
                    **({"heldout": record["heldout_loss"]} if "heldout_loss" in record else {}),
                )
                bar.update(1)
            if state["step"] % recipe.checkpoint_every == 0:
                save()
    save()
    if bar is not None:
        bar.close()
    return {
        **meta,
        "step": state["step"],
        "steps": recipe.steps,
        "tokens": state["tokens"],
        "train_seconds": round(state["seconds"], 1),
        "session_steps": state["step"] - session_start_step,
        "finished": state["step"] >= recipe.steps,
        "stopped_for_time": stopped_for_time,
    }


def export_model(run_dir: Path, out_dir: Path, recipe: Recipe) -> Path:
    """Write the checkpoint as a standard Hugging Face model: bf16 safetensors + tokenizer."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(run_dir / "tokenizer")
    model = build_model(recipe.shape, tokenizer)
    saved = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(saved["model"])
    model = model.to(torch.bfloat16).eval()
    eos_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    model.generation_config = GenerationConfig(
        bos_token_id=eos_id,
        eos_token_id=[eos_id, tokenizer.convert_tokens_to_ids(FILE_SEP)],
        pad_token_id=tokenizer.pad_token_id,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
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
