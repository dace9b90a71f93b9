"""Physical limits of this machine, and the floors they put under a model's latency.

Measures memory read bandwidth (a large tensor summed, GB/s) and matmul throughput (torch fp32 and
bf16, FLOP/s), then gives:

- decode floor per token = (bytes of weights read per token + KV cache read) ÷ bandwidth
- prefill floor for n tokens = max(2 · matmul parameters · n ÷ FLOP/s, one read of the weights)

Weights read per decoded token are every matrix the forward pass multiplies with: the transformer
body plus the output head (the tied embedding for Qwen2.5), not the input embedding, of which only
one row is read. Prefill runs the head on the last position only (`logits_to_keep=1`).

    python benchmarks/limits.py [--model PATH --context 1536] [--json benchmarks/results/limits.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import fmt, machine_description

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


@dataclass
class Machine:
    description: str
    threads: int
    read_gbps: float  # large-tensor sum
    copy_gbps: float  # large-tensor copy, read + write bytes counted
    flops: dict[str, float]  # dtype name -> FLOP/s of a square matmul

    def flops_for(self, dtype: str) -> float:
        return self.flops.get(dtype) or max(self.flops.values())


@dataclass
class ModelShape:
    name: str
    total_params: int
    embedding_params: int  # input embedding
    head_params: int  # output projection (the embedding again when tied)
    tied: bool
    layers: int
    kv_heads: int
    head_dim: int

    @property
    def matmul_params(self) -> int:
        """Parameters of the body: what every prompt token is multiplied with."""
        body = self.total_params - self.embedding_params
        return body if self.tied else body - self.head_params

    @property
    def read_params(self) -> int:
        """Parameters read for one decoded token: body + output head."""
        return self.matmul_params + self.head_params

    def kv_bytes_per_position(self, dtype: str) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * DTYPE_BYTES.get(dtype, 4)


# -- measuring ---------------------------------------------------------------------------------
def _best_of(fn, repeats: int) -> float:
    fn()  # warm-up: page faults, thread pool start
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_bandwidth(size_mb: int = 512, repeats: int = 5) -> tuple[float, float]:
    """(read GB/s, copy GB/s) over a buffer far larger than the last-level cache."""
    import torch

    n = size_mb * (1 << 20) // 4
    a = torch.ones(n, dtype=torch.float32)
    b = torch.empty_like(a)
    read_s = _best_of(lambda: a.sum(), repeats)
    copy_s = _best_of(lambda: b.copy_(a), repeats)
    nbytes = a.numel() * a.element_size()
    return nbytes / read_s / 1e9, 2 * nbytes / copy_s / 1e9


def measure_matmul(dtype: str = "float32", n: int = 2048, repeats: int = 3) -> float:
    """FLOP/s of an n×n by n×n matmul in `dtype` (best of `repeats`)."""
    import torch

    dt = getattr(torch, dtype)
    a = torch.randn(n, n, dtype=torch.float32).to(dt)
    b = torch.randn(n, n, dtype=torch.float32).to(dt)
    seconds = _best_of(lambda: torch.mm(a, b), repeats)
    return 2 * n**3 / seconds


def measure_machine(
    size_mb: int = 512, matmul_n: int = 2048, dtypes: tuple[str, ...] = ("float32", "bfloat16")
) -> Machine:
    import torch

    read, copy = measure_bandwidth(size_mb)
    flops = {dt: measure_matmul(dt, matmul_n) for dt in dtypes}
    return Machine(machine_description(), torch.get_num_threads(), read, copy, flops)


def load_machine(path: Path) -> Machine:
    return Machine(**json.loads(Path(path).read_text(encoding="utf-8"))["machine"])


# -- the model's shape -------------------------------------------------------------------------
def model_shape(spec: str) -> ModelShape:
    """Parameter counts and attention shape of a model directory or .gguf, without its weights."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from codecomp_lsp.engine.loader import model_source

    source, kwargs = model_source(spec)
    config = AutoConfig.from_pretrained(source, local_files_only=True, **kwargs)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    embed = model.get_input_embeddings().weight
    head = model.get_output_embeddings()
    head_w = head.weight if head is not None else embed
    text = config.get_text_config(decoder=True)
    heads = text.num_attention_heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    return ModelShape(
        name=Path(spec).name,
        total_params=total,
        embedding_params=embed.numel(),
        head_params=head_w.numel(),
        tied=head_w is embed,
        layers=text.num_hidden_layers,
        kv_heads=getattr(text, "num_key_value_heads", None) or heads,
        head_dim=head_dim,
    )


# -- floors -------------------------------------------------------------------------------------
def decode_floor_ms(
    shape: ModelShape,
    machine: Machine,
    dtype: str,
    context: int = 0,
    weight_bytes: float | None = None,
) -> float:
    """Milliseconds per decoded token if every byte that must be read streams at full bandwidth.

    `weight_bytes` overrides read_params × dtype size (a quantized GGUF reads its file size)."""
    weights = (
        weight_bytes if weight_bytes is not None else shape.read_params * DTYPE_BYTES.get(dtype, 4)
    )
    kv = shape.kv_bytes_per_position(dtype) * max(0, context)
    return (weights + kv) / (machine.read_gbps * 1e9) * 1000


def prefill_floor_ms(shape: ModelShape, machine: Machine, dtype: str, tokens: int) -> float:
    """Milliseconds to prefill `tokens`: the larger of the matmul work and one read of the weights."""
    if tokens <= 0:
        return 0.0
    flop = 2 * shape.matmul_params * tokens + 2 * shape.head_params
    compute = flop / machine.flops_for(dtype) * 1000
    return max(compute, decode_floor_ms(shape, machine, dtype))


def times_floor(measured: float | None, floor: float | None) -> str:
    """ "3.2× floor" — how far a measured figure is from its physical floor."""
    if measured is None or not floor:
        return "-"
    return f"{measured / floor:.1f}× floor"


def describe(machine: Machine) -> list[tuple[str, str]]:
    rows = [
        ("machine", f"{machine.description}, torch threads {machine.threads}"),
        ("memory read bandwidth", f"{machine.read_gbps:.1f} GB/s (copy {machine.copy_gbps:.1f})"),
    ]
    rows += [(f"matmul {dt}", f"{f / 1e9:,.0f} GFLOP/s") for dt, f in machine.flops.items()]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model directory or .gguf: print its floors too")
    parser.add_argument("--dtype", default="bfloat16", help="dtype the engine runs the model in")
    parser.add_argument("--context", type=int, default=1536, help="prompt tokens for the floors")
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--matmul-n", type=int, default=2048)
    parser.add_argument("--json", help="write the measurement here (replay.py --limits-json)")
    args = parser.parse_args(argv)

    machine = measure_machine(args.size_mb, args.matmul_n)
    rows = describe(machine)
    shape = None
    if args.model:
        shape = model_shape(args.model)
        rows += [
            ("model", f"{shape.name}: {shape.total_params / 1e6:,.2f} M parameters"),
            (
                f"decode floor ({args.dtype}, {args.context} cached positions)",
                f"{fmt(decode_floor_ms(shape, machine, args.dtype, args.context), ' ms/token', 2)}",
            ),
            (
                f"prefill floor, {args.context} tokens",
                fmt(prefill_floor_ms(shape, machine, args.dtype, args.context), " ms"),
            ),
            ("prefill floor, 1 token", fmt(prefill_floor_ms(shape, machine, args.dtype, 1), " ms")),
        ]
        if args.model.endswith(".gguf"):
            size = Path(args.model).stat().st_size
            rows.append(
                (
                    "decode floor reading the GGUF as stored (llama.cpp)",
                    fmt(
                        decode_floor_ms(shape, machine, "float16", args.context, size),
                        " ms/token",
                        2,
                    ),
                )
            )
    for k, v in rows:
        print(f"{k:55s} {v}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {"machine": asdict(machine), "model": asdict(shape) if shape else None}
        Path(args.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
