"""The one cache of parsed documents: shared trees, derived data kept per version, bounded."""

from __future__ import annotations

import pytest

from codecomp_lsp.context import parsed as parsed_module
from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.context.snippets import definitions_of
from codecomp_lsp.context.symbols import document_symbols, enclosing_symbol, symbol_at


def _spec(name: str) -> LanguageSpec:
    spec = spec_by_name(name)
    assert spec is not None
    return spec


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the cache parses from now on."""
    seen: list[str] = []
    real = parsed_module.parse

    def counting(text, spec):
        seen.append(text)
        return real(text, spec)

    monkeypatch.setattr(parsed_module, "parse", counting)
    return seen


def test_one_parse_per_version_and_language(parses: list[str]) -> None:
    text = "def shared_parse_a(x):\n    return x\n"
    python = _spec("python")
    first = parsed(text, python)
    assert parsed(text, python) is first
    assert parsed(text, python).tree is first.tree
    assert parsed("".join([text]), python) is first  # equal text, another object
    assert parsed(text + "\n", python) is not first
    assert parsed(text, _spec("javascript")) is not first
    assert parses == [text, text + "\n", text]


def test_symbol_lookups_share_the_parse(parses: list[str]) -> None:
    text = "LIMIT = 3\n\n\ndef shared_parse_b(x):\n    return x + LIMIT\n"
    python = _spec("python")
    assert enclosing_symbol(text, python, 4, 8) is not None
    target = symbol_at(text, python, 4, 17, uri="file:///b.py")
    assert target is not None and target.symbol is not None and target.symbol.name == "LIMIT"
    symbols = document_symbols("file:///b.py", text, python)
    assert document_symbols("file:///b.py", text, python) is symbols
    assert definitions_of("file:///b.py", text, python) is definitions_of("file:///c", text, python)
    assert parses == [text]


def test_derived_data_is_built_once() -> None:
    doc = parsed("x = 'derived once'\n", _spec("python"))
    calls: list[int] = []

    def build(entry):
        calls.append(1)
        return (entry.tree.root_node.type,)

    assert doc.derived("test-key", build) == ("module",)
    assert doc.derived("test-key", build) == ("module",)
    assert calls == [1]


def test_the_cache_is_bounded_and_keeps_few_trees(parses: list[str]) -> None:
    python = _spec("python")
    texts = [f"value_{i} = {i}\n" for i in range(parsed_module._MAX_ENTRIES + 5)]
    entries = [parsed(text, python) for text in texts]
    for entry in entries:
        entry.derived("names", lambda doc: doc.tree.root_node.child_count)
    assert len(parsed_module._entries) <= parsed_module._MAX_ENTRIES
    kept = [e for e in parsed_module._entries.values() if e._tree is not None]
    assert len(kept) <= parsed_module._MAX_TREES
    # An entry that lost its tree still has its derived data, and parses again when asked.
    cold = parsed(texts[-parsed_module._MAX_TREES - 2], python)
    assert cold is entries[-parsed_module._MAX_TREES - 2]
    parses.clear()
    assert cold.derived("names", lambda doc: -1) == 1
    assert parses == []
    assert cold.tree.root_node.type == "module"
    assert parses == [cold.text]
    # The oldest versions are gone: asking again parses again.
    parses.clear()
    assert parsed(texts[0], python) is not entries[0]
    assert parses == [texts[0]]
