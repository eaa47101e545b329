#!/bin/bash
# Builds fuzz_authz in its own clang build directory (configuring it on first
# use) and fuzzes for SECONDS seconds, starting from the checked-in seed
# corpus. New inputs go to $FUZZ_BUILD_DIR/corpus, never to the seeds;
# crashing inputs to $FUZZ_BUILD_DIR/artifacts/. Exits non-zero on a crash.
#
# usage: tests/fuzz/run_fuzz.sh [SECONDS]      (default 20)
# env:   FUZZ_BUILD_DIR (default <repo>/build-fuzz), FUZZ_JOBS (default 2)
set -euo pipefail

seconds=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "SKIPPED: clang++ is not installed (make deps installs clang)"
  exit 0
fi
# Debian ships libFuzzer's runtime apart from the compiler.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' \
  >"$probe/probe.cc"
if ! clang++ -fsanitize=fuzzer "$probe/probe.cc" -o "$probe/probe" 2>/dev/null; then
  echo "SKIPPED: clang++ cannot link libFuzzer (install libclang-rt-14-dev)"
  exit 0
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DHELIX_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target fuzz_authz

mkdir -p "$build/corpus" "$build/artifacts"
exec "$build/fuzz_authz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$build/artifacts/" \
  "$build/corpus" "$here/corpus"
