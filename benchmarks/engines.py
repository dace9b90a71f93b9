"""Real inference engines for the remote-backend tests and benchmarks/remote.py: vLLM's CPU build
and llama.cpp's llama-server, started on 127.0.0.1 and read back through their own metrics (vLLM's
/metrics, llama-server's /slots)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

VLLM_START_S = 420  # measured ~130 s on 2 cores (torch.compile warm-up), more under load
LLAMA_START_S = 120


@dataclass
class Engine:
    url: str  # the base the backend setting takes (…/v1 for OpenAI-compatible)
    root: str  # scheme://host:port
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.root + path, timeout=10) as response:
            return response.read().decode()

    def metric(self, name: str) -> float:
        """The sum of a Prometheus counter or gauge on /metrics (vLLM)."""
        total = 0.0
        for line in self.get("/metrics").splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def slots(self) -> list[dict]:
        return json.loads(self.get("/slots"))


def engine_binaries() -> dict[str, str]:
    """VLLM_PYTHON and LLAMA_SERVER from scripts/setup-engines.sh (installs them once)."""
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup-engines.sh")],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert done.returncode == 0, f"setup-engines.sh failed:\n{done.stderr[-3000:]}"
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert Path(found["VLLM_PYTHON"]).is_file() and Path(found["LLAMA_SERVER"]).is_file(), found
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(engine: Engine, path: str, timeout: float) -> Engine:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            tail = engine.log.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"the engine exited with {engine.process.returncode}:\n{tail}")
        try:
            engine.get(path)
            return engine
        except (urllib.error.URLError, OSError):
            time.sleep(1)
    engine.stop()
    raise TimeoutError(f"the engine did not answer {path} in {timeout:.0f} s: {engine.log}")


def start_vllm(python: str, model: Path, log: Path, threads: int = 2) -> Engine:
    port = free_port()
    args = [
        python,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--served-model-name",
        model.parent.name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--enable-prefix-caching",
        "--enable-prompt-tokens-details",
        "--block-size",
        "32",  # the CPU attention kernel takes multiples of 32; the default is 128
        "--max-model-len",
        "4096",
        "--gpu-memory-utilization",
        "0.2",  # on CPU: the share of host memory for the KV cache (the default does not fit)
    ]
    # vLLM's CPU worker drops to one thread unless told; the local engine uses both cores.
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    handle = log.open("w")
    process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=env)
    root = f"http://127.0.0.1:{port}"
    return wait_for(Engine(root + "/v1", root, process, log), "/v1/models", VLLM_START_S)


def start_llama_server(
    binary: str, gguf: Path, log: Path, slots: int = 2, extra: tuple[str, ...] = ()
) -> Engine:
    port = free_port()
    args = [
        binary,
        "-m",
        str(gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "-c",
        str(4096 * slots),
        "--parallel",
        str(slots),
        "--threads",
        "2",
        "--slots",
        *extra,
    ]
    handle = log.open("w")
    process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}"
    return wait_for(Engine(root, root, process, log), "/health", LLAMA_START_S)
