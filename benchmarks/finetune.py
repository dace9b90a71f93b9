"""`codecomp finetune --lora` on a package the model has not been tuned on, measured before/after.

The package's source comes from the registry (a pinned wheel, unpacked), is split by file into
training and held-out files (`codecomp finetune`'s own split), and the real command runs on it:
a LoRA adapter trained for `--minutes` on this CPU, saved alone, then scored through `--model
ADAPTER` — the way the server serves it — on next-line and middle-line (FIM) tasks from the
held-out files, against the base model on the same tasks. Reported: exact match and edit
similarity before/after, the tasks won and lost with examples, the held-out loss, steps, tokens
and wall time, the adapter's size and the load cost of folding it in.

    python benchmarks/finetune.py --package rich==13.7.1 --minutes 10 \
        --out benchmarks/results/finetune-qwen2.5-coder-0.5b.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import machine_description, markdown_table  # noqa: E402
from codecomp_lsp.training.recipes import LoRA  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def fetch_package(requirement: str, into: Path) -> Path:
    """The package's own folder from its pinned wheel (the repository to fine-tune on)."""
    wheels = into / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels)]
        + [requirement],
        check=True,
        capture_output=True,
    )
    wheel = next(wheels.glob("*.whl"))
    src = into / "src"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(src)
    name = requirement.split("==")[0].replace("-", "_")
    return src / name


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _won_lost(before: dict, after: dict) -> tuple[list[dict], list[dict]]:
    from codecomp_lsp.evaluation.tasks import exact_match

    def em(row: dict) -> bool:
        return exact_match(row["prediction"], row["target"])

    won, lost = [], []
    for b, a in zip(before["predictions"], after["predictions"], strict=True):
        if em(a) and not em(b):
            won.append({"id": a["id"], "target": a["target"], "before": b["prediction"]})
        elif em(b) and not em(a):
            lost.append({"id": a["id"], "target": a["target"], "after": a["prediction"]})
    return won, lost


def _complete_load_seconds(model: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-m", "codecomp_lsp.cli", "complete", "examples/walk.py"]
        + ["--line", "16", "--json", "--model", model],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout)["loadSeconds"])


def render(report: dict, args: argparse.Namespace) -> str:
    tune = report["finetune"]
    rows = []
    for kind in ("next-line", "fim-line"):
        b, a = tune["before"][kind], tune["after"][kind]
        won, lost = report["won_lost"][kind]
        rows.append(
            [
                kind,
                b["tasks"],
                f"{100 * b['exact_match']:.1f}%",
                f"{100 * a['exact_match']:.1f}%",
                f"{100 * (a['exact_match'] - b['exact_match']):+.1f}",
                f"{b['edit_similarity']:.3f}",
                f"{a['edit_similarity']:.3f}",
                f"{len(won)} / {len(lost)}",
            ]
        )
    table = markdown_table(
        ["held-out tasks", "n", "EM base", "EM adapter", "Δ points", "edit sim. base"]
        + ["edit sim. adapter", "won / lost"],
        rows,
    )
    loss = tune["heldout_loss"]
    examples = []
    for kind in ("next-line", "fim-line"):
        won, lost = report["won_lost"][kind]
        for row in won[:4]:
            examples.append(
                f"- {kind} won `{row['id']}`: `{row['target']}` (base: `{row['before']}`)"
            )
        for row in lost[:3]:
            examples.append(
                f"- {kind} lost `{row['id']}`: `{row['target']}` (adapter: `{row['after']}`)"
            )
    return "\n".join(
        [
            f"# `codecomp finetune --lora` on {args.package} ({report['base']})",
            "",
            f"Machine: {report['machine']}, no GPU. Load average before / after the run: "
            f"{report['load_before']} / {report['load_after']} (nothing else ran).",
            "",
            f"Command: `codecomp finetune {args.package.split('==')[0]} --lora --base "
            f"{report['base']} --minutes {args.minutes}` (rank {report['rank']}, context "
            f"{report['context']}, batch {report['batch_size']}, peak lr {report['lr']}; the "
            f"model's own FIM markers `{tune['fim']}`, FIM rate 0.5).",
            "",
            f"- Files: {tune['files']['train']} for training, {tune['files']['heldout']} held "
            f"out (split by file, deterministic).",
            f"- Training: {tune['steps']} steps in {tune['seconds']:.0f} s "
            f"({tune['seconds'] / max(1, tune['steps']):.1f} s a step, "
            f"{tune['steps'] * report['context'] * report['batch_size']:,} tokens seen of "
            f"{tune['train_tokens_per_epoch']:,} in the training files).",
            f"- Held-out loss (next token, {report['loss_chunks']} windows): "
            f"{loss['before']:.3f} → {loss['after']:.3f}.",
            f"- Adapter: {report['adapter_mb']:.1f} MB; the whole `codecomp finetune` run "
            f"(load, loss, training, save, scoring both) {report['wall_seconds']:.0f} s.",
            f"- Serving: `--model ADAPTER` loads in {report['load_adapter_s']:.1f} s against "
            f"{report['load_base_s']:.1f} s for the base alone (the adapter is folded into the "
            "weights once; a token then costs what the base's costs).",
            "",
            "Scores through the server's completion path (`codecomp eval`'s harness, one "
            "candidate, time budget lifted), base vs the adapter served with `--model`:",
            "",
            table,
            "",
            "Examples (first of each):",
            "",
            *examples,
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--package", default="rich==13.7.1")
    parser.add_argument("--base", default="qwen2.5-coder-0.5b")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--eval-limit", type=int, default=100)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--context", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=LoRA().batch_size)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--out", required=True, help="the report (.md; .json beside it)")
    args = parser.parse_args()

    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="codecomp-finetune-") as tmp:
        package = fetch_package(args.package, Path(tmp))
        adapter = Path(tmp) / "adapter"
        load_before = _loadavg()
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "codecomp_lsp.cli", "finetune", str(package), "--lora"]
            + ["--base", args.base, "--out", str(adapter), "--minutes", str(args.minutes)]
            + ["--eval-limit", str(args.eval_limit), "--rank", str(args.rank)]
            + ["--context", str(args.context), "--batch-size", str(args.batch_size)]
            + ["--lr", str(args.lr)],
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - started
        if done.returncode != 0:
            sys.exit(f"codecomp finetune failed:\n{done.stderr[-4000:]}")
        tune = json.loads((adapter / "finetune.json").read_text())
        load_adapter = _complete_load_seconds(str(adapter), env)
        load_base = _complete_load_seconds(args.base, env)
        load_after = _loadavg()
        adapter_mb = (adapter / "adapter_model.safetensors").stat().st_size / 1e6
    report = {
        "machine": machine_description(),
        "base": args.base,
        "package": args.package,
        "rank": args.rank,
        "context": args.context,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "loss_chunks": LoRA().loss_chunks,
        "load_before": load_before,
        "load_after": load_after,
        "wall_seconds": wall,
        "adapter_mb": adapter_mb,
        "load_adapter_s": load_adapter,
        "load_base_s": load_base,
        "finetune": tune,
        "won_lost": {
            kind: _won_lost(tune["before"][kind], tune["after"][kind])
            for kind in ("next-line", "fim-line")
        },
        "log": done.stderr.splitlines()[-60:],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report, args))
    out.with_suffix(".json").write_text(json.dumps(report, indent=1))
    print(out.read_text())


if __name__ == "__main__":
    main()
