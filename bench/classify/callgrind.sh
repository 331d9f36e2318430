#!/usr/bin/env bash
# Instructions and cache misses per lookup of ClassifierV2 on one ClassBench
# set (mix100k trace, after compile_now()), from callgrind with only
# ClassifierV2::lookup (single) or ::lookup_batch (batch) collected.
# Usage: bench/classify/callgrind.sh BUILD_DIR SET single|batch
#   BUILD_DIR: a build with the classify_lookup_loop target; valgrind has no
#   AVX-512, so configure it with -DFLOWPATH_ARCH_FLAGS=-march=x86-64-v3.
# Prints "SET MODE Ir N D1 N LL N" (per lookup; D1/LL: read + write misses
# of callgrind's simulated caches).
set -euo pipefail
build=$1 set=$2 mode=$3
case $mode in
  single) pat='flowpath::ClassifierV2<int>::lookup(*' ;;
  batch) pat='flowpath::ClassifierV2<int>::lookup_batch*' ;;
  *) echo "callgrind.sh: mode must be single or batch, not '$mode'" >&2; exit 2 ;;
esac
cmake --build "$build" -j2 --target classify_lookup_loop >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
log=$(valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$pat" \
  --cache-sim=yes "$build/bench/classify_lookup_loop" "$set" "$mode" 1 2>&1)
n=$(zcat "${FLOWPATH_CLASSBENCH_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/data/classbench}/${set}_mix100k.trace.gz" | grep -c .)
grep -q 'wrong 0' <<<"$log" || { echo "callgrind.sh: wrong answers on $set:" >&2; echo "$log" >&2; exit 1; }
# Collected: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
grep 'Collected' <<<"$log" | awk -v s="$set" -v m="$mode" -v n="$n" \
  '{printf "%s %s Ir %.0f D1 %.1f LL %.1f\n", s, m, $4/n, ($8+$9)/n, ($11+$12)/n}'
