"""Symbols under the cursor: what a name defines or refers to, with its signature and docstring.

Hover and code actions need, for the identifier at a position: the definition it names (the
cursor is on `def add`), or the definition it refers to (a call `add(1, 2)`, a variable `LIMIT`) —
in the same document or in another open one. Everything comes from tree-sitter: the signature is
the definition's header (text before its body), the docstring is Python's first string statement
or the comments glued to the top of the definition in the other languages.

Positions are (line, code-point column) like the rest of the context layer.
"""

from __future__ import annotations

import inspect
import re
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import tree_sitter

from codecomp_lsp.context.definitions import _has_function_declarator
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.syntax import byte_col_to_char, char_col_to_byte, parse

__all__ = [
    "HoverTarget",
    "Span",
    "Symbol",
    "document_symbols",
    "enclosing_symbol",
    "symbol_at",
]

Span = tuple[int, int, int, int]  # start line, start column, end line, end column (code points)

MAX_SIGNATURE_LINES = 12
MAX_STATEMENT_CHARS = 240  # variables: the declaration, cut here
MAX_DOC_CHARS = 2000


@dataclass(frozen=True)
class Symbol:
    """A definition: enough to show it, and to prompt a model about it."""

    name: str
    kind: str  # function, method, class, struct, interface, enum, type, variable, field, ...
    signature: str  # the header (or the short declaration) as written, dedented
    docstring: str | None
    container: str | None  # enclosing class / impl / receiver type
    span: Span  # the definition node
    name_span: Span
    body: Span | None  # the block after the header, when there is one
    doc_span: Span | None  # where the docstring or doc comment is
    top_line: int  # first line of the definition including decorators, doc comments, `export`
    local: bool  # defined inside a function body
    uri: str = ""
    scope: Span | None = None  # locals: the function they are visible in

    @property
    def header(self) -> str:
        """`(kind) Container.name`, the title line of a hover."""
        owner = f"{self.container}." if self.container else ""
        return f"({self.kind}) {owner}{self.name}"


@dataclass(frozen=True)
class HoverTarget:
    """What the cursor is on: a definition, a call or another reference, and what it resolves to."""

    role: str  # "definition", "call" or "reference"
    name: str
    range: Span  # the identifier under the cursor (or the definition's name)
    symbol: Symbol | None  # None: a call to something not defined in any open document
    expression: str = ""  # for calls: the call expression as written (shortened)
    line_text: str = ""  # the line under the cursor, for prompts


# -- per-language tables --------------------------------------------------------------------


@dataclass(frozen=True)
class _Lang:
    defs: dict[str, str]  # node type -> kind
    wrappers: frozenset[str]  # statements that lend their range and comments to a definition
    containers: frozenset[str]  # definitions whose members get a container name
    function_bodies: frozenset[str]  # definitions whose body makes inner definitions local
    calls: dict[str, str]  # call node type -> field holding the callee
    members: dict[str, str]  # member-access node type -> field holding the member name
    comment_types: frozenset[str] = frozenset({"comment"})


_NAME_LEAVES = frozenset(
    {
        "identifier",
        "type_identifier",
        "field_identifier",
        "property_identifier",
        "private_property_identifier",
        "shorthand_property_identifier",
        "namespace_identifier",
        "package_identifier",
        "destructor_name",
        "operator_name",
        "constant",
    }
)

_JS_DEFS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "function_signature": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "method_definition": "method",
    "method_signature": "method",
    "abstract_method_signature": "method",
    "variable_declarator": "variable",
    "field_definition": "field",
    "public_field_definition": "field",
    "property_signature": "field",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
}
_JS = _Lang(
    defs=_JS_DEFS,
    wrappers=frozenset(
        {"export_statement", "lexical_declaration", "variable_declaration", "ambient_declaration"}
    ),
    containers=frozenset(
        {"class_declaration", "abstract_class_declaration", "class", "interface_declaration"}
    ),
    function_bodies=frozenset(
        {
            "function_declaration",
            "generator_function_declaration",
            "method_definition",
            "function_expression",
            "arrow_function",
        }
    ),
    calls={"call_expression": "function", "new_expression": "constructor"},
    members={"member_expression": "property"},
)
_C_DEFS = {
    "function_definition": "function",
    "declaration": "variable",
    "field_declaration": "field",
    "struct_specifier": "struct",
    "union_specifier": "union",
    "enum_specifier": "enum",
    "type_definition": "type",
    "preproc_def": "macro",
    "preproc_function_def": "macro",
}
_C = _Lang(
    defs=_C_DEFS,
    wrappers=frozenset(),
    containers=frozenset({"struct_specifier", "union_specifier"}),
    function_bodies=frozenset({"function_definition"}),
    calls={"call_expression": "function"},
    members={"field_expression": "field"},
)
_LANGS: dict[str, _Lang] = {
    "python": _Lang(
        defs={
            "function_definition": "function",
            "class_definition": "class",
            "assignment": "variable",
        },
        wrappers=frozenset({"decorated_definition", "expression_statement"}),
        containers=frozenset({"class_definition"}),
        function_bodies=frozenset({"function_definition", "lambda"}),
        calls={"call": "function"},
        members={"attribute": "attribute"},
    ),
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
    "go": _Lang(
        defs={
            "function_declaration": "function",
            "method_declaration": "method",
            "type_spec": "type",
            "type_alias": "type",
            "var_spec": "variable",
            "const_spec": "constant",
            "short_var_declaration": "variable",
            "field_declaration": "field",
            "method_elem": "method",
        },
        wrappers=frozenset({"type_declaration", "var_declaration", "const_declaration"}),
        containers=frozenset({"type_spec"}),
        function_bodies=frozenset({"function_declaration", "method_declaration", "func_literal"}),
        calls={"call_expression": "function"},
        members={"selector_expression": "field"},
    ),
    "rust": _Lang(
        defs={
            "function_item": "function",
            "function_signature_item": "function",
            "struct_item": "struct",
            "enum_item": "enum",
            "union_item": "union",
            "trait_item": "trait",
            "type_item": "type",
            "const_item": "constant",
            "static_item": "static",
            "let_declaration": "variable",
            "macro_definition": "macro",
            "mod_item": "module",
            "field_declaration": "field",
        },
        wrappers=frozenset(),
        containers=frozenset({"impl_item", "trait_item", "struct_item"}),
        function_bodies=frozenset({"function_item", "closure_expression"}),
        calls={"call_expression": "function", "macro_invocation": "macro"},
        members={"field_expression": "field", "scoped_identifier": "name"},
        comment_types=frozenset({"line_comment", "block_comment"}),
    ),
    "java": _Lang(
        defs={
            "class_declaration": "class",
            "interface_declaration": "interface",
            "enum_declaration": "enum",
            "record_declaration": "record",
            "annotation_type_declaration": "annotation",
            "method_declaration": "method",
            "constructor_declaration": "constructor",
            "variable_declarator": "variable",
        },
        wrappers=frozenset(
            {"field_declaration", "local_variable_declaration", "constant_declaration"}
        ),
        containers=frozenset(
            {"class_declaration", "interface_declaration", "enum_declaration", "record_declaration"}
        ),
        function_bodies=frozenset(
            {"method_declaration", "constructor_declaration", "lambda_expression"}
        ),
        calls={"method_invocation": "name", "object_creation_expression": "type"},
        members={"field_access": "field"},
        comment_types=frozenset({"line_comment", "block_comment"}),
    ),
    "c": _C,
    "cpp": _Lang(
        defs={
            **_C_DEFS,
            "class_specifier": "class",
            "alias_declaration": "type",
            "namespace_definition": "namespace",
        },
        wrappers=frozenset({"template_declaration"}),
        containers=frozenset({"class_specifier", "struct_specifier", "union_specifier"}),
        function_bodies=frozenset({"function_definition", "lambda_expression"}),
        calls={"call_expression": "function"},
        members={"field_expression": "field", "qualified_identifier": "name"},
    ),
}

# Kinds whose whole (short) text is their signature: the fields or members are the point.
_WHOLE_KINDS = frozenset({"struct", "union", "enum", "interface", "type", "record", "trait"})
_FUNCTION_KINDS = frozenset({"function", "method", "constructor", "macro"})


# -- small helpers --------------------------------------------------------------------------


class _Source:
    """The document as bytes and lines, for byte <-> code-point conversions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self.byte_lines = self.data.split(b"\n")
        self.lines = text.split("\n")

    def col(self, row: int, byte_col: int) -> int:
        if row >= len(self.byte_lines):
            return 0
        return byte_col_to_char(self.byte_lines[row], byte_col)

    def span(self, node: tree_sitter.Node) -> Span:
        (sr, sc), (er, ec) = node.start_point, node.end_point
        return sr, self.col(sr, sc), er, self.col(er, ec)

    def between(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")

    def indent_before(self, node: tree_sitter.Node) -> str:
        """The whitespace before `node` on its first line ("" when code precedes it)."""
        row, byte_col = node.start_point
        before = (
            self.byte_lines[row][:byte_col].decode("utf-8", "replace")
            if row < len(self.byte_lines)
            else ""
        )
        return before if not before.strip() else ""

    def point(self, line: int, col: int) -> tuple[int, int]:
        line = max(0, min(line, len(self.lines) - 1))
        return line, char_col_to_byte(self.lines[line], col)


def _text(node: tree_sitter.Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


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


# -- definitions ----------------------------------------------------------------------------


def _declarator_name(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """Follow a C/C++ declarator chain (pointer, function, init, reference ...) to its name."""
    for _ in range(16):
        if node is None:
            return None
        if node.type in _NAME_LEAVES:
            return node
        if node.type in ("qualified_identifier", "template_function"):
            node = node.child_by_field_name("name")
            continue
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in node.named_children if c.type in _NAME_LEAVES), None)
        node = inner
    return None


def _name_nodes(node: tree_sitter.Node, lang: str) -> list[tree_sitter.Node]:
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
    if name.type not in _NAME_LEAVES:
        name = _declarator_name(name)
    return [name] if name is not None else []


def _kind(node: tree_sitter.Node, rules: _Lang, lang: str) -> str:
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
        and any(_has_function_declarator(d) for d in node.children_by_field_name("declarator"))
    ):
        return "method" if node.type == "field_declaration" else "function"
    return kind


def _anchor(node: tree_sitter.Node, rules: _Lang) -> tree_sitter.Node:
    """The statement that carries the definition's comments (export, decorators, `const` ...)."""
    anchor = node
    for _ in range(4):
        parent = anchor.parent
        if parent is None or parent.type not in rules.wrappers:
            break
        anchor = parent
    return anchor


def _last_row(node: tree_sitter.Node) -> int:
    row, col = node.end_point
    return row - 1 if col == 0 and row > node.start_point.row else row


def _leading_comments(anchor: tree_sitter.Node, rules: _Lang) -> tuple[list[tree_sitter.Node], int]:
    """Comments glued to the top of `anchor` (no blank line between), and the top row."""
    top = anchor.start_point.row
    comments: list[tree_sitter.Node] = []
    prev = anchor.prev_named_sibling
    while prev is not None:
        if prev.type == "attribute_item" and _last_row(prev) >= top - 1:  # rust #[derive]
            top = prev.start_point.row
            prev = prev.prev_named_sibling
            continue
        if prev.type not in rules.comment_types or _last_row(prev) < top - 1:
            break
        before = prev.prev_sibling
        if before is not None and _last_row(before) == prev.start_point.row:
            break  # a trailing comment of the line above belongs to that line
        comments.insert(0, prev)
        top = prev.start_point.row
        prev = prev.prev_named_sibling
    return comments, top


def _trailing_comment(anchor: tree_sitter.Node, rules: _Lang) -> tree_sitter.Node | None:
    nxt = anchor.next_named_sibling
    if (
        nxt is not None
        and nxt.type in rules.comment_types
        and nxt.start_point.row == _last_row(anchor)
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


def _container(node: tree_sitter.Node, rules: _Lang, lang: str) -> str | None:
    if lang == "go" and node.type == "method_declaration":
        receiver = node.child_by_field_name("receiver")
        names = re.findall(r"[A-Za-z_]\w*", _text(receiver))
        return names[-1] if names else None
    if lang == "cpp" and node.type == "function_definition":
        declarator = node.child_by_field_name("declarator")
        inner = declarator.child_by_field_name("declarator") if declarator else None
        if inner is not None and inner.type == "qualified_identifier":
            scope = inner.child_by_field_name("scope")
            if scope is not None:
                return _text(scope)
    parent = node.parent
    for _ in range(6):
        if parent is None:
            return None
        if parent.type in rules.function_bodies:
            return None
        if parent.type in rules.containers:
            if parent.type == "impl_item":
                trait = parent.child_by_field_name("trait")
                target = _text(parent.child_by_field_name("type"))
                return f"<{target} as {_text(trait)}>" if trait is not None else target
            names = _name_nodes(parent, lang)
            return _text(names[0]) if names else None
        parent = parent.parent
    return None


def _scope(node: tree_sitter.Node, rules: _Lang) -> tree_sitter.Node | None:
    """The function a definition is local to, or None at file / class level."""
    parent = node.parent
    while parent is not None:
        if parent.type in rules.function_bodies:
            return parent
        parent = parent.parent
    return None


def _body(node: tree_sitter.Node) -> tree_sitter.Node | None:
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


def _signature(
    node: tree_sitter.Node, anchor: tree_sitter.Node, kind: str, src: _Source, lang: str
) -> str:
    # Decorators, `export`, `template <...>` and declaration keywords belong to the signature;
    # the doc comment does not (it is shown as the docstring).
    first = node if anchor.type == "expression_statement" else anchor
    start = first.start_byte
    indent = src.indent_before(first)
    body = _body(node)
    whole = src.between(start, anchor.end_byte if anchor is not node else node.end_byte)
    if kind in _WHOLE_KINDS and whole.count("\n") < MAX_SIGNATURE_LINES:
        return _dedent_tail(whole, indent)
    if body is not None and body.start_byte > start:
        header = src.between(start, body.start_byte).rstrip()
        if body.type in ("block", "statement_block", "compound_statement") or lang != "python":
            header = header.rstrip("{").rstrip()
        return _shorten(_dedent_tail(header, indent))
    if kind in _FUNCTION_KINDS or kind in ("class", "module", "namespace"):
        return _shorten(_dedent_tail(whole, indent))
    first_line = whole.split("\n", 1)
    statement = whole if len(whole) <= MAX_STATEMENT_CHARS and len(first_line) <= 3 else None
    if statement is None:
        statement = first_line[0][:MAX_STATEMENT_CHARS].rstrip() + " …"
    return _dedent_tail(statement, indent)


def _symbol(
    node: tree_sitter.Node, name: tree_sitter.Node, rules: _Lang, lang: str, src: _Source, uri: str
) -> Symbol:
    kind = _kind(node, rules, lang)
    anchor = _anchor(node, rules)
    container = _container(node, rules, lang)
    if kind == "function" and container is not None:
        kind = "method"
    docstring: str | None = None
    doc_span: Span | None = None
    if lang == "python":
        doc = _python_docstring(node, anchor)
        if doc is not None:
            docstring = python_string_value(_text(doc.named_children[0]))
            doc_span = src.span(doc)
    comments, top = _leading_comments(anchor, rules)
    if docstring is None and comments:
        docstring = "\n".join(clean_comment(_text(c)) for c in comments).strip()
        first, last = src.span(comments[0]), src.span(comments[-1])
        doc_span = (first[0], first[1], last[2], last[3])
    if docstring is None and kind in ("variable", "constant", "field", "static"):
        trailing = _trailing_comment(anchor, rules)
        if trailing is not None:
            docstring = clean_comment(_text(trailing))
            doc_span = src.span(trailing)
    if docstring is not None and len(docstring) > MAX_DOC_CHARS:
        docstring = docstring[:MAX_DOC_CHARS].rstrip() + " …"
    body = _body(node)
    scope = _scope(node, rules)
    return Symbol(
        name=_text(name),
        kind=kind,
        signature=_signature(node, anchor, kind, src, lang),
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


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    cursor = node.walk()
    while True:
        current = cursor.node
        if current is not None:
            yield current
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _definitions(
    tree: tree_sitter.Tree, src: _Source, spec: LanguageSpec, uri: str
) -> list[tuple[tree_sitter.Node, Symbol]]:
    rules = _LANGS.get(spec.name)
    if rules is None:
        return []
    out: list[tuple[tree_sitter.Node, Symbol]] = []
    for node in _walk(tree.root_node):
        if node.type in rules.defs and node.is_named:
            for name in _name_nodes(node, spec.name):
                out.append((node, _symbol(node, name, rules, spec.name, src, uri)))
    return out


_cache: OrderedDict[tuple[str, str, int, int], tuple[Symbol, ...]] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_DOCS = 64


def document_symbols(
    uri: str, text: str, spec: LanguageSpec, tree: tree_sitter.Tree | None = None
) -> tuple[Symbol, ...]:
    """Every definition in a document (locals included), cached per document version.

    `tree`, when given, must be the parse of `text`.
    """
    key = (uri, spec.name, len(text), hash(text))
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    src = _Source(text)
    tree = tree or parse(src.data, spec)
    symbols = tuple(sym for _, sym in _definitions(tree, src, spec, uri))
    with _cache_lock:
        _cache[key] = symbols
        while len(_cache) > _CACHE_DOCS:
            _cache.popitem(last=False)
    return symbols


# -- lookups --------------------------------------------------------------------------------


def _contains(span: Span, line: int, col: int) -> bool:
    return (span[0], span[1]) <= (line, col) <= (span[2], span[3])


def _leaf_at(tree: tree_sitter.Tree, src: _Source, line: int, col: int) -> tree_sitter.Node | None:
    row, byte_col = src.point(line, col)
    candidates = [(row, byte_col)]
    if byte_col > 0:
        candidates.append((row, byte_col - 1))  # the cursor right after a name
    fallback = None
    for point in candidates:
        leaf = tree.root_node.descendant_for_point_range(point, point)
        if leaf is None:
            continue
        if leaf.type in _NAME_LEAVES:
            return leaf
        fallback = fallback or leaf
    return fallback


def _callee(leaf: tree_sitter.Node, rules: _Lang) -> tuple[tree_sitter.Node | None, bool]:
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
        kind_fit = 0 if symbol.kind in _FUNCTION_KINDS | {"class", "struct", "record"} else 1
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
    rules = _LANGS.get(spec.name)
    if rules is None:
        return None
    src = _Source(text)
    tree = parse(src.data, spec)
    leaf = _leaf_at(tree, src, line, col)
    if leaf is None:
        return None
    line_text = src.lines[leaf.start_point.row] if leaf.start_point.row < len(src.lines) else ""
    if leaf.type in _NAME_LEAVES:
        # The name of a definition?
        node: tree_sitter.Node | None = leaf.parent
        for _ in range(6):
            if node is None:
                break
            if node.type in rules.defs and any(n == leaf for n in _name_nodes(node, spec.name)):
                symbol = _symbol(node, leaf, rules, spec.name, src, uri)
                return HoverTarget("definition", symbol.name, src.span(leaf), symbol, "", line_text)
            node = node.parent
        # A reference: a call, or a use of a variable / type.
        call, member = _callee(leaf, rules)
        name = _text(leaf)
        own = document_symbols(uri, text, spec, tree)
        symbol = _resolve(
            name, line, col, own, open_docs, spec, member=member, call=call is not None
        )
        if call is not None:
            expression = _text(call)
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
    """
    rules = _LANGS.get(spec.name)
    if rules is None:
        return None
    src = _Source(text)
    tree = tree or parse(src.data, spec)
    row, byte_col = src.point(line, col)
    node = tree.root_node.descendant_for_point_range((row, byte_col), (row, byte_col))
    while node is not None:
        if node.type in rules.defs and node.is_named:
            names = _name_nodes(node, spec.name)
            if names:
                symbol = _symbol(node, names[0], rules, spec.name, src, uri)
                if kinds is None or symbol.kind in kinds:
                    if not header_only:
                        return symbol
                    body = symbol.body
                    if body is None or (line, col) < (body[0], body[1]):
                        return symbol
                    return None
        node = node.parent
    return None
