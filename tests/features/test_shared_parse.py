"""One lightbulb request parses the document once: diagnostics and code actions share the tree."""

from __future__ import annotations

import pytest

from codecomp_lsp.context import parsed as parsed_module
from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.features.actions import ActionService
from codecomp_lsp.features.diagnostics import find_problems
from codecomp_lsp.features.hover import HoverService
from tests.features.scripted import ScriptedIO

TEXT = """def shared_lightbulb(items):
    pass


# count the items
total = len(items
"""


def test_a_lightbulb_request_parses_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = parsed_module.parse

    def counting(text, spec):
        seen.append(text)
        return real(text, spec)

    monkeypatch.setattr(parsed_module, "parse", counting)
    spec = spec_by_name("python")
    assert spec is not None
    service = ActionService(ScriptedIO([]), HoverService(ScriptedIO([])))
    assert find_problems(TEXT, spec)  # the unclosed `(`
    assert service.offers("file:///x.py", TEXT, spec, (0, 6), (0, 6))  # body, docstring
    assert service.offers("file:///x.py", TEXT, spec, (4, 3), (4, 3))  # code from the comment
    assert seen == [TEXT]
