"""The one cache of parsed documents: a tree per (language, text), and what is derived from it.

A lightbulb request looks for syntax problems, for the definition around the cursor and for a
comment under it; a hover resolves names in the current and the other open documents. They all
read the same document versions, so they share one parse through `parsed()`, and what they build
from a tree (the symbol outline, the definition index) is kept on the same entry.

The cache is bounded and thread-safe. Entries are found by the text's length and hash and
checked against the text itself. Only the most recently used few keep their tree (a tree costs
much more memory than what is derived from it); an older entry parses again when asked for its
tree. Cached trees are shared between callers and threads: never `edit()` one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import islice
from typing import Any, TypeVar

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.syntax import parse

__all__ = ["Parsed", "parsed"]

_MAX_ENTRIES = 64  # document versions whose derived data is kept
_MAX_TREES = 8  # of those, how many (the most recently used) keep their tree

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


def parsed(text: str, spec: LanguageSpec, tree: tree_sitter.Tree | None = None) -> Parsed:
    """The cache entry for `text` in `spec`'s grammar; `tree`, when given, must be its parse."""
    key = (spec.name, len(text), hash(text))
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry.text == text:
            _entries.move_to_end(key)
            if tree is not None and entry._tree is None:
                entry._tree = tree
            _trim()
            return entry
    entry = Parsed(text, spec, tree if tree is not None else parse(text, spec))
    with _lock:
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


def _trim() -> None:
    """Drop the trees of all but the `_MAX_TREES` most recently used entries (lock held)."""
    for entry in islice(reversed(_entries.values()), _MAX_TREES, None):
        entry._tree = None
