#!/usr/bin/env bash
# Classifier (v1), ClassifierV2 and DPDK rte_acl on the ClassBench sets, in one run.
# Usage: bench/classify/run.sh [BUILD_DIR] [SET_REGEX] [KIND_REGEX]
#   BUILD_DIR defaults to build-bench (configured RelWithDebInfo if absent);
#   FLOWPATH_CLASSBENCH_DIR defaults to <repo>/../shared/data/classbench.
# Prints two tables: ns per lookup (v1 and v2 single / batch32, rte_acl best
# burst-64 and burst-1, ratios), and updates/s, build ms, memory, wc bits.
# KIND_REGEX picks benchmarks (default all), e.g. 'classifier_single|v2_single|v2_batch32|v2_cost'
# for the lookup table and the forest's cost counters only.
# Times are CPU time (the machines are shared).
# FLOWPATH_CLS_ROWS=update runs only the update rows (v2 and v1, each with a
# concurrent reader) and prints one table of them; rte_acl is skipped.
# Open vSwitch's own classifier runs in the same run as a peer
# (bench/peers/ovs_classifier_peer.c: lookups, memory, updates with a
# reader), built once from Debian's openvswitch-source into
# BUILD_DIR/peer-ovs (a few minutes the first time);
# FLOWPATH_CLS_OVS=0 leaves it out.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-bench}
filter=${2:-.}
kinds=${3:-'(classifier|v2)_[a-z0-9]+'}
export FLOWPATH_CLASSBENCH_DIR=${FLOWPATH_CLASSBENCH_DIR:-$root/../shared/data/classbench}
if [[ ! -d "$FLOWPATH_CLASSBENCH_DIR" ]]; then  # a worktree sits one level deeper
  echo "run.sh: no ClassBench data in $FLOWPATH_CLASSBENCH_DIR; set FLOWPATH_CLASSBENCH_DIR" >&2
  exit 1
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
rows=${FLOWPATH_CLS_ROWS:-all}
cmake --build "$build" -j2 --target classify_classifier_bench >/dev/null
[[ $rows == update ]] || cmake --build "$build" -j2 --target peers_rte_acl >/dev/null 2>&1 || true
json=$(mktemp)
peer=$(mktemp)
ovspeer=$(mktemp)
trap 'rm -f "$json" "$peer" "$ovspeer"' EXIT
ovsbin=""
if [[ ${FLOWPATH_CLS_OVS:-1} != 0 ]]; then
  [[ -d "$build/peer-ovs" ]] ||
    echo "run.sh: building Open vSwitch's classifier peer (once, a few minutes; FLOWPATH_CLS_OVS=0 skips it)" >&2
  ovsbin=$("$root/bench/peers/build_ovs_classifier.sh" "$build/peer-ovs") ||
    { echo "run.sh: the Open vSwitch peer did not build (see above)" >&2; exit 1; }
fi
[[ $rows == update ]] && kinds='(v2_update|classifier_updreader)'
"$build/bench/classify_classifier_bench" --benchmark_filter="^($kinds)/($filter)" \
  --benchmark_format=json >"$json" 2>/dev/null
: >"$peer"
if [[ $rows != update && -x "$build/bench/peers_rte_acl" ]]; then
  for f in "$FLOWPATH_CLASSBENCH_DIR"/*_mix100k.trace.gz; do
    set=$(basename "$f" _mix100k.trace.gz)
    [[ "$set" =~ $filter ]] || continue
    "$build/bench/peers_rte_acl" "$FLOWPATH_CLASSBENCH_DIR/$set.gz" "$f" \
      "$FLOWPATH_CLASSBENCH_DIR/$set.mix100k.ans.gz" 2>/dev/null | sed "s/^/$set /" >>"$peer"
  done
fi
if [[ -n $ovsbin ]]; then
  for f in "$FLOWPATH_CLASSBENCH_DIR"/*_mix100k.trace.gz; do
    set=$(basename "$f" _mix100k.trace.gz)
    [[ "$set" =~ $filter ]] || continue
    only=(); [[ $rows == update ]] && only=(--updates-only)
    "$ovsbin" "${only[@]}" "$FLOWPATH_CLASSBENCH_DIR/$set.gz" "$f" "$FLOWPATH_CLASSBENCH_DIR/$set.mix100k.ans.gz" 1 |
      sed "s/^/$set /" >>"$ovspeer"
  done
fi
python3 - "$json" "$peer" "$rows" "$ovspeer" <<'PY'
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
# Open vSwitch's classifier, measured in this run (peers_ovs_classifier):
# ovs[set] = {"ns": lookup without wildcards, "ns_wc": with, "mem", "upd", ...}
nan = float("nan")
ovs = {}
for line in open(sys.argv[4]):
    f = line.split()
    kv = dict(x.split("=") for x in f[3:] if "=" in x)
    o = ovs.setdefault(f[0], {})
    if f[2] == "lookup":
        o["ns_wc" if kv["wc"] == "1" else "ns"] = float(kv["ns_per_lookup"])
        o["mem"], o["entries"] = float(kv["memory_MB"]), int(kv["entries"])
        o["ok"] = o.get("ok", True) and "ANSWERS_DIFFER" not in kv
    elif f[2] == "update":
        o["upd"], o["rlk"] = float(kv["updates_per_s"]), float(kv["reader_lookups_per_s"])
f1 = lambda x: "-" if x != x or x > 1e17 else "%.0f" % x
f2 = lambda x: "-" if x != x or x > 1e17 else "%.2f" % x
def table(hdr, rowfn):
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for s in sorted(rows, key=lambda x: order.index(x) if x in order else 99):
        print("| " + " | ".join(rowfn(s, rows[s], peer.get(s, {}))) + " |")
    print()
def g(r, k, c):
    return r[k][c] if k in r and c in r[k] else nan
def ns(r, k):
    return g(r, k, "ns_per_lookup") * 1e9  # the counter is seconds per lookup
def mrate(r, k, c):
    return "%.2fM" % (g(r, k, c) / 1e6)
def updates(s, r, p):
    return [s, mrate(r, "classifier_updreader", "updates_per_s"), mrate(r, "classifier_updreader", "lookups_per_s"),
            "%s (%s)" % (mrate(r, "v2_update", "updates_per_s"), mrate(r, "v2_update", "writer_updates_per_s")),
            mrate(r, "v2_update", "lookups_per_s"), "%d" % g(r, "v2_update", "compiles"),
            "%.0f%%" % (100 * g(r, "v2_update", "compile_share")), "%d" % g(r, "v2_update", "delta_end"),
            f2(g(r, "v2_update", "updates_per_s") / g(r, "classifier_updreader", "updates_per_s")),
            f2(g(r, "v2_update", "lookups_per_s") / g(r, "classifier_updreader", "lookups_per_s")),
            "%.2fM" % (ovs.get(s, {}).get("upd", nan) / 1e6),
            f2(g(r, "v2_update", "updates_per_s") / ovs.get(s, {}).get("upd", nan))]
if sys.argv[3] == "update":
    print("Updates/s with a concurrent reader (CPU time; v2: writer + every compile started in the\n"
          "window, writer alone in brackets), the reader's lookups per CPU second meanwhile:\n")
    table(("set", "v1 upd/s", "v1 reader lk/s", "v2 upd/s", "v2 reader lk/s", "v2 compiles",
           "compile share", "v2 delta at end", "v2/v1 upd", "v2/v1 reader", "OVS upd/s", "v2/OVS upd"),
          updates)
    sys.exit(0)
print("Lookups (ns, CPU time; acl = DPDK rte_acl best burst-64 / burst-1; OVS = Open vSwitch's classifier\n"
      "in this run, without / with megaflow wildcards; a * marks a peer whose answers differ):\n")
def lookups(s, r, p):
    v1, v1b, v2, v2b = ns(r, "classifier_single"), ns(r, "classifier_batch32"), ns(r, "v2_single"), ns(r, "v2_batch32")
    a64, a1 = p.get("b64", nan), p.get("b1", nan)
    o = ovs.get(s, {})
    bad = "" if o.get("ok", True) else "*"
    return [s, f1(g(r, "v2_single", "rules")), f1(v1), f1(v1b), f1(v2), f1(v2b), f1(a64), f1(a1),
            f1(o.get("ns", nan)) + bad, f1(o.get("ns_wc", nan)) + bad, f2(v2 / a64), f2(v2b / a64),
            "%.1f" % (o.get("ns", nan) / v2), f2(v1 / v2)]
table(("set", "rules", "v1", "v1 b32", "v2", "v2 b32", "acl b64", "acl b1", "OVS", "OVS wc", "v2/acl",
       "v2 b32/acl", "OVS/v2", "v1/v2"), lookups)
have = lambda k: any(k in r for r in rows.values())
if have("v2_update"):
  print("Updates/s (CPU time; v2: writer + compile thread, writer alone in brackets, a reader thread looking up\n"
        "meanwhile, its lookups per CPU second), build, memory, megaflow bits per lookup:\n")
def other(s, r, p):
    return [s, "%.2fM" % (g(r, "classifier_update", "updates_per_s") / 1e6),
            "%.2fM" % (g(r, "classifier_updreader", "updates_per_s") / 1e6),
            "%.2fM" % (g(r, "classifier_update_notries", "updates_per_s") / 1e6),
            "%.2fM (%.2fM)" % (g(r, "v2_update", "updates_per_s") / 1e6, g(r, "v2_update", "writer_updates_per_s") / 1e6),
            "%.2fM" % (g(r, "v2_update", "lookups_per_s") / 1e6), "%d" % g(r, "v2_update", "compiles"),
            "%.2fM" % (ovs.get(s, {}).get("upd", nan) / 1e6),
            "%.1f" % g(r, "classifier_single", "build_ms"), "%.1f" % g(r, "v2_single", "build_ms"),
            str(p.get("build", "-")), "%.1f" % g(r, "classifier_single", "memory_MB"),
            "%.1f" % g(r, "v2_single", "memory_MB"), str(p.get("mem", "-")),
            "%.1f" % ovs.get(s, {}).get("mem", nan), "%d" % ovs.get(s, {}).get("entries", 0),
            f2(g(r, "v2_single", "memory_MB") / ovs.get(s, {}).get("mem", nan)),
            "%.1f" % g(r, "classifier_megaflow", "wc_bits"), "%.1f" % g(r, "v2_megaflow", "wc_bits")]
if have("v2_update"):
  table(("set", "v1 upd/s", "v1 upd/s + reader", "v1 upd/s no tries", "v2 upd/s", "v2 reader lk/s", "v2 compiles",
         "OVS upd/s + reader", "v1 build ms",
         "v2 build ms", "acl build ms", "v1 MB", "v2 MB", "acl MB", "OVS MB", "OVS entries", "v2/OVS MB",
         "v1 wc bits", "v2 wc bits"), other)
if have("v2_cost"):
  print("Forest lookup cost per key over the trace (counted, not timed): trees descended, wide nodes\n"
        "stepped through, leaf entries compared, leaf entries per rule, the answer's position among the\n"
        "rules by priority (0 = highest, 1 = lowest or no match):\n")
def cost(s, r, p):
    return [s, "%.2f" % g(r, "v2_cost", "trees"), "%.1f" % g(r, "v2_cost", "nodes"),
            "%.1f" % g(r, "v2_cost", "entries"), "%.2f" % g(r, "v2_cost", "entries_per_rule"),
            "%.2f" % g(r, "v2_cost", "answer_rank")]
if have("v2_cost"):
  table(("set", "trees", "wide nodes", "entries compared", "entries/rule", "answer position"), cost)
PY
