"""Protocol fuzzing against the real server process: every request is answered within a bound,
the process never dies, nothing malformed comes back, and afterwards a normal completion works and
the documents the server holds are exactly what the client sent."""

from __future__ import annotations

import os
import random
import time
from dataclasses import asdict

import pytest
from hypothesis import HealthCheck, given, seed, settings

from codecomp_lsp.settings import Settings
from tests.e2e.fuzz_messages import MIRRORED, Mirror, Outgoing, digest_text, messages, mirrored_edit
from tests.e2e.raw_client import RawServer, encode, frame

ANSWER_WITHIN_S = 30  # per batch, with the fixture model on 2 CPU cores
MESSAGES = int(os.environ.get("CODECOMP_FUZZ_MESSAGES", "2000"))


class Run:
    def __init__(self) -> None:
        self.server: RawServer | None = None
        self.mirror = Mirror()
        self.counter = [0]
        self.sent = 0
        self.unanswered: list[int] = []
        self.slowest: list = []


@pytest.fixture(scope="module")
def run(tiny_model_dir):
    state = Run()
    state.server = RawServer(tiny_model_dir, "--log-level", "WARNING")
    state.server.initialize({"window": {"workDoneProgress": True}})
    state.server.wait_ready()
    yield state
    state.server.close()


def test_fuzzed_messages_are_all_answered_and_the_server_survives(run: Run) -> None:
    server = run.server
    assert server is not None

    rnd = random.Random(1)

    def batches(round_: int):
        @seed(round_)
        @settings(
            max_examples=max(10, MESSAGES // 12),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(batch=messages(run.counter))
        def send(batch: list[Outgoing]) -> None:
            for message in batch:
                if message.mirror_edit:
                    for edit in mirrored_edit(rnd, run.mirror):
                        server.send_bytes(frame(encode(edit)))
                else:
                    server.send_bytes(message.data)
            run.sent += len(batch)
            owed = [m.answer_id for m in batch if m.answer_id is not None]
            for msg_id in owed:
                server.expect(msg_id)
            started = time.monotonic()
            answered = server.wait_for(owed, ANSWER_WITHIN_S)
            run.slowest.append(
                (time.monotonic() - started, [m.data[:160] for m in batch if m.answer_id])
            )
            missing = [i for i in owed if i not in answered]
            assert server.alive(), "".join(server.stderr[-40:])
            assert not missing, (missing, [m.data[:300] for m in batch if m.answer_id in missing])

        return send

    began = time.monotonic()
    round_ = 0
    while run.sent < MESSAGES:  # each round is a fresh seed: new messages, same server
        batches(round_)()
        round_ += 1
    fuzz_s = time.monotonic() - began
    assert run.sent >= MESSAGES
    if os.environ.get("CODECOMP_FUZZ_REPORT"):
        print(f"fuzz {fuzz_s:.1f}s for {run.sent} messages")
        for took, requests in sorted(run.slowest, key=lambda x: -x[0])[:6]:
            print(f"{took:.1f}s", requests)
    assert server.malformed == [], server.malformed[:5]

    # Whatever settings the fuzz left, a completion is answered, not failed (a bad value is
    # never applied: it cannot poison later requests).
    probe = "file:///fuzz/probe.py"
    server.open_document(probe, "x = 1\ny")
    answer = server.complete(probe, 1, 1)
    assert "result" in answer, answer

    # Afterwards: settings back to the defaults (the fuzz may have set valid odd ones), then a
    # normal completion on a fresh document.
    defaults = {k: v for k, v in asdict(Settings()).items() if k != "model" and v is not None}
    server.notify("workspace/didChangeConfiguration", {"settings": {"codecomp": defaults}})
    uri = "file:///fuzz/after.py"
    server.open_document(uri, "def add(a, b):\n    return a")
    answer = server.complete(uri, 1, 12)
    assert "result" in answer, answer
    assert answer["result"]["items"], answer

    # The server holds what the client sent.
    stats = server.call("codecomp/stats")["result"]
    held = {d["uri"]: d for d in stats["documents"]}
    for mirrored in MIRRORED:
        if mirrored in run.mirror.texts:
            assert held[mirrored]["sha256"] == digest_text(run.mirror.texts[mirrored]), mirrored
            assert held[mirrored]["version"] == run.mirror.versions[mirrored]
    assert stats["modelState"] == "ready"
    # Client mistakes are logged in one line each: tracebacks are for real faults.
    assert server.tracebacks() == 0, server.traceback_texts()
