"""server/convert.py: our values ↔ LSP types, in-process (no server)."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codecomp_lsp.features.completion import CompletionOutcome, Suggestion
from codecomp_lsp.features.diagnostics import Problem
from codecomp_lsp.features.modelio import TextChange
from codecomp_lsp.server import convert
from codecomp_lsp.server.documents import Document

UTF16 = types.PositionEncodingKind.Utf16
UTF8 = types.PositionEncodingKind.Utf8


def _doc(text: str, encoding: str = UTF16) -> Document:
    return Document("file:///t.py", text, "python", 3, encoding)


def test_positions_round_trip_through_code_points_in_each_encoding() -> None:
    text = "a = '😀é'\r\nb = 2\n"
    for encoding, units in ((UTF16, 7), (UTF8, 9)):
        doc = _doc(text, encoding)
        pos = convert.position(doc, 0, 6)  # after the emoji, before é
        assert pos == types.Position(line=0, character=units)
        assert convert.codepoints(doc, pos) == (0, 6)
    doc = _doc(text)
    assert convert.position(doc, 9, 99) == types.Position(line=2, character=0)  # clamped
    with pytest.raises(JsonRpcInvalidParams, match="out of range"):
        convert.codepoints(doc, types.Position(line=7, character=0), strict=True)


def test_edits_use_the_documents_line_ending() -> None:
    doc = _doc("def f():\r\n    pass\r\n")
    change = TextChange(1, 4, 1, 8, "x = 1\nreturn x")
    edit = convert.text_edit(doc, change)
    assert edit.new_text == "x = 1\r\nreturn x"
    assert edit.range == types.Range(
        start=types.Position(line=1, character=4), end=types.Position(line=1, character=8)
    )
    versioned = convert.workspace_edit(doc, change, document_changes=True)
    assert versioned.document_changes[0].text_document.version == 3
    plain = convert.workspace_edit(doc, change, document_changes=False)
    assert list(plain.changes) == ["file:///t.py"]


def test_menu_item_replaces_the_word_before_the_cursor() -> None:
    doc = _doc("result = compu\n")
    item = convert.menu_item(doc, (0, 14), Suggestion("te(x)\nmore", 0.0), 2, markdown=True)
    assert item.text_edit.new_text == "compute(x)\nmore"
    assert item.text_edit.range.start == types.Position(line=0, character=9)
    assert item.filter_text == "compute(x)" and item.label == "compute(x)"
    assert item.sort_text == "0002"
    assert item.documentation.kind == types.MarkupKind.Markdown
    long = convert.menu_item(doc, (0, 14), Suggestion("x" * 200, 0.0), 0, markdown=False)
    assert len(long.label) == convert.MENU_LABEL_CHARS + 1 and long.label.endswith("…")
    assert isinstance(long.documentation, str)


def test_inline_items_and_diagnostics() -> None:
    doc = _doc("x = (\r\n")
    outcome = CompletionOutcome([Suggestion("1,\n2)", 0.0)])
    (item,) = convert.inline_items(doc, (0, 5), outcome)
    assert item.insert_text == "1,\r\n2)"
    assert item.range.start == item.range.end == types.Position(line=0, character=5)
    assert item.command is None  # no ids given
    (item,) = convert.inline_items(doc, (0, 5), outcome, ["s1-7"])
    assert item.command.command == convert.ACCEPT_COMMAND
    assert item.command.arguments == [{"id": "s1-7", "length": len("1,\r\n2)")}]
    problem = Problem(0, 4, 0, 5, "`(` is never closed", "unclosed")
    diag = convert.diagnostic(doc, problem)
    assert diag.source == "codecomp" and diag.severity == types.DiagnosticSeverity.Error
    assert diag.range.end == types.Position(line=0, character=5)
