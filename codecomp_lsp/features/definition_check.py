"""The definition check: on an empty line whose following lines read names nothing binds
(`context/needed.py`), answers that bind them rank first, and when no candidate binds them one
more is decoded that starts with the binding — the model continues `ret` with ` = 1` where,
left alone, it wrote `if n == 0:` and the loop below failed on `ret`.

The extra answer is decoded from the same prompt with the opening after the middle marker (the
way typed text is laid out), so the cache holds everything before it and it costs the opening's
few tokens of prefill and one short decode; it is asked for only when the check applies.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.needed import NeededNames, needed_names
from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.engine.generation import Cancelled, Finish, GenerationRequest
from codecomp_lsp.postprocess.pipeline import clean_completion
from codecomp_lsp.postprocess.references import defined_names
from codecomp_lsp.prompt.builder import PromptBuilder
from codecomp_lsp.stages import Stage

__all__ = ["bound_count", "guided_answer", "needed_at", "rank_by_definitions"]


def needed_at(
    ctx: CursorContext,
    window: str,
    offset: int,
    spec: LanguageSpec | None,
    tree: Callable[[], tree_sitter.Tree],
    elsewhere: Callable[[], frozenset[str]],
) -> NeededNames | None:
    """What the empty line at the cursor must bind; None off such a line (nothing is parsed
    then: most keystrokes are inside a line). `elsewhere`: the words of the other open
    documents."""
    if spec is None or spec.name != "python" or ctx.line_prefix.strip() or ctx.line_suffix.strip():
        return None
    return needed_names(tree(), window, offset, spec.name, elsewhere())


_READ_AFTER = re.compile(r"^\s*(?:for\s+[\w, \t]+\s+in\b|[\w, \t]+(?<![=!<>])=(?!=))(.*)")
_WORD = re.compile(r"[A-Za-z_]\w*")


def bound_count(text: str, needed: NeededNames) -> int:
    """How many of the needed names `text` binds (`ans = ans + odds` reads `ans` before it is
    bound: that does not count)."""
    bound = defined_names(text, "python") & set(needed.names)
    head = _READ_AFTER.match(text.split("\n", 1)[0])
    if head is not None:
        bound -= set(_WORD.findall(head.group(1)))
    return len(bound)


def rank_by_definitions(suggestions: list[Any], needed: NeededNames) -> list[Any]:
    """Suggestions that bind more of the needed names first among those of equal parse
    penalty; the order is kept otherwise (stable)."""
    return sorted(suggestions, key=lambda s: (s.parse_penalty or 0, -bound_count(s.text, needed)))


def guided_answer(
    engine: Any,
    builder: PromptBuilder,
    ctx: CursorContext,
    request: GenerationRequest,
    needed: NeededNames,
    stop_check: Callable[[CursorContext], Callable[[str], bool] | None],
    off: frozenset[Stage],
    bans: Callable[[tuple[str, ...]], frozenset[int]],
) -> tuple[str, float] | None:
    """(an answer that starts with the names' binding, its mean log-probability), or None when
    no form fits, the time is up, or the model did not bind them even so. `bans`: the tokens
    that are one of some words — after `ans =` the model may not go on with `ans`, unbound."""
    opening = needed.opening()
    if opening is None or (request.deadline is not None and time.monotonic() >= request.deadline):
        return None
    guided = replace(
        ctx, line_prefix=ctx.line_prefix + opening, character=ctx.character + len(opening)
    )
    prompt = builder.build(guided)  # the opening follows the middle marker
    result = engine.generate(
        replace(
            request,
            prompt_ids=prompt.ids,
            candidates=1,
            temperature=0.0,
            stop_check=stop_check(guided),
            on_text=None,
            on_finish=None,
            banned_first=bans(needed.names) if opening.endswith("=") else frozenset(),
        )
    )
    if result.cancelled:
        raise Cancelled()
    if not result.candidates:
        return None
    cand = result.candidates[0]
    cut_off = cand.finish in (Finish.LENGTH, Finish.DEADLINE)
    rest = clean_completion(cand.text, guided, cut_off=cut_off, off=off)
    text = opening + rest
    if not rest.strip() or not bound_count(text, needed):
        return None
    return text, cand.mean_logprob
