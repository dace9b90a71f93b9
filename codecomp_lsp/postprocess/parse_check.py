"""Rank completion candidates by whether they break the document's syntax.

Only the change in error count matters: a half-typed line already has errors, and a good
completion may legitimately leave some (or fix some). A candidate is worse only when it
adds errors compared with inserting nothing.
"""

from __future__ import annotations

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.syntax import count_errors


def parse_penalty(
    document_text: str,
    offset: int,
    completion: str,
    spec: LanguageSpec | None,
    *,
    baseline_errors: int | None = None,
) -> int:
    """Syntax errors added by inserting `completion` at code-point `offset` (may be negative).

    Pass `baseline_errors` (errors of `document_text` as is) to skip one parse. With no
    language spec there is nothing to check and the penalty is 0.
    """
    if spec is None:
        return 0
    if baseline_errors is None:
        baseline_errors = count_errors(document_text, spec)
    edited = document_text[:offset] + completion + document_text[offset:]
    return count_errors(edited, spec) - baseline_errors


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
    baseline = count_errors(document_text, spec)
    scored = [
        (
            candidate,
            parse_penalty(document_text, offset, candidate, spec, baseline_errors=baseline),
        )
        for candidate in unique
    ]
    clean = [item for item in scored if item[1] <= 0]
    if clean:
        return clean
    return sorted(scored, key=lambda item: item[1])
