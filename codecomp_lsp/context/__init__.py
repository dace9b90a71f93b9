"""Document understanding around the cursor: languages, syntax, windows and snippets."""

from codecomp_lsp.context.cursor import extract_context
from codecomp_lsp.context.languages import LanguageSpec, language_for, spec_by_name
from codecomp_lsp.context.snippets import collect_snippets
from codecomp_lsp.context.syntax import SyntaxIssue, count_errors, parse, syntax_errors
from codecomp_lsp.context.types import CursorContext, Snippet

__all__ = [
    "CursorContext",
    "LanguageSpec",
    "Snippet",
    "SyntaxIssue",
    "collect_snippets",
    "count_errors",
    "extract_context",
    "language_for",
    "parse",
    "spec_by_name",
    "syntax_errors",
]
