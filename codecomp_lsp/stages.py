"""The stages of the completion pipeline that can be switched off, one at a time, to measure
what each earns (`codecomp eval --ablate`, setting `disabledStages`). A leaf module: context,
prompt, post-processing and features all read it, so it imports none of them."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Stage(StrEnum):
    LINE_STEP = "line-step"  # the prefix window starts on a multiple of 16 lines (cache-stable)
    MIDDLE_LAYOUT = "typed-line-after-middle"  # off: plain PSM, the typed line ends the prefix
    BUDGET_SPLIT = "budget-split"  # off: prefix and suffix each may take the whole budget
    STOP_CHECK = "stop-check"  # off: decode to the end token or the token cap
    INDENTATION = "indentation"  # first-line indent strip and re-indenting a block
    REPETITION = "repetition-cut"
    BRACKETS = "bracket-balance"
    SUFFIX_OVERLAP = "suffix-overlap"  # drop the tail that the text after the cursor repeats
    DUPLICATE_CHECK = "duplicate-check"  # reject an answer that only repeats the next lines
    PARSE_CHECK = "parse-check"  # rank candidates by the syntax errors they add
    # Rank candidates that use names nothing the model saw defines below the others; hold back a
    # lone automatic one made only of such names (postprocess/references.py).
    REFERENCE_CHECK = "reference-check"
    # An empty line with statements after it at its indentation is not answered with `return`,
    # `raise`, `break`… that would cut them off (context/reachability.py).
    REACHABILITY = "reachability"
    # On an empty line whose next lines read names nothing binds, answers that bind them rank
    # first, and one that starts with the binding is decoded when none does (context/needed.py).
    DEFINITION_CHECK = "definition-check"


STAGES = tuple(Stage)


def parse_stages(names: Iterable[str]) -> frozenset[Stage]:
    """Stages from their names; an unknown name raises ValueError naming the known ones."""
    out: set[Stage] = set()
    for name in names:
        try:
            out.add(Stage(name))
        except ValueError:
            known = ", ".join(s.value for s in STAGES)
            raise ValueError(f"unknown stage {name!r} (stages: {known})") from None
    return frozenset(out)
