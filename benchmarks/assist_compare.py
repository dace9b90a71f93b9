"""Hover, quick fixes and code actions from two models, side by side, through the real server.

Drives `python -m codecomp_lsp` over stdio with the test suite's LSP client on the same small
documents for each model, and writes what a user would see (hover text, offered fixes, generated
docstring / body / code, explanation) with latencies, as markdown.

    python benchmarks/assist_compare.py --models default,PATH/qwen.gguf --out benchmarks/results/assist-compare.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from lsprotocol import types  # noqa: E402

from codecomp_lsp.context.languages import spec_by_name  # noqa: E402
from codecomp_lsp.context.syntax import count_errors  # noqa: E402
from tests.e2e.lsp_helpers import lsp_session, open_doc  # noqa: E402
from tests.e2e.test_assist_e2e import (  # noqa: E402
    ACTIONS_PY,
    BROKEN_JS,
    BROKEN_PY,
    JS,
    JS_LIB,
    PY,
    apply_edits,
    code_actions,
    edits_of,
    hover,
    pos,
    run_command,
    wait_until,
    where,
)

PY_URI = "file:///work/demo/files.py"
JS_LIB_URI = "file:///work/demo/lib.js"
JS_URI = "file:///work/demo/main.js"
ACTIONS_URI = "file:///work/demo/actions.py"
BROKEN = {
    "python": ("file:///work/demo/broken.py", BROKEN_PY),
    "javascript": ("file:///work/demo/broken.js", BROKEN_JS),
}


def block(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().split("\n"))


async def run_model(model: str | None, options: dict) -> list[str]:
    out: list[str] = []
    async with lsp_session(model, options=options, resolve=True, markdown=False) as client:
        info = await client.protocol.send_request_async("codecomp/stats", {})
        out.append(f"Model: `{getattr(info, 'model', model)}` on {getattr(info, 'device', '?')}\n")
        open_doc(client, PY_URI, PY)
        open_doc(client, JS_LIB_URI, JS_LIB, "javascript")
        open_doc(client, JS_URI, JS, "javascript")
        for title, uri, position in (
            ("Python `list_files`", PY_URI, where(PY, "list_files(root)", 2)),
            (
                "JavaScript call `sum(...)` (defined in another open file)",
                JS_URI,
                where(JS, "sum(items", 1),
            ),
        ):
            started = time.perf_counter()
            result = await hover(client, uri, position)
            ms = (time.perf_counter() - started) * 1000
            value = result.contents.value if result else "(no hover)"
            out.append(f"**Hover on {title}** ({ms:.0f} ms):\n\n{block(value)}\n")
        for language, (uri, text) in BROKEN.items():
            open_doc(client, uri, text, language)
            await wait_until(lambda uri=uri: client.diagnostics.get(uri), timeout=30)
            diagnostic = client.diagnostics[uri][0]
            started = time.perf_counter()
            actions = await code_actions(client, uri, pos(diagnostic.range.start.line, 4))
            ms = (time.perf_counter() - started) * 1000
            fixes = [a for a in actions if isinstance(a, types.CodeAction) and a.kind == "quickfix"]
            out.append(
                f"**Quick fixes, broken {language}** — diagnostic “{diagnostic.message}” ({ms:.0f} ms):\n"
            )
            spec = spec_by_name(language)
            for fix in fixes:
                fixed = apply_edits(text, edits_of(fix.edit, uri))
                line = fixed.split("\n")[diagnostic.range.start.line].strip()
                clean = "parses clean" if count_errors(fixed, spec) == 0 else "STILL BROKEN"
                out.append(f"- {fix.title} → `{line}` ({clean})")
            out.append("")
        open_doc(client, ACTIONS_URI, ACTIONS_PY)
        wanted = [
            *await code_actions(client, ACTIONS_URI, pos(3, 6)),
            *await code_actions(client, ACTIONS_URI, pos(7, 3)),
        ]
        for action in wanted:
            started = time.perf_counter()
            resolved = await client.code_action_resolve_async(action)
            ms = (time.perf_counter() - started) * 1000
            if resolved.edit is None:
                shown = (
                    "(refused: "
                    + (client.messages[-1].message if client.messages else "no edit")
                    + ")"
                )
            else:
                fixed = apply_edits(ACTIONS_PY, edits_of(resolved.edit, ACTIONS_URI))
                shown = block(fixed)
            out.append(f"**{action.title}** ({ms:.0f} ms):\n\n{shown}\n")
        actions = await code_actions(client, PY_URI, pos(5, 4), pos(9, 17))
        explain = next(a for a in actions if a.title == "Explain this code")
        started = time.perf_counter()
        result = await run_command(client, explain)
        ms = (time.perf_counter() - started) * 1000
        out.append(
            f"**Explain this code** (lines 6–10 of files.py, {ms:.0f} ms):\n\n{block(result['explanation'])}\n"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="default")
    parser.add_argument("--out")
    parser.add_argument("--hover-budget-ms", type=int, default=None, help="default: the server's")
    args = parser.parse_args()
    options = {} if args.hover_budget_ms is None else {"hoverTimeBudgetMs": args.hover_budget_ms}
    sections = ["# Hover, quick fixes and code actions, model by model", ""]
    sections.append(
        f"Server settings: defaults{', ' + str(options) if options else ''}. One run per model, this machine.\n"
    )
    for spec in args.models.split(","):
        model = None if spec == "default" else spec
        sections.append(f"## {spec}\n")
        sections += asyncio.run(run_model(model, options))
    text = "\n".join(sections) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
