#!/usr/bin/env bash
# The XDP fast path benchmark (issue 14): gen --veth--> [in1 switch out1]
# --veth--> sink, 64-byte UDP from a live-frames generator (xdp_bench gen:
# BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES) on CPU 0, the far end
# checking, counting and dropping in XDP (xdp_bench sink: a frame counts
# only when it is what the rules make of it, and every flow must arrive
# correct at least once: the first packet of each flow).  The compute node
# in two shapes (--topos):
#   patch  br-int (in1) and br-eth2 (out1) joined by patch ports
#   veth   the same bridges joined by the veth pair int-br-eth2 <->
#          phy-br-eth2, both AF_XDP ports (the seed's shape)
# Rules: br-int in_port=in1 -> mod_vlan_vid:1, to br-eth2; br-eth2
# dl_vlan=1 from br-int -> mod_vlan_vid:1000,output:out1.  Contestants:
#   bare       the floor: XDP VLAN push + devmap redirect, no parse, no
#              lookup (veth shape: push on in1, plain redirect on phy-br-eth2)
#   fp-slow    flowpath switch --no-xdp-fast (every packet over AF_XDP)
#   fp-fast    flowpath switch --xdp-fast, PMD on CPU 0 (misses only)
#   fp-fast1   flowpath switch --xdp-fast, PMD busy-polling on CPU 1 too
#   fp-sleep   flowpath switch --xdp-fast --pmd-max-sleep 1000, PMD on
#              CPU 1 but sleeping when idle (misses wake it: poll() on the
#              sockets), so the kernel's forwarding keeps the core
#   ovs        Open vSwitch 3.1, netdev datapath, afxdp ports (private
#              instance), PMD on CPU 1
# The forwarding core is CPU 1: in1's NAPI is threaded and its thread
# pinned there (XDP on a veth runs in the receiving NAPI; the veth pair's
# second hop runs in the NAPI the first hop schedules, on the same CPU),
# and the PMD of fp-slow / fp-fast1 / ovs runs there.  cycles/packet =
# CPU 1's busy time (/proc/stat) x its clock / correct packets delivered.
# --prog-stats: turn kernel.bpf_stats_enabled on for the run (restored at
# exit) and add the mean ns per run of the XDP program on each forwarding
# hop (in1; veth shape: in1 then phy-br-eth2) to every row: the cost of the
# program itself, which the kernel's clock reads inflate a little (so the
# headline figures come from runs without it).
# --hop-cost: instead of the above, time one hop of the program itself
# against the floor's bare redirect (xdp_hop_cost.cpp: BPF_PROG_RUN, no
# veth, little noise from the machine's load) and exit.  Columns: the
# tree's program, its FP_XDP_PROFILE_CUT builds cut1..cut3 (the cost of
# each section: parse + key, lookup, output check + counters; the full
# program adds the ops), and with --hop-ab REV the program of git revision
# REV built the same way (an A/B within one run, rounds interleaved).
# Usage: bench/e2e/xdp_fast.sh [--build DIR] [--seconds S] [--flows "1 1000"]
#          [--topos "patch veth"] [--only "bare fp-slow fp-fast fp-fast1 fp-sleep ovs"]
#          [--rounds N] [--prog-stats] [--hop-cost [--hop-ab REV]]
# --rounds N: every contestant N times per shape, interleaved (round 1 of
# all, then round 2, ...), so a burst of the machine's load falls on all
# of them; the summary gives each row's median over the rounds and the
# median of the per-round ratios (fp-sleep / bare within one round).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$root/build SECS=5 FLOWS="1 1000" ONLY="bare fp-slow fp-fast fp-fast1 fp-sleep ovs" TOPOS="patch veth"
PSTATS=0 HOPCOST=0 HOPAB="" ROUNDS=1 ROUND=1
while (($#)); do
  case $1 in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --topos) TOPOS=$2; shift 2 ;;
    --prog-stats) PSTATS=1; shift ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --hop-cost) HOPCOST=1; shift ;;
    --hop-ab) HOPAB=$2; shift 2 ;;
    *) echo "xdp_fast.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "xdp_fast.sh: needs root" >&2; exit 77; }
((HOPCOST)) || [[ -x $BUILD/flowpath ]] || { echo "xdp_fast.sh: build flowpath_cli in $BUILD" >&2; exit 1; }
P=fxb$$
T=$(mktemp -d /tmp/$P.XXXX)
PIDS=()
ARCH=$(gcc -print-multiarch)
clang -O2 -g -target bpf -I/usr/include/$ARCH -c "$root/bench/e2e/xdp_bench.bpf.c" -o "$T/b.o"
g++ -O2 -std=c++20 -o "$T/xdp_bench" "$root/bench/e2e/xdp_bench.cpp" -lbpf
XB="$T/xdp_bench $T/b.o"
if ((HOPCOST)); then
  [[ -f $BUILD/generated/include/flowpath/io/xdp_fast_object.inc ]] ||
    { echo "xdp_fast.sh: build flowpath_xdp_object in $BUILD" >&2; exit 1; }
  g++ -O2 -std=c++20 -I"$root/include" -I"$BUILD/generated/include" -o "$T/xdp_hop_cost" \
    "$root/bench/e2e/xdp_hop_cost.cpp" -lbpf
  fpobj() {  # OUT SRC_DIR [-D...]: bpf/flowpath_xdp.bpf.c as cmake builds it
    local out=$1 src=$2; shift 2
    clang -O2 -g -target bpf -I/usr/include/$ARCH -I"$src/include" "$@" \
      -c "$src/bpf/flowpath_xdp.bpf.c" -o "$out"
  }
  VARIANTS=()
  for c in 1 2 3; do fpobj "$T/cut$c.o" "$root" -DFP_XDP_PROFILE_CUT=$c; VARIANTS+=("cut$c=$T/cut$c.o"); done
  if [[ -n $HOPAB ]]; then
    mkdir -p "$T/ab"
    git -C "$root" archive "$HOPAB" bpf include/flowpath/io/xdp_fast_abi.h | tar -x -C "$T/ab"
    fpobj "$T/ab.o" "$T/ab"
    VARIANTS+=("$(git -C "$root" rev-parse --short "$HOPAB")=$T/ab.o")
  fi
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$T/xdp_hop_cost" "$T/b.o" 1000000 "${VARIANTS[@]}"
  rm -rf "$T"
  exit 0
fi

stop_pid() { kill -TERM "$1" 2>/dev/null || return 0; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; }
ovs_stop() {
  [[ -f $T/ovs/ovs-vswitchd.pid ]] && stop_pid "$(cat "$T/ovs/ovs-vswitchd.pid")"
  [[ -f $T/ovs/ovsdb-server.pid ]] && stop_pid "$(cat "$T/ovs/ovsdb-server.pid")"
  rm -f "$T/ovs/"*.pid
}
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  ovs_stop
  [[ -n $SINK ]] && stop_pid "$SINK"
  for n in gen sw sink; do ip netns del "$P-$n" 2>/dev/null; done
  [[ -n $STATS0 ]] && sysctl -qw kernel.bpf_stats_enabled="$STATS0"
  rm -rf "$T"
}
STATS0=""
if ((PSTATS)); then STATS0=$(sysctl -n kernel.bpf_stats_enabled); sysctl -qw kernel.bpf_stats_enabled=1; fi
trap cleanup EXIT
trap 'exit 130' INT TERM

for n in gen sw sink; do ip netns add "$P-$n"; done
ip link add g0 netns "$P-gen" type veth peer name in1 netns "$P-sw"
ip link add k0 netns "$P-sink" type veth peer name out1 netns "$P-sw"
ip -n "$P-gen" link set g0 up
ip -n "$P-sink" link set k0 address 02:00:00:00:00:02 up
ip -n "$P-sw" link set in1 up
ip -n "$P-sw" link set out1 up
for n in gen sw sink; do ip netns exec "$P-$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
SINK=""
sink_start() {  # a fresh sink per contestant: its flows-seen set starts empty
  rm -f "$T/sink.cnt"
  ip netns exec "$P-sink" "$T/xdp_bench" "$T/b.o" sink k0 "$T/sink.cnt" & SINK=$!
  for _ in $(seq 50); do [[ -f $T/sink.cnt ]] && break; sleep 0.1; done
}
sink_stop() { stop_pid "$SINK"; SINK=""; }
write_conf() {  # TOPO: the compute node's two bridges, joined as TOPO says
  local join=""
  [[ $1 == patch ]] && join=" type=patch peer="
  {
    echo "add-br br-int"
    echo "add-port br-int in1"
    echo "add-port br-int int-br-eth2${join:+${join}phy-br-eth2}"
    echo "add-flow br-int priority=10,in_port=in1,actions=mod_vlan_vid:1,output:int-br-eth2"
    echo "add-flow br-int priority=1,actions=drop"
    echo "add-br br-eth2"
    echo "add-port br-eth2 phy-br-eth2${join:+${join}int-br-eth2}"
    echo "add-port br-eth2 out1"
    echo "add-flow br-eth2 priority=10,in_port=phy-br-eth2,dl_vlan=1,actions=mod_vlan_vid:1000,output:out1"
    echo "add-flow br-eth2 priority=1,actions=drop"
  } >"$T/sw.conf"
}
veth_pair() {  # up|down: the veth pair of the seed's shape, inside sw
  if [[ $1 == up ]]; then
    ip -n "$P-sw" link add int-br-eth2 type veth peer name phy-br-eth2
    for d in int-br-eth2 phy-br-eth2; do
      ip netns exec "$P-sw" ethtool -K $d rxvlan off txvlan off >/dev/null 2>&1 || true
      ip -n "$P-sw" link set $d up
    done
  else
    ip -n "$P-sw" link del int-br-eth2 2>/dev/null || true
  fi
}

sink_read() { cat "$T/sink.cnt" 2>/dev/null || echo "0 0 0"; }
sink_count() { sink_read | awk '{print $1}'; }
cpu1_busy() { awk '$1=="cpu1"{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
mhz=$(awk -F: '/cpu MHz/{print $2; exit}' /proc/cpuinfo)
threaded_on() {  # in1's NAPI as a thread pinned to CPU 1
  ip netns exec "$P-sw" sh -c 'echo 1 > /sys/class/net/in1/threaded'
  sleep 0.2
  for t in $(ps -eLo tid,comm | awk '/napi\/in1-/{print $1}'); do taskset -pc 1 "$t" >/dev/null; done
}
threaded_off() { ip netns exec "$P-sw" sh -c 'echo 0 > /sys/class/net/in1/threaded' 2>/dev/null || true; }
hops() { [[ $TOPO == veth ]] && echo "in1 phy-br-eth2" || echo in1; }
prog_snap() {  # "cnt ns" per hop, on one line (0 0: no program there)
  local d
  for d in $(hops); do ip netns exec "$P-sw" "$T/xdp_bench" - progstat "$d" 2>/dev/null || echo "0 0"; done |
    tr '\n' ' '
}
measure() {  # name flows
  local before b0 sent after b1 wrong seen p0="" p1=""
  sleep 1  # warm: first packets, kernel entries in
  ip netns exec "$P-gen" "$T/xdp_bench" "$T/b.o" gen g0 "$2" 1 0 >/dev/null
  sleep 0.5
  before=$(sink_count); b0=$(cpu1_busy)
  ((PSTATS)) && p0=$(prog_snap)
  sent=$(ip netns exec "$P-gen" "$T/xdp_bench" "$T/b.o" gen g0 "$2" "$SECS" 0 | awk '{print $2}')
  sleep 0.3
  after=$(sink_count); b1=$(cpu1_busy)
  ((PSTATS)) && p1=$(prog_snap)
  read -r _ wrong seen < <(sink_read)
  awk -v topo="$TOPO" -v n="$1" -v f="$2" -v s="$sent" -v d=$((after - before)) -v t="$SECS" \
      -v busy=$((b1 - b0)) -v mhz="$mhz" -v w="$wrong" -v seen="$seen" -v p0="$p0" -v p1="$p1" \
      -v round="$ROUND" 'BEGIN {
    cyc = d > 0 ? busy / 100.0 * mhz * 1e6 / d : 0
    printf "%-5s %-9s %6d %10.2f %10.3f %9.0f %6d %5d/%d %5d", topo, n, f, s / t / 1e6, d / t / 1e6,
           cyc, w, seen, f, round
    na = split(p0, a, " "); split(p1, b, " ")  # cnt ns cnt ns ...: ns/run per hop
    for (i = 1; i + 1 <= na; i += 2) {
      c = b[i] - a[i]; v = "-"
      if (c > 0) v = sprintf("%.1f", (b[i + 1] - a[i + 1]) / c)
      printf "%s%s", (i == 1 ? "  ns/run " : "/"), v
    }
    printf "\n" }' | tee -a "$T/results"
}

run_bare() {
  local pid2=""
  if [[ $TOPO == patch ]]; then
    ip netns exec "$P-sw" "$T/xdp_bench" "$T/b.o" bare in1 out1 & local pid=$!
  else
    ip netns exec "$P-sw" "$T/xdp_bench" "$T/b.o" bare in1 int-br-eth2 & local pid=$!
    ip netns exec "$P-sw" "$T/xdp_bench" "$T/b.o" fwd phy-br-eth2 out1 & pid2=$!
  fi
  sleep 0.5; threaded_on
  for f in $FLOWS; do measure bare "$f"; done
  threaded_off; stop_pid "$pid"; [[ -z $pid2 ]] || stop_pid "$pid2"
}
run_flowpath() {  # name pmd-core args...
  local name=$1 core=$2; shift 2
  ip netns exec "$P-sw" "$BUILD/flowpath" switch --config "$T/sw.conf" --ctl "$T/ctl" \
    --pmd-cores "$core" "$@" >"$T/sw.log" 2>&1 & local pid=$!
  for _ in $(seq 100); do [[ -S $T/ctl ]] && break; sleep 0.1; done
  [[ -S $T/ctl ]] || { cat "$T/sw.log"; exit 1; }
  threaded_on
  for f in $FLOWS; do measure "$name" "$f"; done
  "$BUILD/flowpath" ctl --socket "$T/ctl" dpif-netdev/pmd-stats-show >"$T/$TOPO-$name.pmd" || true
  threaded_off; stop_pid "$pid"; rm -f "$T/ctl"
}
run_ovs() {
  command -v ovs-vswitchd >/dev/null || { echo "ovs: not installed, skipped"; return 0; }
  rm -rf "$T/ovs"; mkdir -p "$T/ovs"
  export OVS_RUNDIR=$T/ovs OVS_DBDIR=$T/ovs OVS_LOGDIR=$T/ovs OVS_SYSCONFDIR=$T/ovs
  ovsdb-tool create "$T/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  ip netns exec "$P-sw" ovsdb-server "$T/ovs/conf.db" --remote=punix:"$T/ovs/db.sock" \
    --pidfile="$T/ovs/ovsdb-server.pid" --unixctl="$T/ovs/ovsdb-server.ctl" --detach --log-file="$T/ovs/db.log"
  local V="ovs-vsctl --db=unix:$T/ovs/db.sock --no-wait"
  $V init
  $V set Open_vSwitch . other_config:pmd-cpu-mask=0x2
  ip netns exec "$P-sw" ovs-vswitchd unix:"$T/ovs/db.sock" --pidfile="$T/ovs/ovs-vswitchd.pid" \
    --unixctl="$T/ovs/vswitchd.ctl" --detach --log-file="$T/ovs/vswitchd.log"
  local int=(type=afxdp) phy=(type=afxdp)
  [[ $TOPO == patch ]] && int=(type=patch options:peer=phy-br-eth2) phy=(type=patch options:peer=int-br-eth2)
  $V add-br br-int -- set bridge br-int datapath_type=netdev
  $V add-br br-eth2 -- set bridge br-eth2 datapath_type=netdev
  $V add-port br-int in1 -- set interface in1 type=afxdp ofport_request=1
  $V add-port br-int int-br-eth2 -- set interface int-br-eth2 "${int[@]}" ofport_request=2
  $V add-port br-eth2 phy-br-eth2 -- set interface phy-br-eth2 "${phy[@]}" ofport_request=1
  $V add-port br-eth2 out1 -- set interface out1 type=afxdp ofport_request=2
  sleep 2  # the afxdp ports; under load the bridges' sockets can take longer:
  for _ in $(seq 100); do [[ -S $T/ovs/br-int.mgmt && -S $T/ovs/br-eth2.mgmt ]] && break; sleep 0.1; done
  ovs-ofctl del-flows br-int; ovs-ofctl del-flows br-eth2
  ovs-ofctl add-flow br-int "priority=10,in_port=1,actions=mod_vlan_vid:1,output:2"
  ovs-ofctl add-flow br-int "priority=1,actions=drop"
  ovs-ofctl add-flow br-eth2 "priority=10,in_port=1,dl_vlan=1,actions=mod_vlan_vid:1000,output:2"
  ovs-ofctl add-flow br-eth2 "priority=1,actions=drop"
  threaded_on
  for f in $FLOWS; do measure ovs "$f"; done
  threaded_off; ovs_stop
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "topo  contestant flows  sent Mpps  recv Mpps  cyc/pkt(cpu1) wrong flows-ok round" | tee "$T/results"
for TOPO in $TOPOS; do
  [[ $TOPO == veth ]] && veth_pair up
  write_conf "$TOPO"
  for ROUND in $(seq "$ROUNDS"); do for c in $ONLY; do
    sink_start
    case $c in
      bare) run_bare ;;
      fp-slow) run_flowpath fp-slow 1 --no-xdp-fast ;;
      fp-fast) run_flowpath fp-fast 0 --xdp-fast ;;
      fp-fast1) run_flowpath fp-fast1 1 --xdp-fast ;;
      fp-sleep) run_flowpath fp-sleep 1 --xdp-fast --pmd-max-sleep 1000 ;;
      ovs) run_ovs ;;
      *) echo "unknown contestant $c" >&2 ;;
    esac
    sink_stop
  done; done
  [[ $TOPO == veth ]] && veth_pair down
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
# Medians over the rounds, and the median of the per-round fp-sleep/bare.
awk 'function med(s,   a, n, i, j, x) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  NR > 1 { k = $1 " " $3 " " $2; v[k] = v[k] " " $5; ks[k] = 1; r[$1 " " $3 " " $2 " " $9] = $5 }
  END {
    if (rounds < 2) exit
    print "median over " rounds " rounds (Mpps delivered correct; fp-sleep/bare: median of the per-round ratios):"
    for (k in ks) {
      split(k, a, " "); line = sprintf("%-5s %-9s %6s %8.3f", a[1], a[3], a[2], med(v[k]))
      if (a[3] == "fp-sleep") {
        q = ""
        for (i = 1; i <= rounds; i++) { b = r[a[1] " " a[2] " bare " i]; if (b > 0) q = q " " sprintf("%.2f", r[a[1] " " a[2] " fp-sleep " i] / b) }
        if (q != "") line = line sprintf("  fp-sleep/bare %.0f%% (rounds:%s)", 100 * med(q), q)
      }
      print line
    } }' rounds="$ROUNDS" "$T/results" | sort
# Ratios within this run: the fast path against OVS and against the floor.
awk 'NR > 1 { r[$1 " " $3 " " $2] = $5 }
  END { for (k in r) { split(k, a, " "); if (a[3] != "fp-fast") continue
    t = a[1] " " a[2]; o = r[t " ovs"]; b = r[t " bare"]; s = r[t " fp-slow"]
    x = (o > 0) ? r[k] / o : 0; y = (b > 0) ? 100 * r[k] / b : 0; z = (o > 0) ? s / o : 0
    f1 = r[t " fp-fast1"]; x1 = (o > 0) ? f1 / o : 0; y1 = (b > 0) ? 100 * f1 / b : 0
    f2 = r[t " fp-sleep"]; x2 = (o > 0) ? f2 / o : 0; y2 = (b > 0) ? 100 * f2 / b : 0
    printf "%-5s flows=%-5s vs ovs / %% of bare: fp-fast %.2fx %.0f%%, fp-fast1 %.2fx %.0f%%, fp-sleep %.2fx %.0f%%; fp-slow %.2fx ovs\n",
      a[1], a[2], x, y, x1, y1, x2, y2, z } }' "$T/results"
for f in "$T"/*.pmd; do [[ -f $f ]] && { echo "== $(basename "$f")"; grep -E "packets received|xdp fast path" "$f"; }; done
