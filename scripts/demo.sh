#!/usr/bin/env bash
# Set up and show a completion from the shipped default model (codecomp-tiny), offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
codecomp complete examples/walk.py --line 14
