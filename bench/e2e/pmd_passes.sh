#!/usr/bin/env bash
# Instructions per PMD pass, before and after a change (callgrind, so the
# machine's load does not matter): builds bench/e2e/pmd_passes.cpp against
# BASE's headers (a commit) and the work tree's, runs each empty and busy
# with 0 and 100,000 passes, prints (Ir(100,000) - Ir(0)) / 100,000.
# -march=x86-64-v3: valgrind has no AVX-512.  Needs valgrind and a
# configured build dir (BUILD, default build/) for the generated headers.
#
# Usage: bench/e2e/pmd_passes.sh BASE [BUILD]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
base=${1:?usage: pmd_passes.sh BASE-COMMIT [BUILD]} build=${2:-$root/build}
command -v valgrind >/dev/null || { echo "pmd_passes: needs valgrind" >&2; exit 77; }
tmp=$(mktemp -d /tmp/fp-passes-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
git -C "$root" archive "$base" include | tar -x -C "$tmp"
libs=(-lpcap -lhwy -lxdp -lbpf -lpthread)
flags=(-O2 -g -DNDEBUG -DHWY_SHARED_DEFINE -march=x86-64-v3 -std=gnu++20 -I"$build/generated/include")
c++ "${flags[@]}" -I"$tmp/include" "$root/bench/e2e/pmd_passes.cpp" -o "$tmp/base" "${libs[@]}" &
c++ "${flags[@]}" -I"$root/include" "$root/bench/e2e/pmd_passes.cpp" -o "$tmp/new" "${libs[@]}"
wait
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}'; }
printf "%-6s %12s %12s\n" pass "base Ir" "new Ir"
for m in empty busy; do
  b0=$(ir "$tmp/base" $m 0) b1=$(ir "$tmp/base" $m 100000)
  n0=$(ir "$tmp/new" $m 0) n1=$(ir "$tmp/new" $m 100000)
  awk -v m=$m -v b0="$b0" -v b1="$b1" -v n0="$n0" -v n1="$n1" \
    'BEGIN {printf "%-6s %12.0f %12.0f\n", m, (b1 - b0) / 1e5, (n1 - n0) / 1e5}'
done
