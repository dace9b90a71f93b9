"""Bad input never kills the server; cancellation and supersession; settings errors are reported."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.lsp_helpers import edit, inline, lsp_session, open_doc, stats

URI = "file:///work/demo/robust.py"
TEXT = "import os\n\n\ndef main():\n    path = os.path.join('a', 'b')\n    return "
END = (5, len("    return "))
SLOW = {"multiline": "always", "maxNewTokens": 400, "timeBudgetMs": 60000}


async def test_unknown_document_and_bad_positions_get_errors_and_the_server_goes_on(tiny_model_dir):
    async with lsp_session(tiny_model_dir) as client:
        with pytest.raises(JsonRpcException, match="unknown document"):
            await inline(client, "file:///nowhere.py", 0, 0)
        open_doc(client, URI, TEXT + "\nsmile = '😀'\n")
        with pytest.raises(JsonRpcException, match="out of range"):
            await inline(client, URI, 99, 0)
        # UTF-16 column 10 falls between the two halves of the emoji's surrogate pair.
        with pytest.raises(JsonRpcException, match="inside"):
            await inline(client, URI, 6, len("smile = '") + 1)
        # A column past the end of the line is clamped, as the spec says.
        result = await inline(client, URI, END[0], 500, invoked=True)
        assert isinstance(result, types.InlineCompletionList)
        assert (await stats(client))["modelState"] == "ready"


async def test_binary_and_huge_documents_get_empty_results(tiny_model_dir):
    async with lsp_session(tiny_model_dir) as client:
        open_doc(client, "file:///blob.py", "x = 1\x00\x01\x02\nprint(x)\n")
        assert (await inline(client, "file:///blob.py", 1, 3, invoked=True)).items in ([], ())
        huge = "x = 1\n" * 1_800_000  # ~10.8 MB
        open_doc(client, "file:///huge.py", huge)
        assert (await inline(client, "file:///huge.py", 5, 2, invoked=True)).items in ([], ())
        # Edits to the huge document still apply, and other documents still complete.
        edit(client, "file:///huge.py", 2, (0, 0), (0, 0), "y = 2\n")
        open_doc(client, URI, TEXT)
        result = await inline(client, URI, *END, invoked=True)
        assert isinstance(result, types.InlineCompletionList)
        info = await stats(client)
        assert info["openDocuments"] == 3
        assert info["generatedTokens"] > 0


async def test_a_huge_document_never_holds_the_event_loop(tiny_model_dir):
    """Opening, editing, replacing, hovering, completing and diagnosing a 10 MB document: the
    loop watch (server/loopwatch.py) never saw the loop held for a second. Decoding the 10 MB
    bodies, parsing and tokenising run on threads; on the loop, each message is routed only."""
    async with lsp_session(tiny_model_dir) as client:
        huge = "def f(a, b):\n    return a + b  # sum\n" * 280_000  # ~10 MB
        open_doc(client, "file:///huge.py", huge)
        edit(client, "file:///huge.py", 2, (1, 0), (1, 0), "    c = 1\n")
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri="file:///huge.py", version=3
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=huge + "x(\n")],
            )
        )
        position = types.Position(line=3, character=5)
        await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier("file:///huge.py"), position)
        )
        assert (await inline(client, "file:///huge.py", 3, 5, invoked=True)).items in ([], ())
        await asyncio.sleep(1.5)  # the diagnostics delay, then the parse (off the loop)
        info = await stats(client)
        assert info["openDocuments"] == 1
        assert info["loopLagMaxMs"] < 1000, info["loopLagMaxMs"]


async def test_cancel_request_stops_decoding(tiny_model_dir):
    options = {**SLOW, "candidates": 8}
    async with lsp_session(tiny_model_dir, options=options, stream=True) as client:
        open_doc(client, URI, TEXT)
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=END[0], character=END[1]),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
        future = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=4242
            )
        )
        for _ in range(400):  # cancel once decoding has visibly started
            if client.streamed:
                break
            await asyncio.sleep(0.005)
        assert client.streamed, "decoding never started"
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=4242))
        with pytest.raises(JsonRpcException, match="cancel"):
            await asyncio.wait_for(future, 30)
        info = await stats(client)
        assert info["cancelled"] == 1
        await asyncio.sleep(0.2)
        # The stream ends with one empty `done` notification, nothing after it.
        assert client.streamed[-1].done and client.streamed[-1].text == ""
        assert [n.done for n in client.streamed].count(True) == 1
        assert info["generatedTokens"] < 8 * 400
        # The server answers the next request normally.
        assert isinstance(await inline(client, URI, *END, invoked=True), types.InlineCompletionList)


async def test_newer_request_for_the_same_document_supersedes_the_older(tiny_model_dir):
    async with lsp_session(
        tiny_model_dir, options={**SLOW, "candidates": 8}, stream=True
    ) as client:
        open_doc(client, URI, TEXT)
        first = asyncio.ensure_future(inline(client, URI, *END, invoked=True))
        for _ in range(400):  # the older request is decoding
            if client.streamed:
                break
            await asyncio.sleep(0.005)
        edit(client, URI, 2, END, END, "o")
        second = await inline(client, URI, END[0], END[1] + 1, invoked=True)
        older = await first
        assert older.items in ([], ())
        assert isinstance(second, types.InlineCompletionList)
        info = await stats(client)
        assert info["superseded"] == 1
        assert info["requests"] == 2


async def test_missing_model_is_reported_and_the_built_in_model_answers():
    async with lsp_session("/nonexistent/model-dir") as client:
        info = await stats(client)
        assert info["modelState"] == "ready" and info["model"] == "codecomp-tiny"
        assert info["modelFallback"] is True
        assert "not found" in info["modelError"]
        await asyncio.sleep(0.2)
        errors = [m for m in client.messages if m.type == types.MessageType.Error]
        assert errors and "not found" in errors[0].message
        open_doc(client, URI, TEXT)
        assert isinstance(await inline(client, URI, *END, invoked=True), types.InlineCompletionList)


async def test_invalid_settings_are_reported_and_defaults_kept(tiny_model_dir):
    options = {"maxNewTokens": "lots", "multiline": "sometimes", "candidates": 2, "bogus": 1}
    async with lsp_session(tiny_model_dir, options=options) as client:
        await asyncio.sleep(0.2)
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert any("maxNewTokens" in w for w in warnings)
        assert any("multiline" in w for w in warnings)
        assert any("bogus" in w for w in warnings)
        open_doc(client, URI, TEXT)
        assert isinstance(await inline(client, URI, *END, invoked=True), types.InlineCompletionList)
        # didChangeConfiguration with a bad value: reported, server keeps going.
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"codecomp": {"temperature": "hot"}})
        )
        await asyncio.sleep(0.3)
        assert any("temperature" in m.message for m in client.messages)
        assert (await stats(client))["modelState"] == "ready"


async def test_mid_word_automatic_trigger_is_skipped(tiny_model_dir):
    async with lsp_session(tiny_model_dir) as client:
        open_doc(client, URI, "value = compute_everything()\n")
        result = await inline(client, URI, 0, len("value = comp"))
        assert result.items in ([], ())
        assert (await stats(client))["generatedTokens"] == 0


def _frame(payload: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(payload) + payload


def test_malformed_messages_do_not_kill_the_server(tiny_model_dir):
    def msg(obj: dict) -> bytes:
        return _frame(json.dumps(obj).encode())

    garbage = [
        _frame(b"this is not json"),
        _frame(
            b'{"jsonrpc": "2.0", "id": 7, "method": "textDocument/inlineCompletion", "params": 5}'
        ),
        _frame(
            b'{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"bogus": true}}'
        ),
        _frame(b"\xff\xfe\xfa invalid utf-8"),
    ]
    # JSON may carry a lone surrogate ("\udcff"); the document keeps it and completion answers.
    did_open = _frame(
        b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": '
        b'{"uri": "file:///s.py", "languageId": "python", "version": 1, '
        b'"text": "name = \'\\udcff\'\\nprint(na"}}}'
    )
    stream = b"".join(garbage) + b"".join(
        [
            msg(
                {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
            ),
            msg({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
            did_open,
            msg(
                {
                    "jsonrpc": "2.0",
                    "id": 3,
                    "method": "textDocument/inlineCompletion",
                    "params": {
                        "textDocument": {"uri": "file:///s.py"},
                        "position": {"line": 1, "character": 8},
                        "context": {"triggerKind": 1},
                    },
                }
            ),
            msg({"jsonrpc": "2.0", "id": 2, "method": "codecomp/stats", "params": {}}),
        ]
    )
    command = [sys.executable, "-m", "codecomp_lsp", "--model", str(tiny_model_dir)]
    proc = subprocess.Popen(
        command + ["--log-level", "ERROR"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc.stdin.write(stream)
        proc.stdin.flush()
        by_id: dict = {}
        while not {1, 2, 3, 7} <= by_id.keys():
            header = proc.stdout.readline()
            assert header, f"server closed its output; got {sorted(by_id, key=str)}"
            if header.startswith(b"Content-Length:"):
                length = int(header.split(b":")[1])
                while proc.stdout.readline().strip():  # other headers, then the empty line
                    pass
                message = json.loads(proc.stdout.read(length))
                if "id" in message:
                    by_id[message["id"]] = message
    finally:
        proc.kill()
        proc.wait(10)
    assert "capabilities" in by_id[1]["result"]
    assert "error" in by_id[7]  # params of the wrong type: an error, not a crash
    assert "result" in by_id[3], by_id[3]
    assert by_id[2]["result"]["modelState"] in ("loading", "ready")


async def test_settings_from_pull_and_did_change_configuration(tiny_model_dir):
    async with lsp_session(
        tiny_model_dir, options={"candidates": 4}, configuration={"multiline": "never"}
    ) as client:
        settings = (await stats(client))["settings"]
        assert settings["candidates"] == 4  # initializationOptions
        assert settings["multiline"] == "never"  # pulled with workspace/configuration
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"codecomp": {"candidates": 2}})
        )
        await asyncio.sleep(0.3)
        settings = (await stats(client))["settings"]
        assert settings["candidates"] == 2
        assert (await stats(client))["modelState"] == "ready"  # same model: no reload


async def test_command_line_model_wins_over_client_settings(tiny_model_dir):
    async with lsp_session(tiny_model_dir, options={"model": "/elsewhere/model"}) as client:
        info = await stats(client)
        assert info["modelState"] == "ready"
        assert info["settings"]["model"] == str(tiny_model_dir)


def test_tcp_transport_answers_on_loopback(tiny_model_dir):
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "codecomp_lsp",
            "--tcp",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(tiny_model_dir),
            "--log-level",
            "ERROR",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn:
            init = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"capabilities": {}},
            }
            conn.sendall(_frame(json.dumps(init).encode()))
            data = b""
            while b"capabilities" not in data:
                chunk = conn.recv(65536)
                assert chunk, "connection closed before the initialize response"
                data += chunk
        body = json.loads(
            data.split(b"\r\n\r\n", 1)[1][
                : int(data.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            ]
        )
        caps = body["result"]["capabilities"]
        assert "inlineCompletionProvider" in caps and "completionProvider" in caps
    finally:
        server.kill()
        server.wait(10)


async def test_empty_configuration_change_keeps_the_settings_in_force(tiny_model_dir):
    async with lsp_session(tiny_model_dir, options={"codecomp": {"maxNewTokens": 24}}) as client:
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
        await asyncio.sleep(0.5)
        info = await stats(client)
        assert info["settings"]["maxNewTokens"] == 24
        assert info["modelState"] == "ready"


async def test_inline_request_does_not_supersede_a_menu_request(tiny_model_dir):
    async with lsp_session(tiny_model_dir, options={"candidates": 2}) as client:
        open_doc(client, URI, TEXT)
        menu = asyncio.ensure_future(
            client.text_document_completion_async(
                types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=URI),
                    position=types.Position(line=END[0], character=END[1]),
                )
            )
        )
        await asyncio.sleep(0.05)
        await inline(client, URI, *END)
        await menu
        info = await stats(client)
        assert info["superseded"] == 0
        assert info["latencyMs"]["completion"]["count"] == 1


def _tcp_server(model, port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "codecomp_lsp", "--tcp", "--host", host, "--port", str(port)]
        + ["--model", str(model), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _read_message(conn) -> dict:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(1)
        assert chunk, "connection closed"
        data += chunk
    length = int(data.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        assert chunk, "connection closed"
        body += chunk
    return json.loads(body)


def test_tcp_serves_one_client_and_exits_when_it_leaves(tiny_model_dir):
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _tcp_server(tiny_model_dir, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                first = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
        first.sendall(_frame(json.dumps(init).encode()))
        assert "capabilities" in _read_message(first)["result"]
        # A second editor on the same port is told so and disconnected.
        with socket.create_connection(("127.0.0.1", port), timeout=30) as second:
            refused = _read_message(second)
            assert refused["method"] == "window/showMessage"
            assert "already serves a client" in refused["params"]["message"]
            assert second.recv(1) == b""
        # The first client is still served.
        stats = {"jsonrpc": "2.0", "id": 2, "method": "codecomp/stats"}
        first.sendall(_frame(json.dumps(stats).encode()))
        while (message := _read_message(first)).get("id") != 2:
            pass
        assert "modelState" in message["result"]
        first.close()  # the client goes away: the server ends
        assert server.wait(10) == 1
    finally:
        server.kill()
        server.wait(10)


def test_tcp_refuses_a_non_loopback_host(tiny_model_dir):
    server = _tcp_server(tiny_model_dir, 2087, host="0.0.0.0")
    _, err = server.communicate(timeout=60)
    assert server.returncode != 0
    assert b"not a loopback address" in err


def test_a_corrupt_model_falls_back_to_the_built_in_model(tiny_model_dir, tmp_path):
    import shutil

    from tests.e2e.raw_client import RawServer

    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model_dir, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])  # a cut download
    server = RawServer(broken, "--log-level", "WARNING")
    try:
        server.initialize()
        stats = server.wait_ready()
        assert stats["modelState"] == "ready" and stats["modelFallback"], stats
        assert "broken-model" in (stats["modelError"] or ""), stats["modelError"]
        uri = "file:///corrupt.py"
        server.open_document(uri, "x = 1\nx")
        answer = server.complete(uri, 1, 1)
        assert "result" in answer
        messages = [m for m in server.popups() if "broken-model" in m]
        assert len(messages) == 1, server.popups()
    finally:
        assert server.close() == 0
