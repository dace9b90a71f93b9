#!/usr/bin/env bash
# Build llama.cpp's `llama-server` (the peer for benchmarks/replay.py --peer-url) from the source that
# the `llama-cpp-python` sdist on PyPI vendors under vendor/llama.cpp. Everything lands in a scratch
# directory under benchmarks/work/ (git-ignored); nothing here is committed or installed.
#
#   scripts/build-llama-server.sh [VERSION]     # prints the path of the llama-server binary
#
# Environment: JOBS (default 2), WORK_DIR (default benchmarks/work/llama.cpp),
# PYPI_JSON (default https://pypi.org/pypi/llama-cpp-python/json, or .../<VERSION>/json),
# LLAMA_AMX=1 to keep ggml's AMX kernels. They are compiled out by default: with -march=native on a
# Sapphire Rapids CPU, llama-server 0.3.36's vendored ggml segfaults in ggml_backend_amx_mul_mat on
# the first Q4_K_M matmul (ggml-org/llama.cpp#20824); `--no-repack` avoids it at run time but also
# turns off the AVX-512 weight repacking that the peer's prompt processing gains from.
# The build is CPU-heavy; on a shared machine run it as `nice -n 19 scripts/build-llama-server.sh`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${1:-}"
jobs="${JOBS:-2}"
work="${WORK_DIR:-$root/benchmarks/work/llama.cpp}"
if [ -n "$version" ]; then
  json_url="${PYPI_JSON:-https://pypi.org/pypi/llama-cpp-python/$version/json}"
else
  json_url="${PYPI_JSON:-https://pypi.org/pypi/llama-cpp-python/json}"
fi
mkdir -p "$work"
start=$(date +%s)

# 1. Find the sdist. Mirrors may answer with relative URLs ("../../packages/..."): join them with
#    the JSON URL.
read -r sdist_url sdist_sha < <(
  python3 - "$json_url" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1]
with urllib.request.urlopen(url, timeout=120) as resp:
    meta = json.load(resp)
sdists = [u for u in meta["urls"] if u.get("packagetype") == "sdist"]
if not sdists:
    sys.exit(f"no sdist for llama-cpp-python {meta['info']['version']} at {url}")
u = sdists[0]
print(urllib.parse.urljoin(url, u["url"]), u.get("digests", {}).get("sha256", ""))
EOF
)
tarball="$work/$(basename "${sdist_url%%\#*}")"
if [ ! -f "$tarball" ]; then
  echo "downloading $sdist_url" >&2
  curl -fsSL --retry 3 -o "$tarball.partial" "$sdist_url"
  mv "$tarball.partial" "$tarball"
fi
if [ -n "$sdist_sha" ]; then
  echo "$sdist_sha  $tarball" | sha256sum -c --quiet - >&2
fi

# 2. Extract (once per version).
src_root="$work/$(basename "$tarball" .tar.gz)"
if [ ! -d "$src_root/vendor/llama.cpp" ]; then
  echo "extracting $tarball" >&2
  rm -rf "$src_root"
  tar -xzf "$tarball" -C "$work"
fi
src="$src_root/vendor/llama.cpp"
[ -f "$src/CMakeLists.txt" ] || { echo "no llama.cpp source at $src" >&2; exit 1; }

# 3. Configure and build only the server target.
build="$src_root/build"
flags=()
if [ "${LLAMA_AMX:-0}" = "1" ]; then
  build="$src_root/build-amx"
else
  flags=(-DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
         -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16")
fi
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [ -f "$build/CMakeCache.txt" ] && ! grep -qx "CMAKE_CACHEFILE_DIR:INTERNAL=$build" "$build/CMakeCache.txt"; then
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"  # the directory was moved: configure again
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_CURL=OFF \
    -DGGML_NATIVE=ON \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=ON \
    -DBUILD_SHARED_LIBS=OFF "${flags[@]}" >&2
fi
cmake --build "$build" --config Release --target llama-server -j "$jobs" >&2

bin="$build/bin/llama-server"
[ -x "$bin" ] || bin="$(find "$build" -type f -name llama-server -perm -u+x | head -n 1)"
[ -x "$bin" ] || { echo "llama-server was not built" >&2; exit 1; }
echo "built in $(( $(date +%s) - start )) s" >&2
echo "$bin"
