"""Make a completion's indentation match the document's.

Small models often switch between tabs and spaces or use another indent unit than the file;
inserted as-is that breaks Python and looks wrong everywhere else. Levels are kept, only the
unit changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.types import CursorContext

TAB_SIZE = 4  # width of a tab when comparing indentation depths

_LEADING_WS = re.compile(r"[ \t]*")

Converter = Callable[[str], str]


def leading_ws(line: str) -> str:
    """The run of spaces and tabs starting `line`."""
    match = _LEADING_WS.match(line)
    return match.group(0) if match else ""


def width(ws: str) -> int:
    """Column width of indentation, tabs counted as `TAB_SIZE`."""
    return len(ws.expandtabs(TAB_SIZE))


def document_indent_unit(ctx: CursorContext) -> str:
    """One indentation level of the document: a tab or some spaces."""
    indent, block = ctx.indent, ctx.block_indent
    if block is not None and block.startswith(indent) and len(block) > len(indent):
        return block[len(indent) :]
    hint = block or indent
    if "\t" in (block or "") + indent:
        return "\t"
    indents = [leading_ws(line) for line in (ctx.before + ctx.after).split("\n") if line.strip()]
    indents = [ws for ws in indents if ws]
    if not hint and not indents:
        spec = spec_by_name(ctx.language)
        return spec.default_indent if spec else "    "
    tabbed = sum(ws.startswith("\t") for ws in indents)
    if not hint and tabbed * 2 > len(indents):
        return "\t"
    widths = [len(ws) for ws in indents if "\t" not in ws]
    if hint:
        widths.append(len(hint))
    return " " * _space_unit(widths, default=4)


def _space_unit(widths: list[int], default: int) -> int:
    """The indent unit (4, 2 or 3 spaces) that explains nearly all of the given widths."""
    widths = [w for w in widths if w > 0]
    for unit in (4, 2, 3):
        if widths and sum(w % unit == 0 for w in widths) * 5 >= len(widths) * 4:
            return unit
    return default


def strip_first_line_indent(completion: str, ctx: CursorContext) -> str:
    """Drop indentation the model repeated on the first line when the cursor line already has it."""
    prefix = ctx.line_prefix
    if prefix.strip() and prefix[-1] in " \t" and completion[:1] in (" ", "\t"):
        # `if ` + ` the` would insert a double space: the typed space already separates.
        return completion.lstrip(" \t") if "\n" not in completion[:1] else completion
    if not prefix or prefix.strip():
        return completion
    target = ctx.block_indent if ctx.multiline and ctx.block_indent is not None else ctx.indent
    if width(prefix) >= width(target):
        first, newline, rest = completion.partition("\n")
        return first.lstrip(" \t") + newline + rest
    return completion


def reindent(completion: str, ctx: CursorContext) -> str:
    """Rewrite the indentation of the lines after the first in the document's unit."""
    lines = completion.split("\n")
    shift = 0
    # The first line counts when it starts the cursor line (nothing typed before it).
    first_counts = ctx.line_prefix == ""
    numbered = [(i, line) for i, line in enumerate(lines) if line.strip() and (i or first_counts)]
    model = [leading_ws(line) for _, line in numbered]
    unit = document_indent_unit(ctx)
    if unit == "\t":
        spaced = [len(ws) for ws in model if ws and "\t" not in ws]
        if not spaced:
            return completion
        model_unit = _space_unit(spaced, default=4)
        convert = _spaces_to(unit, model_unit)
    elif any("\t" in ws for ws in model):
        convert = _tabs_to(unit)
    else:
        # The cursor line's indentation is the document's; the model's levels start there.
        anchor = len(leading_ws(ctx.line_prefix + lines[0]))
        shift = _constant_offset(lines, anchor, len(unit))
        model_unit = _relative_unit([len(ws) for ws in model], anchor, len(unit))
        if shift:
            convert = _shift(shift)
        elif model_unit is None:
            return completion
        else:
            convert = _rescale(anchor, model_unit, len(unit))
    for i, line in numbered:
        if i == 0 and shift:
            continue  # the first line is the anchor the others are shifted to
        ws = leading_ws(line)
        lines[i] = convert(ws) + line[len(ws) :]
    return "\n".join(lines)


def _relative_unit(widths: list[int], anchor: int, doc_unit: int) -> int | None:
    """The model's space unit when it differs from the document's, from level changes."""
    steps = [abs(w - anchor) for w in widths if w != anchor]
    if not steps or all(s % doc_unit == 0 for s in steps):
        return None
    unit = min(steps)
    if unit in (2, 3, 4, 8) and unit != doc_unit and all(s % unit == 0 for s in steps):
        return unit
    return None


_OPEN_ENDINGS = ("(", "[", "{", ",", "\\", "=", "+", "-", "*", "/", "&", "|")


def _constant_offset(lines: list[str], anchor: int, doc_unit: int) -> int:
    """Columns every line after the first is off by, when the model indented them all a constant
    few spaces past the document's levels (Qwen writes `# Check…\n     if …` under a 4-space
    body: the first line's indent was the prompt's, the rest got one space too many). 0 when the
    levels already fit, when they disagree, or when a line continues an open expression (visual
    alignment under a bracket is meant). Lines from the first one dedented past the cursor's
    level on are not the block's and do not count."""
    rest = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if len(leading_ws(line)) < anchor:
            break  # dedented past the cursor's level: the block ends here and is cut there
        rest.append(line)
    if not rest:
        return 0
    if any(line.rstrip().endswith(_OPEN_ENDINGS) for line in [lines[0], *rest[:-1]]):
        return 0
    widths = [len(leading_ws(line)) for line in rest]
    residues = {(w - anchor) % doc_unit for w in widths}
    if len(residues) != 1:
        return 0
    offset = residues.pop()
    if offset == 0 or offset * 2 > doc_unit or any(w - offset < anchor for w in widths):
        return 0
    return offset


def _shift(offset: int) -> Converter:
    def convert(ws: str) -> str:
        return ws[offset:] if ws.startswith(" " * offset) else ws

    return convert


def _spaces_to(unit: str, model_unit: int) -> Converter:
    """Spaces in levels of `model_unit` become levels of `unit` (a tab)."""

    def convert(ws: str) -> str:
        if "\t" in ws:
            return ws
        levels, rest = divmod(len(ws), model_unit)
        return unit * levels + " " * rest

    return convert


def _tabs_to(unit: str) -> Converter:
    """Each tab becomes one level of the document's spaces."""

    def convert(ws: str) -> str:
        return ws.replace("\t", unit)

    return convert


def _rescale(anchor: int, model_unit: int, doc_unit: int) -> Converter:
    """Keep the cursor line's column and scale level changes from the model's unit to ours."""

    def convert(ws: str) -> str:
        delta = len(ws) - anchor
        if delta % model_unit:
            return ws
        return " " * max(0, anchor + delta // model_unit * doc_unit)

    return convert
