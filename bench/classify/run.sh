#!/usr/bin/env bash
# Classifier vs naive linear vs DPDK rte_acl on the ClassBench sets, in one run.
# Usage: bench/classify/run.sh [BUILD_DIR] [SET_REGEX]
#   BUILD_DIR defaults to build-bench (configured RelWithDebInfo if absent);
#   FLOWPATH_CLASSBENCH_DIR defaults to <repo>/../shared/data/classbench.
# Prints a table: ns per lookup (flowpath single / batch32, linear, rte_acl
# best burst-64 and burst-1), updates/s, build ms, memory, wc bits, ratios.
# Times are CPU time (the machines are shared).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-bench}
filter=${2:-.}
export FLOWPATH_CLASSBENCH_DIR=${FLOWPATH_CLASSBENCH_DIR:-$root/../shared/data/classbench}
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target classify_classifier_bench >/dev/null
cmake --build "$build" -j2 --target peers_rte_acl >/dev/null 2>&1 || true
json=$(mktemp)
peer=$(mktemp)
trap 'rm -f "$json" "$peer"' EXIT
"$build/bench/classify_classifier_bench" --benchmark_filter="/($filter)" \
  --benchmark_format=json >"$json" 2>/dev/null
: >"$peer"
if [[ -x "$build/bench/peers_rte_acl" ]]; then
  for f in "$FLOWPATH_CLASSBENCH_DIR"/*_mix100k.trace.gz; do
    set=$(basename "$f" _mix100k.trace.gz)
    [[ "$set" =~ $filter ]] || continue
    "$build/bench/peers_rte_acl" "$FLOWPATH_CLASSBENCH_DIR/$set.gz" "$f" \
      "$FLOWPATH_CLASSBENCH_DIR/$set.mix100k.ans.gz" 2>/dev/null | sed "s/^/$set /" >>"$peer"
  done
fi
python3 - "$json" "$peer" <<'PY'
import json, sys, re
d = json.load(open(sys.argv[1]))
rows = {}
for b in d["benchmarks"]:
    parts = b["name"].split("/")
    kind, s = parts[:2]
    if kind == "classifier_update" and len(parts) > 2 and parts[2] == "0":
        kind = "classifier_update_notries"
    rows.setdefault(s, {})[kind] = b
peer = {}
for line in open(sys.argv[2]):
    f = line.split()
    s, meth, burst = f[0], f[2], f[3].split("=")[1]
    kv = dict(x.split("=") for x in f[4:] if "=" in x)
    p = peer.setdefault(s, {"b64": 1e18, "b1": 1e18, "build": kv["build_ms"], "mem": kv["memory_MB"], "ok": True})
    key = "b64" if burst == "64" else "b1"
    p[key] = min(p[key], float(kv["ns_per_lookup"]))
    p["ok"] &= "ANSWERS_DIFFER" not in line
order = ["acl1_1k", "fw1_1k", "ipc1_1k", "acl1_10k", "fw1_10k", "ipc1_10k", "acl1_100k"]
hdr = ("set", "rules", "tables", "fp ns", "fp b32 ns", "linear ns", "acl b64", "acl b1",
       "fp/acl b64", "lin/fp", "upd/s", "upd/s no tries", "fp build ms", "acl build ms", "fp MB", "acl MB", "wc bits")
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for s in sorted(rows, key=lambda x: order.index(x) if x in order else 99):
    r = rows[s]; p = peer.get(s, {})
    g = lambda k, c: r[k][c] if k in r and c in r[k] else float("nan")
    ns = lambda k: g(k, "ns_per_lookup") * 1e9  # the counter is seconds per lookup
    fp, fb, lin = ns("classifier_single"), ns("classifier_batch32"), ns("linear_single")
    a64, a1 = p.get("b64", float("nan")), p.get("b1", float("nan"))
    best = min(fp, fb)
    print("| %s | %d | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %.2fM | %.2fM | %.1f | %s | %.1f | %s | %.1f |" % (
        s, g("classifier_single", "rules"), g("classifier_single", "tables"), fp, fb,
        "-" if lin != lin else "%.0f" % lin,
        "-" if a64 > 1e17 else "%.0f" % a64, "-" if a1 > 1e17 else "%.0f" % a1,
        "-" if a64 > 1e17 else "%.2f" % (best / a64), "-" if lin != lin else "%.1f" % (lin / best),
        g("classifier_update", "updates_per_s") / 1e6,
        g("classifier_update_notries", "updates_per_s") / 1e6, g("classifier_single", "build_ms"),
        p.get("build", "-"), g("classifier_single", "memory_MB"), p.get("mem", "-"),
        g("classifier_megaflow", "wc_bits")))
PY
