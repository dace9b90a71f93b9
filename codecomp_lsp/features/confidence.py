"""`minConfidence`: automatic suggestions the model itself doubts are not shown.

A suggestion's score is the mean log-probability of its tokens under the model that wrote it.
Only automatic (as-you-type) requests are filtered: a user who asked for a completion sees what
the model has. A suggestion without a score of its own (the rest of one typed ahead, 0.0) passes.
"""

from __future__ import annotations

from codecomp_lsp.features.completion import Suggestion
from codecomp_lsp.settings import MIN_CONFIDENCE_OFF


def confident(
    suggestions: list[Suggestion], threshold: float, *, automatic: bool
) -> tuple[list[Suggestion], int]:
    """The suggestions to show, and how many were hidden."""
    if not automatic or threshold <= MIN_CONFIDENCE_OFF:
        return suggestions, 0
    kept = [s for s in suggestions if s.score >= threshold]
    return kept, len(suggestions) - len(kept)
