"""Definitions from other open documents that the code near the cursor refers to.

Selection is deliberately simple and deterministic (document uri, then position):
a prompt prefix that stays byte-identical between keystrokes keeps the model's KV
cache warm, which matters more than ranking the snippets cleverly.
"""

from __future__ import annotations

import posixpath
import re
import threading
from collections.abc import Callable, Iterable
from urllib.parse import unquote, urlsplit

import tree_sitter

from codecomp_lsp.context.cursor import split_lines
from codecomp_lsp.context.definitions import Definition, index_definitions
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.context.syntax import parse
from codecomp_lsp.context.tokens import cached_count
from codecomp_lsp.context.types import Snippet

__all__ = ["collect_snippets", "definitions_of", "identifiers_in"]

_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: not a drive
_IDENTIFIER_KINDS = (
    "identifier",
    "type_identifier",
    "field_identifier",
    "property_identifier",
    "shorthand_property_identifier",
    "shorthand_property_identifier_pattern",
    "namespace_identifier",
    "package_identifier",
    "constant",
)
_MIN_NAME = 2  # one-letter names match far too much

_queries: dict[str, tree_sitter.Query] = {}
_lock = threading.Lock()


def _identifier_query(spec: LanguageSpec) -> tree_sitter.Query:
    query = _queries.get(spec.name)
    if query is None:
        language = spec.language
        kinds = [k for k in _IDENTIFIER_KINDS if language.id_for_node_kind(k, True) is not None]
        query = tree_sitter.Query(language, " ".join(f"({kind}) @id" for kind in kinds))
        with _lock:
            _queries[spec.name] = query
    return query


def _tree_identifiers(tree: tree_sitter.Tree, data: bytes, spec: LanguageSpec) -> set[str]:
    captures = tree_sitter.QueryCursor(_identifier_query(spec)).captures(tree.root_node)
    return {
        data[node.start_byte : node.end_byte].decode("utf-8", "replace")
        for nodes in captures.values()
        for node in nodes
    }


def identifiers_in(text: str, spec: LanguageSpec | None) -> set[str]:
    """Identifiers used in `text`: identifier nodes with a spec (so comments and strings
    do not count), any word-like token without one."""
    if spec is None:
        return set(_WORD.findall(text))
    data = text.encode("utf-8", "surrogatepass")
    return _tree_identifiers(parse(data, spec), data, spec)


def _wanted_names(window_text: str, spec: LanguageSpec | None) -> set[str]:
    """Names used in the window minus those it defines itself (they are not elsewhere)."""
    if spec is None:
        names = identifiers_in(window_text, None)
    else:
        data = window_text.encode("utf-8", "surrogatepass")
        tree = parse(data, spec)
        names = _tree_identifiers(tree, data, spec)
        for definition in index_definitions(tree, split_lines(window_text), spec):
            names.difference_update(definition.names)
    return {name for name in names if len(name) >= _MIN_NAME}


def definitions_of(uri: str, text: str, spec: LanguageSpec) -> tuple[Definition, ...]:
    """The definition index of a document version, cached with its parse (`context.parsed`)."""
    return parsed(text, spec).derived(
        "definitions", lambda doc: index_definitions(doc.tree, split_lines(text), spec)
    )


def _uri_path(uri: str) -> str | None:
    """The file path of a `file:` uri or plain path; None for other schemes (untitled:)."""
    scheme = _SCHEME.match(uri)
    if scheme is None:
        return uri.replace("\\", "/")
    if scheme.group(1).lower() == "file":
        return unquote(urlsplit(uri).path)
    return None


def display_path(uri: str, current_uri: str) -> str:
    """`uri` relative to the deepest folder it shares with the current document."""
    path, current = _uri_path(uri), _uri_path(current_uri)
    if path is None:
        return uri
    if current is None or not path.startswith("/") or not current.startswith("/"):
        return path
    common = posixpath.commonpath([posixpath.dirname(path), posixpath.dirname(current)])
    return path if common == "/" else posixpath.relpath(path, common)


def _related(spec: LanguageSpec | None, other: LanguageSpec) -> bool:
    return spec is None or spec.family == other.family


def collect_snippets(
    window_text: str,
    spec: LanguageSpec | None,
    current_uri: str,
    open_docs: Iterable[tuple[str, str, LanguageSpec | None]],
    *,
    count_tokens: Callable[[str], int],
    budget: int,
) -> tuple[Snippet, ...]:
    """Definitions in other open documents whose names `window_text` uses, within `budget`.

    Only documents of the same language family are searched. Each snippet's text starts
    with a `<comment> path: <path>` line and ends with "\\n". Pass text that does not
    change while the user types (e.g. `ctx.before + ctx.after`) to keep snippets stable.
    """
    if budget <= 0:
        return ()
    docs = sorted(
        (
            (uri, text, other)
            for uri, text, other in open_docs
            if uri != current_uri and other is not None and _related(spec, other)
        ),
        key=lambda doc: doc[0],
    )
    if not docs:
        return ()
    used = _wanted_names(window_text, spec)
    if not used:
        return ()
    out: list[Snippet] = []
    spent = 0
    for uri, text, other in docs:
        chosen: set[int] = set()
        shown_path = display_path(uri, current_uri)
        for position, definition in enumerate(definitions_of(uri, text, other)):
            if used.isdisjoint(definition.names):
                continue
            if definition.owner is not None and definition.owner in chosen:
                continue  # the class snippet already shows this member
            snippet_text = f"{other.line_comment} path: {shown_path}\n{definition.text}\n"
            cost = cached_count(count_tokens, snippet_text)
            if spent + cost > budget:
                continue
            spent += cost
            chosen.add(position)
            out.append(Snippet(path=shown_path, text=snippet_text))
    return tuple(out)
