"""`codecomp finetune PATH`: adapt a model to one repository in minutes on a CPU.

The FineTune / LoRA recipes on the one loop. The repository's files are split (by
file, deterministically) into training and held-out files; the held-out loss is
measured before and after, and a `score` callback (the CLI passes the `codecomp
eval` harness, `evaluation.run.score_files`) scores completions on them too, so
the gain is measured, not assumed. codecomp-tiny is fine-tuned in full; a bigger
model (Qwen2.5-Coder) gets a LoRA adapter (`peft`), saved as the adapter alone (a
few MB naming its base, which `--model ADAPTER` folds in at load) or merged into a
full copy. Training uses the model family's own FIM markers, so the infilling the
server asks for is what the adapter learns.

Nothing here imports `codecomp_lsp.evaluation`: evaluation builds on training, not
the reverse.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from codecomp_lsp.modelstore.adapter import ADAPTER_WEIGHTS, set_base
from codecomp_lsp.prompt.templates import detect_template
from codecomp_lsp.training.data.feedback import (
    example_ids,
    load_feedback,
    middle_loss,
    mix_examples,
)
from codecomp_lsp.training.data.filters import language_of, normalise, reject_reason
from codecomp_lsp.training.fim import CODECOMP_MARKERS, FimMarkers
from codecomp_lsp.training.loop import (
    batches,
    estimate_loss,
    random_window,
    run,
    training_device,
)
from codecomp_lsp.training.recipes import FineTune, LoRA
from codecomp_lsp.training.special_tokens import EOS_TOKEN

# (model directory, held-out files, task limit, seed) → scores per task kind
Score = Callable[[Path, list[dict], int, int], dict]

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


def heldout_chunks(tokenizer, files: list[dict], context: int) -> list[list[int]]:  # noqa: ANN001
    """Each held-out file's tokens in consecutive `context`-token chunks."""
    chunks = []
    for record in files:
        ids = tokenizer(record["text"], add_special_tokens=False)["input_ids"]
        chunks += [ids[start : start + context] for start in range(0, len(ids), context)]
    return chunks


def fim_markers(tokenizer) -> FimMarkers | None:  # noqa: ANN001
    """The FIM markers the tokenizer's family was trained with (None: no FIM); documents are
    separated by `<|endoftext|>` where the vocabulary has it (Qwen's pretraining separator,
    while its Instruct tokenizer's eos is `<|im_end|>`)."""
    vocab = tokenizer.get_vocab()
    template = detect_template(vocab)
    if template.name == "codecomp":
        return CODECOMP_MARKERS
    if template.name == "none" or template.spaced:
        return None
    eos = EOS_TOKEN if EOS_TOKEN in vocab else tokenizer.eos_token
    return FimMarkers(template.prefix, template.suffix, template.middle, eos, spm=False)


def _check_out(out: Path) -> None:
    """Only an earlier `codecomp finetune` result (it has finetune.json) is written over."""
    holds_model = (out / "config.json").is_file() or (out / "adapter_config.json").is_file()
    if holds_model and not (out / "finetune.json").is_file():
        raise ValueError(f"{out} already holds a model; choose another --out")


def _clear_model_files(out: Path) -> None:
    """An adapter saved where an earlier run left a full model replaces it (a config.json
    beside the adapter would make the folder load as that model)."""
    if (out / "config.json").is_file():
        for path in out.iterdir():
            if path.name != "finetune.json" and path.is_file():
                path.unlink()


def _with_adapter(model, recipe: LoRA):  # noqa: ANN001, ANN202
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=recipe.rank,
        lora_alpha=recipe.alpha,
        target_modules=recipe.target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def finetune(
    repo: Path,
    base: Path,
    out: Path,
    recipe: FineTune,
    log: Callable[[str], None] = print,
    score: Score | None = None,
    feedback: Path | None = None,
    base_name: str | None = None,
) -> dict:
    """Fine-tune `base` on `repo` and save the result to `out` (with `finetune.json`).

    `score`, when given, scores the base and the result on the held-out files; the report
    then has `before` and `after` besides the held-out loss. `feedback`, a `feedbackLog` file:
    its accepted suggestions are trained on as FIM examples, its rejected ones only measured
    (training/data/feedback.py); the report's `feedback` has both losses before and after.
    `base_name` (a catalog name) is what a saved adapter names as its base, else `base`'s path.
    """
    _check_out(out)
    files = repository_files(repo)
    if not files:
        raise ValueError(f"no source files to learn from under {repo}")
    train_files, heldout = split_files(files, recipe.heldout_fraction)
    log(f"{len(files)} files: {len(train_files)} for training, {len(heldout)} held out")
    rng = random.Random(recipe.seed)
    torch.manual_seed(recipe.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model.to(training_device(recipe.device))
    n_params = sum(p.numel() for p in model.parameters())
    if type(recipe) is FineTune and recipe.lora_above is not None and n_params > recipe.lora_above:
        recipe = LoRA(**asdict(recipe))
    if isinstance(recipe, LoRA) and recipe.frozen_bf16:
        model.to(torch.bfloat16)  # frozen weights; the adapter's own weights stay float32
    context = min(recipe.context, getattr(model.config, "max_position_embeddings", recipe.context))
    markers = fim_markers(tokenizer)
    eos = tokenizer.convert_tokens_to_ids(markers.eos) if markers else tokenizer.eos_token_id
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    chunks = heldout_chunks(tokenizer, heldout, context)
    if len(chunks) > recipe.loss_chunks:  # evenly spaced: a big model's loss costs minutes
        chunks = [chunks[i * len(chunks) // recipe.loss_chunks] for i in range(recipe.loss_chunks)]

    def heldout_loss() -> float | None:
        return (
            estimate_loss(model, chunks, pad_id=pad_id, bf16=True, batch_size=1) if chunks else None
        )

    before_loss = heldout_loss()
    liked: list[tuple[list[int], int]] = []
    disliked: list[tuple[list[int], int]] = []
    if feedback is not None:
        examples = load_feedback(feedback)
        liked = [example_ids(tokenizer, e, context, markers=markers) for e in examples.accepted]
        disliked = [example_ids(tokenizer, e, context, markers=markers) for e in examples.rejected]
        log(f"feedback: {len(liked)} accepted examples, {len(disliked)} rejected (held out)")
    feedback_before = (middle_loss(model, liked), middle_loss(model, disliked))
    if isinstance(recipe, LoRA):
        model = _with_adapter(model, recipe)
    stream: list[int] = []
    for record in train_files:
        stream += tokenizer(record["text"], add_special_tokens=False)["input_ids"] + [eos]
    steps_per_epoch = max(1, math.ceil(len(stream) / (context * recipe.batch_size)))
    config = recipe.loop(max(1, int(recipe.max_epochs * steps_per_epoch)))
    train_batches = batches(
        random_window(stream, context, rng),
        tokenizer,
        rng,
        batch_size=recipe.batch_size,
        seq_len=context,
        fim_rate=recipe.fim_rate if markers else 0.0,
        spm_rate=recipe.spm_rate,
        markers=markers or CODECOMP_MARKERS,
    )
    if liked:
        train_batches = mix_examples(train_batches, [ids for ids, _ in liked], rng, pad_id=pad_id)
    recent: list[float] = []

    def on_step(record: dict) -> None:
        recent[:] = [*recent[-9:], record["loss"]]
        if record["step"] % 10 == 0:
            log(f"step {record['step']}/{config.steps} loss {sum(recent) / len(recent):.3f}")

    result = run(config, model, train_batches, on_step=on_step)
    adapter_only = isinstance(recipe, LoRA) and not recipe.merge
    if isinstance(recipe, LoRA) and recipe.merge:
        model = model.merge_and_unload()
    model.eval()
    after_loss = heldout_loss()
    feedback_after = (middle_loss(model, liked), middle_loss(model, disliked))
    out.mkdir(parents=True, exist_ok=True)
    if adapter_only:
        _clear_model_files(out)
        for name, param in model.named_parameters():
            if "lora_" in name:  # bf16 on disk: half the size, merged in float32 at load
                param.data = param.data.to(torch.bfloat16)
        model.save_pretrained(out)
        set_base(out, base_name or str(Path(base).resolve()))
        size = (out / ADAPTER_WEIGHTS).stat().st_size
        log(f"saved the LoRA adapter ({size / 1e6:.1f} MB) for {base_name or base}")
    else:
        model.to(torch.bfloat16).save_pretrained(out)
        tokenizer.save_pretrained(out)
    report = {
        "repository": str(repo),
        "base": base_name or str(base),
        "method": recipe.method,
        "fim": markers.prefix if markers else None,
        "files": {"train": len(train_files), "heldout": len(heldout)},
        "train_tokens_per_epoch": len(stream),
        "steps": result.step,
        "seconds": round(result.seconds, 1),
        "heldout_loss": {"before": before_loss, "after": after_loss},
    }
    if feedback is not None:
        report["feedback"] = {
            "log": str(feedback),
            "accepted": len(liked),
            "rejected": len(disliked),
            # Loss on each middle given its context: the accepted should fall (learnt), the
            # rejected should not fall as much (what the user turned down stays unlikely).
            "accepted_loss": {"before": feedback_before[0], "after": feedback_after[0]},
            "rejected_loss": {"before": feedback_before[1], "after": feedback_after[1]},
        }
    if heldout and score is not None:
        report["before"] = score(Path(base), heldout, recipe.eval_limit, recipe.seed)
        report["after"] = score(out, heldout, recipe.eval_limit, recipe.seed)
    (out / "finetune.json").write_text(json.dumps(report, indent=1))
    return report
