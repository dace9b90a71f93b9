"""When to stop decoding: the rest of the line is complete, or the block is (its indentation
falls back, or its brackets close) — post-processing trims what follows."""

from __future__ import annotations

from collections.abc import Callable

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.types import CursorContext

MAX_BLOCK_LINES = 16


def _leading_ws(s: str) -> str:
    return s[: len(s) - len(s.lstrip(" \t"))]


def make_stop_check(ctx: CursorContext, spec: LanguageSpec | None) -> Callable[[str], bool]:
    """Stop decoding once the rest of the line, or the block, is complete; post-processing trims."""
    if not ctx.multiline:
        return lambda text: (
            "\n" in text.lstrip("\n") or (text.startswith("\n") and not ctx.line_prefix.strip())
        )
    indent_based = spec is not None and spec.name == "python"
    body = ctx.block_indent if ctx.block_indent is not None else ctx.indent

    def stop(text: str) -> bool:
        lines = text.split("\n")
        if len(lines) > MAX_BLOCK_LINES + 1:
            return True
        complete = lines[1:-1] if text.startswith("\n") or ctx.line_prefix.strip() else lines[:-1]
        if indent_based:
            return any(ln.strip() and len(_leading_ws(ln)) < len(body) for ln in complete[1:])
        depth = 0
        for ch in text:
            depth += (ch in "{([") - (ch in "})]")
            if depth < 0:
                return True
        return False

    return stop
