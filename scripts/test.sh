#!/usr/bin/env bash
# Set up and run every check: lint, format, and the test suite (real server over stdio).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
ruff check .
ruff format --check .
python -m pytest -q -p no:cacheprovider --durations=10
