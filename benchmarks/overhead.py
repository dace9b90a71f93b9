"""Server time outside the model, per completion request, on a 5,000-line file.

Types a span back into a 5,000-line Python file (the typing replay's keystrokes, no model) and times,
per keystroke, each stage the server runs around the model, with the package's own functions:

1. LSP decode + document update: the didChange and inlineCompletion messages as bytes → JSON →
   lsprotocol params (pygls' converter), the edit applied to the document store, the position
   converted, and the version's snapshot (codecomp_lsp/server/handlers/completion.py).
2. typed-ahead check: whether the suggestion on screen already answers the keystroke.
3. cursor context: the line window, its tree when the block decision needs it (after a `:`, on
   a blank line; reparsed incrementally from the last one) and the tree-sitter context (CompletionService.context_for → codecomp_lsp/context/cursor.py
   extract_context), token counting included.
4. prompt building: codecomp_lsp/prompt/builder.py PromptBuilder.build.
5. post-processing of one candidate (the true rest of the line, then the next line, as a model
   would write it): clean_completion, the secret filter and the ranking (an inline request's lone
   candidate is not parse-checked; two or more are, against the window's tree).
6. LSP encode: the InlineCompletionList to JSON bytes.

    python benchmarks/overhead.py --model PATH [--file F] [--lines 5000] [--out benchmarks/results/overhead.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import sysconfig
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    RESULTS,
    fmt,
    machine_description,
    markdown_table,
    summarize,
    utf16_len,
)
from benchmarks.replay import apply_keystroke, make_plan

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

STAGES = (
    "LSP decode + document update",
    "typed-ahead check",
    "cursor context (tree-sitter)",
    "prompt building",
    "post-processing",
    "LSP encode",
)


def default_file() -> Path:
    return Path(sysconfig.get_paths()["stdlib"]) / "_pydecimal.py"  # 6,400 lines


def load_tokenizer(spec: str) -> tuple[Any, int | None]:
    """The model's tokenizer and its position limit, without loading the weights."""
    from codecomp_lsp.engine import loader

    return loader.load_tokenizer(spec)


def measure(
    text: str,
    path: str,
    tokenizer: Any,
    *,
    position_limit: int | None = None,
    start_line: int | None = None,
    span_lines: int = 10,
    max_keystrokes: int = 0,
    warmup: int = 20,
    max_prompt_tokens: int = 1536,
    max_new_tokens: int = 32,
    fim_template: str = "auto",
    candidates: int = 1,
) -> dict[str, list[float]]:
    """Milliseconds per stage for each keystroke of the replay (after `warmup` keystrokes)."""
    from lsprotocol import types
    from pygls.protocol import default_converter

    from codecomp_lsp.engine.stats import Stats
    from codecomp_lsp.features.completion import (
        CompletionOutcome,
        CompletionQuery,
        CompletionService,
        Suggestion,
        _Shown,
        rank_suggestions,
    )
    from codecomp_lsp.postprocess.pipeline import clean_completion
    from codecomp_lsp.postprocess.secrets import find_secret_in
    from codecomp_lsp.prompt.builder import PromptBuilder
    from codecomp_lsp.prompt.templates import detect_template, template_by_name
    from codecomp_lsp.server import convert
    from codecomp_lsp.server.documents import DocumentStore
    from codecomp_lsp.settings import Settings

    plan = make_plan(text, path, start_line, span_lines)
    keystrokes = plan.keystrokes[: max_keystrokes or None]
    settings = Settings(maxPromptTokens=max_prompt_tokens, maxNewTokens=max_new_tokens)
    template = (
        template_by_name(fim_template)
        if fim_template != "auto"
        else detect_template(tokenizer.get_vocab())
    )
    budget = max_prompt_tokens
    if position_limit:
        budget = max(64, min(budget, position_limit - max_new_tokens))
    builder = PromptBuilder(tokenizer, template, budget)
    service = CompletionService(SimpleNamespace(stats=Stats()), lambda: settings)
    converter = default_converter()
    store = DocumentStore()
    uri = Path(path).resolve().as_uri()
    store.open(
        types.TextDocumentItem(
            uri=uri, language_id=plan.language, version=1, text=plan.initial_text
        )
    )
    lines = list(plan.initial_lines)
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}
    version = 1

    def wire(method: str, params: dict[str, Any], request_id: int | None = None) -> bytes:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request_id is not None:
            message["id"] = request_id
        body = json.dumps(message).encode("utf-8")
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    def unframe(data: bytes) -> dict[str, Any]:
        return json.loads(data[data.index(b"\r\n\r\n") + 4 :])

    for index, ks in enumerate(keystrokes):
        version += 1
        at = {"line": ks.line, "character": utf16_len(lines[ks.line][: ks.character])}
        apply_keystroke(lines, ks)
        cursor = {"line": ks.cursor[0], "character": utf16_len(lines[ks.cursor[0]][: ks.cursor[1]])}
        change = wire(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": ks.text}],
            },
        )
        request = wire(
            "textDocument/inlineCompletion",
            {"textDocument": {"uri": uri}, "position": cursor, "context": {"triggerKind": 2}},
            request_id=index + 1,
        )
        stamps = [time.perf_counter()]
        # 1. decode both messages, update the document, convert the position, snapshot the text
        change_params = converter.structure(
            unframe(change)["params"], types.DidChangeTextDocumentParams
        )
        doc = store.change(change_params)
        inline_params = converter.structure(
            unframe(request)["params"], types.InlineCompletionParams
        )
        line, character = convert.codepoints(doc, inline_params.position, strict=True)
        snap = doc.snapshot()
        if not doc.usable:  # the handler's check: binary or too big is not completed
            raise ValueError(f"{path} is not a document the server completes")
        query = CompletionQuery(
            doc=snap.view,
            line=line,
            character=character,
            automatic=True,
            open_docs=[other.view for other in store.others(uri)],
        )
        stamps.append(time.perf_counter())
        # 2. typed-ahead
        service.typed_ahead(query)
        stamps.append(time.perf_counter())
        # 3. context
        ctx, window, offset, spec = service.context_for(query, builder)
        stamps.append(time.perf_counter())
        # 4. prompt
        builder.build(ctx)
        stamps.append(time.perf_counter())
        # 5. post-processing of what a model would write here: the real rest of the line
        full_line = plan.final_lines[line] if line < len(plan.final_lines) else ""
        nxt = plan.final_lines[line + 1] if line + 1 < len(plan.final_lines) else ""
        raw = full_line[character:] + "\n" + nxt
        cleaned = clean_completion(raw, ctx)
        kept = []
        if cleaned and find_secret_in(cleaned, ctx.line_prefix, ctx.line_suffix, ()) is None:
            kept = [cleaned]
            # A menu request's other candidates: what a model also writes (the line cut short,
            # the line with one closer too many), each parse-checked against the window's tree.
            for variant in (cleaned[: len(cleaned) // 2], cleaned + ")")[: candidates - 1]:
                if variant.strip() and variant not in kept:
                    kept.append(variant)
        ranked = rank_suggestions(kept, window, offset, spec, uri)
        stamps.append(time.perf_counter())
        # 6. response
        outcome = CompletionOutcome([Suggestion(t, 0.0, penalty) for t, penalty in ranked])
        result = types.InlineCompletionList(
            items=convert.inline_items(doc, (line, character), outcome)
        )
        json.dumps(
            {"jsonrpc": "2.0", "id": index + 1, "result": converter.unstructure(result)}
        ).encode("utf-8")
        stamps.append(time.perf_counter())
        if ranked:  # what the server remembers for typed-ahead
            head_end = snap.view.line_offset(line)
            service._shown[uri] = _Shown(
                line, snap.view.text[:head_end], ctx.line_prefix, ctx.line_suffix, ranked[0][0]
            )
        if index >= warmup:
            for stage, t0, t1 in zip(STAGES, stamps, stamps[1:], strict=False):
                times[stage].append((t1 - t0) * 1000)
    times["total outside the model"] = [sum(v) for v in zip(*times.values(), strict=True)]
    return times


def report(times: dict[str, list[float]]) -> str:
    rows = []
    for stage, values in times.items():
        s = summarize(values)
        rows.append(
            [
                stage,
                fmt(s["p50"], " ms", 3),
                fmt(s["p95"], " ms", 3),
                fmt(s["p99"], " ms", 3),
                fmt(s["mean"], " ms", 3),
            ]
        )
    return markdown_table(["stage", "p50", "p95", "p99", "mean"], rows)


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="model directory or .gguf (for its tokenizer)")
    p.add_argument("--file", default=None, help="Python source (default: stdlib _pydecimal.py)")
    p.add_argument("--file-lines", type=int, default=5000, help="cut the file to this many lines")
    p.add_argument("--start-line", type=int, default=None)
    p.add_argument("--lines", type=int, default=10, help="lines typed back")
    p.add_argument("--max-keystrokes", type=int, default=0)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--prompt-tokens", type=int, default=1536)
    p.add_argument(
        "--candidates",
        type=int,
        default=1,
        choices=(1, 2, 3),
        help="candidates post-processed per keystroke: 1 for inline, 3 for a menu request",
    )
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)

    path = Path(args.file) if args.file else default_file()
    text = "\n".join(path.read_text(encoding="utf-8").split("\n")[: args.file_lines])
    tokenizer, limit = load_tokenizer(args.model)
    times = measure(
        text,
        str(path),
        tokenizer,
        position_limit=limit,
        start_line=args.start_line,
        span_lines=args.lines,
        max_keystrokes=args.max_keystrokes,
        warmup=args.warmup,
        max_prompt_tokens=args.prompt_tokens,
        candidates=args.candidates,
    )
    n = len(times["total outside the model"])
    cmd = " ".join(
        ["python", "benchmarks/overhead.py", *(argv if argv is not None else sys.argv[1:])]
    )
    doc = (
        "# Server overhead outside the model\n\n"
        f"`{cmd}`\n\n- machine: {machine_description()}\n"
        f"- file: `{path.name}`, {len(text.split(chr(10))):,} lines; {n} keystrokes timed "
        f"(after {args.warmup} warm-up), tokenizer of `{Path(args.model).name}`, "
        f"{args.candidates} candidate(s) post-processed per keystroke\n\n"
        f"{report(times)}\n"
    )
    print(doc)
    out = Path(args.out) if args.out else RESULTS / "overhead.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(doc, encoding="utf-8")
    print(f"report: {out}", file=sys.stderr)
    return times


if __name__ == "__main__":
    main()
