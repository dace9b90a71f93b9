"""Document / DocumentStore: LSP line semantics, position encodings and incremental edits."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from lsprotocol import types

from codecomp_lsp.server.documents import Document, DocumentStore, PositionError

UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32
ENCODINGS = (UTF8, UTF16, UTF32)


# ---------------------------------------------------------------- reference model (plain strings)


def ref_line_starts(text: str) -> list[int]:
    """Line starts computed character by character: lines end at \\n, \\r\\n or \\r only."""
    starts = [0]
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 2
            starts.append(i)
            continue
        i += 1
        if ch in "\r\n":
            starts.append(i)
    return starts


def ref_units(text: str, encoding: str) -> int:
    if encoding == UTF8:
        return len(text.encode("utf-8"))
    if encoding == UTF16:
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def ref_position(text: str, offset: int, encoding: str) -> types.Position:
    starts = ref_line_starts(text)
    line = max(i for i, s in enumerate(starts) if s <= offset)
    return types.Position(line=line, character=ref_units(text[starts[line] : offset], encoding))


def valid_offsets(text: str) -> list[int]:
    """Code-point offsets that are not between the \\r and \\n of a CRLF."""
    return [
        i
        for i in range(len(text) + 1)
        if not (0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n")
    ]


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def partial(
    sl: int, sc: int, el: int, ec: int, text: str
) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=pos(sl, sc), end=pos(el, ec)), text=text
    )


def doc(text: str, encoding: str = UTF16) -> Document:
    return Document("file:///t.py", text, "python", 1, encoding)


# ---------------------------------------------------------------- lines


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", [""]),
        ("abc", ["abc"]),
        ("a\nb", ["a", "b"]),
        ("a\n", ["a", ""]),
        ("a\r\nb\r\n", ["a", "b", ""]),
        ("a\rb\rc", ["a", "b", "c"]),
        ("a\r\rb", ["a", "", "b"]),
        ("a\n\r\nb", ["a", "", "b"]),
        ("a\r\n\rb", ["a", "", "b"]),
        ("a\n\rb", ["a", "", "b"]),
        ("\n\n", ["", "", ""]),
        # Not line breaks for LSP (str.splitlines would split on every one of these).
        ("a\x0cb\nc", ["a\x0cb", "c"]),
        ("a\u2028b\u2029c", ["a\u2028b\u2029c"]),
        ("a\x0bb\x1cc\x1dd\x1ee\x85f", ["a\x0bb\x1cc\x1dd\x1ee\x85f"]),
    ],
)
def test_lines_break_only_at_lf_crlf_cr(text: str, lines: list[str]) -> None:
    d = doc(text)
    assert d.line_count == len(lines)
    assert [d.line_text(i) for i in range(d.line_count)] == lines
    assert d.line_starts == ref_line_starts(text)


def test_form_feed_does_not_shift_positions() -> None:
    d = doc("x = 1\x0c\ny = 2\u2028z\nw")
    assert d.line_count == 3
    assert d.offset_at(pos(1, 0)) == d.text.index("y")
    assert d.offset_at(pos(2, 0)) == d.text.index("w")
    assert d.position_at(d.text.index("z")) == pos(1, 6)


def test_line_text_out_of_range_raises() -> None:
    with pytest.raises(IndexError):
        doc("a\nb").line_text(2)


def test_is_binary() -> None:
    assert doc("abc\x00def").is_binary()
    assert not doc("abc\x0cdef").is_binary()


# ---------------------------------------------------------------- encodings


LINE = "aé€😀b"  # 1, 2, 3, 4 UTF-8 bytes; the emoji is 2 UTF-16 units


@pytest.mark.parametrize(
    ("encoding", "column", "expected"),
    [
        (UTF16, 0, 0),
        (UTF16, 1, 1),
        (UTF16, 2, 2),
        (UTF16, 3, 3),
        (UTF16, 5, 4),
        (UTF16, 6, 5),
        (UTF8, 0, 0),
        (UTF8, 1, 1),
        (UTF8, 3, 2),
        (UTF8, 6, 3),
        (UTF8, 10, 4),
        (UTF8, 11, 5),
        (UTF32, 3, 3),
        (UTF32, 4, 4),
        (UTF32, 5, 5),
    ],
)
def test_column_to_codepoints(encoding: str, column: int, expected: int) -> None:
    d = doc(LINE + "\n", encoding)
    assert d.column_to_codepoints(LINE, column, strict=True) == expected
    assert d.offset_at(pos(0, column)) == expected


def test_plain_string_encoding_names_work() -> None:
    assert doc(LINE, "utf-8").offset_at(pos(0, 6)) == 3
    assert doc(LINE, "utf-32").offset_at(pos(0, 4)) == 4
    assert doc(LINE, "utf-16").offset_at(pos(0, 5)) == 4


@pytest.mark.parametrize(
    ("encoding", "column", "index_before"),
    [
        (UTF16, 4, 3),  # between the two surrogates of the emoji
        (UTF8, 2, 1),  # inside é
        (UTF8, 4, 2),  # inside €
        (UTF8, 5, 2),
        (UTF8, 7, 3),  # inside the emoji
        (UTF8, 8, 3),
        (UTF8, 9, 3),
    ],
)
def test_position_inside_multi_unit_character(
    encoding: str, column: int, index_before: int
) -> None:
    d = doc(LINE, encoding)
    with pytest.raises(PositionError):
        d.offset_at(pos(0, column))
    with pytest.raises(PositionError):
        d.column_to_codepoints(LINE, column, strict=True)
    # Lenient mode rounds down to the start of the character.
    assert d.offset_at(pos(0, column), strict=False) == index_before


def test_position_error_is_a_value_error() -> None:
    assert issubclass(PositionError, ValueError)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_out_of_range_line_raises(encoding: str) -> None:
    d = doc("ab\ncd\n", encoding)  # 3 lines: "ab", "cd", ""
    assert d.offset_at(pos(2, 0)) == 6
    with pytest.raises(PositionError, match="out of range"):
        d.offset_at(pos(3, 0))
    with pytest.raises(PositionError):
        d.to_codepoints(pos(100, 0))
    # Lenient: past the last line means the end of the document.
    assert d.offset_at(pos(3, 0), strict=False) == len(d.text)
    assert d.to_codepoints(pos(50, 7), strict=False) == (2, 0)


def test_negative_line_and_character_raise_even_when_lenient() -> None:
    d = doc("ab\ncd")
    with pytest.raises(PositionError):
        d.to_codepoints(SimpleNamespace(line=-1, character=0), strict=False)
    with pytest.raises(PositionError):
        d.to_codepoints(SimpleNamespace(line=0, character=-1))


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_character_past_end_of_line_clamps_to_line_length(encoding: str, newline: str) -> None:
    text = f"x😀é{newline}second{newline}"
    d = doc(text, encoding)
    assert d.offset_at(pos(0, 99)) == 3  # never lands on (or past) the line break
    assert d.offset_at(pos(0, 99), strict=False) == 3
    assert d.to_codepoints(pos(1, 7)) == (1, 6)
    assert d.offset_at(pos(1, 1000)) == text.index("second") + 6
    assert d.offset_at(pos(2, 5)) == len(text)


def test_last_line_without_newline_clamps() -> None:
    d = doc("a\nbc")
    assert d.offset_at(pos(1, 10)) == 4


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_position_at_round_trips_offset_at(encoding: str) -> None:
    text = "a😀\r\nb\x0c€\rc\u2028é\n\n😀😀\n"
    d = doc(text, encoding)
    for offset in valid_offsets(text):
        position = d.position_at(offset)
        assert position == ref_position(text, offset, encoding), offset
        assert d.offset_at(position) == offset


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_offset_at_round_trips_position_at(encoding: str) -> None:
    text = "é😀x\r\n\ty\rz"
    d = doc(text, encoding)
    for line in range(d.line_count):
        line_text = d.line_text(line)
        for i in range(len(line_text) + 1):
            p = pos(line, ref_units(line_text[:i], encoding))
            assert d.position_at(d.offset_at(p)) == p


def test_position_at_clamps_offsets() -> None:
    d = doc("ab\ncd")
    assert d.position_at(-5) == pos(0, 0)
    assert d.position_at(1000) == pos(1, 2)
    assert d.position_at(3) == pos(1, 0)


def test_position_at_units_per_encoding() -> None:
    text = "é😀x"
    assert doc(text, UTF16).position_at(3) == pos(0, 4)
    assert doc(text, UTF8).position_at(3) == pos(0, 7)
    assert doc(text, UTF32).position_at(3) == pos(0, 3)


# ---------------------------------------------------------------- incremental edits


def apply_ref(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


@pytest.mark.parametrize(
    ("text", "change", "expected"),
    [
        ("hello world", partial(0, 5, 0, 5, ","), "hello, world"),  # insert
        ("hello world", partial(0, 5, 0, 11, ""), "hello"),  # delete to end
        ("", partial(0, 0, 0, 0, "abc\n"), "abc\n"),  # insert into empty doc
        ("ab\ncd\nef", partial(0, 1, 2, 1, "X\nY"), "aX\nYf"),  # multi-line replace
        ("ab\ncd\n", partial(2, 0, 2, 0, "tail"), "ab\ncd\ntail"),  # at the very end
        ("ab\ncd", partial(1, 2, 1, 2, "!"), "ab\ncd!"),  # end of last line
        ("ab\ncd", partial(0, 2, 1, 0, ""), "abcd"),  # join lines
        ("ab\r\ncd\r\n", partial(0, 2, 1, 0, ""), "abcd\r\n"),  # join CRLF lines
        ("ab\r\ncd\r\nef", partial(1, 1, 2, 1, "Z"), "ab\r\ncZf"),
        ("ab\r\ncd", partial(0, 1, 0, 1, "\r\n"), "a\r\nb\r\ncd"),
        ("a\rb", partial(1, 0, 1, 1, "B"), "a\rB"),  # CR-only line ends
        ("😀x\n", partial(0, 2, 0, 3, "y"), "😀y\n"),  # emoji before the edit (UTF-16)
        ("😀😀ab", partial(0, 4, 0, 5, ""), "😀😀b"),
        ("é😀\n😀z", partial(1, 2, 1, 3, "Z"), "é😀\n😀Z"),
        ("a\x0cb\nc", partial(1, 0, 1, 1, "C"), "a\x0cb\nC"),  # form feed is not a break
        ("ab", partial(0, 2, 0, 0, "X"), "X"),  # reversed range is swapped
    ],
)
def test_incremental_edit(
    text: str, change: types.TextDocumentContentChangePartial, expected: str
) -> None:
    d = doc(text)
    d.apply_change(change)
    assert d.text == expected
    assert d.line_starts == ref_line_starts(expected)


def test_edit_past_end_is_clamped() -> None:
    d = doc("ab\ncd")
    d.apply_change(partial(1, 1, 9, 0, "X"))
    assert d.text == "ab\ncX"
    d.apply_change(partial(7, 3, 8, 0, "!"))
    assert d.text == "ab\ncX!"
    d.apply_change(partial(0, 50, 0, 50, "?"))
    assert d.text == "ab?\ncX!"


def test_edit_inside_surrogate_pair_is_lenient() -> None:
    d = doc("a😀b")
    d.apply_change(partial(0, 2, 0, 2, "X"))  # rounds down to before the emoji
    assert d.text == "aX😀b"


def test_whole_document_change() -> None:
    d = doc("old\ntext")
    assert d.line_count == 2
    d.apply_change(types.TextDocumentContentChangeWholeDocument(text="new"))
    assert d.text == "new"
    assert d.line_count == 1


def test_line_starts_invalidated_by_edit() -> None:
    d = doc("a\nb")
    assert d.line_count == 2
    d.apply_change(partial(1, 1, 1, 1, "\nc\r\nd"))
    assert d.line_count == 4
    assert d.line_text(3) == "d"
    assert d.offset_at(pos(3, 1)) == len(d.text)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("seed", range(4))
def test_random_edits_match_plain_string(encoding: str, seed: int) -> None:
    rng = random.Random(seed)
    pieces = ["a", "b", " ", "\t", "\n", "\r\n", "\r", "é", "€", "😀", "\x0c", "\u2028"]
    text = "".join(rng.choice(pieces) for _ in range(40))
    d = doc(text, encoding)
    for _ in range(60):
        offsets = valid_offsets(text)
        start, end = sorted(rng.sample(offsets, 2) if len(offsets) > 1 else [0, 0])
        new = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        change = types.TextDocumentContentChangePartial(
            range=types.Range(
                start=ref_position(text, start, encoding), end=ref_position(text, end, encoding)
            ),
            text=new,
        )
        d.apply_change(change)
        text = apply_ref(text, start, end, new)
        assert d.text == text
        assert d.line_starts == ref_line_starts(text)


# ---------------------------------------------------------------- store


def test_store_open_uses_negotiated_encoding() -> None:
    store = DocumentStore()
    assert store.encoding == UTF16
    store.encoding = UTF8
    d = store.open(
        types.TextDocumentItem(uri="file:///a", language_id="python", version=3, text="é")
    )
    assert d.encoding == UTF8
    assert (d.uri, d.language_id, d.version) == ("file:///a", "python", 3)
    assert store.get("file:///a") is d
    assert d.position_at(1) == pos(0, 2)


def test_store_change_applies_in_order_and_updates_version() -> None:
    store = DocumentStore()
    store.open(types.TextDocumentItem(uri="file:///a", language_id="python", version=1, text="ab"))
    params = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri="file:///a", version=5),
        content_changes=[
            partial(0, 2, 0, 2, "\ncd"),
            partial(1, 0, 1, 1, "C"),  # refers to the text after the first change
            types.TextDocumentContentChangeWholeDocument(text="reset"),
            partial(0, 0, 0, 0, ">"),
        ],
    )
    d = store.change(params)
    assert d is not None
    assert d.text == ">reset"
    assert d.version == 5


def test_store_change_unknown_uri_and_close() -> None:
    store = DocumentStore()
    params = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri="file:///missing", version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="x")],
    )
    assert store.change(params) is None
    assert store.get("file:///missing") is None
    store.open(types.TextDocumentItem(uri="file:///a", language_id="python", version=1, text=""))
    store.close("file:///a")
    assert store.get("file:///a") is None
    store.close("file:///a")  # closing twice is harmless


@pytest.mark.parametrize("seed", range(50))
def test_line_starts_follow_edits_as_a_full_scan_would(seed: int) -> None:
    import random

    from codecomp_lsp.server.documents import Document

    rnd = random.Random(seed)
    pieces = ["\r", "\n", "\r\n", "a", "bc", "é😀", "\r\r\n\n", ""]
    text = "".join(rnd.choice(pieces) for _ in range(rnd.randrange(30)))
    doc = Document("file:///edit.txt", text, encoding=types.PositionEncodingKind.Utf32)
    for _ in range(20):
        doc.line_starts  # noqa: B018 - computed, so the edit updates it instead of rescanning
        start = rnd.randrange(len(doc.text) + 1)
        end = rnd.randrange(start, len(doc.text) + 1)
        new = "".join(rnd.choice(pieces) for _ in range(rnd.randrange(4)))
        first, last = doc.position_at(start), doc.position_at(end)
        # (an offset between "\r" and "\n" has no position: it is the line's end)
        start, end = doc.offset_at(first, strict=False), doc.offset_at(last, strict=False)
        doc.apply_change(
            types.TextDocumentContentChangePartial(range=types.Range(first, last), text=new)
        )
        assert doc.text == text[:start] + new + text[end:]
        text = doc.text
        assert doc.line_starts == Document("file:///fresh.txt", text).line_starts
