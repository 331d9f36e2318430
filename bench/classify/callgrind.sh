#!/usr/bin/env bash
# Instructions and cache misses per lookup of ClassifierV2 on one ClassBench
# set (mix100k trace, after compile_now()), from callgrind with only
# ClassifierV2::lookup (single, through lookup_loop::one) or ::lookup_batch
# (batch) collected.
# Usage: bench/classify/callgrind.sh BUILD_DIR SET single|batch
#   BUILD_DIR: a build with the classify_lookup_loop target; valgrind has no
#   AVX-512, so configure it with
#   -DFLOWPATH_ARCH_FLAGS="-march=x86-64-v3;-maes;-mpclmul" (without AES and
#   CLMUL, Highway's static target is SSSE3, not AVX2, and the trees' leaf
#   compare, simd::range_hits, runs its scalar twin).
# Prints "SET MODE Ir N D1 N LL N" (per lookup; D1/LL: read + write misses
# of callgrind's simulated caches: 48 KB D1, 1 MB LL, as the rounds in
# docs/classifier.md; its own guess of the LL here was 512 MB).
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 BUILD_DIR SET single|batch" >&2
  exit 2
fi
build=$1 set=$2 mode=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
export FLOWPATH_CLASSBENCH_DIR=${FLOWPATH_CLASSBENCH_DIR:-$root/../shared/data/classbench}
trace=$FLOWPATH_CLASSBENCH_DIR/${set}_mix100k.trace.gz
if [[ ! -f $trace ]]; then  # a worktree sits one level deeper
  echo "callgrind.sh: no trace $trace; set FLOWPATH_CLASSBENCH_DIR" >&2
  exit 1
fi
case $mode in
  single) pat='lookup_loop::one(*' ;;  # ClassifierV2::lookup, out of line
  batch) pat='flowpath::ClassifierV2<int>::lookup_batch*' ;;
  *) echo "callgrind.sh: mode must be single or batch, not '$mode'" >&2; exit 2 ;;
esac
cmake --build "$build" -j2 --target classify_lookup_loop >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
log=$(valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$pat" \
  --cache-sim=yes --D1=49152,12,64 --LL=1048576,16,64 "$build/bench/classify_lookup_loop" "$set" "$mode" 1 2>&1)
n=$(zcat "$trace" | grep -c .)
grep -q 'wrong 0' <<<"$log" || { echo "callgrind.sh: wrong answers on $set:" >&2; echo "$log" >&2; exit 1; }
# Collected: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
grep 'Collected' <<<"$log" | awk -v s="$set" -v m="$mode" -v n="$n" \
  '{printf "%s %s Ir %.0f D1 %.1f LL %.1f\n", s, m, $4/n, ($8+$9)/n, ($11+$12)/n}'
