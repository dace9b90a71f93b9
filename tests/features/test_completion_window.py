"""The line window completion reads around the cursor: small enough that a keystroke's reparse stays
cheap, large enough that the prompt's suffix is limited by its token budget, not by the window."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from transformers import AutoTokenizer

from codecomp_lsp.engine.stats import Stats
from codecomp_lsp.features.completion import (
    WINDOW_LINES_AFTER_MAX,
    WINDOW_LINES_AFTER_MIN,
    CompletionQuery,
    CompletionService,
    DocumentSnapshot,
    lines_after_for,
)
from codecomp_lsp.prompt.builder import PromptBuilder
from codecomp_lsp.prompt.templates import TEMPLATES
from codecomp_lsp.settings import Settings


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


def _context(tokenizer, text: str, line: int, max_prompt_tokens: int, character: int = 0):
    settings = Settings(maxPromptTokens=max_prompt_tokens)
    service = CompletionService(SimpleNamespace(stats=Stats()), lambda: settings)
    builder = PromptBuilder(tokenizer, TEMPLATES["codecomp"], max_prompt_tokens)
    query = CompletionQuery(DocumentSnapshot("file:///w.py", text, "python"), line, character)
    ctx, window, _, _ = service.context_for(query, builder)
    return ctx, window, builder


def test_the_window_after_the_cursor_grows_with_the_suffix_budget() -> None:
    assert lines_after_for(0) == WINDOW_LINES_AFTER_MIN
    assert lines_after_for(10**6) == WINDOW_LINES_AFTER_MAX
    small, large = lines_after_for(382), lines_after_for(2046)
    assert WINDOW_LINES_AFTER_MIN <= small < large <= WINDOW_LINES_AFTER_MAX


@pytest.mark.parametrize("max_prompt_tokens", [1536, 4096])
def test_the_suffix_is_cut_by_its_budget_not_by_the_window(tokenizer, max_prompt_tokens) -> None:
    # Short lines (a few tokens each): the hardest case for a window sized in lines.
    text = "".join(f"v{i} = {i % 10}\n" for i in range(4000))
    ctx, window, builder = _context(tokenizer, text, 2000, max_prompt_tokens)
    _, suffix_budget, _ = builder.budgets()
    used = builder.counter.count(ctx.after)
    assert used > 0.9 * suffix_budget, (used, suffix_budget)
    # ...and the window stops well before the end of the file.
    window_lines = window.count("\n") + 1
    assert window_lines < 4000
    assert ctx.after_end_line < window_lines


def test_a_file_shorter_than_the_window_is_read_whole(tokenizer) -> None:
    text = "".join(f"v{i} = {i}\n" for i in range(40))
    ctx, window, _ = _context(tokenizer, text, 10, 1536)
    assert window == text
    assert ctx.after.startswith("v11 = 11\n")


def test_a_lone_candidate_is_not_parsed_two_are_ranked(monkeypatch) -> None:
    from codecomp_lsp.context import parsed as parsed_module
    from codecomp_lsp.context.languages import spec_by_name
    from codecomp_lsp.features.completion import rank_suggestions

    spec = spec_by_name("python")
    window = "def area(r):\n    return \n"
    offset = window.index("return ") + len("return ")
    calls: list[str] = []
    real = parsed_module.parse

    def counting(text, language):
        calls.append(text)
        return real(text, language)

    monkeypatch.setattr(parsed_module, "parse", counting)
    assert rank_suggestions(["3.14 * (r"], window, offset, spec, "file:///a.py") == [
        ("3.14 * (r", None)
    ]
    assert calls == []
    ranked = rank_suggestions(["3.14 * (r", "3.14 * r"], window, offset, spec, "file:///a.py")
    assert ranked == [("3.14 * r", 0)]


def test_typing_inside_a_line_does_not_parse_the_window(tokenizer, monkeypatch) -> None:
    from codecomp_lsp.context import parsed as parsed_module
    from codecomp_lsp.context import syntax

    calls: list[str] = []
    for module, name in ((parsed_module, "parse"), (syntax, "parse"), (parsed_module, "reparse")):
        real = getattr(module, name)

        def counting(*args, _real=real, _name=name):
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(module, name, counting)
    text = "".join(f"v{i} = {i}\n" for i in range(300)) + "total = v1 + v"
    _context(tokenizer, text, 300, 1536, character=len("total = v1 + v"))
    assert calls == []
    # After a `:` the block decision needs the tree.
    ctx, _, _ = _context(tokenizer, text[: -len("total = v1 + v")] + "if v1:", 300, 1536, 6)
    assert calls and ctx.multiline
