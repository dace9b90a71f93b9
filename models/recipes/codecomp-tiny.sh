#!/usr/bin/env bash
# The codecomp-tiny recipe, end to end: corpus → tokenizer + training → export → evaluation.
# Every step resumes or reuses its output, so running this again after an interruption
# continues where it stopped. Needs network only for step 1 (PyPI and npm).
set -euo pipefail
cd "$(dirname "$0")/../.."
CODECOMP=${CODECOMP:-.venv/bin/codecomp}
TOKENS=${TOKENS:-15000000}

# 1. Corpus: permissively licensed PyPI and npm sources + CPython's standard library.
[ -f data/corpus/manifest.json ] || "$CODECOMP" data --out data/corpus

# 2. Tokenizer (8,192 byte-level BPE) and training (Llama 6 x 256, 1,024 context, 50% FIM),
#    checkpointed every 50 steps; then the bf16 export into the package.
"$CODECOMP" train --corpus data/corpus --run-dir data/run --tokens "$TOKENS" \
  --export codecomp_lsp/models/codecomp-tiny

# 3. Evaluation against the n-gram baseline (and, when present, Qwen2.5-Coder-0.5B).
MODELS=codecomp-tiny,ngram
"$CODECOMP" models path qwen2.5-coder-0.5b >/dev/null 2>&1 && MODELS="$MODELS,qwen2.5-coder-0.5b"
"$CODECOMP" eval --models "$MODELS" --out data/eval.json
