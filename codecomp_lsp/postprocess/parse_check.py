"""Rank completion candidates by whether they break the document's syntax.

Only the change in error count matters: a half-typed line already has errors, and a good
completion may legitimately leave some (or fix some). A candidate is worse only when it
adds errors compared with inserting nothing.

Inserting a candidate is an edit of the document's tree: the document is parsed once (through
the shared cache, where completion's context has usually put it already) and each candidate is
reparsed incrementally from that tree, so the check costs in proportion to the candidate, not to
the window. The result is the same as parsing the edited text from scratch.

When the document's tree has more errors than the last candidate's (a half-typed line: tree-sitter
reuses little of its own error recovery), that one is the better base: its text differs from this
one by what was typed since, usually a character.
"""

from __future__ import annotations

import threading

import tree_sitter

from codecomp_lsp.context.incremental import insertion_edit, reparse
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.parsed import Parsed, error_count, parsed
from codecomp_lsp.context.syntax import count_errors

# Per language, the last document-with-a-candidate parsed (bytes, tree, errors): a base for the
# next one's reparse.
_last: dict[str, tuple[bytes, tree_sitter.Tree, int]] = {}
_last_lock = threading.Lock()


class _Document:
    """The document a candidate is inserted into: its bytes, tree and error count."""

    def __init__(self, text: str, offset: int, spec: LanguageSpec) -> None:
        self.spec = spec
        self.entry: Parsed = parsed(text, spec)
        self.data = text.encode("utf-8", "surrogatepass")
        self.at = len(text[:offset].encode("utf-8", "surrogatepass"))

    def errors(self) -> int:
        return error_count(self.entry)

    def errors_with(self, completion: str) -> int:
        """Errors of the document with `completion` inserted at the offset."""
        inserted = completion.encode("utf-8", "surrogatepass")
        edited = self.data[: self.at] + inserted + self.data[self.at :]
        spec = self.spec
        tree = self.entry.tree
        with _last_lock:
            last = _last.get(spec.name)
        if last is not None and last[2] < self.errors():
            edited_tree = reparse(last[0], last[1], edited, spec)
        else:
            edit = insertion_edit(self.data, self.at, inserted)
            edited_tree = reparse(self.data, tree, edited, spec, edit)
        errors = count_errors(edited_tree, spec)
        with _last_lock:
            _last[spec.name] = (edited, edited_tree, errors)
        return errors


def parse_penalty(
    document_text: str,
    offset: int,
    completion: str,
    spec: LanguageSpec | None,
    *,
    baseline_errors: int | None = None,
) -> int:
    """Syntax errors added by inserting `completion` at code-point `offset` (may be negative).

    Pass `baseline_errors` (errors of `document_text` as is) to skip counting them. With no
    language spec there is nothing to check and the penalty is 0.
    """
    if spec is None:
        return 0
    doc = _Document(document_text, offset, spec)
    if baseline_errors is None:
        baseline_errors = doc.errors()
    return doc.errors_with(completion) - baseline_errors


def rank_candidates(
    candidates: list[str],
    document_text: str,
    offset: int,
    spec: LanguageSpec | None,
) -> list[tuple[str, int]]:
    """Unique candidates with their penalties, best first, original order kept among equals.

    Candidates that add errors are dropped when any candidate adds none; otherwise they are
    sorted by how many errors they add. Penalties at or below 0 count as equally good.
    """
    unique = list(dict.fromkeys(candidates))
    if spec is None:
        return [(candidate, 0) for candidate in unique]
    doc = _Document(document_text, offset, spec)
    baseline = doc.errors()
    scored = [(candidate, doc.errors_with(candidate) - baseline) for candidate in unique]
    clean = [item for item in scored if item[1] <= 0]
    if clean:
        return clean
    return sorted(scored, key=lambda item: item[1])
