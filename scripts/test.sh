#!/usr/bin/env bash
# Runs every test: installs missing packages, then
#   1. a normal build + ctest,
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build + ctest,
#   3. every libFuzzer target for FUZZ_SECONDS (default 60) each, with clang.
# Usage: scripts/test.sh            (from anywhere; builds under build-test/)
# Env:   JOBS (default nproc), FUZZ_SECONDS, SKIP_ASAN=1, SKIP_FUZZ=1
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/deps.sh"
jobs=${JOBS:-$(nproc)}
out=${FLOWPATH_TEST_BUILD:-$root/build-test}
if [[ -z "${FLOWPATH_CLASSBENCH_DIR:-}" && -d "$root/../shared/data/classbench" ]]; then
  export FLOWPATH_CLASSBENCH_DIR="$root/../shared/data/classbench"
fi

stage() { echo "=== flowpath: $* ($(date -u +%H:%M:%S), ${SECONDS}s in) ===" >&2; }

# Line tables only (-g1): enough for sanitizer and gdb backtraces, and a
# third less compile time than full debug information.  Tests and examples
# of one area are compiled as one translation unit (tests/CMakeLists.txt).
run_suite() {  # name, optimisation, extra cmake args...
  local name=$1 opt=$2; shift 2
  stage "$name build"
  cmake -S "$root" -B "$out/$name" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$opt -g1 -DNDEBUG" \
        -DFLOWPATH_BUILD_BENCH=OFF "$@" >/dev/null
  cmake --build "$out/$name" -j "$jobs"
  stage "$name tests"
  (cd "$out/$name" && ctest --output-on-failure -j "$jobs")
}

run_suite normal -O2
if [[ "${SKIP_ASAN:-0}" != 1 ]]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # -O1: the usual sanitizer level, half the compile time of -O2 here.
  run_suite asan -O1 -DFLOWPATH_SANITIZE=ON
fi
if [[ "${SKIP_FUZZ:-0}" != 1 ]] && command -v clang++ >/dev/null; then
  stage fuzzing
  fz="$out/fuzz"
  CXX=clang++ CC=clang cmake -S "$root" -B "$fz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFLOWPATH_BUILD_FUZZ=ON -DFLOWPATH_BUILD_TESTS=ON -DFLOWPATH_BUILD_BENCH=OFF \
      -DFLOWPATH_BUILD_EXAMPLES=OFF >/dev/null
  targets=$(cd "$root/tests/fuzz" 2>/dev/null && ls *_fuzz.cpp 2>/dev/null | sed 's/\.cpp$//' || true)
  for t in $targets; do
    cmake --build "$fz" -j "$jobs" --target "$t"
    mkdir -p "$fz/corpus/$t"
    seeds=("$fz/corpus/$t")
    [[ -d "$root/tests/fuzz/corpus/$t" ]] && seeds+=("$root/tests/fuzz/corpus/$t")
    "$fz/tests/$t" -max_total_time="${FUZZ_SECONDS:-60}" -print_final_stats=1 "${seeds[@]}"
    echo "fuzz $t: no crash in ${FUZZ_SECONDS:-60}s" >&2
  done
fi
stage "done"
echo "flowpath: all test suites passed" >&2
