"""An editor completing through a real shared engine: the real server over stdio, its `backend`
setting pointed at vLLM's CPU build (OpenAI-compatible /v1/completions) or llama.cpp's
llama-server (/completion), both serving the pulled default model. What stays on our side —
context, the FIM prompt, post-processing, streaming, cancellation — is checked through the
editor's view; what the engine did — prefix-cache hits, whether it stopped on a cancel — through
the engine's own counters."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from benchmarks.engines import Engine, engine_binaries, free_port, start_llama_server, start_vllm
from tests.conftest import REPO
from tests.e2e.lsp_helpers import capture_applied_edits, edit, inline, lsp_session, open_doc, stats
from tests.e2e.test_assist_e2e import (
    ACTIONS_PY,
    ACTIONS_URI,
    PY,
    PY_URI,
    apply_edits,
    code_actions,
    edits_of,
    hover,
    pos,
    run_command,
    where,
)
from tests.remote.models import pulled_default_model

WALK = (REPO / "examples" / "walk.py").read_text()
WALK_LINE = 16  # the empty body of count_lines
URI = "file:///work/walk.py"
BACKENDS = ("openai", "llamacpp")


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Engine]:
    converted, gguf = pulled_default_model()
    binaries = engine_binaries()
    logs = tmp_path_factory.mktemp("engines")
    started: dict[str, Engine] = {}
    try:
        started["llamacpp"] = start_llama_server(binaries["LLAMA_SERVER"], gguf, logs / "llama.log")
        started["openai"] = start_vllm(binaries["VLLM_PYTHON"], converted, logs / "vllm.log")
        yield started
    finally:
        for engine in started.values():
            engine.stop()


def _options(engines: dict[str, Engine], backend: str, **extra) -> dict:
    return {"backend": backend, "endpoint": engines[backend].url, **extra}


def _assert_correct_body(text: str) -> None:
    assert "return" in text and "handle" in text and ("len(" in text or "sum(" in text), text


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_editor_completes_through_the_engine(engines, backend):
    async with lsp_session(None, options=_options(engines, backend)) as client:
        info = await stats(client)
        assert info["modelState"] == "ready", info
        assert info["backend"] == backend and info["template"] == "qwen"
        assert info["endpoint"] == engines[backend].url and info["device"] == "remote"
        open_doc(client, URI, WALK)
        result = await inline(client, URI, WALK_LINE, 4, invoked=True)
        assert result is not None and result.items, "no suggestion from the engine"
        _assert_correct_body(str(result.items[0].insert_text))
        menu = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=URI),
                position=types.Position(line=WALK_LINE, character=4),
            )
        )
        items = menu.items if isinstance(menu, types.CompletionList) else menu or []
        assert items, "no menu candidates"  # candidates 2..n come from one sampled request


@pytest.mark.parametrize("backend", BACKENDS)
async def test_typing_reuses_the_engines_prefix_cache(engines, backend):
    engine = engines[backend]
    typed = "return "
    async with lsp_session(None, options=_options(engines, backend, promptLayout="cached")) as c:
        open_doc(c, URI, WALK)
        await inline(c, URI, WALK_LINE, 4)  # the first request fills the engine's cache
        queries = engine.metric("vllm:prefix_cache_queries_total") if backend == "openai" else 0
        hits = engine.metric("vllm:prefix_cache_hits_total") if backend == "openai" else 0
        before = await stats(c)
        for i, char in enumerate(typed):
            edit(c, URI, 2 + i, (WALK_LINE, 4 + i), (WALK_LINE, 4 + i), char)
            await inline(c, URI, WALK_LINE, 5 + i)
        after = await stats(c)
    assert after["promptTokens"] > before["promptTokens"], "no keystroke reached the engine"
    if backend == "openai":
        # vLLM reports its prefix cache on /metrics (per 32-token block).
        asked = engine.metric("vllm:prefix_cache_queries_total") - queries
        found = engine.metric("vllm:prefix_cache_hits_total") - hits
        assert asked > 0 and found / asked > 0.8, (found, asked)
    else:
        prompt = after["promptTokens"] - before["promptTokens"]
        reused = after["reusedTokens"] - before["reusedTokens"]
        assert prompt > 0 and reused / prompt > 0.9, (reused, prompt)  # llama-server's cache_n


@pytest.mark.parametrize("backend", BACKENDS)
async def test_streaming_reaches_the_editor(engines, backend):
    options = _options(engines, backend, multiline="always", maxNewTokens=48)
    async with lsp_session(None, options=options, stream=True) as client:
        open_doc(client, URI, WALK)
        result = await inline(client, URI, WALK_LINE, 4, invoked=True)
        await asyncio.sleep(0.2)
        partial = [n.text for n in client.streamed if not n.done]
        assert len(partial) >= 2, client.streamed
        assert all(b.startswith(a) for a, b in zip(partial, partial[1:], strict=False))
        final = result.items[0].insert_text if result and result.items else ""
        assert client.streamed[-1].done and client.streamed[-1].text == final


def _engine_busy(engine: Engine, backend: str) -> bool:
    if backend == "openai":
        return engine.metric("vllm:num_requests_running") > 0
    return any(slot.get("is_processing") for slot in engine.slots())


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_cancelled_request_stops_the_engine(engines, backend):
    engine = engines[backend]
    options = _options(engines, backend, multiline="always", maxNewTokens=1000, timeBudgetMs=120000)
    options["disabledStages"] = ["stop-check"]  # nothing ends the answer early but the cancel
    async with lsp_session(None, options=options, stream=True) as client:
        open_doc(client, URI, WALK)
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=WALK_LINE, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
        future = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=777
            )
        )
        for _ in range(600):
            if client.streamed:
                break
            await asyncio.sleep(0.05)
        assert client.streamed, "the engine never started answering"
        assert _engine_busy(engine, backend)
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=777))
        with pytest.raises(JsonRpcException, match="cancel"):
            await asyncio.wait_for(future, 30)
        deadline = time.monotonic() + 5
        while _engine_busy(engine, backend) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not _engine_busy(engine, backend), "the engine kept generating after the cancel"
        info = await stats(client)
        assert info["cancelled"] == 1 and info["generatedTokens"] < 1000


async def test_two_documents_keep_their_own_llama_server_slots(engines):
    other = (REPO / "examples" / "average.ts").read_text()
    async with lsp_session(None, options=_options(engines, "llamacpp")) as client:
        open_doc(client, URI, WALK)
        open_doc(client, "file:///work/average.ts", other, "typescript")
        await inline(client, URI, WALK_LINE, 4, invoked=True)
        await inline(client, "file:///work/average.ts", 7, 4, invoked=True)
        before = await stats(client)
        await inline(client, URI, WALK_LINE, 4, invoked=True)
        after = await stats(client)
    prompt = after["promptTokens"] - before["promptTokens"]
    reused = after["reusedTokens"] - before["reusedTokens"]
    assert prompt > 0 and reused / prompt > 0.9, (reused, prompt)


async def test_an_engine_that_is_down_is_reported_and_the_server_lives(tmp_path):
    converted, _ = pulled_default_model()
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    options = {
        "backend": "openai",
        "endpoint": url,
        "remoteModel": "qwen2.5-coder-0.5b",
        "remoteTokenizer": str(converted),
        "remoteTimeoutMs": 2000,
    }
    async with lsp_session(None, options=options) as client:
        info = await stats(client)
        assert info["modelState"] == "ready" and "did not answer" in (info["modelError"] or "")
        open_doc(client, URI, WALK)
        result = await inline(client, URI, WALK_LINE, 4, invoked=True)
        assert result is None or not result.items
        messages = [m.message for m in client.messages] + [
            m.message for m in getattr(client, "log_messages", [])
        ]
        assert any(url in m and "did not answer" in m for m in messages), messages
        assert (await stats(client))["modelState"] == "ready"


async def test_the_api_key_comes_from_the_environment_and_is_never_shown(
    engines, tmp_path, monkeypatch
):
    _, gguf = pulled_default_model()
    binary = engine_binaries()["LLAMA_SERVER"]
    secret = "sk-test-" + "7" * 24
    guarded = start_llama_server(binary, gguf, tmp_path / "guarded.log", 1, ("--api-key", secret))
    try:
        options = {"backend": "llamacpp", "endpoint": guarded.url, "apiKeyEnv": "CODECOMP_TEST_KEY"}
        monkeypatch.delenv("CODECOMP_TEST_KEY", raising=False)
        async with lsp_session(None, options=options) as client:
            info = await stats(client)
            assert info["modelState"] == "failed" and "CODECOMP_TEST_KEY" in info["modelError"]
        monkeypatch.setenv("CODECOMP_TEST_KEY", secret)
        async with lsp_session(None, options=options) as client:
            open_doc(client, URI, WALK)
            result = await inline(client, URI, WALK_LINE, 4, invoked=True)
            info = await stats(client)
            assert result is not None and result.items, (info, client.messages)
            assert secret not in repr(info) and secret not in repr(client.messages)
    finally:
        guarded.stop()


async def test_without_the_tokenizer_here_prompts_go_as_text_in_a_character_budget(tmp_path):
    """The engine's model file is not on this machine (it was removed after the engine opened it):
    the server says so, counts the prompt in characters and still completes correctly."""
    _, gguf = pulled_default_model()
    binary = engine_binaries()["LLAMA_SERVER"]
    hidden = tmp_path / "qwen2.5-coder-0.5b-elsewhere.gguf"
    hidden.symlink_to(gguf)
    engine = start_llama_server(binary, hidden, tmp_path / "llama.log", 1)
    try:
        hidden.unlink()
        async with lsp_session(None, options={"backend": "llamacpp", "endpoint": engine.url}) as c:
            info = await stats(c)
            assert info["modelState"] == "ready"
            assert "counted in characters" in (info["modelError"] or ""), info["modelError"]
            open_doc(c, URI, WALK)
            result = await inline(c, URI, WALK_LINE, 4, invoked=True)
            assert result is not None and result.items
            _assert_correct_body(str(result.items[0].insert_text))
    finally:
        engine.stop()


async def test_hover_and_code_actions_run_on_the_engine_too(engines):
    """The features beyond completion ask the same port: a hover explanation (the instruction
    model's chat template, rendered here) and a generated docstring come from llama-server."""
    options = _options(engines, "llamacpp", hoverTimeBudgetMs=60000)
    async with lsp_session(None, options=options, markdown=True) as client:
        applied = capture_applied_edits(client)

        open_doc(client, PY_URI, PY)
        before = await stats(client)
        result = await hover(client, PY_URI, where(PY, 'list_files(".")', 3))
        assert result is not None and "def list_files(root):" in result.contents.value
        after = await stats(client)
        assert after["generatedTokens"] > before["generatedTokens"]
        assert after["promptTokens"] > before["promptTokens"]

        open_doc(client, ACTIONS_URI, ACTIONS_PY)
        (docstring,) = [
            a
            for a in await code_actions(client, ACTIONS_URI, pos(3, 6))
            if a.title.startswith("Generate docstring")
        ]
        done = await run_command(client, docstring)
        assert done["applied"] is True
        fixed = apply_edits(ACTIONS_PY, edits_of(applied[0].edit, ACTIONS_URI))
        assert '"""' in fixed.split("\n")[4]
