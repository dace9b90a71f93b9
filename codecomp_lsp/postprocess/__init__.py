"""Post-processing of raw model completions: cut, de-duplicate, re-indent, rank by parse."""

from codecomp_lsp.postprocess.parse_check import parse_penalty, rank_candidates
from codecomp_lsp.postprocess.pipeline import clean_completion

__all__ = ["clean_completion", "parse_penalty", "rank_candidates"]
