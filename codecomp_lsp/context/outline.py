"""The symbol outline of a document: every definition (locals included) as a `Symbol`.

Which node types define what comes from the language's `SymbolRules`; this module finds the
names they define, their kind, container and scope, and puts the signature and docstring
(`context.signatures`) together into a `Symbol`.
"""

from __future__ import annotations

import re

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec, SymbolRules
from codecomp_lsp.context.parsed import Parsed, parsed
from codecomp_lsp.context.signatures import body_of, docstring_of, signature_of
from codecomp_lsp.context.treesitter import (
    NAME_LEAVES,
    Source,
    follow_declarators,
    has_function_declarator,
    node_text,
    walk,
)
from codecomp_lsp.context.types import Symbol

__all__ = ["SYMBOL_NAME_LEAVES", "document_symbols", "name_nodes", "symbol_of"]

# Symbols take a few more leaves as names than the definition index (`NAME_LEAVES`) does.
SYMBOL_NAME_LEAVES = NAME_LEAVES | frozenset(
    {"shorthand_property_identifier", "package_identifier", "constant"}
)


def _declarator_step(node: tree_sitter.Node) -> tree_sitter.Node | None:
    if node.type in ("qualified_identifier", "template_function"):
        return node.child_by_field_name("name")
    inner = node.child_by_field_name("declarator")
    if inner is None:
        inner = next((c for c in node.named_children if c.type in SYMBOL_NAME_LEAVES), None)
    return inner


def _declarator_name(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """Follow a C/C++ declarator chain (pointer, function, init, reference ...) to its name."""
    return follow_declarators(node, _declarator_step, SYMBOL_NAME_LEAVES)


def name_nodes(node: tree_sitter.Node, lang: str) -> list[tree_sitter.Node]:
    """The name leaves a definition node defines (several for `int a, b;`)."""
    kind = node.type
    if lang == "python" and kind == "assignment":
        left = node.child_by_field_name("left")
        parent_type = node.parent.type if node.parent is not None else ""
        if left is not None and left.type == "identifier" and parent_type == "expression_statement":
            return [left]
        return []
    if kind == "short_var_declaration":
        left = node.child_by_field_name("left")
        return [c for c in (left.named_children if left else []) if c.type == "identifier"]
    if kind in ("var_spec", "const_spec"):
        return list(node.children_by_field_name("name"))
    if kind == "let_declaration":
        pattern = node.child_by_field_name("pattern")
        return [pattern] if pattern is not None and pattern.type == "identifier" else []
    if kind == "field_definition":
        prop = node.child_by_field_name("property")
        return [prop] if prop is not None else []
    if kind in ("declaration", "field_declaration") and lang in ("c", "cpp"):
        out = []
        for declarator in node.children_by_field_name("declarator"):
            name = _declarator_name(declarator)
            if name is not None:
                out.append(name)
        return out
    if kind == "function_definition" and lang in ("c", "cpp"):
        name = _declarator_name(node.child_by_field_name("declarator"))
        return [name] if name is not None else []
    if kind == "type_definition":
        names = [_declarator_name(d) for d in node.children_by_field_name("declarator")]
        return [n for n in names if n is not None]
    specifiers = ("struct_specifier", "union_specifier", "enum_specifier", "class_specifier")
    if kind in specifiers and node.child_by_field_name("body") is None:
        return []  # a use of the type, not its definition
    name = node.child_by_field_name("name")
    if name is None:
        return []
    if name.type not in SYMBOL_NAME_LEAVES:
        name = _declarator_name(name)
    return [name] if name is not None else []


def _kind(node: tree_sitter.Node, rules: SymbolRules, lang: str) -> str:
    kind = rules.defs[node.type]
    if node.type == "variable_declarator":
        value = node.child_by_field_name("value")
        if value is not None and value.type in (
            "arrow_function",
            "function_expression",
            "function",
        ):
            return "function"
        if lang == "java" and node.parent is not None and node.parent.type == "field_declaration":
            return "field"
        if lang in ("javascript", "typescript", "tsx") and node.parent is not None:
            first = node.parent.children[0].type if node.parent.children else ""
            return "constant" if first == "const" else "variable"
    if (
        lang in ("c", "cpp")
        and node.type in ("declaration", "field_declaration")
        and any(has_function_declarator(d) for d in node.children_by_field_name("declarator"))
    ):
        return "method" if node.type == "field_declaration" else "function"
    return kind


def _anchor(node: tree_sitter.Node, rules: SymbolRules) -> tree_sitter.Node:
    """The statement that carries the definition's comments (export, decorators, `const` ...)."""
    anchor = node
    for _ in range(4):
        parent = anchor.parent
        if parent is None or parent.type not in rules.wrappers:
            break
        anchor = parent
    return anchor


def _container(node: tree_sitter.Node, rules: SymbolRules, lang: str) -> str | None:
    if lang == "go" and node.type == "method_declaration":
        receiver = node.child_by_field_name("receiver")
        names = re.findall(r"[A-Za-z_]\w*", node_text(receiver))
        return names[-1] if names else None
    if lang == "cpp" and node.type == "function_definition":
        declarator = node.child_by_field_name("declarator")
        inner = declarator.child_by_field_name("declarator") if declarator else None
        if inner is not None and inner.type == "qualified_identifier":
            scope = inner.child_by_field_name("scope")
            if scope is not None:
                return node_text(scope)
    parent = node.parent
    for _ in range(6):
        if parent is None:
            return None
        if parent.type in rules.function_bodies:
            return None
        if parent.type in rules.containers:
            if parent.type == "impl_item":
                trait = parent.child_by_field_name("trait")
                target = node_text(parent.child_by_field_name("type"))
                return f"<{target} as {node_text(trait)}>" if trait is not None else target
            names = name_nodes(parent, lang)
            return node_text(names[0]) if names else None
        parent = parent.parent
    return None


def _scope(node: tree_sitter.Node, rules: SymbolRules) -> tree_sitter.Node | None:
    """The function a definition is local to, or None at file / class level."""
    parent = node.parent
    while parent is not None:
        if parent.type in rules.function_bodies:
            return parent
        parent = parent.parent
    return None


def symbol_of(
    node: tree_sitter.Node,
    name: tree_sitter.Node,
    rules: SymbolRules,
    lang: str,
    src: Source,
    uri: str,
) -> Symbol:
    """The `Symbol` that definition `node` defines under `name` (one of its `name_nodes`)."""
    kind = _kind(node, rules, lang)
    anchor = _anchor(node, rules)
    container = _container(node, rules, lang)
    if kind == "function" and container is not None:
        kind = "method"
    docstring, doc_span, top = docstring_of(node, anchor, kind, rules, src, lang)
    body = body_of(node)
    scope = _scope(node, rules)
    return Symbol(
        name=node_text(name),
        kind=kind,
        signature=signature_of(node, anchor, kind, src, lang),
        docstring=docstring or None,
        container=container,
        span=src.span(anchor if anchor.type != "expression_statement" else node),
        name_span=src.span(name),
        body=src.span(body) if body is not None else None,
        doc_span=doc_span,
        top_line=min(top, anchor.start_point.row),
        local=scope is not None,
        uri=uri,
        scope=src.span(scope) if scope is not None else None,
    )


def _definitions(
    tree: tree_sitter.Tree, src: Source, spec: LanguageSpec, uri: str
) -> list[tuple[tree_sitter.Node, Symbol]]:
    """Every definition node of a parsed document with the symbol it defines, in order."""
    rules = spec.symbols
    if rules is None:
        return []
    out: list[tuple[tree_sitter.Node, Symbol]] = []
    for node in walk(tree.root_node):
        if node.type in rules.defs and node.is_named:
            for name in name_nodes(node, spec.name):
                out.append((node, symbol_of(node, name, rules, spec.name, src, uri)))
    return out


def document_symbols(
    uri: str, text: str, spec: LanguageSpec, tree: tree_sitter.Tree | None = None
) -> tuple[Symbol, ...]:
    """Every definition in a document (locals included), cached per document version.

    `tree`, when given, must be the parse of `text`.
    """

    def build(doc: Parsed) -> tuple[Symbol, ...]:
        return tuple(sym for _, sym in _definitions(doc.tree, Source(text), spec, uri))

    return parsed(text, spec, tree).derived(("symbols", uri), build)
