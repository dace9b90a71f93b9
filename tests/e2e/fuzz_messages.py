"""Hypothesis strategies for what an editor could send: valid LSP methods with wrong types, nulls,
huge, negative or out-of-range positions, unknown URIs, versions going backwards, lone surrogates,
NULs, CR/CRLF mixes, long lines, unknown methods, cancellations of random ids, a second
`initialize`, and raw JSON-RPC junk; plus a mirror of documents edited only validly, whose text
the client knows exactly (the server must hold the same)."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.e2e.raw_client import encode, frame

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
MIRRORED = ("file:///fuzz/mirror_a.py", "file:///fuzz/mirror_b.ts")  # edited only validly
FUZZED = ("file:///fuzz/junk.py", "file:///fuzz/junk.rs", "untitled:Untitled-1", "", "file://")

REQUESTS = (
    "textDocument/inlineCompletion",
    "textDocument/completion",
    "textDocument/hover",
    "textDocument/codeAction",
    "codeAction/resolve",
    "completionItem/resolve",
    "workspace/executeCommand",
    "textDocument/definition",  # not offered: MethodNotFound
    "textDocument/formatting",
    "codecomp/stats",
    "codecomp/models",
    "initialize",  # a second one
)
NOTIFICATIONS = (
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/didSave",
    "workspace/didChangeConfiguration",
    "workspace/didChangeWatchedFiles",
    "$/cancelRequest",
    "$/setTrace",
    "initialized",
    "codecomp/didShow",
    "codecomp/didAccept",
    "codecomp/didDismiss",
    "codecomp/unknownNotification",
)
SETTING_KEYS = (
    "device", "dtype", "quantization", "speculative", "fimTemplate", "maxNewTokens",
    "maxPromptTokens", "multiline", "candidates", "temperature", "enabledLanguages",
    "cacheMemoryMB", "kvReuse", "timeBudgetMs", "streaming", "diagnostics", "diagnosticsDelayMs",
    "hoverTimeBudgetMs", "hoverMaxTokens", "quickFixCandidates", "quickFixTimeBudgetMs",
    "codeActionMaxNewTokens", "codeActionTimeBudgetMs", "denyPatterns", "bogusKey",
)  # fmt: skip

EDGE_INTS = st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, -(2**31), 2**53, 10**30, 7, 3])
TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\udcff", "\ud83d", "a\x00b", "x\r\ny\rz\n", "😀é", "\t", "'''", '"""', "(["]),
    st.builds(lambda n: "x" * n, st.integers(1000, 100_000)),
)
NUMBERS = st.one_of(EDGE_INTS, st.integers(-5, 200), st.floats(allow_nan=False), st.just(1.5))

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXTS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["jsonrpc", "uri", "line", "x", "id", "text"]), inner, max_size=4
        ),
    ),
    max_leaves=12,
)


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The value, or junk in its place."""
    return st.one_of(value, value, value, json_values)


positions = st.fixed_dictionaries(
    {
        "line": _maybe(st.one_of(EDGE_INTS, st.integers(0, 50))),
        "character": _maybe(st.one_of(EDGE_INTS, st.integers(0, 80))),
    }
)
ranges = st.fixed_dictionaries({"start": _maybe(positions), "end": _maybe(positions)})
uris = st.one_of(st.sampled_from(FUZZED), st.text(max_size=20))  # what fuzzed edits may touch
request_uris = st.one_of(uris, st.sampled_from(MIRRORED), st.sampled_from(MIRRORED))  # read only
read_documents = st.fixed_dictionaries({"uri": _maybe(request_uris)})
text_documents = st.fixed_dictionaries(
    {"uri": _maybe(uris)}, optional={"version": _maybe(EDGE_INTS)}
)


def _params(method: str) -> st.SearchStrategy[Any]:
    doc_pos = st.fixed_dictionaries(
        {"textDocument": _maybe(read_documents), "position": _maybe(positions)},
        optional={
            "context": _maybe(st.fixed_dictionaries({"triggerKind": _maybe(st.integers(0, 4))}))
        },
    )
    shaped: dict[str, st.SearchStrategy[Any]] = {
        "textDocument/inlineCompletion": doc_pos,
        "textDocument/completion": doc_pos,
        "textDocument/hover": doc_pos,
        "textDocument/definition": doc_pos,
        "textDocument/codeAction": st.fixed_dictionaries(
            {
                "textDocument": _maybe(read_documents),
                "range": _maybe(ranges),
                "context": _maybe(st.fixed_dictionaries({"diagnostics": _maybe(st.just([]))})),
            }
        ),
        "workspace/executeCommand": st.fixed_dictionaries(
            {
                "command": _maybe(
                    st.sampled_from(
                        ["codecomp.explain", "codecomp.applyAction", "codecomp.pullModel", "x"]
                    )
                ),
                "arguments": _maybe(st.lists(json_values, max_size=3)),
            }
        ),
        "initialize": st.fixed_dictionaries({"capabilities": _maybe(st.just({}))}),
        "textDocument/didOpen": st.fixed_dictionaries(
            {
                "textDocument": _maybe(
                    st.fixed_dictionaries(
                        {
                            "uri": _maybe(uris),
                            "languageId": _maybe(
                                st.sampled_from(["python", "rust", "typescript", "brainfuck", ""])
                            ),
                            "version": _maybe(EDGE_INTS),
                            "text": _maybe(TEXTS),
                        }
                    )
                )
            }
        ),
        "textDocument/didChange": st.fixed_dictionaries(
            {
                "textDocument": _maybe(text_documents),
                "contentChanges": _maybe(
                    st.lists(
                        st.one_of(
                            st.fixed_dictionaries({"range": _maybe(ranges), "text": _maybe(TEXTS)}),
                            st.fixed_dictionaries({"text": _maybe(TEXTS)}),
                        ),
                        max_size=3,
                    )
                ),
            }
        ),
        "textDocument/didClose": st.fixed_dictionaries({"textDocument": _maybe(text_documents)}),
        "workspace/didChangeConfiguration": st.fixed_dictionaries(
            {
                "settings": _maybe(
                    st.fixed_dictionaries(
                        {
                            "codecomp": _maybe(
                                st.dictionaries(
                                    st.sampled_from(SETTING_KEYS), json_values, max_size=4
                                )
                            )
                        }
                    )
                )
            }
        ),
        "$/cancelRequest": st.fixed_dictionaries({"id": _maybe(st.integers(-3, 2_000_010))}),
    }
    return shaped.get(method, json_values)


@st.composite
def _request(draw: st.DrawFn) -> dict[str, Any]:
    method = draw(st.one_of(st.sampled_from(REQUESTS), st.text(max_size=15)))
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": None, "method": method}
    if draw(st.integers(0, 9)):
        message["params"] = draw(_params(method))
    return message


@st.composite
def _notification(draw: st.DrawFn) -> dict[str, Any]:
    method = draw(st.sampled_from(NOTIFICATIONS))
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if draw(st.integers(0, 9)):
        message["params"] = draw(_params(method))
    if draw(st.integers(0, 19)) == 0:
        message["id"] = None  # a notification sent as a request: it must be answered
    return message


junk_bodies = st.one_of(
    st.binary(max_size=30),
    st.sampled_from([b"not json", b"\xff\xfe\xfa", b"[]", b"5", b"null", b'"s"', b"{}", b"[{}]"]),
    st.builds(lambda v: encode(v), json_values),
    st.builds(
        lambda m, i: encode({"jsonrpc": "1.0", "id": f"junk-{i}", "method": m}),
        st.text(max_size=5),
        st.uuids(),
    ),
    st.builds(
        lambda i: encode({"jsonrpc": "2.0", "id": i, "method": "codecomp/stats"}),
        st.one_of(
            st.booleans(), st.floats(allow_nan=False), st.just({"a": 1}), st.just([1]), st.none()
        ),
    ),
)


@dataclass
class Outgoing:
    """One message to send: bytes, and the id we expect an answer for (None: no answer owed)."""

    data: bytes
    answer_id: Any = None
    mirror_edit: bool = False  # a placeholder for a valid edit of a mirrored document


@dataclass
class Mirror:
    """Documents edited only with valid messages: the text the server must hold."""

    texts: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)


def utf16_offset(text: str, line: int, character: int) -> int:
    """The code-point offset of an LSP position (UTF-16 columns; \\n, \\r\\n and \\r end lines)."""
    offset = 0
    for _ in range(line):
        cut = min(
            (i for i in (text.find("\n", offset), text.find("\r", offset)) if i >= 0), default=-1
        )
        if cut < 0:
            return len(text)
        offset = cut + (2 if text.startswith("\r\n", cut) else 1)
    units = 0
    while offset < len(text) and text[offset] not in "\r\n" and units < character:
        units += 2 if ord(text[offset]) > 0xFFFF else 1
        offset += 1
    return offset


def mirrored_edit(rnd: random.Random, mirror: Mirror) -> list[dict[str, Any]]:
    """A valid edit of a mirrored document (or a reopen), applied to the mirror too. Drawn from a
    seeded `random` rather than by hypothesis: it depends on the documents' state."""
    uri = rnd.choice(MIRRORED)
    version = mirror.versions.get(uri, 0) + 1
    mirror.versions[uri] = version
    inserted = rnd.choice(["x", "\n", "é", "😀", "(", "\r\n", "  ", "def f():\n    ", ""])
    if uri not in mirror.texts or rnd.randrange(30) == 0:
        text = rnd.choice(
            ["def add(a, b):\n    return a\n", "const x = [1, 2];\r\nlet y = x\n", "", "é😀\n"]
        )
        mirror.texts[uri] = text
        return [
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didClose",
                "params": {"textDocument": {"uri": uri}},
            },
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": version,
                        "text": text,
                    }
                },
            },
        ]
    text = mirror.texts[uri]
    lines = len(_LINE_BREAK.split(text))
    sl = rnd.randrange(lines)
    el = rnd.randrange(sl, min(lines, sl + 2))
    start = utf16_offset(text, sl, rnd.randrange(13))
    end = max(start, utf16_offset(text, el, rnd.randrange(13)))
    mirror.texts[uri] = text[:start] + inserted + text[end:]
    return [
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [
                    {
                        "range": {
                            "start": _position_of(text, start),
                            "end": _position_of(text, end),
                        },
                        "text": inserted,
                    }
                ],
            },
        }
    ]


def _position_of(text: str, offset: int) -> dict[str, int]:
    line = 0
    line_start = 0
    i = 0
    while i < offset:
        if text[i] == "\r" and text.startswith("\r\n", i) and i + 1 < offset:
            i += 2
            line, line_start = line + 1, i
            continue
        if text[i] in "\r\n":
            i += 1
            line, line_start = line + 1, i
            continue
        i += 1
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text[line_start:offset])
    return {"line": line, "character": units}


def messages(counter: list[int]) -> st.SearchStrategy[list[Outgoing]]:
    """Batches of messages; requests get fresh ids from `counter`."""

    @st.composite
    def one(draw: st.DrawFn) -> list[Outgoing]:
        kind = draw(st.integers(0, 9))
        if kind <= 3:
            message = draw(_request())
        elif kind <= 6:
            message = draw(_notification())
        elif kind == 7:
            return [Outgoing(frame(body)) for body in [draw(junk_bodies)]]
        else:
            return [Outgoing(b"", mirror_edit=True)]  # filled in by the sender (mirrored_edit)
        if "id" in message:  # string ids: junk's integer ids cannot collide with them
            counter[0] += 1
            message["id"] = f"fuzz-{counter[0]}"
            return [Outgoing(frame(encode(message)), message["id"])]
        return [Outgoing(frame(encode(message)))]

    return st.lists(one(), min_size=1, max_size=25).map(lambda parts: [o for p in parts for o in p])


def digest_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


__all__ = ["MIRRORED", "Mirror", "Outgoing", "digest_text", "json", "messages", "mirrored_edit"]
