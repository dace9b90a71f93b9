"""`codecomp finetune PATH`: adapt a model to one repository in minutes on a CPU.

The repository's files are split (by file, deterministically) into training and
held-out files; the held-out ones are scored before and after with the same
harness as `codecomp eval`, so the gain is measured, not assumed. The default
model is fine-tuned in full; a bigger Hugging Face model gets a LoRA adapter
(`peft`) that is merged on save, so the result loads with `--model` like any model.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from codecomp_lsp.training.data.filters import language_of, normalise, reject_reason
from codecomp_lsp.training.fim import apply_fim_to_context
from codecomp_lsp.training.loop import make_batch
from codecomp_lsp.training.special_tokens import FIM_MIDDLE
from codecomp_lsp.training.trainer import bf16_autocast

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        "site-packages",
        "dist",
        "build",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


@dataclass(frozen=True)
class FinetuneOptions:
    minutes: float = 5.0
    max_epochs: float = 3.0
    context: int = 512
    batch_size: int = 4
    lr: float = 3e-4
    lora: bool | None = None  # None: LoRA for models above `lora_above` parameters
    lora_above: int = 100_000_000
    lora_rank: int = 16
    heldout_fraction: float = 0.1
    eval_limit: int = 100
    seed: int = 0


def repository_files(root: Path) -> list[dict]:
    """The repository's source files worth learning from (same filters as the corpus)."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            language = language_of(rel)
            if language is None:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if reject_reason(rel, data) is None:
                text = normalise(data.decode("utf-8"))
                files.append(
                    {"package": root.name, "path": rel, "language": language, "text": text}
                )
    return files


def split_files(files: list[dict], fraction: float) -> tuple[list[dict], list[dict]]:
    def bucket(record: dict) -> float:
        digest = hashlib.sha256(record["path"].encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32

    heldout = [f for f in files if bucket(f) < fraction]
    if not heldout and len(files) >= 5:
        heldout = [min(files, key=bucket)]
    train = [f for f in files if f not in heldout]
    return train, heldout


def _windows(stream: list[int], context: int, rng: random.Random) -> Iterator[list[int]]:
    while True:
        if len(stream) <= context:
            yield list(stream)
        else:
            start = rng.randrange(0, len(stream) - context)
            yield stream[start : start + context]


@torch.no_grad()
def token_loss(model, tokenizer, files: list[dict], context: int) -> float:  # noqa: ANN001
    """Mean next-token loss over the held-out files (each in `context`-token chunks)."""
    model.eval()
    total, count = 0.0, 0
    for record in files:
        ids = tokenizer(record["text"], add_special_tokens=False)["input_ids"]
        for start in range(0, len(ids), context):
            chunk = ids[start : start + context]
            if len(chunk) < 2:
                continue
            input_ids = torch.tensor([chunk], device=model.device)
            with bf16_autocast(model.device):
                loss = model(input_ids=input_ids, labels=input_ids).loss
            total += float(loss) * (len(chunk) - 1)
            count += len(chunk) - 1
    return total / max(1, count)


def _score(model_path: Path | str, heldout: list[dict], limit: int, seed: int) -> dict:
    from codecomp_lsp.evaluation.completers import ModelCompleter
    from codecomp_lsp.evaluation.run import evaluate
    from codecomp_lsp.evaluation.tasks import line_tasks_from_files

    tasks = {
        kind: line_tasks_from_files(heldout, kind=kind, per_file=3, limit=limit, seed=seed)
        for kind in ("next-line", "fim-line")
    }
    completer = ModelCompleter(str(model_path))
    try:
        report = evaluate(completer, tasks)
    finally:
        completer.close()
    return {
        kind: {k: v for k, v in s.items() if k != "ms_per_task"}
        for kind, s in report["sets"].items()
    }


def finetune(repo: Path, base: Path, out: Path, options: FinetuneOptions, log=print) -> dict:  # noqa: ANN001
    files = repository_files(repo)
    if not files:
        raise ValueError(f"no source files to learn from under {repo}")
    train_files, heldout = split_files(files, options.heldout_fraction)
    log(f"{len(files)} files: {len(train_files)} for training, {len(heldout)} held out")
    rng = random.Random(options.seed)
    torch.manual_seed(options.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    n_params = sum(p.numel() for p in model.parameters())
    use_lora = options.lora if options.lora is not None else n_params > options.lora_above
    has_fim = FIM_MIDDLE in tokenizer.get_vocab()
    context = min(
        options.context, getattr(model.config, "max_position_embeddings", options.context)
    )
    before_loss = token_loss(model, tokenizer, heldout, context) if heldout else None
    if use_lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model,
            LoraConfig(
                r=options.lora_rank,
                lora_alpha=2 * options.lora_rank,
                target_modules="all-linear",
                task_type="CAUSAL_LM",
            ),
        )
    stream: list[int] = []
    eos = tokenizer.eos_token_id
    for record in train_files:
        stream += tokenizer(record["text"], add_special_tokens=False)["input_ids"] + [eos]
    windows = _windows(stream, context, rng)
    steps_per_epoch = max(1, math.ceil(len(stream) / (context * options.batch_size)))
    max_steps = max(1, int(options.max_epochs * steps_per_epoch))
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=options.lr, weight_decay=0.0
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    model.train()
    started = time.monotonic()
    step = 0
    losses: list[float] = []
    while step < max_steps and time.monotonic() - started < options.minutes * 60:
        for group in optimizer.param_groups:
            group["lr"] = options.lr * 0.5 * (1 + math.cos(math.pi * step / max_steps))
        batch = [next(windows) for _ in range(options.batch_size)]
        if has_fim:
            batch = [apply_fim_to_context(w, tokenizer, rng) for w in batch]
        input_ids, labels = make_batch(batch, context, pad_id)
        with bf16_autocast(model.device):
            loss = model(input_ids=input_ids.to(model.device), labels=labels.to(model.device)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        step += 1
        if step % 10 == 0:
            log(f"step {step}/{max_steps} loss {sum(losses[-10:]) / len(losses[-10:]):.3f}")
    seconds = time.monotonic() - started
    if use_lora:
        model = model.merge_and_unload()
    model.eval()
    after_loss = token_loss(model, tokenizer, heldout, context) if heldout else None
    out.mkdir(parents=True, exist_ok=True)
    model.to(torch.bfloat16).save_pretrained(out)
    tokenizer.save_pretrained(out)
    report = {
        "repository": str(repo),
        "base": str(base),
        "method": "LoRA (merged)" if use_lora else "full fine-tune",
        "files": {"train": len(train_files), "heldout": len(heldout)},
        "train_tokens_per_epoch": len(stream),
        "steps": step,
        "seconds": round(seconds, 1),
        "heldout_loss": {"before": before_loss, "after": after_loss},
    }
    if heldout:
        report["before"] = _score(base, heldout, options.eval_limit, options.seed)
        report["after"] = _score(out, heldout, options.eval_limit, options.seed)
    (out / "finetune.json").write_text(json.dumps(report, indent=1))
    return report
