#!/usr/bin/env bash
# Source files for `codecomp eval --heldout DIR --languages L` beside HumanEval: Python, JavaScript
# and TypeScript packages from the registries (PyPI, npm), pinned. Python and JavaScript are the
# held-out packages of codecomp-tiny's corpus (models/corpus/); TypeScript is zod's src/ without
# its tests. Usage: benchmarks/heldout-sources.sh OUT_DIR  → OUT_DIR/{py,js,ts}
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/py" "$out/js" "$out/ts"

"$py" -m pip download -q --no-deps -d "$work/whl" \
  marshmallow==3.21.3 parsel==1.12.1 retrying==1.4.2 rich==13.7.1 diskcache==5.6.3 invoke==3.0.3
for wheel in "$work"/whl/*.whl; do "$py" -m zipfile -e "$wheel" "$out/py/"; done
rm -rf "$out"/py/*.dist-info

npm_get() {  # name version → unpacked under $work/name
  mkdir -p "$work/$1"
  curl -sfL "https://registry.npmjs.org/$1/-/$1-$2.tgz" | tar xz -C "$work/$1"
}
npm_get bull 4.16.5 && cp -r "$work/bull/package/lib" "$out/js/bull"
npm_get supertest 7.3.2 && cp -r "$work/supertest/package/lib" "$out/js/supertest"
npm_get zod 4.6.7
(cd "$work/zod/package/src" && find . -name '*.ts' ! -name '*.d.ts' ! -path '*test*' ! -path '*bench*' \
  -exec sh -c 'mkdir -p "$0/$(dirname "$1")" && cp "$1" "$0/$1"' "$out/ts/zod" {} \;)
echo "py: $(find "$out/py" -name '*.py' | wc -l) files, js: $(find "$out/js" -name '*.js' | wc -l), ts: $(find "$out/ts" -name '*.ts' | wc -l)"
