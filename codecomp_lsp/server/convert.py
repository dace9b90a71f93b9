"""Every conversion between our values and LSP's types, in one place, as pure functions.

Features work in code points on "\\n" text; clients speak their negotiated position encoding on
text that may use "\\r\\n". Handlers call these and nothing else to cross that line, so each
conversion is unit-tested without a server (tests/unit/test_convert.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codecomp_lsp.features.completion import CompletionOutcome, Suggestion
from codecomp_lsp.features.diagnostics import Problem
from codecomp_lsp.features.modelio import TextChange
from codecomp_lsp.server.documents import Document, PositionError

SOURCE = "codecomp"
MENU_LABEL_CHARS = 80
# The command of every inline item: the client runs it (VS Code) or reads its id (the others).
ACCEPT_COMMAND = "codecomp.didAcceptInline"


def eol(doc: Document) -> str:
    """The document's own line ending, for text we insert into it."""
    return "\r\n" if "\r\n" in doc.text[:10000] else "\n"


def codepoints(doc: Document, position: types.Position, *, strict: bool = False) -> tuple[int, int]:
    """(line, code-point column) of a client position; a bad one is the client's error."""
    try:
        return doc.to_codepoints(position, strict=strict)
    except PositionError as exc:
        raise JsonRpcInvalidParams(str(exc)) from exc


def position(doc: Document, line: int, col: int) -> types.Position:
    """The client position of (line, code-point column), clamped into the document."""
    line = max(0, min(line, doc.line_count - 1))
    col = max(0, min(col, len(doc.line_text(line))))
    return doc.position_at(doc.line_starts[line] + col)


def lsp_range(doc: Document, sl: int, sc: int, el: int, ec: int) -> types.Range:
    return types.Range(start=position(doc, sl, sc), end=position(doc, el, ec))


def text_edit(doc: Document, change: TextChange) -> types.TextEdit:
    return types.TextEdit(
        range=lsp_range(doc, change.start_line, change.start_col, change.end_line, change.end_col),
        new_text=change.new_text.replace("\n", eol(doc)),
    )


def workspace_edit(
    doc: Document, change: TextChange | Sequence[TextChange], *, document_changes: bool
) -> types.WorkspaceEdit:
    """One document's edit: a change, or several that do not overlap (in the old text's terms)."""
    changes = [change] if isinstance(change, TextChange) else list(change)
    edits = [text_edit(doc, c) for c in changes]
    if document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=doc.uri, version=doc.version
                    ),
                    edits=edits,
                )
            ]
        )
    return types.WorkspaceEdit(changes={doc.uri: edits})


def new_file_edit(
    uri: str, text: str, insert_at: tuple[int, int] | None = None
) -> types.WorkspaceEdit:
    """Create `uri` (never over an existing file) and fill it with `text`; with `insert_at` the
    file exists and `text` goes there (a position in its own UTF-16 terms, at a line's end)."""
    at = types.Position(*(insert_at or (0, 0)))
    create = types.CreateFile(
        uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)
    )
    return types.WorkspaceEdit(
        document_changes=[
            *([] if insert_at else [create]),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                edits=[types.TextEdit(range=types.Range(at, at), new_text=text)],
            ),
        ]
    )


def diagnostic(doc: Document, problem: Problem) -> types.Diagnostic:
    return types.Diagnostic(
        range=lsp_range(
            doc, problem.start_line, problem.start_col, problem.end_line, problem.end_col
        ),
        message=problem.message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
        code=problem.code,
    )


def menu_item(
    doc: Document,
    cursor: tuple[int, int],
    suggestion: Suggestion,
    rank: int,
    *,
    markdown: bool,
) -> types.CompletionItem:
    """A menu item replacing the word before the cursor, so the client's filtering matches it."""
    line, character = cursor
    line_text = doc.line_text(line)
    start = character
    while start > 0 and (line_text[start - 1].isalnum() or line_text[start - 1] == "_"):
        start -= 1
    word = line_text[start:character]
    new_text = word + suggestion.text.replace("\n", eol(doc))
    first_line = new_text.split("\n", 1)[0].rstrip("\r")
    offset = doc.line_starts[line]
    edit_range = types.Range(
        start=doc.position_at(offset + start), end=doc.position_at(offset + character)
    )
    label = first_line.strip() or new_text.strip()
    lang = doc.language_id or ""
    documentation = (
        types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```{lang}\n{new_text}\n```")
        if markdown
        else new_text
    )
    return types.CompletionItem(
        label=label[:MENU_LABEL_CHARS] + ("…" if len(label) > MENU_LABEL_CHARS else ""),
        kind=types.CompletionItemKind.Text,
        detail=SOURCE,
        documentation=documentation,
        filter_text=word + suggestion.text.split("\n", 1)[0] if word else first_line,
        sort_text=f"{rank:04d}",
        text_edit=types.TextEdit(range=edit_range, new_text=new_text),
        insert_text_format=types.InsertTextFormat.PlainText,
    )


def inline_items(
    doc: Document,
    cursor: tuple[int, int],
    outcome: CompletionOutcome,
    ids: Sequence[str] = (),
) -> list[types.InlineCompletionItem]:
    """Inline items; with `ids`, each carries its id in its `command` (VS Code runs it on
    acceptance, our other clients read the id there for their reports)."""
    line, character = cursor
    pos = doc.position_at(doc.line_starts[line] + character)
    ending = eol(doc)
    items = []
    for i, s in enumerate(outcome.suggestions):
        text = s.text.replace("\n", ending)
        command = None
        if i < len(ids):
            command = types.Command(
                title="codecomp: accepted",
                command=ACCEPT_COMMAND,
                arguments=[{"id": ids[i], "length": len(text)}],
            )
        items.append(
            types.InlineCompletionItem(
                insert_text=text, range=types.Range(start=pos, end=pos), command=command
            )
        )
    return items


def hover(value: str, target: types.Range, *, markdown: bool) -> types.Hover:
    kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
    return types.Hover(contents=types.MarkupContent(kind=kind, value=value), range=target)
