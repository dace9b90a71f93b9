"""The incremental parse check decides exactly as parsing every edited text from scratch did."""

from __future__ import annotations

import random

import pytest

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.syntax import count_errors
from codecomp_lsp.context.types import CursorContext
from codecomp_lsp.postprocess.brackets import prefix_state
from codecomp_lsp.postprocess.parse_check import parse_penalty, rank_candidates
from codecomp_lsp.postprocess.scanner import ScanState, scan, syntax_for

DOCUMENTS = {
    "python": "def area(r):\n    return 3.14 * r * r\n\n\nclass A:\n    x = [1, 2]\n    s = 'é'\n",
    "rust": 'fn main() {\n    let x = vec![1, 2];\n    println!("{}", x.len());\n}\n',
    "javascript": "function f(a) {\n  return a.map((x) => x + 1);\n}\nconst s = `t${1}`;\n",
}
CANDIDATES = ["3.14 * r", "(", ")", "x + 1;", "[1, 2", "'open", "}", "\n    y = 2", ": pass", "é😀"]


def _old_penalty(text: str, offset: int, completion: str, spec) -> int:
    """The parse check as it was: both texts parsed from scratch."""
    edited = text[:offset] + completion + text[offset:]
    return count_errors(edited, spec) - count_errors(text, spec)


def _old_rank(candidates: list[str], text: str, offset: int, spec) -> list[tuple[str, int]]:
    unique = list(dict.fromkeys(candidates))
    scored = [(c, _old_penalty(text, offset, c, spec)) for c in unique]
    clean = [item for item in scored if item[1] <= 0]
    return clean or sorted(scored, key=lambda item: item[1])


@pytest.mark.parametrize("seed", range(40))
def test_penalties_and_ranking_match_fresh_parses(seed: int) -> None:
    rnd = random.Random(seed)
    language = rnd.choice(sorted(DOCUMENTS))
    spec = spec_by_name(language)
    text = DOCUMENTS[language]
    for _ in range(6):  # the document as it is typed: some edits, a check after each
        at = rnd.randrange(len(text) + 1)
        text = text[:at] + rnd.choice(CANDIDATES) + text[at + rnd.randrange(3) :]
        offset = rnd.randrange(len(text) + 1)
        candidates = rnd.sample(CANDIDATES, rnd.randrange(1, 4))
        for candidate in candidates:
            assert parse_penalty(text, offset, candidate, spec) == _old_penalty(
                text, offset, candidate, spec
            )
        assert rank_candidates(candidates, text, offset, spec) == _old_rank(
            candidates, text, offset, spec
        )


def _ctx(before: str, line_prefix: str, language: str) -> CursorContext:
    return CursorContext(
        language=language,
        before=before,
        line_prefix=line_prefix,
        line_suffix="",
        after="",
        line=before.count("\n"),
        character=len(line_prefix),
        before_start_line=0,
        after_end_line=0,
        multiline=False,
        indent="",
        block_indent=None,
        mid_word=False,
    )


@pytest.mark.parametrize("seed", range(200))
def test_prefix_state_resumes_after_the_cached_lines(seed: int) -> None:
    rnd = random.Random(seed)
    language = rnd.choice(["python", "rust", "javascript", "c"])
    alphabet = ["(", ")", "{", "}", "[", "]", "'", '"', '"""', "`", "#", "//", "/*", "*/", "\\",
                "\n", "a", " ", "r'", "x"]  # fmt: skip
    text = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(40)))
    cut = text.rfind("\n") + 1
    before, line_prefix = text[:cut], text[cut:]
    whole = ScanState()
    scan(before + line_prefix, syntax_for(language), whole)
    assert prefix_state(_ctx(before, line_prefix, language)) == whole
