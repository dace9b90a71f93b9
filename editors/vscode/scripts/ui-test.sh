#!/usr/bin/env bash
# UI test (manual, not in CI): the packaged extension in a real VS Code UI — code-server 4.100.3
# (VS Code 1.100.3, the last release that runs on Node 20) driven by headless Chromium through
# playwright-core. Opens a Python file, types, waits for ghost text, accepts it with Tab, and writes
# screenshots + a JSON report to editors/vscode/test-results/.
#
#   bash editors/vscode/scripts/ui-test.sh            # from anywhere; needs the repo's .venv
#   CODECOMP_TEST_MODEL=/path/to/model bash ...       # default: the test suite's fixture model
#   UI_KEEP=1 bash ...                                # leave code-server running afterwards
#
# First run installs (as root: apt-get chromium ripgrep libkrb5-dev) and, under
# editors/vscode/.ui-test/ (git-ignored), code-server with its native modules built locally (its
# postinstall would download ripgrep from GitHub, so we copy /usr/bin/rg instead), and playwright-core.
# That takes a few minutes; later runs take ~30 s. Nothing is installed outside .ui-test/ but the apt
# packages; code-server gets its own --config, --user-data-dir and --extensions-dir there.
set -euo pipefail

EXT="$(cd "$(dirname "$0")/.." && pwd)"
REPO="$(cd "$EXT/../.." && pwd)"
WORK="$EXT/.ui-test"
OUT="$EXT/test-results"
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1

log() { printf '[ui-test] %s\n' "$*"; }

# --- system tools ------------------------------------------------------------------------------
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
[ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || need+=(libkrb5-dev)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  else
    echo "ui-test: install these first: sudo apt-get install ${need[*]}" >&2
    exit 2
  fi
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" != 20 ]; then
  echo "ui-test: code-server $CODE_SERVER_VERSION needs Node 20, found $(node --version)" >&2
  exit 2
fi

# --- the extension -------------------------------------------------------------------------------
cd "$EXT"
[ -d node_modules ] || npm ci --prefer-offline --no-audit --no-fund
npm run package >/dev/null
VSIX="$(ls -t "$EXT"/codecomp-*.vsix | head -1)"
log "packaged $VSIX"

# --- code-server + playwright-core in .ui-test/ --------------------------------------------------
mkdir -p "$WORK"
if [ ! -f "$WORK/.installed-$CODE_SERVER_VERSION" ]; then
  log "installing code-server $CODE_SERVER_VERSION (first run: a few minutes)"
  cd "$WORK"
  [ -f package.json ] || echo '{"name": "codecomp-ui-test", "private": true}' >package.json
  npm install --no-audit --no-fund --ignore-scripts \
    "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
  npm rebuild argon2
  cd "$WORK/node_modules/code-server/lib/vscode"
  npm install --omit=dev --ignore-scripts --no-audit --no-fund
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  npm_config_yes=true npm rebuild
  # What code-server's postinstall.sh would do after its npm install.
  ln -sfn node_modules node_modules.asar
  (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
  (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
  cd extensions
  npm_config_unsafe_perm=true npm install --omit=dev --no-audit --no-fund
  touch "$WORK/.installed-$CODE_SERVER_VERSION"
fi
CODE_SERVER=("node" "$WORK/node_modules/code-server/out/node/entry.js")

# --- workspace, settings, extension -------------------------------------------------------------
PYTHON="$REPO/.venv/bin/python"
[ -x "$PYTHON" ] || { echo "ui-test: $REPO/.venv is missing: run scripts/setup.sh" >&2; exit 2; }
MODEL="${CODECOMP_TEST_MODEL:-}"
if [ -z "$MODEL" ]; then
  MODEL="$(cd "$REPO" && "$PYTHON" -c 'import sys; sys.path.insert(0, "."); from tests.conftest import _fixture_dir; print(_fixture_dir())')"
  if [ ! -f "$MODEL/config.json" ]; then
    log "building the fixture model"
    (cd "$REPO" && "$PYTHON" -m pytest -q -p no:cacheprovider tests/e2e -k initialize >/dev/null)
  fi
fi
log "model $MODEL"

rm -rf "$WORK/workspace" "$WORK/user-data" "$WORK/extensions" "$OUT"
mkdir -p "$WORK/workspace" "$WORK/user-data/User" "$OUT"
cat >"$WORK/workspace/sample.py" <<'PY'
import os


def count_files(root):
    """Count the files under root."""
    total = 0
    for name in os.listdir(root):
        path = os.path.join(root, name)
        
PY
cat >"$WORK/user-data/User/settings.json" <<JSON
{
  "codecomp.model": "$MODEL",
  "codecomp.serverCommand": "$REPO/.venv/bin/codecomp-lsp",
  "codecomp.device": "cpu",
  "codecomp.maxNewTokens": 24,
  "codecomp.completionMenu": false,
  "editor.quickSuggestions": {"other": false, "comments": false, "strings": false},
  "editor.inlineSuggest.enabled": true,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "chat.commandCenter.enabled": false,
  "git.openRepositoryInParentFolders": "never",
  "git.enabled": false
}
JSON
printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$WORK/config.yaml"
CS_ARGS=(--config "$WORK/config.yaml" --user-data-dir "$WORK/user-data" --extensions-dir "$WORK/extensions")
"${CODE_SERVER[@]}" "${CS_ARGS[@]}" --install-extension "$VSIX" >/dev/null

# --- run -----------------------------------------------------------------------------------------
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log "starting code-server on 127.0.0.1:$PORT"
"${CODE_SERVER[@]}" "${CS_ARGS[@]}" --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust "$WORK/workspace" >"$OUT/code-server.log" 2>&1 &
CS_PID=$!
cleanup() {
  if [ -z "${UI_KEEP:-}" ]; then
    kill "$CS_PID" 2>/dev/null || true
    wait "$CS_PID" 2>/dev/null || true
  else
    log "code-server left running: http://127.0.0.1:$PORT/ (pid $CS_PID)"
  fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

status=0
UI_URL="http://127.0.0.1:$PORT/?folder=$WORK/workspace" UI_FILE=sample.py UI_OUT="$OUT" \
  NODE_PATH="$WORK/node_modules" node "$EXT/scripts/ui-test.js" || status=$?
# The extension's own log, from code-server's extension host.
find "$WORK/user-data/logs" -path '*codecomp*' -name '*.log' -exec cp {} "$OUT/" \; 2>/dev/null || true
log "results in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
exit "$status"
