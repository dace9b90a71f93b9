#!/usr/bin/env bash
# Set up, pull the default model for this machine (Qwen2.5-Coder-0.5B on a CPU: ~490 MB, verified
# and converted once, then cached), and print completions for a Python and a TypeScript example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
codecomp models pull
codecomp complete examples/walk.py --line 16
codecomp complete examples/average.ts --line 7
