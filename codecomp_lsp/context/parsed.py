"""The one cache of parsed documents: a tree per (language, text), and what is derived from it.

A lightbulb request looks for syntax problems, for the definition around the cursor and for a
comment under it; a hover resolves names in the current and the other open documents. They all
read the same document versions, so they share one parse through `parsed()`, and what they build
from a tree (the symbol outline, the definition index) is kept on the same entry.

The cache is bounded and thread-safe. Entries are found by the text's length and hash and
checked against the text itself. Only the most recently used few keep their tree (a tree costs
much more memory than what is derived from it); an older entry parses again when asked for its
tree. Cached trees are shared between callers and threads: never `edit()` one.

A caller that parses successive versions of one text (a document as it is edited, the line window
completion reads around the cursor) names it with `base`: the last (text, tree) parsed under that
name is kept, and the next version's tree is derived from it incrementally (`incremental.reparse`),
so a keystroke costs in proportion to the edit instead of to the document.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import islice
from typing import Any, TypeVar

import tree_sitter

from codecomp_lsp.context.incremental import reparse
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.syntax import count_errors, parse

__all__ = ["Parsed", "error_count", "forget_bases", "parsed"]

_MAX_ENTRIES = 64  # document versions whose derived data is kept
_MAX_TREES = 8  # of those, how many (the most recently used) keep their tree
_MAX_BASES = 32  # named texts whose last version is kept for incremental parsing

T = TypeVar("T")


class Parsed:
    """One document version of one language: its tree and what was derived from it."""

    __slots__ = ("_derived", "_tree", "spec", "text")

    def __init__(self, text: str, spec: LanguageSpec, tree: tree_sitter.Tree | None) -> None:
        self.text = text
        self.spec = spec
        self._tree = tree
        self._derived: dict[Hashable, Any] = {}

    @property
    def tree(self) -> tree_sitter.Tree:
        """The parse of `text` (parsed again if the cache had dropped it)."""
        tree = self._tree
        if tree is None:
            tree = parse(self.text, self.spec)
            with _lock:
                self._tree = tree
                _trim()  # kept only while this entry is among the most recently used
        return tree

    def derived(self, key: Hashable, build: Callable[[Parsed], T]) -> T:
        """`build(self)`, computed once per entry and `key` (the first result stored wins)."""
        try:
            return self._derived[key]
        except KeyError:
            pass
        value = build(self)
        with _lock:
            return self._derived.setdefault(key, value)


_entries: OrderedDict[tuple[str, int, int], Parsed] = OrderedDict()
_lock = threading.Lock()


class _Base:
    """The last version parsed under one name: what the next version is reparsed from."""

    __slots__ = ("data", "errors", "language", "steady", "text", "tree")

    def __init__(
        self, language: str, text: str, data: bytes, tree: tree_sitter.Tree, errors: int
    ) -> None:
        self.language = language
        self.text = text
        self.data = data
        self.tree = tree
        self.errors = errors
        # The last version with no more errors than this one: the base while a half-typed line
        # (an open bracket or string) keeps the error count up. tree-sitter reuses little of its
        # own error recovery, so the version before the line broke, which differs from this one
        # only by what was typed since, reparses much faster than the previous broken one.
        self.steady: _Base = self

    def source(self) -> tuple[bytes, tree_sitter.Tree]:
        """The (bytes, tree) to reparse the next version from."""
        base = self.steady if self.steady.errors < self.errors else self
        return base.data, base.tree


_bases: OrderedDict[Hashable, _Base] = OrderedDict()


def parsed(
    text: str,
    spec: LanguageSpec,
    tree: tree_sitter.Tree | None = None,
    *,
    base: Hashable | None = None,
) -> Parsed:
    """The cache entry for `text` in `spec`'s grammar; `tree`, when given, must be its parse.

    `base` names the text this is a version of (e.g. `("document", uri)`): a text not cached yet
    is then parsed incrementally from the last version parsed under that name.
    """
    key = (spec.name, len(text), hash(text))
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry.text == text:
            _entries.move_to_end(key)
            if tree is not None and entry._tree is None:
                entry._tree = tree
            _trim()
            tree = entry._tree
        else:
            entry = None
            previous = _bases.get(base) if base is not None else None
    if entry is not None:
        if base is not None and tree is not None:
            errors = error_count(entry)
            with _lock:
                _remember(base, spec, entry.text, None, tree, errors)
        return entry
    data = None
    if tree is None:
        if previous is not None and previous.language == spec.name:
            data = text.encode("utf-8", "surrogatepass")
            tree = reparse(*previous.source(), data, spec)
        else:
            tree = parse(text, spec)
    entry = Parsed(text, spec, tree)
    errors = error_count(entry) if base is not None else 0
    with _lock:
        if base is not None:
            _remember(base, spec, text, data, tree, errors)
        current = _entries.get(key)
        if current is not None and current.text == text:  # another thread was quicker
            _entries.move_to_end(key)
            return current
        _entries[key] = entry
        _entries.move_to_end(key)
        while len(_entries) > _MAX_ENTRIES:
            _entries.popitem(last=False)
        _trim()
    return entry


def _remember(
    base: Hashable,
    spec: LanguageSpec,
    text: str,
    data: bytes | None,
    tree: tree_sitter.Tree,
    errors: int,
) -> None:
    """Keep (text, tree) as the version `base` is next reparsed from (lock held)."""
    current = _bases.get(base)
    same = current is not None and (current.text is text or current.text == text)
    if same and current.language == spec.name:
        _bases.move_to_end(base)
        return
    if data is None:
        data = text.encode("utf-8", "surrogatepass")
    entry = _Base(spec.name, text, data, tree, errors)
    if current is not None and current.language == spec.name:
        steady = current.steady if current.steady.errors <= current.errors else current
        if steady.errors < errors:
            entry.steady = steady
    _bases[base] = entry
    _bases.move_to_end(base)
    while len(_bases) > _MAX_BASES:
        _bases.popitem(last=False)


def forget_bases(match: Callable[[Hashable], bool]) -> None:
    """Drop the kept versions whose name `match`es (a closed document's)."""
    with _lock:
        for name in [name for name in _bases if match(name)]:
            del _bases[name]


def error_count(entry: Parsed) -> int:
    """ERROR and MISSING nodes in `entry`'s tree (counted once per entry)."""
    return entry.derived("error-count", lambda e: count_errors(e.tree, e.spec))


def _trim() -> None:
    """Drop the trees of all but the `_MAX_TREES` most recently used entries (lock held)."""
    for entry in islice(reversed(_entries.values()), _MAX_TREES, None):
        entry._tree = None
