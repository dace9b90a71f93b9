"""The benchmark harness on the fixture model: the replay end to end against the real server (and a
stand-in llama-server), the statistics, the physical floors and llama.vim's /infill request."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.common import markdown_table, percentile, ratio, summarize, utf16_len
from benchmarks.limits import (
    Machine,
    ModelShape,
    decode_floor_ms,
    model_shape,
    prefill_floor_ms,
    times_floor,
)
from benchmarks.peer_llamacpp import InfillClient, infill_body, llama_server_command
from benchmarks.replay import apply_keystroke, make_plan, pick_span

SOURCE = '''import os


def first(path):
    return os.path.basename(path)


class Walker:
    def __init__(self, root):
        self.root = root

    def walk(self, pattern="*"):
        """Yield matching files."""
        found = []
        for name in os.listdir(self.root):
            if name.endswith(pattern):
                found.append(os.path.join(self.root, name))
        return found
'''


# -- statistics ---------------------------------------------------------------------------------
def test_percentiles_interpolate_between_ranks():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile(values, 100) == 4.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    s = summarize([10.0, None, 20.0, 30.0])
    assert s["n"] == 3 and s["p50"] == 20.0 and s["mean"] == 20.0 and s["max"] == 30.0
    assert summarize([])["p95"] is None


def test_ratios_guard_missing_and_zero():
    assert ratio(30.0, 120.0) == 0.25
    assert ratio(None, 1.0) is None
    assert ratio(1.0, 0.0) is None
    assert ratio(1.0, None) is None


def test_markdown_table_escapes_cells():
    table = markdown_table(["a", "b"], [["x|y", 1]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1 |"]


def test_utf16_length_counts_surrogate_pairs():
    assert utf16_len("ab") == 2
    assert utf16_len("a😀") == 3


# -- floors -------------------------------------------------------------------------------------
def _shape(tied: bool) -> ModelShape:
    # 10 M body, 2 M embedding, a 2 M head (the embedding again when tied).
    total = 10_000_000 + 2_000_000 + (0 if tied else 2_000_000)
    return ModelShape("m", total, 2_000_000, 2_000_000, tied, layers=4, kv_heads=2, head_dim=64)


def test_floors_follow_bandwidth_and_flops():
    machine = Machine("test", 2, read_gbps=10.0, copy_gbps=8.0, flops={"bfloat16": 1e12})
    for tied in (True, False):
        shape = _shape(tied)
        assert shape.matmul_params == 10_000_000
        assert shape.read_params == 12_000_000
        # 12 M parameters × 2 bytes over 10 GB/s = 2.4 ms; KV: 2·4·2·64·2 bytes per position.
        assert decode_floor_ms(shape, machine, "bfloat16") == pytest.approx(2.4)
        kv = 2 * 4 * 2 * 64 * 2 * 1000
        assert decode_floor_ms(shape, machine, "bfloat16", context=1000) == pytest.approx(
            2.4 + kv / 1e10 * 1000
        )
        # A quantized file read as stored.
        assert decode_floor_ms(shape, machine, "bfloat16", weight_bytes=5e6) == pytest.approx(0.5)
        # 1,000 tokens: 2 · 10 M · 1000 + 2 · 2 M FLOP at 1 TFLOP/s = 20.004 ms > the weight read.
        assert prefill_floor_ms(shape, machine, "bfloat16", 1000) == pytest.approx(20.004)
        # One token is bound by reading the weights once.
        assert prefill_floor_ms(shape, machine, "bfloat16", 1) == pytest.approx(2.4)
        assert prefill_floor_ms(shape, machine, "bfloat16", 0) == 0.0
    assert machine.flops_for("float32") == 1e12  # unmeasured dtype: the best measured
    assert times_floor(24.0, 2.4) == "10.0× floor"
    assert times_floor(None, 2.4) == "-"


def test_model_shape_of_the_fixture_model(tiny_model_dir):
    import torch
    from transformers import AutoModelForCausalLM

    shape = model_shape(str(tiny_model_dir))
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    assert shape.total_params == sum(p.numel() for p in model.parameters())
    assert shape.layers == model.config.num_hidden_layers
    assert shape.embedding_params == model.get_input_embeddings().weight.numel()
    assert 0 < shape.matmul_params < shape.read_params <= shape.total_params + shape.head_params


# -- the keystroke plan ---------------------------------------------------------------------------
def test_plan_types_the_erased_span_back_exactly():
    plan = make_plan(SOURCE, "walker.py", None, 4)
    # The body of walk(), after its docstring: the nearest body with enough lines.
    assert plan.final_lines[plan.start_line].strip() == "found = []"
    assert plan.n_lines == 4
    assert plan.initial_lines[plan.start_line] == "        "  # the indentation is kept
    assert plan.start_cursor == (plan.start_line, 8)
    newlines = [ks for ks in plan.keystrokes if ks.text.startswith("\n")]
    assert [ks.text for ks in newlines] == ["\n        ", "\n            ", "\n                "]
    assert all(len(ks.text) == 1 for ks in plan.keystrokes if ks not in newlines)
    lines = list(plan.initial_lines)
    for ks in plan.keystrokes:
        assert lines[ks.line][: ks.character] == plan.final_lines[ks.line][: ks.character]
        apply_keystroke(lines, ks)
        assert len(lines[ks.cursor[0]]) >= ks.cursor[1]
    assert lines == plan.final_lines == SOURCE.split("\n")


def test_plan_with_an_explicit_span_and_non_python_fallback():
    plan = make_plan(SOURCE, "walker.py", 4, 1)
    assert plan.keystrokes[0].text == "r" and plan.n_lines == 1
    assert "".join(ks.text for ks in plan.keystrokes) == "return os.path.basename(path)"
    start, count = pick_span("a\n\n\nb\nc\n", "x.txt", 2, depth=0.4)
    assert (start, count) == (3, 2)  # the first non-blank line at that depth
    with pytest.raises(ValueError):
        make_plan(SOURCE, "walker.py", 999, 1)


# -- the peer's request -----------------------------------------------------------------------------
def test_infill_body_is_llama_vim_shaped():
    lines = [f"line{i}" for i in range(10)] + ["    total = sum(x)", "tail0", "tail1"]
    body = infill_body(lines, 10, len("    total = "), n_predict=16, prefix_lines=3, suffix_lines=1)
    assert body["input_prefix"] == "line7\nline8\nline9\n"
    assert body["prompt"] == "    total = "
    assert body["input_suffix"] == "sum(x)\ntail0\n"
    assert body["n_predict"] == 16 and body["n_indent"] == 4
    assert body["cache_prompt"] is True
    assert body["top_k"] == 1 and body["samplers"] == ["top_k"]  # greedy, like our first candidate
    assert body["stop"] == ["\n"] and body["stream"] is False
    assert "t_max_prompt_ms" not in body
    multi = infill_body(lines, 0, 0, single_line=False, stream=True, t_max_prompt_ms=500)
    assert "stop" not in multi and multi["stream"] is True and multi["t_max_prompt_ms"] == 500
    assert multi["input_prefix"] == "" and multi["prompt"] == ""
    json.dumps(body)  # plain JSON


def test_llama_server_command_enables_prompt_cache_reuse():
    cmd = llama_server_command("bin/llama-server", "m.gguf", 8012, threads=2)
    assert cmd[:3] == ["bin/llama-server", "-m", "m.gguf"]
    assert cmd[cmd.index("--cache-reuse") + 1] == "256"
    assert cmd[cmd.index("-b") + 1] == "1536" and cmd[cmd.index("-np") + 1] == "1"
    assert cmd[cmd.index("-t") + 1] == "2"


class FakeLlamaServer:
    """Answers /infill like llama-server (timings, tokens_cached), plain JSON or SSE chunks."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.bodies.append(body)
                prompt = len(body["input_prefix"]) // 4 + len(body["prompt"])
                final = {
                    "content": "" if body.get("stream") else "x = 1",
                    "tokens_evaluated": prompt,
                    "tokens_cached": prompt + 3,
                    "timings": {
                        "prompt_n": 2,
                        "prompt_ms": 4.0,
                        "predicted_n": 3,
                        "predicted_ms": 6.0,
                    },
                }
                if not body.get("stream"):
                    data = json.dumps(final).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for event in ({"content": "x"}, {"content": " = 1"}, final):
                    chunk = b"data: " + json.dumps(event).encode() + b"\n\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLlamaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_infill_client_reads_timings_plain_and_streamed():
    lines = SOURCE.split("\n")
    with FakeLlamaServer() as fake:
        client = InfillClient(fake.url)
        plain = asyncio.run(client.infill(infill_body(lines, 14, 13)))
        streamed = asyncio.run(client.infill(infill_body(lines, 14, 13, stream=True)))
    for result in (plain, streamed):
        assert result.status == 200 and result.content == "x = 1"
        assert (result.prompt_n, result.predicted_n) == (2, 3)
        assert (result.prompt_ms, result.predicted_ms) == (4.0, 6.0)
        assert result.tokens_cached == result.prompt_tokens + 3
        assert result.answered >= result.sent
    assert plain.first_token is None
    assert streamed.sent <= streamed.first_token <= streamed.answered
    assert [b["prompt"] for b in fake.bodies] == ["        for n", "        for n"]


# -- the replay, end to end -------------------------------------------------------------------------
def test_replay_through_the_real_server_in_both_modes_and_the_peer(tiny_model_dir, tmp_path):
    from benchmarks.replay import COLD, PEER, WARM, main

    source = tmp_path / "walker.py"
    source.write_text(SOURCE * 3, encoding="utf-8")  # the span is deep in the file
    out = tmp_path / "replay-tiny.md"
    with FakeLlamaServer() as fake:
        runs = main(
            [
                "--model",
                str(tiny_model_dir),
                "--file",
                str(source),
                "--lines",
                "2",
                "--max-keystrokes",
                "4",
                "--debounce-ms",
                "60",
                "--no-limits",
                "--no-plot",
                "--peer-url",
                fake.url,
                "--out",
                str(out),
            ]
        )
    assert list(runs) == [WARM, COLD, PEER]
    for run in runs.values():
        assert len(run.records) == 4
        assert [r.index for r in run.records] == [0, 1, 2, 3]
        assert run.first_request_ms is not None and run.first_request_ms > 0
        last = run.records[-1]
        assert last.status in ("shown", "empty")  # the last keystroke is waited for in full
        assert last.latency_ms > 0
        for r in run.records[:-1]:
            assert r.superseded or r.answered is not None
    assert runs[WARM].stats["reusedTokens"] > 0  # the warm-up filled the cache
    assert runs[COLD].stats["reusedTokens"] == 0
    assert runs[WARM].stats["settings"]["kvReuse"] is True
    assert runs[COLD].stats["settings"]["kvReuse"] is False
    assert runs[WARM].memory["rss"] > 0
    # The peer got the same document as the replay typed it: 1 warm-up + 4 keystrokes.
    assert len(fake.bodies) == 5 and all(b["cache_prompt"] for b in fake.bodies)
    assert fake.bodies[-1]["prompt"].strip() == "".join(
        ks.text for ks in make_plan(SOURCE * 3, str(source), None, 2).keystrokes[:4]
    )
    report = out.read_text(encoding="utf-8")
    for title in ("ours, KV reuse on", "ours, KV reuse off", "llama.cpp /infill"):
        assert title in report
    assert "warm ÷ cold" in report and "ours (reuse on) ÷ llama.cpp" in report
    assert "latency p99" in report and "prompt tokens served from the KV cache" in report
    raw = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert set(raw) == {WARM, COLD, PEER}
    assert len(raw[WARM]["records"]) == 4


def test_plot_writes_a_png(tmp_path):
    from benchmarks.replay import COLD, WARM, Record, Run, plot

    warm = Run(WARM, [Record(0, 0.0, 0.05), Record(1, 0.1, 0.12, superseded=True)])
    cold = Run(COLD, [Record(0, 0.0, 0.5)])
    path = tmp_path / "plot.png"
    assert plot({WARM: warm, COLD: cold}, path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_overhead_stages_on_a_long_file(tiny_model_dir):
    from benchmarks.overhead import STAGES, load_tokenizer, measure

    tokenizer, limit = load_tokenizer(str(tiny_model_dir))
    text = "\n".join([SOURCE] * 20)  # ~400 lines: the same code path as 5,000, quicker
    times = measure(
        text,
        "walker.py",
        tokenizer,
        position_limit=limit,
        span_lines=2,
        max_keystrokes=12,
        warmup=2,
    )
    assert list(times) == [*STAGES, "total outside the model"]
    assert all(len(v) == 10 for v in times.values())
    assert all(x >= 0 for v in times.values() for x in v)
    total = times["total outside the model"]
    assert total == pytest.approx(
        [sum(parts) for parts in zip(*list(times.values())[:-1], strict=True)]
    )
