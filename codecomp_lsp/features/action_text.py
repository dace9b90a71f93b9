"""Text facts and shapes for the code actions: where a comment block ends, whether a body is a
stub, where the model started another task, and docstrings/doc comments in each language's style."""

from __future__ import annotations

import re
import textwrap

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.context.symbols import Symbol
from codecomp_lsp.context.syntax import char_col_to_byte
from codecomp_lsp.features.modelio import point_to_offset

__all__ = [
    "comment_block_end",
    "doc_comment",
    "first_code_block",
    "next_task_at",
    "python_docstring",
    "stub_lines",
]

_DOC_WIDTH = 88
_PY_STUB = re.compile(r"(?:pass|\.\.\.|raise\s+NotImplementedError(?:\(.*\))?)\s*(?:#.*)?")
_BRACE_STUB = re.compile(
    r"(?:todo!\(.*\)|unimplemented!\(.*\)|throw\s+new\s+Error\(.*\);?|"
    r"throw\s+new\s+UnsupportedOperationException\(.*\);?|panic\(.*\))?"
)
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
_FENCE = re.compile(r"```[\w+#.-]*[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)


def first_code_block(answer: str) -> str | None:
    """The code of a chat answer's first fenced block (to the answer's end if never closed)."""
    found = _FENCE.search(answer)
    return found.group(1) if found else None


def comment_block_end(text: str, spec: LanguageSpec, line: int) -> int | None:
    """The last line of the whole-line comment block at `line`, or None when it is not one."""
    lines = text.split("\n")
    if line >= len(lines):
        return None
    row_text = lines[line]
    stripped = row_text.lstrip()
    if not stripped.startswith(spec.line_comment) or stripped.startswith(
        (spec.line_comment + "!", "///")
    ):
        return None
    tree = parsed(text, spec).tree  # the parse diagnostics and enclosing_symbol use too
    col = len(row_text) - len(stripped)
    point = (line, char_col_to_byte(row_text, col))
    node = tree.root_node.descendant_for_point_range(point, point)
    if node is None or node.type not in _COMMENT_TYPES:
        return None  # a "#" or "//" inside a string
    end = line
    while end + 1 < len(lines) and lines[end + 1].lstrip().startswith(spec.line_comment):
        end += 1
    return end


def stub_lines(text: str, symbol: Symbol, spec: LanguageSpec) -> list[int] | None:
    """Lines of a function body that only says "not written yet", or None if it has code."""
    body = symbol.body
    if body is None:
        return None
    lines = text.split("\n")
    if spec.indent_based:
        if body[0] <= symbol.name_span[0]:
            return None  # `def f(): pass` on one line
        rows = []
        for row in range(body[0], min(body[2], len(lines) - 1) + 1):
            if symbol.doc_span is not None and symbol.doc_span[0] <= row <= symbol.doc_span[2]:
                continue
            stripped = lines[row].strip()
            if not stripped or stripped.startswith("#"):
                continue
            if not _PY_STUB.fullmatch(stripped):
                return None
            rows.append(row)
        return rows
    start = point_to_offset(text, body[0], body[1])
    end = point_to_offset(text, body[2], body[3])
    inner = text[start:end].strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        return None
    inner = inner[1:-1]
    inner = re.sub(r"//[^\n]*|/\*.*?\*/", "", inner, flags=re.S).strip()
    return [] if _BRACE_STUB.fullmatch(inner) else None


def next_task_at(text: str, spec: LanguageSpec) -> int | None:
    """Offset of the first comment line that follows written code and a blank line (the model
    starting another task), or None. Comments before the code or among its lines belong to it."""
    offset = 0
    seen_code = False
    blank_after_code = False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith((spec.line_comment, "/*")):
            if blank_after_code:
                return offset
        elif stripped:
            seen_code = True
            blank_after_code = False
        elif seen_code:
            blank_after_code = True
        offset += len(line) + 1
    return None


def python_docstring(summary: str, indent: str) -> str:
    summary = summary.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    one_line = f'{indent}"""{summary}"""'
    if len(one_line) <= _DOC_WIDTH:
        return one_line
    wrapped = textwrap.fill(summary, width=max(40, _DOC_WIDTH - len(indent)))
    body = textwrap.indent(wrapped, indent)
    return f'{indent}"""\n{body}\n{indent}"""'


def doc_comment(summary: str, indent: str, spec: LanguageSpec) -> str:
    summary = summary.replace("*/", "* /").strip()
    width = max(40, _DOC_WIDTH - len(indent) - 4)
    if spec.name in ("go", "rust"):
        marker = "//" if spec.name == "go" else "///"
        return "\n".join(f"{indent}{marker} {ln}" for ln in textwrap.wrap(summary, width))
    if len(summary) <= width:
        return f"{indent}/** {summary} */"
    rows = "\n".join(f"{indent} * {ln}" for ln in textwrap.wrap(summary, width))
    return f"{indent}/**\n{rows}\n{indent} */"
