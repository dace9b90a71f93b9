#!/usr/bin/env bash
# Create .venv with the CPU build of PyTorch and codecomp-lsp (editable) plus its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# The pinned torch takes the CPU wheel here; a bare `torch` would pull gigabytes of CUDA.
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[test]"
