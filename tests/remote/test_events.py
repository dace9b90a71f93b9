"""Reading each engine's stream events (shapes copied from vLLM 0.32 and llama-server 0.3.36
answers), the request bodies we send, and the settings a remote backend needs."""

from __future__ import annotations

import pytest
import torch

from codecomp_lsp.engine.generation import Finish, GenerationRequest
from codecomp_lsp.engine.loader import LoadedModel
from codecomp_lsp.prompt.templates import template_by_name
from codecomp_lsp.remote.backend import Group, Usage
from codecomp_lsp.remote.http import Endpoint, RemoteError
from codecomp_lsp.remote.llamacpp import LlamaCppBackend
from codecomp_lsp.remote.model import api_key
from codecomp_lsp.remote.openai import OpenAIBackend


def _loaded() -> LoadedModel:
    return LoadedModel(
        model=None,
        tokenizer=None,
        name="m",
        device=torch.device("cpu"),
        dtype=torch.float32,
        template=template_by_name("qwen"),
        stop_ids=frozenset({151643, 151662}),
        reusable_cache=True,
        load_seconds=0.0,
        has_chat_template=False,
        context_limit=4096,
    )


ENDPOINT = Endpoint("http://127.0.0.1:9/v1")


def test_vllm_events_give_text_tokens_logprobs_and_the_cached_prompt_tokens():
    backend = OpenAIBackend(ENDPOINT, _loaded(), "m")
    usage = Usage()
    middle = {
        "choices": [
            {
                "index": 1,
                "text": "setColor",
                "logprobs": {"tokens": ["token_id:1"], "token_logprobs": [-0.5]},
                "finish_reason": None,
            }
        ],
        "usage": {"prompt_tokens": 200, "total_tokens": 201, "completion_tokens": 1},
    }
    (part,) = backend._read(middle, usage)
    assert (part.index, part.text, part.tokens, part.logprobs, part.finish) == (
        1,
        "setColor",
        1,
        (-0.5,),
        None,
    )
    assert usage.prompt_tokens == 200 and usage.cached_tokens is None
    last = {
        "choices": [],
        "usage": {
            "prompt_tokens": 200,
            "completion_tokens": 3,
            "prompt_tokens_details": {"cached_tokens": 128},
        },
    }
    assert backend._read(last, usage) == []
    assert (usage.cached_tokens, usage.generated_tokens) == (128, 3)
    done = {"choices": [{"index": 0, "text": "", "finish_reason": "length"}]}
    assert backend._read(done, usage)[0].finish == Finish.LENGTH
    odd = {"choices": [{"index": 0, "text": "", "finish_reason": "tool_calls"}]}
    assert backend._read(odd, usage)[0].finish == Finish.STOP


def test_llama_server_events_give_text_tokens_logprobs_and_cache_figures():
    backend = LlamaCppBackend(Endpoint("http://127.0.0.1:9"), _loaded(), "m")
    usage = Usage()
    partial = {
        "index": 0,
        "content": "ics",
        "tokens": [1211],
        "stop": False,
        "timings": {"cache_n": 1400, "prompt_n": 4, "prompt_ms": 22.5},
        "completion_probabilities": [{"id": 1211, "logprob": -4.88}],
    }
    (part,) = backend._read(partial, usage)
    assert (part.text, part.tokens, part.logprobs, part.finish) == ("ics", 1, (-4.88,), None)
    assert (usage.cached_tokens, usage.prompt_tokens, usage.prefill_ms) == (1400, 1404, 22.5)
    final = {"index": 0, "content": "", "tokens": [], "stop": True, "stop_type": "limit"}
    assert backend._read(final, usage)[0].finish == Finish.LENGTH
    eos = {"index": 2, "content": "", "stop": True, "stop_type": "eos"}
    assert backend._read(eos, usage)[0].finish == Finish.STOP


def test_request_bodies_send_our_token_ids_and_make_candidate_zero_greedy():
    req = GenerationRequest(key="k", prompt_ids=[5, 6, 7], max_new_tokens=20, candidates=3)
    openai = OpenAIBackend(ENDPOINT, _loaded(), "served-name")
    path, body = openai._body(req, Group(0, 1, greedy=True), 20)
    assert path == "completions" and body["prompt"] == [5, 6, 7] and body["temperature"] == 0
    assert body["model"] == "served-name" and body["stop_token_ids"] == [151643, 151662]
    assert "logprobs" not in body  # one greedy answer needs no ranking
    _, sampled = openai._body(req, Group(1, 2, greedy=False), 20)
    assert sampled["n"] == 2 and sampled["temperature"] >= 0.7 and sampled["logprobs"] == 1
    llama = LlamaCppBackend(Endpoint("http://127.0.0.1:9"), _loaded(), "")
    path, body = llama._body(req, Group(0, 1, greedy=True), 20)
    assert path == "completion" and body["prompt"] == [5, 6, 7] and body["n_predict"] == 20
    assert body["cache_prompt"] is True and body["id_slot"] == -1 and body["top_k"] == 1
    # A document's first request lets the server choose a slot and is read to the end, whose
    # event names the slot; later requests pin it. A document whose slot went to another loses it.
    doc_a = GenerationRequest(key="a", prompt_ids=[1])
    doc_b = GenerationRequest(key="b", prompt_ids=[1])
    assert llama._needs_final(doc_a) and llama.slot_for("a") == -1
    usage = Usage()
    llama._read({"index": 0, "content": "", "stop": True, "id_slot": 2}, usage)
    llama._learn(doc_a, usage)
    assert llama._body(doc_a, Group(0, 1, True), 1)[1]["id_slot"] == 2
    assert not llama._needs_final(doc_a)
    llama._learn(doc_b, usage)
    assert (llama.slot_for("a"), llama.slot_for("b")) == (-1, 2)
    _, sampled = llama._body(req, Group(1, 2, greedy=False), 20)
    assert sampled["n_cmpl"] == 2 and sampled["n_probs"] == 1 and sampled["id_slot"] == -1


def test_the_api_key_is_read_from_the_named_variable_only(monkeypatch):
    assert api_key("") == ""
    monkeypatch.setenv("TEAM_KEY", "sk-secret")
    assert api_key("TEAM_KEY") == "sk-secret"
    monkeypatch.delenv("TEAM_KEY")
    with pytest.raises(RemoteError, match="TEAM_KEY, which is not set") as caught:
        api_key("TEAM_KEY")
    assert "sk-" not in str(caught.value)
    assert Endpoint("http://h:1", "sk-secret")._headers()["Authorization"] == "Bearer sk-secret"
    assert "sk-secret" not in repr(Endpoint("http://h:1", "sk-secret"))
    # Every request of one server carries the same session id (for a router's affinity).
    first, second = Endpoint("http://h:1")._headers(), Endpoint("http://h:2")._headers()
    assert first["X-Codecomp-Session"] == second["X-Codecomp-Session"] != ""


def test_a_closed_port_is_a_clear_error_not_a_hang():
    with pytest.raises(RemoteError, match="did not answer"):
        Endpoint("http://127.0.0.1:9/v1", timeout_s=2).get_json("models")
    with pytest.raises(RemoteError, match="not an http"):
        Endpoint("localhost:8000")


def test_the_character_stand_in_round_trips_text_and_markers():
    from codecomp_lsp.remote.chars import CharTokenizer, guess_template

    template = guess_template("Qwen/Qwen2.5-Coder-1.5B")
    assert template is not None and template.name == "qwen"
    assert guess_template("mistral-7b") is None
    tokenizer = CharTokenizer(template)
    vocab = tokenizer.get_vocab()
    text = "def f(x):\n    return x  # é ✓"
    ids = [vocab[template.prefix], *tokenizer(text)["input_ids"], vocab[template.middle]]
    assert tokenizer.decode(ids) == f"{template.prefix}{text}{template.middle}"
    # Marker text typed by the user stays characters, never a marker.
    assert len(tokenizer(template.prefix)["input_ids"]) == len(template.prefix)
