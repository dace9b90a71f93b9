"""What a hover shows of a definition: its signature and its docstring.

The signature is the definition's header (the text before its body) as written, dedented; the
docstring is Python's first string statement, or the comments glued to the top of the definition
in the other languages (a trailing comment for variables and fields).
"""

from __future__ import annotations

import inspect
import re
import textwrap

import tree_sitter

from codecomp_lsp.context.languages import SymbolRules
from codecomp_lsp.context.treesitter import Source, last_row, node_text
from codecomp_lsp.context.types import Span

__all__ = [
    "FUNCTION_KINDS",
    "MAX_DOC_CHARS",
    "MAX_SIGNATURE_LINES",
    "MAX_STATEMENT_CHARS",
    "body_of",
    "clean_comment",
    "docstring_of",
    "python_string_value",
    "signature_of",
]

MAX_SIGNATURE_LINES = 12
MAX_STATEMENT_CHARS = 240  # variables: the declaration, cut here
MAX_DOC_CHARS = 2000

# Kinds whose whole (short) text is their signature: the fields or members are the point.
_WHOLE_KINDS = frozenset({"struct", "union", "enum", "interface", "type", "record", "trait"})
FUNCTION_KINDS = frozenset({"function", "method", "constructor", "macro"})

_STRING_PREFIX = re.compile(r"^[rRuUbBfF]{0,2}(\"\"\"|'''|\"|')")


def python_string_value(literal: str) -> str:
    """The text of a Python string literal, without prefix and quotes, cleaned like a docstring."""
    match = _STRING_PREFIX.match(literal)
    if match is None:
        return literal.strip()
    quote = match.group(1)
    body = literal[match.end() :]
    if body.endswith(quote):
        body = body[: -len(quote)]
    return inspect.cleandoc(body)


def clean_comment(raw: str) -> str:
    """Comment text without its markers: `//`, `///`, `#`, `/* */`, `/** */` and leading `*`."""
    text = raw.strip()
    if text.startswith("/*"):
        text = text[2:]
        text = text.removesuffix("*/")
        text = text.lstrip("*!")
        lines = [re.sub(r"^\s*\*? ?", "", ln) for ln in text.split("\n")]
        return "\n".join(lines).strip()
    lines = []
    for ln in text.split("\n"):
        ln = ln.strip()
        for marker in ("///", "//!", "//", "#"):
            if ln.startswith(marker):
                ln = ln[len(marker) :]
                break
        lines.append(ln[1:] if ln.startswith(" ") else ln)
    return "\n".join(lines).strip()


# -- docstrings -----------------------------------------------------------------------------


def _leading_comments(
    anchor: tree_sitter.Node, rules: SymbolRules
) -> tuple[list[tree_sitter.Node], int]:
    """Comments glued to the top of `anchor` (no blank line between), and the top row."""
    top = anchor.start_point.row
    comments: list[tree_sitter.Node] = []
    prev = anchor.prev_named_sibling
    while prev is not None:
        if prev.type == "attribute_item" and last_row(prev) >= top - 1:  # rust #[derive]
            top = prev.start_point.row
            prev = prev.prev_named_sibling
            continue
        if prev.type not in rules.comment_types or last_row(prev) < top - 1:
            break
        before = prev.prev_sibling
        if before is not None and last_row(before) == prev.start_point.row:
            break  # a trailing comment of the line above belongs to that line
        comments.insert(0, prev)
        top = prev.start_point.row
        prev = prev.prev_named_sibling
    return comments, top


def _trailing_comment(anchor: tree_sitter.Node, rules: SymbolRules) -> tree_sitter.Node | None:
    nxt = anchor.next_named_sibling
    if (
        nxt is not None
        and nxt.type in rules.comment_types
        and nxt.start_point.row == last_row(anchor)
    ):
        return nxt
    return None


def _python_docstring(node: tree_sitter.Node, anchor: tree_sitter.Node) -> tree_sitter.Node | None:
    if node.type in ("function_definition", "class_definition"):
        body = node.child_by_field_name("body")
        first = body.named_children[0] if body is not None and body.named_children else None
    else:  # attribute docstring: a string statement right after the assignment
        first = anchor.next_named_sibling if anchor.type == "expression_statement" else None
    if first is None or first.type != "expression_statement" or not first.named_children:
        return None
    string = first.named_children[0]
    if string.type not in ("string", "concatenated_string") or len(first.named_children) != 1:
        return None
    return first


def docstring_of(
    node: tree_sitter.Node,
    anchor: tree_sitter.Node,
    kind: str,
    rules: SymbolRules,
    src: Source,
    lang: str,
) -> tuple[str | None, Span | None, int]:
    """(docstring, where it is, top row of the comments and attributes above `anchor`)."""
    docstring: str | None = None
    doc_span: Span | None = None
    if lang == "python":
        doc = _python_docstring(node, anchor)
        if doc is not None:
            docstring = python_string_value(node_text(doc.named_children[0]))
            doc_span = src.span(doc)
    comments, top = _leading_comments(anchor, rules)
    if docstring is None and comments:
        docstring = "\n".join(clean_comment(node_text(c)) for c in comments).strip()
        first, last = src.span(comments[0]), src.span(comments[-1])
        doc_span = (first[0], first[1], last[2], last[3])
    if docstring is None and kind in ("variable", "constant", "field", "static"):
        trailing = _trailing_comment(anchor, rules)
        if trailing is not None:
            docstring = clean_comment(node_text(trailing))
            doc_span = src.span(trailing)
    if docstring is not None and len(docstring) > MAX_DOC_CHARS:
        docstring = docstring[:MAX_DOC_CHARS].rstrip() + " …"
    return docstring, doc_span, top


# -- signatures -----------------------------------------------------------------------------


def _dedent_tail(text: str, indent: str = "") -> str:
    """Dedent a piece of source whose first line started after `indent` in its line."""
    lines = (indent + text).rstrip().split("\n")
    return textwrap.dedent("\n".join(lines)).strip("\n")


def _shorten(text: str, limit_lines: int = MAX_SIGNATURE_LINES) -> str:
    lines = text.rstrip().split("\n")
    if len(lines) > limit_lines:
        lines = lines[:limit_lines] + ["…"]
    out = "\n".join(lines)
    if len(out) > MAX_STATEMENT_CHARS * 4:
        out = out[: MAX_STATEMENT_CHARS * 4] + "…"
    return out


def body_of(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The block after a definition's header (a function assigned to a variable: its body)."""
    body = node.child_by_field_name("body")
    if body is None and node.type == "variable_declarator":
        value = node.child_by_field_name("value")
        if value is not None and value.type in (
            "arrow_function",
            "function_expression",
            "function",
        ):
            body = value.child_by_field_name("body")
    return body


def signature_of(
    node: tree_sitter.Node, anchor: tree_sitter.Node, kind: str, src: Source, lang: str
) -> str:
    """The header of a definition as written (the whole text of short types), dedented."""
    # Decorators, `export`, `template <...>` and declaration keywords belong to the signature;
    # the doc comment does not (it is shown as the docstring).
    first = node if anchor.type == "expression_statement" else anchor
    start = first.start_byte
    indent = src.indent_before(first)
    body = body_of(node)
    whole = src.between(start, anchor.end_byte if anchor is not node else node.end_byte)
    if kind in _WHOLE_KINDS and whole.count("\n") < MAX_SIGNATURE_LINES:
        return _dedent_tail(whole, indent)
    if body is not None and body.start_byte > start:
        header = src.between(start, body.start_byte).rstrip()
        if body.type in ("block", "statement_block", "compound_statement") or lang != "python":
            header = header.rstrip("{").rstrip()
        return _shorten(_dedent_tail(header, indent))
    if kind in FUNCTION_KINDS or kind in ("class", "module", "namespace"):
        return _shorten(_dedent_tail(whole, indent))
    first_line = whole.split("\n", 1)
    statement = whole if len(whole) <= MAX_STATEMENT_CHARS and len(first_line) <= 3 else None
    if statement is None:
        statement = first_line[0][:MAX_STATEMENT_CHARS].rstrip() + " …"
    return _dedent_tail(statement, indent)
