"""Typing replay through the real server over stdio, with KV reuse on and off, and the llama.cpp peer.

A held-out source file is opened with a span of real lines erased deep inside it (by default the
start of a function body), and the span is typed back one character at a time the way an editor
sends it: an incremental `textDocument/didChange` per keystroke (a newline carries the next line's
indentation, as auto-indent does), then an automatic `textDocument/inlineCompletion`. Keystrokes
come every `--debounce-ms`; when the next keystroke arrives before the answer, the editor sends
`$/cancelRequest` and the request counts as superseded. The client asks for the server's
`codecomp/completionStream` notifications, so the time to first token is measured as the client
sees it, and polls `codecomp/stats` after each answer for the tokens reused, prefilled and generated.

The whole replay runs once per mode, each against a fresh server: KV reuse on (`kvReuse: true`,
the product) and off (every keystroke prefills its whole prompt). With `--peer-url` (a running
llama-server) or `--llama-server BIN` (started here on the same GGUF), the same keystrokes go to
llama.cpp's `/infill` as llama.vim sends them. Figures are printed beside the physical floors of
this machine (benchmarks/limits.py).

    python benchmarks/replay.py --model PATH [--file F] [--start-line L --lines N] [--debounce-ms 75]
        [--out benchmarks/results/replay-NAME.md] [--peer-url http://127.0.0.1:PORT | --llama-server BIN]

Lines are 0-based. Writes NAME.md (the tables), NAME.png (latency per keystroke) and NAME.json
(every request).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import json
import os
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    RESULTS,
    fmt,
    fmt_ratio,
    machine_description,
    markdown_table,
    process_memory,
    ratio,
    summarize,
    utf16_len,
)
from benchmarks.lsp_client import LspClient, LspError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

STATS = "codecomp/stats"
STREAM = "codecomp/completionStream"
AUTOMATIC = 2  # InlineCompletionTriggerKind.Automatic
REQUEST_CANCELLED = -32800
WARM, COLD, PEER = "warm", "cold", "llama.cpp"
MODE_TITLES = {
    WARM: "ours, KV reuse on",
    COLD: "ours, KV reuse off",
    PEER: "llama.cpp /infill",
}


# -- the keystrokes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Keystroke:
    text: str  # inserted at (line, character)
    line: int
    character: int  # code points
    cursor: tuple[int, int]  # (line, code points) after the insertion


@dataclass
class Plan:
    path: str
    language: str
    start_line: int
    n_lines: int
    initial_lines: list[str]  # the document with the span erased (its first indentation kept)
    keystrokes: list[Keystroke]
    final_lines: list[str]  # the document once everything is typed

    @property
    def initial_text(self) -> str:
        return "\n".join(self.initial_lines)

    @property
    def start_cursor(self) -> tuple[int, int]:
        return self.start_line, len(self.initial_lines[self.start_line])


LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".cc": "cpp",
}


def default_file() -> Path:
    # 100 KB, above the size limit of the offline training corpus (codecomp_lsp.training.corpus).
    return Path(sysconfig.get_paths()["stdlib"]) / "argparse.py"


def _leading(s: str) -> str:
    return s[: len(s) - len(s.lstrip(" \t"))]


def pick_span(text: str, path: str, lines: int, depth: float = 0.7) -> tuple[int, int]:
    """(start line, line count) of a function body near `depth` of the file (Python: the nearest
    body with at least `lines` lines of code after its docstring, else the nearest of 3+ lines), or
    else a run of lines at that depth starting on a non-blank line."""
    rows = text.split("\n")
    target = int(len(rows) * depth)
    if path.endswith(".py"):
        try:
            tree = ast.parse(text)
        except SyntaxError:
            tree = None
        best: tuple[tuple[bool, int], int, int] | None = None
        for node in ast.walk(tree) if tree else ():
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                body = body[1:]  # type the code, not the docstring
            if not body:
                continue
            start = body[0].lineno - 1
            end = node.end_lineno or start + 1
            if end - start < min(lines, 3):
                continue
            # Bodies long enough for the whole span first, then the one nearest the target depth.
            score = (end - start < lines, abs(start - target))
            if best is None or score < best[0]:
                best = (score, start, min(lines, end - start))
        if best is not None:
            return best[1], best[2]
    start = min(max(0, target), max(0, len(rows) - 1))
    while start < len(rows) - 1 and not rows[start].strip():
        start += 1
    return start, max(1, min(lines, len(rows) - start))


def make_plan(text: str, path: str, start_line: int | None, n_lines: int) -> Plan:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows = text.split("\n")
    if start_line is None:
        start_line, n_lines = pick_span(text, path, n_lines)
    if not 0 <= start_line < len(rows):
        raise ValueError(f"start line {start_line} is outside the file ({len(rows)} lines)")
    span = rows[start_line : start_line + max(1, n_lines)]
    indent0 = _leading(span[0])
    initial = rows[:start_line] + [indent0] + rows[start_line + len(span) :]
    keystrokes: list[Keystroke] = []
    line, col = start_line, len(indent0)
    for i, row in enumerate(span):
        indent = _leading(row)
        if i > 0:
            keystrokes.append(Keystroke("\n" + indent, line, col, (line + 1, len(indent))))
            line, col = line + 1, len(indent)
        for ch in row[len(indent) :]:
            keystrokes.append(Keystroke(ch, line, col, (line, col + 1)))
            col += 1
    language = LANGUAGES.get(Path(path).suffix, "plaintext")
    return Plan(path, language, start_line, len(span), initial, keystrokes, rows)


def apply_keystroke(lines: list[str], ks: Keystroke) -> None:
    """Apply one keystroke to a list of lines in place."""
    row = lines[ks.line]
    head, tail = row[: ks.character], row[ks.character :]
    parts = (head + ks.text + tail).split("\n")
    lines[ks.line : ks.line + 1] = parts


# -- one request, as recorded ---------------------------------------------------------------
@dataclass
class Record:
    index: int  # keystroke index (-1: the warm-up request)
    sent: float
    answered: float | None = None
    superseded: bool = False  # the next keystroke came first: the editor cancelled it
    error: str | None = None
    items: int = 0
    text: str = ""
    first_text: float | None = None  # first streamed text (ours) or streamed chunk (peer)
    last_text: float | None = None
    streamed: int = 0  # streamed updates carrying new text
    done: bool = False  # the server ran the model path (it always ends a stream with `done`)
    prompt_tokens: int | None = None
    reused_tokens: int | None = None
    prefilled_tokens: int | None = None
    generated_tokens: int | None = None
    prefill_ms: float | None = None  # peer: timings.prompt_ms
    decode_ms: float | None = None  # peer: timings.predicted_ms

    @property
    def latency_ms(self) -> float | None:
        return None if self.answered is None else (self.answered - self.sent) * 1000

    @property
    def ttft_ms(self) -> float | None:
        return None if self.first_text is None else (self.first_text - self.sent) * 1000

    @property
    def status(self) -> str:
        if self.superseded:
            return "superseded"
        if self.answered is None:
            return "unanswered"
        if self.error:
            return "error"
        return "shown" if self.items else "empty"


@dataclass
class Run:
    mode: str
    records: list[Record] = field(default_factory=list)
    first_request_ms: float | None = None
    load_s: float | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, int | None] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    wall_s: float | None = None


# -- the editor: typing into our server -----------------------------------------------------
def client_capabilities() -> dict[str, Any]:
    return {
        "general": {"positionEncodings": ["utf-16"]},
        "textDocument": {
            "synchronization": {"dynamicRegistration": False},
            "inlineCompletion": {"dynamicRegistration": False},
        },
        "window": {"workDoneProgress": False},
        "experimental": {"codecompCompletionStream": True},
    }


def server_options(args: argparse.Namespace, kv_reuse: bool) -> dict[str, Any]:
    options: dict[str, Any] = {
        "model": args.model,
        "kvReuse": kv_reuse,
        "maxNewTokens": args.max_new_tokens,
        "maxPromptTokens": args.prompt_tokens,
        "multiline": args.multiline,
        "device": args.device,
        "dtype": args.dtype,
        "diagnostics": args.diagnostics,
    }
    if args.time_budget_ms is not None:
        options["timeBudgetMs"] = args.time_budget_ms
    for item in args.setting:
        name, _, value = item.partition("=")
        options[name] = json.loads(value)
    return options


def _position(lines: list[str], line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": utf16_len(lines[line][:character])}


async def wait_for_model(client: LspClient, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info = await client.request(STATS, {}, timeout=60)
        if info.get("modelState") in ("ready", "failed"):
            return info
        if time.monotonic() > deadline:
            raise TimeoutError(f"model still {info.get('modelState')} after {timeout:.0f} s")
        await asyncio.sleep(0.2)


TOKEN_COUNTERS = ("promptTokens", "reusedTokens", "prefilledTokens", "generatedTokens")


async def run_ours(plan: Plan, args: argparse.Namespace, mode: str, log_dir: Path) -> Run:
    run = Run(mode)
    cmd = args.server_cmd.split() if args.server_cmd else [sys.executable, "-m", "codecomp_lsp"]
    cmd += ["--log-level", "WARNING"]
    log_path = log_dir / f"server-{mode}.log"
    with open(log_path, "wb") as log_file:
        client = await LspClient.start(*cmd, stderr=log_file)
        try:
            await _drive_ours(client, plan, args, mode, run)
        except Exception:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            print(f"server log ({log_path}):\n{tail}", file=sys.stderr)
            raise
        finally:
            await client.shutdown()
    return run


async def _drive_ours(
    client: LspClient, plan: Plan, args: argparse.Namespace, mode: str, run: Run
) -> None:
    by_version: dict[int, Record] = {}

    def on_stream(params: Any, now: float) -> None:
        record = by_version.get((params or {}).get("version"))
        if record is None:
            return
        if params.get("done"):
            record.done = True
            return
        if params.get("text"):
            record.first_text = record.first_text or now
            record.last_text = now
            record.streamed += 1

    client.handlers[STREAM] = on_stream
    started = time.perf_counter()
    await client.initialize(client_capabilities(), server_options(args, mode == WARM))
    info = await wait_for_model(client, args.load_timeout)
    run.load_s = time.perf_counter() - started
    if info.get("modelState") != "ready":
        raise RuntimeError(f"model failed to load: {info.get('modelError')}")

    uri = Path(plan.path).resolve().as_uri()
    lines = list(plan.initial_lines)
    version = 1
    client.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": plan.language,
                "version": version,
                "text": plan.initial_text,
            }
        },
    )

    def inline(line: int, character: int) -> Any:
        return client.send_request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": _position(lines, line, character),
                "context": {"triggerKind": AUTOMATIC},
            },
        )

    # The first request of a session fills the cache: measured, but not part of the replay.
    warm_up = inline(*plan.start_cursor)
    by_version[version] = Record(-1, warm_up.sent)
    await client.drain()
    await asyncio.wait_for(warm_up.future, args.request_timeout)
    run.first_request_ms = (warm_up.answered - warm_up.sent) * 1000
    await client.request(STATS, {"reset": True})
    last_counts = dict.fromkeys(TOKEN_COUNTERS, 0)
    stats_lock = asyncio.Lock()

    async def watch(record: Record, pending: Any) -> None:
        try:
            result = await pending.future
        except LspError as exc:
            record.answered = pending.answered
            record.error = "cancelled" if exc.code == REQUEST_CANCELLED else str(exc)
            return
        except ConnectionError as exc:
            record.error = str(exc)
            return
        record.answered = pending.answered
        items = (result or {}).get("items", []) if isinstance(result, dict) else result or []
        record.items = len(items)
        record.text = items[0].get("insertText", "") if items else ""
        if isinstance(record.text, dict):  # a StringValue snippet
            record.text = record.text.get("value", "")
        if args.per_request_stats:
            async with stats_lock:
                snapshot = await client.request(STATS, {})
                counts = {k: int(snapshot.get(k, 0)) for k in TOKEN_COUNTERS}
                delta = {k: counts[k] - last_counts[k] for k in TOKEN_COUNTERS}
                last_counts.update(counts)
            # Counters move when a generation ends, superseded ones too. A window holding at most
            # `maxPromptTokens` prompt tokens holds exactly one generation (prompts this deep in a
            # file fill more than half the budget): only such windows give per-request figures.
            if record.done and 0 < delta["promptTokens"] <= args.prompt_tokens:
                record.prompt_tokens = delta["promptTokens"]
                record.reused_tokens = delta["reusedTokens"]
                record.prefilled_tokens = delta["prefilledTokens"]
                record.generated_tokens = delta["generatedTokens"]

    interval = args.debounce_ms / 1000
    watchers: list[asyncio.Task] = []
    previous: tuple[Record, Any] | None = None
    t0 = time.perf_counter() + 0.05
    due = t0
    for index, ks in enumerate(plan.keystrokes):
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if previous is not None and previous[1].answered is None:
            previous[0].superseded = True
            client.cancel(previous[1].id)
        version += 1
        at = _position(lines, ks.line, ks.character)
        apply_keystroke(lines, ks)
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": ks.text}],
            },
        )
        pending = inline(*ks.cursor)
        record = Record(index, pending.sent)
        by_version[version] = record
        run.records.append(record)
        watchers.append(asyncio.ensure_future(watch(record, pending)))
        previous = (record, pending)
        await client.drain()
        due += interval
        if ks.text.startswith("\n"):
            due += args.line_pause_ms / 1000
    # The last keystroke's answer is what the user finally sees: wait for it in full.
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*watchers), args.request_timeout)
    run.wall_s = time.perf_counter() - t0
    run.stats = await client.request(STATS, {})
    run.memory = process_memory(client.pid)
    run.info = {k: run.stats.get(k) for k in ("model", "device", "dtype", "template", "cacheBytes")}


# -- the editor: typing into llama-server ---------------------------------------------------
async def run_peer(
    plan: Plan, args: argparse.Namespace, base_url: str, pid: int | None = None
) -> Run:
    from benchmarks.peer_llamacpp import InfillClient, infill_body

    run = Run(PEER)
    client = InfillClient(base_url)
    lines = list(plan.initial_lines)

    def body(line: int, character: int) -> dict[str, Any]:
        return infill_body(
            lines,
            line,
            character,
            n_predict=args.max_new_tokens,
            prefix_lines=args.peer_prefix_lines,
            suffix_lines=args.peer_suffix_lines,
            single_line=args.multiline == "never",
            stream=args.peer_stream,
        )

    started = time.perf_counter()
    first = await client.infill(body(*plan.start_cursor), timeout=args.request_timeout)
    run.first_request_ms = (first.answered - first.sent) * 1000
    run.load_s = None

    async def one(record: Record, request: dict[str, Any]) -> None:
        try:
            result = await client.infill(request, timeout=args.request_timeout)
        except asyncio.CancelledError:
            record.error = "cancelled"
            raise
        except OSError as exc:
            record.error = str(exc)
            return
        record.sent = result.sent
        record.answered = result.answered
        if result.status != 200:
            record.error = f"HTTP {result.status}"
            return
        record.text = result.content
        record.items = 1 if result.content.strip() else 0
        record.first_text = result.first_token
        record.done = True
        record.prompt_tokens = result.prompt_tokens
        if result.prompt_tokens is not None and result.prompt_n is not None:
            record.prefilled_tokens = result.prompt_n
            record.reused_tokens = max(0, result.prompt_tokens - result.prompt_n)
        record.generated_tokens = result.predicted_n
        record.prefill_ms = result.prompt_ms
        record.decode_ms = result.predicted_ms
        if record.first_text is None and result.prompt_ms is not None:
            # Not streamed (as llama.vim asks): the server's own prompt time plus one token.
            per_token = (result.predicted_ms or 0) / max(1, result.predicted_n or 1)
            record.first_text = record.sent + (result.prompt_ms + per_token) / 1000
        record.streamed = result.predicted_n or 0

    interval = args.debounce_ms / 1000
    tasks: list[asyncio.Task] = []
    previous: tuple[Record, asyncio.Task] | None = None
    t0 = time.perf_counter() + 0.05
    due = t0
    for index, ks in enumerate(plan.keystrokes):
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if previous is not None and not previous[1].done():
            previous[0].superseded = True
            previous[1].cancel()  # closes the connection, as llama.vim's jobstop kills curl
        apply_keystroke(lines, ks)
        record = Record(index, time.perf_counter())
        task = asyncio.ensure_future(one(record, body(*ks.cursor)))
        run.records.append(record)
        tasks.append(task)
        previous = (record, task)
        due += interval
        if ks.text.startswith("\n"):
            due += args.line_pause_ms / 1000
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), args.request_timeout)
    run.wall_s = time.perf_counter() - t0
    if pid is not None:
        run.memory = process_memory(pid)
    run.info = {"server": base_url, "setup_s": time.perf_counter() - started}
    return run


# -- summaries ------------------------------------------------------------------------------
def summarize_run(run: Run) -> dict[str, Any]:
    answered = [r for r in run.records if r.status in ("shown", "empty")]
    model = [r for r in answered if r.done]
    by_status: dict[str, int] = {}
    for r in run.records:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    with_tokens = [r for r in run.records if r.prompt_tokens]
    prompt = sum(r.prompt_tokens or 0 for r in with_tokens)
    reused = sum(r.reused_tokens or 0 for r in with_tokens)
    if run.mode != PEER and run.stats.get("promptTokens"):
        prompt, reused = run.stats["promptTokens"], run.stats["reusedTokens"]
    # Decode speed from the stream: updates after the first one, over the time they took.
    rates: list[float] = []
    decode_tokens = decode_s = 0.0
    for r in model:
        if run.mode == PEER:
            if r.generated_tokens and r.decode_ms:
                decode_tokens += r.generated_tokens
                decode_s += r.decode_ms / 1000
        elif r.streamed >= 2 and r.last_text and r.first_text and r.last_text > r.first_text:
            decode_tokens += r.streamed - 1
            decode_s += r.last_text - r.first_text
            rates.append((r.streamed - 1) / (r.last_text - r.first_text))
    return {
        "keystrokes": len(run.records),
        "by_status": by_status,
        "typed_ahead": sum(1 for r in answered if not r.done and r.items),
        "latency": summarize(r.latency_ms for r in answered),
        "latency_model": summarize(r.latency_ms for r in model),
        "ttft": summarize(r.ttft_ms for r in model),
        "prompt_tokens_mean": summarize(r.prompt_tokens for r in with_tokens)["mean"],
        "prefilled": summarize(r.prefilled_tokens for r in with_tokens),
        "generated_mean": summarize(r.generated_tokens for r in with_tokens)["mean"],
        "reuse_ratio": ratio(reused, prompt),
        "prompt_total": prompt,
        "reused_total": reused,
        "decode_tps": decode_tokens / decode_s if decode_s > 0 else None,
        "engine_ttft": (run.stats.get("firstTokenMs") or {}) if run.mode != PEER else {},
        "generated_total": run.stats.get("generatedTokens")
        if run.mode != PEER
        else sum(r.generated_tokens or 0 for r in run.records),
    }


@dataclass
class Floors:
    """Physical floors (benchmarks/limits.py) for the model at the replay's prompt size."""

    machine: Any
    shape: Any
    dtype: str
    gguf_bytes: int | None = None

    def decode_ms(self, context: float | None, peer: bool = False) -> float:
        from benchmarks.limits import decode_floor_ms

        if peer and self.gguf_bytes:
            return decode_floor_ms(
                self.shape, self.machine, "float16", int(context or 0), self.gguf_bytes
            )
        return decode_floor_ms(self.shape, self.machine, self.dtype, int(context or 0))

    def ttft_ms(self, prefilled: float | None) -> float:
        from benchmarks.limits import prefill_floor_ms

        return prefill_floor_ms(self.shape, self.machine, self.dtype, max(1, int(prefilled or 1)))


def _pair(a: float | None, b: float | None, unit: str = "") -> str:
    return f"{fmt(a, unit)} / {fmt(b, unit)}"


def column(mode: str, s: dict[str, Any], run: Run, args: argparse.Namespace) -> dict[str, str]:
    """One mode's cells of the main table, by row label."""
    peer = mode == PEER
    status = s["by_status"]
    mib = {k: (run.memory.get(k) or 0) / 2**20 or None for k in ("rss", "peak_rss")}
    engine = s["engine_ttft"]
    reuse = s["reuse_ratio"]
    return {
        "keystrokes (one request each)": str(s["keystrokes"]),
        "answered: shown / empty · superseded": (
            f"{status.get('shown', 0)} / {status.get('empty', 0)} · {status.get('superseded', 0)}"
        ),
        "answered without the model (typed-ahead)": "-" if peer else str(s["typed_ahead"]),
        "latency p50 (answered)": fmt(s["latency"]["p50"], " ms"),
        "latency p95": fmt(s["latency"]["p95"], " ms"),
        "latency p99": fmt(s["latency"]["p99"], " ms"),
        "latency p50 / p95, model runs only": _pair(
            s["latency_model"]["p50"], s["latency_model"]["p95"], " ms"
        ),
        "time to first token p50 / p95 (client)": _pair(s["ttft"]["p50"], s["ttft"]["p95"], " ms")
        + (" (est.)" if peer and not args.peer_stream else ""),
        "engine first token p50 / p95 (server stats)": "-"
        if peer
        else _pair(engine.get("p50"), engine.get("p95"), " ms"),
        "prompt tokens per request (mean)": fmt(s["prompt_tokens_mean"]),
        "prefilled tokens per request p50 / mean": _pair(
            s["prefilled"]["p50"], s["prefilled"]["mean"]
        )
        + f" (n={s['prefilled']['n']})",
        "prompt tokens served from the KV cache": "-"
        if reuse is None
        else f"{reuse:.1%} ({s['reused_total']:,}/{s['prompt_total']:,})",
        "generated tokens per request (mean)": fmt(s["generated_mean"]),
        "decode tokens/s": fmt(s["decode_tps"], " tok/s"),
        "first request of the session (empty cache)": fmt(run.first_request_ms, " ms"),
        "model load (server start → ready)": fmt(run.load_s, " s"),
        "server RSS / peak": _pair(mib["rss"], mib["peak_rss"], " MiB"),
    }


def build_report(
    runs: dict[str, Run], plan: Plan, args: argparse.Namespace, floors: Floors | None
) -> str:
    sums = {mode: summarize_run(run) for mode, run in runs.items()}
    modes = list(runs)
    columns = {m: column(m, sums[m], runs[m], args) for m in modes}
    labels = list(columns[modes[0]])
    headers = ["measure", *[MODE_TITLES.get(m, m) for m in modes]]
    rows = [[label, *[columns[m][label] for m in modes]] for label in labels]
    out = [markdown_table(headers, rows)]

    ratio_rows = []

    def ratio_row(label: str, a: str, b: str) -> None:
        if a in sums and b in sums:
            sa, sb = sums[a], sums[b]
            ratio_rows.append(
                [
                    label,
                    fmt_ratio(ratio(sa["latency"]["p50"], sb["latency"]["p50"])),
                    fmt_ratio(ratio(sa["latency"]["p95"], sb["latency"]["p95"])),
                    fmt_ratio(ratio(sa["latency"]["p99"], sb["latency"]["p99"])),
                    fmt_ratio(ratio(sa["ttft"]["p50"], sb["ttft"]["p50"])),
                ]
            )

    ratio_row("warm ÷ cold (ours, reuse on ÷ off)", WARM, COLD)
    ratio_row("ours (reuse on) ÷ llama.cpp", WARM, PEER)
    ratio_row("ours (reuse off) ÷ llama.cpp", COLD, PEER)
    if ratio_rows:
        out.append(
            markdown_table(
                ["ratio", "latency p50", "latency p95", "latency p99", "first token p50"],
                ratio_rows,
            )
        )

    if floors is not None:
        from benchmarks.limits import times_floor

        floor_rows = []
        for mode in modes:
            s = sums[mode]
            context = s["prompt_tokens_mean"] or args.prompt_tokens
            decode_floor = floors.decode_ms(context, peer=mode == PEER)
            measured_decode = 1000 / s["decode_tps"] if s["decode_tps"] else None
            floor_rows.append(
                [
                    MODE_TITLES.get(mode, mode),
                    "decode ms/token",
                    fmt(measured_decode, " ms", 2),
                    fmt(decode_floor, " ms", 2),
                    times_floor(measured_decode, decode_floor),
                ]
            )
            prefilled = s["prefilled"]["p50"]
            ttft_floor = floors.ttft_ms(prefilled)
            floor_rows.append(
                [
                    MODE_TITLES.get(mode, mode),
                    f"first token p50 ({fmt(prefilled)} tokens prefilled)",
                    fmt(s["ttft"]["p50"], " ms"),
                    fmt(ttft_floor, " ms", 2),
                    times_floor(s["ttft"]["p50"], ttft_floor),
                ]
            )
        out.append(markdown_table(["mode", "figure", "measured", "floor", "× floor"], floor_rows))
        m = floors.machine
        flops = ", ".join(f"{k} {v / 1e9:,.0f} GFLOP/s" for k, v in m.flops.items())
        out.append(
            f"Floors: memory read {m.read_gbps:.1f} GB/s, matmul {flops}; model "
            f"{floors.shape.total_params / 1e6:,.1f} M parameters "
            f"({floors.shape.read_params / 1e6:,.1f} M read per token) in {floors.dtype}"
            + (
                f"; llama.cpp reads the GGUF as stored ({floors.gguf_bytes / 2**20:,.0f} MiB)"
                if floors.gguf_bytes and PEER in runs
                else ""
            )
            + ". Decode floor = (weights + KV) ÷ bandwidth; first-token floor = max(2 · params ·"
            " prefilled tokens ÷ FLOP/s, one read of the weights)."
        )
    return "\n\n".join(out)


def header(plan: Plan, args: argparse.Namespace, runs: dict[str, Run]) -> str:
    info = next(
        (r.info for r in runs.values() if r.mode != PEER),
        {"model": Path(args.peer_gguf or args.model).name, "device": "-", "dtype": "GGUF"},
    )
    typed = "".join(ks.text for ks in plan.keystrokes)
    return "\n".join(
        [
            f"- machine: {machine_description()}",
            f"- model: {info.get('model')} on {info.get('device')} ({info.get('dtype')}), "
            f"template {info.get('template')}",
            f"- file: `{Path(plan.path).name}` lines {plan.start_line}–"
            f"{plan.start_line + plan.n_lines - 1} erased and typed back: "
            f"{len(plan.keystrokes)} keystrokes, {len(typed)} characters",
            f"- typing: one keystroke every {args.debounce_ms:g} ms"
            + (
                f", {args.line_pause_ms:g} ms pause after each newline"
                if args.line_pause_ms
                else ""
            )
            + "; a request after every keystroke, superseded requests cancelled",
            f"- settings: maxPromptTokens {args.prompt_tokens}, maxNewTokens {args.max_new_tokens}, "
            f"multiline {args.multiline}",
            "- latency = request sent → response read, over requests answered before the next "
            "keystroke; first token = the first streamed text (`codecomp/completionStream`)",
        ]
    )


def plot(runs: dict[str, Run], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)", file=sys.stderr)
        return False
    fig, ax = plt.subplots(figsize=(11, 4.5))
    colors = {WARM: "tab:blue", COLD: "tab:red", PEER: "tab:green"}
    for mode, run in runs.items():
        color = colors.get(mode, "tab:gray")
        shown = [(r.index, r.latency_ms) for r in run.records if r.status in ("shown", "empty")]
        dropped = [(r.index, r.latency_ms) for r in run.records if r.superseded and r.latency_ms]
        if shown:
            xs, ys = zip(*shown, strict=True)
            ax.plot(xs, ys, "o-", ms=3, lw=0.8, color=color, label=f"{MODE_TITLES[mode]}: answered")
        if dropped:
            xs, ys = zip(*dropped, strict=True)
            ax.plot(
                xs, ys, "x", ms=3, color=color, alpha=0.35, label=f"{MODE_TITLES[mode]}: superseded"
            )
    ax.set_yscale("log")
    ax.set_xlabel("keystroke")
    ax.set_ylabel("latency (ms, log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# -- main -----------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="model directory or .gguf file")
    p.add_argument("--file", default=None, help="source file to type (default: stdlib argparse.py)")
    p.add_argument("--start-line", type=int, default=None, help="0-based first line to erase")
    p.add_argument("--lines", type=int, default=8, help="lines to erase and type back")
    p.add_argument("--max-keystrokes", type=int, default=0, help="stop after this many (0: all)")
    p.add_argument("--debounce-ms", type=float, default=75, help="time between keystrokes")
    p.add_argument("--line-pause-ms", type=float, default=0, help="extra pause after a newline")
    p.add_argument(
        "--modes", default="warm,cold", help="warm (KV reuse on), cold (off); none: the peer only"
    )
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--prompt-tokens", type=int, default=1536)
    p.add_argument("--multiline", default="never", choices=["auto", "always", "never"])
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--time-budget-ms", type=int, default=None)
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        help="another server setting as NAME=JSON, e.g. backgroundPrefill=false (repeatable)",
    )
    p.add_argument(
        "--diagnostics",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="leave the server's syntax diagnostics on, as an editor would",
    )
    p.add_argument(
        "--per-request-stats",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="poll codecomp/stats after every answer for per-request token counts",
    )
    p.add_argument(
        "--server-cmd", default=None, help="server command (default: this python -m codecomp_lsp)"
    )
    p.add_argument(
        "--peer-url", default=None, help="a running llama-server, e.g. http://127.0.0.1:8012"
    )
    p.add_argument(
        "--llama-server", default=None, help="llama-server binary: start it on --peer-gguf"
    )
    p.add_argument(
        "--peer-gguf", default=None, help="GGUF for the peer (default: --model if .gguf)"
    )
    p.add_argument("--peer-threads", type=int, default=None)
    p.add_argument(
        "--peer-args", default="", help="extra llama-server arguments, e.g. '--no-repack'"
    )
    p.add_argument("--peer-stream", action="store_true", help="stream /infill for a measured TTFT")
    p.add_argument("--peer-prefix-lines", type=int, default=256)
    p.add_argument("--peer-suffix-lines", type=int, default=64)
    p.add_argument(
        "--limits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure bandwidth and FLOP/s first and print the floors",
    )
    p.add_argument("--limits-json", default=None, help="use a saved `limits.py --json` measurement")
    p.add_argument("--plot", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument(
        "--out", default=None, help="markdown report (default benchmarks/results/replay-MODEL.md)"
    )
    p.add_argument("--load-timeout", type=float, default=900)
    p.add_argument("--request-timeout", type=float, default=300)
    return p.parse_args(argv)


async def replay(args: argparse.Namespace) -> tuple[str, dict[str, Run], Plan]:
    path = Path(args.file) if args.file else default_file()
    plan = make_plan(path.read_text(encoding="utf-8"), str(path), args.start_line, args.lines)
    if args.max_keystrokes:
        plan.keystrokes = plan.keystrokes[: args.max_keystrokes]
    # Measured before any server runs, so that nothing else competes for the memory bus.
    machine = None
    if args.limits and not args.limits_json:
        from benchmarks.limits import measure_machine

        machine = measure_machine()
    modes = [m.strip() for m in args.modes.split(",") if m.strip() not in ("", "none")]
    if not modes and not (args.peer_url or args.llama_server):
        raise SystemExit("nothing to run: --modes none needs --peer-url or --llama-server")
    runs: dict[str, Run] = {}
    log_dir = Path(tempfile.mkdtemp(prefix="codecomp-replay-"))
    for mode in modes:
        if mode not in (WARM, COLD):
            raise SystemExit(f"unknown mode {mode!r}: use warm, cold")
        print(f"replay: {MODE_TITLES[mode]} …", file=sys.stderr)
        runs[mode] = await run_ours(plan, args, mode, log_dir)
    if args.peer_url:
        print("replay: llama.cpp …", file=sys.stderr)
        runs[PEER] = await run_peer(plan, args, args.peer_url)
    elif args.llama_server:
        from benchmarks.peer_llamacpp import start_llama_server

        gguf = args.peer_gguf or args.model
        if not gguf.endswith(".gguf"):
            raise SystemExit("--llama-server needs a .gguf: pass --peer-gguf")
        print("replay: llama.cpp (starting llama-server) …", file=sys.stderr)
        with start_llama_server(
            args.llama_server,
            gguf,
            log_dir / "llama-server.log",
            threads=args.peer_threads,
            extra=args.peer_args.split(),
        ) as (url, process):
            runs[PEER] = await run_peer(plan, args, url, process.pid)
    dtype = next((r.info.get("dtype") for r in runs.values() if r.info.get("dtype")), None)
    floors = None
    if args.limits or args.limits_json:
        from benchmarks.limits import load_machine, model_shape

        machine = load_machine(Path(args.limits_json)) if args.limits_json else machine
        gguf = args.peer_gguf or (args.model if args.model.endswith(".gguf") else None)
        floors = Floors(
            machine,
            model_shape(args.model),
            dtype or "float32",
            Path(gguf).stat().st_size if gguf and Path(gguf).is_file() else None,
        )
    report = build_report(runs, plan, args, floors)
    return report, runs, plan


def default_out(model: str) -> Path:
    name = Path(model.rstrip("/")).name.removesuffix(".gguf") or "model"
    return RESULTS / f"replay-{name}.md"


def main(argv: list[str] | None = None) -> dict[str, Run]:
    args = parse_args(argv)
    report, runs, plan = asyncio.run(replay(args))
    out = Path(args.out) if args.out else default_out(args.model)
    cmd = " ".join(
        ["python", "benchmarks/replay.py", *(argv if argv is not None else sys.argv[1:])]
    )
    doc = (
        "# Typing replay: KV reuse on vs off"
        + (" vs llama.cpp" if PEER in runs else "")
        + f"\n\n`{cmd}`\n\n{header(plan, args, runs)}\n\n{report}\n"
    )
    print(doc)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(doc, encoding="utf-8")
    raw = {
        mode: {
            "summary": summarize_run(run),
            "first_request_ms": run.first_request_ms,
            "load_s": run.load_s,
            "memory": run.memory,
            "info": run.info,
            "stats": run.stats,
            "records": [
                {**asdict(r), "latency_ms": r.latency_ms, "ttft_ms": r.ttft_ms, "status": r.status}
                for r in run.records
            ],
        }
        for mode, run in runs.items()
    }
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    if args.plot and plot(runs, out.with_suffix(".png")):
        print(f"plot: {out.with_suffix('.png')}", file=sys.stderr)
    print(f"report: {out}", file=sys.stderr)
    return runs


if __name__ == "__main__":
    main()
