#!/usr/bin/env bash
# Set up and run every check: lint, format, the test suite (real server over stdio, headless
# Neovim and Emacs, the VS Code extension against the real server, completions through a real vLLM
# and llama-server) and the extension build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-editor-deps.sh
# vLLM (CPU build) and llama-server for tests/remote, cached outside the clone (built once per CPU).
bash scripts/setup-engines.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
ruff check .
ruff format --check .
python -m pytest -q -p no:cacheprovider --durations=10
if command -v npm >/dev/null; then
  (cd editors/vscode && { [ -d node_modules ] || npm ci --prefer-offline --no-audit --no-fund; } && npm run package)
fi
