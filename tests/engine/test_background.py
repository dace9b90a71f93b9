"""Background work yields: any foreground job cancels the queued and running background jobs, and
a prefill-only request fills the cache that the next request for the same prompt reuses."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from codecomp_lsp.engine.decoder import Cancelled, Decoder, GenerationRequest
from codecomp_lsp.engine.kvcache import PrefixCache
from codecomp_lsp.engine.loader import load_model
from codecomp_lsp.engine.worker import ModelWorker
from tests.samples import LIST_FILES_PY


def test_a_foreground_job_cancels_running_and_queued_background_jobs() -> None:
    worker = ModelWorker()
    started = threading.Event()
    seen: list[str] = []

    def background_work(job_cancel: threading.Event) -> str:
        started.set()
        while not job_cancel.is_set():  # a prefill checks between chunks
            job_cancel.wait(0.01)
        raise Cancelled()

    cancel = threading.Event()
    running = worker.submit(lambda: background_work(cancel), cancel=cancel, background=True)
    assert started.wait(5)
    queued = worker.submit(lambda: seen.append("queued background"), background=True)
    other_key = worker.submit(
        lambda: seen.append("background, another key"), key="x", background=True
    )
    foreground = worker.submit(lambda: seen.append("foreground") or "done", key="doc")
    assert foreground.future.result(5) == "done"
    for job in (running, queued, other_key):
        with pytest.raises(Cancelled):
            job.future.result(5)
    assert seen == ["foreground"]
    # A background job submitted after the foreground one runs.
    later = worker.submit(lambda: "ran", background=True)
    assert later.future.result(5) == "ran"
    worker.shutdown(wait=True)


def test_background_jobs_do_not_cancel_foreground_ones() -> None:
    worker = ModelWorker()
    gate = threading.Event()
    first = worker.submit(lambda: gate.wait(5) and "first", key="doc")
    worker.submit(lambda: "bg", background=True)
    gate.set()
    assert first.future.result(5) == "first" and not first.cancel.is_set()
    worker.shutdown(wait=True)


def test_prefill_only_fills_the_cache_the_next_request_reuses(tiny_model_dir) -> None:
    loaded = load_model(str(tiny_model_dir), dtype="float32")
    decoder = Decoder(loaded, PrefixCache(1 << 30))
    ids = loaded.tokenizer(LIST_FILES_PY)["input_ids"][:300]
    warm = decoder.run(
        GenerationRequest(key="doc", prompt_ids=ids, prefill_only=True, prefill_chunk=64)
    )
    assert warm.candidates == [] and warm.generated_tokens == 0
    assert warm.prefilled_tokens == len(ids) and warm.reused_tokens == 0
    again = decoder.run(GenerationRequest(key="doc", prompt_ids=ids, prefill_only=True))
    assert again.prefilled_tokens == 0  # nothing left to do
    typed = ids + loaded.tokenizer(" value")["input_ids"]
    answer = decoder.run(GenerationRequest(key="doc", prompt_ids=typed, max_new_tokens=8))
    assert answer.reused_tokens == len(ids)
    cold = Decoder(loaded, PrefixCache(1 << 30)).run(
        GenerationRequest(key="doc", prompt_ids=typed, max_new_tokens=8)
    )
    assert answer.candidates[0].token_ids == cold.candidates[0].token_ids


def test_a_cancelled_prefill_keeps_what_it_filled(tiny_model_dir) -> None:
    loaded = load_model(str(tiny_model_dir), dtype="float32")
    cache = PrefixCache(1 << 30)
    decoder = Decoder(loaded, cache)
    ids = loaded.tokenizer(LIST_FILES_PY * 2)["input_ids"][:400]
    cancel = threading.Event()
    chunks = []
    original = decoder._forward

    def forward(chunk, past, keep=1):
        chunks.append(chunk.shape[1])
        if len(chunks) == 3:
            cancel.set()  # the user asked for something: stop after this chunk
        return original(chunk, past, keep)

    decoder._forward = forward  # counts the chunks; the model still runs
    with pytest.raises(Cancelled):
        decoder.run(
            GenerationRequest(
                key="doc", prompt_ids=ids, prefill_only=True, prefill_chunk=64, cancel=cancel
            )
        )
    assert chunks == [64, 64, 64]
    entry, common = cache.lookup("doc", np.asarray(ids))
    assert entry is not None and common == 192
