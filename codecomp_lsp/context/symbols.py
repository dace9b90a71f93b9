"""Symbols under the cursor: what a name defines or refers to, with its signature and docstring.

Hover and code actions need, for the identifier at a position: the definition it names (the
cursor is on `def add`), or the definition it refers to (a call `add(1, 2)`, a variable `LIMIT`) —
in the same document or in another open one. Everything comes from tree-sitter: the outline of
definitions from `context.outline`, their signatures and docstrings from `context.signatures`;
this module finds the node under the cursor and resolves references to the best definition.

Positions are (line, code-point column) like the rest of the context layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec, SymbolRules
from codecomp_lsp.context.outline import (
    SYMBOL_NAME_LEAVES,
    document_symbols,
    name_nodes,
    symbol_of,
)
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.context.signatures import FUNCTION_KINDS
from codecomp_lsp.context.treesitter import Source, node_text
from codecomp_lsp.context.types import HoverTarget, Span, Symbol

__all__ = [
    "HoverTarget",
    "Span",
    "Symbol",
    "document_symbols",
    "enclosing_symbol",
    "symbol_at",
]


def _contains(span: Span, line: int, col: int) -> bool:
    return (span[0], span[1]) <= (line, col) <= (span[2], span[3])


def _leaf_at(tree: tree_sitter.Tree, src: Source, line: int, col: int) -> tree_sitter.Node | None:
    row, byte_col = src.point(line, col)
    candidates = [(row, byte_col)]
    if byte_col > 0:
        candidates.append((row, byte_col - 1))  # the cursor right after a name
    fallback = None
    for point in candidates:
        leaf = tree.root_node.descendant_for_point_range(point, point)
        if leaf is None:
            continue
        if leaf.type in SYMBOL_NAME_LEAVES:
            return leaf
        fallback = fallback or leaf
    return fallback


def _callee(leaf: tree_sitter.Node, rules: SymbolRules) -> tuple[tree_sitter.Node | None, bool]:
    """(the call whose callee is `leaf`, whether `leaf` is a member name like `obj.leaf`)."""
    node = leaf
    member = False
    for _ in range(3):
        parent = node.parent
        if parent is None:
            return None, member
        field = rules.members.get(parent.type)
        if field is not None and parent.child_by_field_name(field) == node:
            member = parent.type != "qualified_identifier" and parent.type != "scoped_identifier"
            node = parent
            continue
        field = rules.calls.get(parent.type)
        if field is not None and parent.child_by_field_name(field) == node:
            return parent, member
        return None, member
    return None, member


def _visible(symbol: Symbol, line: int, col: int) -> bool:
    return symbol.scope is None or _contains(symbol.scope, line, col)


def _rank(symbol: Symbol, line: int, col: int, *, member: bool, call: bool) -> tuple[int, ...]:
    """Sort key for the definitions of a name seen at (line, col): smaller is better."""
    kind_fit = 0
    if member:
        kind_fit = 0 if symbol.kind in ("method", "field") else 1
    elif call:
        kind_fit = 0 if symbol.kind in FUNCTION_KINDS | {"class", "struct", "record"} else 1
    local = 0 if symbol.scope is not None else 1  # the innermost scope wins
    before = 0 if (symbol.span[0], symbol.span[1]) <= (line, col) else 1
    return (kind_fit, local, before, abs(line - symbol.span[0]))


def _resolve(
    name: str,
    line: int,
    col: int,
    own: Iterable[Symbol],
    others: Iterable[tuple[str, str, LanguageSpec]],
    spec: LanguageSpec,
    *,
    member: bool,
    call: bool,
) -> Symbol | None:
    matches = [s for s in own if s.name == name and _visible(s, line, col)]
    if matches:
        best = min(matches, key=lambda s: _rank(s, line, col, member=member, call=call))
        if best.docstring is None:
            # C++ and friends: the declaration in the class carries the doc comment.
            for other in matches:
                if other.docstring and other.container == best.container:
                    return replace(best, docstring=other.docstring)
        return best
    for uri, text, other in sorted(others, key=lambda d: d[0]):
        if other.family != spec.family:
            continue
        found = [s for s in document_symbols(uri, text, other) if s.name == name and not s.local]
        if found:
            return min(found, key=lambda s: _rank(s, -1, -1, member=member, call=call))
    return None


def symbol_at(
    text: str,
    spec: LanguageSpec,
    line: int,
    col: int,
    *,
    uri: str = "",
    open_docs: Iterable[tuple[str, str, LanguageSpec]] = (),
) -> HoverTarget | None:
    """What the identifier (or definition header) at (line, col) is, resolved to a definition.

    `open_docs` are other documents as (uri, text, spec): a call to a function defined in one
    of them resolves to that definition.
    """
    rules = spec.symbols
    if rules is None:
        return None
    src = Source(text)
    tree = parsed(text, spec).tree
    leaf = _leaf_at(tree, src, line, col)
    if leaf is None:
        return None
    line_text = src.lines[leaf.start_point.row] if leaf.start_point.row < len(src.lines) else ""
    if leaf.type in SYMBOL_NAME_LEAVES:
        # The name of a definition?
        node: tree_sitter.Node | None = leaf.parent
        for _ in range(6):
            if node is None:
                break
            if node.type in rules.defs and any(n == leaf for n in name_nodes(node, spec.name)):
                symbol = symbol_of(node, leaf, rules, spec.name, src, uri)
                return HoverTarget("definition", symbol.name, src.span(leaf), symbol, "", line_text)
            node = node.parent
        # A reference: a call, or a use of a variable / type.
        call, member = _callee(leaf, rules)
        name = node_text(leaf)
        own = document_symbols(uri, text, spec, tree)
        symbol = _resolve(
            name, line, col, own, open_docs, spec, member=member, call=call is not None
        )
        if call is not None:
            expression = node_text(call)
            if len(expression) > 120 or "\n" in expression:
                expression = expression.split("\n", 1)[0][:117].rstrip() + " …"
            return HoverTarget("call", name, src.span(leaf), symbol, expression, line_text)
        if symbol is None:
            return None
        return HoverTarget("reference", name, src.span(leaf), symbol, "", line_text)
    # A keyword or punctuation of a definition header: that definition.
    found = enclosing_symbol(text, spec, line, col, uri=uri, header_only=True, tree=tree)
    if found is None:
        return None
    return HoverTarget("definition", found.name, found.name_span, found, "", line_text)


def enclosing_symbol(
    text: str,
    spec: LanguageSpec,
    line: int,
    col: int,
    *,
    uri: str = "",
    kinds: frozenset[str] | None = None,
    header_only: bool = False,
    tree: tree_sitter.Tree | None = None,
) -> Symbol | None:
    """The innermost definition containing (line, col), optionally only of `kinds`.

    `header_only`: only when the position is in the header (before the body starts).
    `tree`, when given, must be the parse of `text`.
    """
    rules = spec.symbols
    if rules is None:
        return None
    src = Source(text)
    tree = tree or parsed(text, spec).tree
    row, byte_col = src.point(line, col)
    node = tree.root_node.descendant_for_point_range((row, byte_col), (row, byte_col))
    while node is not None:
        if node.type in rules.defs and node.is_named:
            names = name_nodes(node, spec.name)
            if names:
                symbol = symbol_of(node, names[0], rules, spec.name, src, uri)
                if kinds is None or symbol.kind in kinds:
                    if not header_only:
                        return symbol
                    body = symbol.body
                    if body is None or (line, col) < (body[0], body[1]):
                        return symbol
                    return None
        node = node.parent
    return None
