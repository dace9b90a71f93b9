"""Suggestions that use names nothing the model saw defines (postprocess/references.py) rank
below those that do not; a lone automatic suggestion made only of such names is held back.

The known names of a document are read once per version; those of the other open documents once
per version of each.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from codecomp_lsp.postprocess.references import checks, known_names, unknown_names

_KEPT = 64  # documents whose word sets are kept


class ReferenceCheck:
    def __init__(self) -> None:
        self._words: dict[str, tuple[Any, str, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def _document_words(self, uri: str, version: Any, text: str) -> frozenset[str]:
        with self._lock:
            entry = self._words.get(uri)
        if entry is not None and entry[0] == version and entry[1] is text:
            return entry[2]
        words = known_names([text], None)
        with self._lock:
            self._words[uri] = (version, text, words)
            while len(self._words) > _KEPT:
                self._words.pop(next(iter(self._words)))
        return words

    def forget(self, uri: str) -> None:
        with self._lock:
            self._words.pop(uri, None)

    def known(self, doc: Any, open_docs: Sequence[Any], language: str) -> frozenset[str]:
        own = self._document_words(doc.uri, doc.version, doc.text)
        return known_names((), language) | own | self.elsewhere(doc, open_docs)

    def elsewhere(self, doc: Any, open_docs: Sequence[Any]) -> frozenset[str]:
        """The words of the open documents other than `doc`."""
        names: set[str] = set()
        for each in open_docs:
            if each.uri != doc.uri:
                names |= self._document_words(each.uri, each.version, each.text)
        return frozenset(names)

    def apply(
        self,
        suggestions: list[Any],
        doc: Any,
        open_docs: Sequence[Any],
        language: str | None,
        *,
        automatic: bool,
    ) -> tuple[list[Any], int]:
        """(the suggestions, those with unknown names after the others at equal parse penalty;
        1 if a lone automatic one was held back, else 0)."""
        if not suggestions or not checks(language):
            return suggestions, 0
        assert language is not None
        known = self.known(doc, open_docs, language)
        unknown = {}
        for s in suggestions:
            names, used = unknown_names(s.text, known, language)
            unknown[s.text] = (len(names), used)
        if automatic and len(suggestions) == 1:
            count, used = unknown[suggestions[0].text]
            if used and count == used:
                return [], 1
        ranked = sorted(suggestions, key=lambda s: (s.parse_penalty or 0, unknown[s.text][0] > 0))
        return ranked, 0
