#!/usr/bin/env bash
# The end-to-end benchmark (issue 6, section 6): the compute-node topology
# of scripts/netns/topology.sh, 64-byte UDP from vm1 to the remote host on
# provider VLAN 1000, 1 flow and 1,000 flows, RUNS runs of SECONDS each,
# for each contestant:
#   floor      flowpath-floor: AF_XDP vm1 <-> eth2, shared UMEM, no parsing
#   ovs-patch  Debian's Open vSwitch, userspace datapath (netdev), afxdp
#              ports, patch ports between br-int and br-eth2, Neutron flows
#   ovs-veth   the same with the seed's veth pair int-br-eth2/phy-br-eth2
#   floor2     the floor of the veth shape: one flowpath-floor serving
#              vm1<->ib and pb<->eth2 (a veth pair ib/pb between the hops)
#   flowpath   `flowpath switch --config examples/compute_node/compute-node.conf`
#              (patch ports, one PMD thread on CPU 1)
#   flowpath-veth  the same with the veth pair ib/pb between the bridges
#   ovs-fw, flowpath-fw  ovs-patch / flowpath plus Neutron's openvswitch
#              firewall on vm1's port (tests/e2e/neutron_sg_flows.py: the
#              default security group, egress all), the SAME flows loaded
#              into both with `ovs-ofctl -O OpenFlow13 add-flows` over
#              br-int's OpenFlow socket; every packet goes through ct() in
#              vm1's zone (1) and recirculates, new ones are committed
#   floor-paced  the floor again at several paces (--pace-us 1 2 4 8:
#              it waits that long after each iteration, so it moves bigger
#              batches): with floor's own runs, a fit of its busy cycles
#              per packet as fixed + per-batch / batch size; each switch
#              is then also compared with the floor AT ITS OWN BATCH SIZE
#              ("matched own cyc"; docs/e2e-benchmark.md, "Batch-matched
#              floor").  Batch size = packets transmitted per AF_XDP kick
#              (sendto on the switch's core, `perf stat`, 4 s of each run
#              from 2 s in; needs perf and --seconds 7 or more)
#   flowpath-fw-base  flowpath-fw run by the flowpath binary of another
#              build (--base DIR: DIR/flowpath), for an A/B of a datapath
#              change in the same run; summarised against flowpath-fw
# The far end (remote's trunk) drops everything in tc-BPF (drop.bpf.c);
# its counter is what "received" means.  Generator on CPU 0, switch on
# CPU 1.  Needs root; never touches the host's interfaces.
#
# Usage: bench/e2e/run.sh [--build DIR] [--seconds S] [--runs N]
#                         [--flows "1 1000"] [--only "floor ovs-patch ..."]
#                         [--base DIR]   (flowpath-fw-base's build)
#                         [--perf DIR]   (profile the switch's core, below)
#                         [--rounds N]   (the whole --only list N times)
# --rounds N: every contestant runs RUNS times in each of N rounds, the
# rounds one after the other (round 1 of all, then round 2, ...), so a
# phase of the shared machine (minutes when the host's neighbours make the
# generator send 30% less) falls on every contestant alike instead of on
# the ones that happened to run then; the summary pools all rounds.
# --perf DIR: during the first run of each flowpath contestant, from 2 s in,
# `perf stat -C 1` of the syscalls the poll loop makes (4 s), then `perf
# record -C 1 -e cpu-clock -g` (4 s): DIR/<contestant>-<flows>.{stat,data}.
# Needs --seconds 12 or more; `perf report -i FILE --comm flowpath`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$root/build SECONDS_PER_RUN=10 RUNS=3 FLOWS="1 1000" BASE="" PERF_DIR="" ROUNDS=1
ONLY="floor ovs-patch ovs-veth floor2 flowpath flowpath-veth ovs-fw flowpath-fw"
while (($#)); do
  case $1 in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --base) BASE=$(cd "$2" && pwd); shift 2 ;;
    --perf) mkdir -p "$2"; PERF_DIR=$(cd "$2" && pwd); shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ " $ONLY " != *" flowpath-fw-base "* || -x $BASE/flowpath ]] ||
  { echo "bench/e2e: flowpath-fw-base needs --base DIR with DIR/flowpath" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "bench/e2e: needs root (network namespaces, XDP)" >&2; exit 77; }
for b in flowpath-floor flowpath-pktgen flowpath-bpfcount bpf/drop.bpf.o bpf/vlan_host.bpf.o; do
  [[ -e $BUILD/$b ]] || { echo "bench/e2e: $BUILD/$b missing (build the examples)" >&2; exit 1; }
done

P=fpb$$
SW=$P-sw VM1=$P-vm1 REM=$P-remote
OVSDIR=$(mktemp -d /tmp/fp-ovs-XXXXXX)
PIDS=()
FWFLOWS=$(mktemp /tmp/fp-fwflows-XXXXXX)
RESULTS=$(mktemp /tmp/fp-bench-XXXXXX)
TSCS=$(mktemp /tmp/fp-tsc-XXXXXX)  # the floor runs' TSC rates
export OVS_RUNDIR=$OVSDIR OVS_DBDIR=$OVSDIR OVS_LOGDIR=$OVSDIR
# shellcheck source=bench/e2e/compute_node_ovs.sh
source "$root/bench/e2e/compute_node_ovs.sh"

stop_pid() { local p=$1; kill -TERM "$p" 2>/dev/null || return 0; for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$p" 2>/dev/null || true; }
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  ovs_stop
  "$root/scripts/netns/topology.sh" down "$P" >/dev/null 2>&1
  rm -rf "$OVSDIR"
  rm -f "$FWFLOWS" "$RESULTS" "$TSCS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# (Background jobs call `ip netns exec` directly, never through nsx: $!
# must be the program itself, not a subshell that ignores SIGINT.)
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---- far end ------------------------------------------------------------
drop_on() {
  nsx "$REM" tc qdisc add dev trunk clsact 2>/dev/null || true
  nsx "$REM" tc filter add dev trunk ingress pref 1 bpf da obj "$BUILD/bpf/drop.bpf.o" sec tc
  DROP_ID=$(nsx "$REM" tc filter show dev trunk ingress pref 1 | grep -o ' id [0-9]*' | awk '{print $2; exit}')
}
drop_off() { nsx "$REM" tc filter del dev trunk ingress pref 1 2>/dev/null || true; }
drop_count() { "$BUILD/flowpath-bpfcount" "$DROP_ID" | awk '{print $1}'; }
# Teaches the switch where remote's MAC lives (NORMAL would flood otherwise).
learn() { drop_off; nsx "$VM1" ping -c 2 -i 0.2 -W 1 192.0.2.100 >/dev/null 2>&1 || true; drop_on; }

# ---- Open vSwitch -------------------------------------------------------
OVS_PIDS=()
ovs_start() {  # shape: patch | veth, [fw]
  OVS_PIDS+=("$(ovs_db_start)")
  V --no-wait set Open_vSwitch . other_config:pmd-cpu-mask=0x2
  nsx "$SW" ovs-vswitchd "unix:$OVSDIR/db.sock" --pidfile="$OVSDIR/vswitchd.pid" \
    --unixctl="$OVSDIR/vswitchd.ctl" --detach --log-file="$OVSDIR/vswitchd.log" 2>/dev/null
  OVS_PIDS+=("$(cat "$OVSDIR/vswitchd.pid")")
  if [[ $1 == veth ]]; then
    nsx "$SW" ip link add int-br-eth2 type veth peer name phy-br-eth2
    nsx "$SW" ip link set int-br-eth2 up; nsx "$SW" ip link set phy-br-eth2 up
    nsx "$SW" ethtool -K int-br-eth2 txvlan off >/dev/null 2>&1 || true
    nsx "$SW" ethtool -K phy-br-eth2 txvlan off >/dev/null 2>&1 || true
  fi
  ovs_compute_node netdev afxdp "$1" "${2:-}"
  [[ ${2:-} != fw ]] || fw_load "unix:$OVSDIR/br-int.mgmt" ovs-fw "$FWFLOWS"
  sleep 1
}
ovs_stop() {
  local p
  for p in "${OVS_PIDS[@]}"; do stop_pid "$p"; done
  OVS_PIDS=()
  nsx "$SW" ip link del int-br-eth2 2>/dev/null || true
  rm -f "$OVSDIR"/*
}
ovs_cycles() {  # hops -> processing cycles per packet entering at vm1
  # The PMD counts a packet once per port it is received on: twice in the
  # veth shape.  Busy cycles are charged per end-to-end packet, as for the
  # floor, so both shapes compare directly.
  ovs-appctl -t "$OVSDIR/vswitchd.ctl" dpif-netdev/pmd-stats-show |
    awk -v h="$1" '/core_id/ {pmd=1} /main thread/ {pmd=0} pmd && /packets received/ {r=$3} pmd && /processing cycles:/ {c=$3}
         END {printf "%.0f", (r > 0 ? c * h / r : 0)}'
}

# ---- Neutron's firewall on vm1's port (ovs-fw, flowpath-fw) ------------
fw_conntrack() {  # NAME UNIXCTL FLOWS PASSES: proof that ct() ran: vm1's UDP
  local n         # connections, and datapath passes per packet (2: recirculated)
  n=$(ovs-appctl -t "$2" dpctl/dump-conntrack zone=$FW_VLAN |
      grep -c "^udp,orig=(src=$FW_IP,dst=192.0.2.100," || true)
  echo "$1: after the $3-flow runs, dpctl/dump-conntrack zone=$FW_VLAN shows $n UDP connections vm1 -> 192.0.2.100;" \
    "last run: $4 datapath passes per packet"
}

# ---- one measurement ----------------------------------------------------
# Packets per transmit kick on the switch's core (the batch size): every
# contestant kicks its AF_XDP TX ring with one sendto() per flush with
# frames queued (copy mode: the kernel transmits in that call).  From 2 s
# into the run, 4 s of `perf stat -C 1` of sendto, and the far end's count
# over the same 4 s.  Prints "-" when perf is missing or the run is short.
BATCH_PROBE=1
command -v perf >/dev/null && ((SECONDS_PER_RUN >= 7)) || BATCH_PROBE=0
# And, over the same window, the kernel's part of the switch's core
# (session 12): `perf record -C 1 -e cpu-clock` (one sample per 250 us on
# CPU 1); of the busiest thread's samples (the PMD thread, or the floor's
# loop), those taken in the kernel (AF_XDP kicks: the copy and transmit,
# the far end's delivery; receive's wakeups), per packet counted at the
# far end: kernel microseconds per packet.  The summary turns them into
# cycles with the floor's TSC rate and subtracts them from the busy cycles
# per packet: what is left is the user-space part.  "-" for each without
# perf (or when perf record fails).
KPROBE_NS=250000
core_probe() {  # out-file -> "batch kernel-us/pkt"
  ((BATCH_PROBE)) || { echo "- -" >"$1"; return; }
  local c0 c1 kicks stat pid pf sf
  pf=$(mktemp /tmp/fp-kprobe-XXXXXX) sf=$(mktemp /tmp/fp-kicks-XXXXXX)
  sleep 2; c0=$(drop_count)
  perf stat -x, -C 1 -e syscalls:sys_enter_sendto -o "$sf" -- sleep 4 >/dev/null 2>&1 & pid=$!
  perf record -q -C 1 -e cpu-clock -c "$KPROBE_NS" -o "$pf" -- sleep 4 >/dev/null 2>&1 || : >"$pf"
  wait "$pid" || true
  c1=$(drop_count)
  kicks=$(awk -F, '/sys_enter_sendto/ {print $1}' "$sf")
  { awk -v p=$((c1 - c0)) -v k="${kicks:-0}" 'BEGIN {if (k > 0) printf "%.2f ", p / k; else printf "- "}'
    if [[ -s $pf ]]; then
      perf script -i "$pf" -F tid,ip 2>/dev/null | awk -v p=$((c1 - c0)) -v per="$KPROBE_NS" '
        { n[$1]++; if (length($2) >= 16 && substr($2, 1, 4) == "ffff") k[$1]++ }
        END { for (t in n) if (n[t] > best) { best = n[t]; bt = t }
              if (p > 0 && best > 0) printf "%.5f\n", k[bt] * per / 1000 / p; else print "-" }'
    else echo -; fi; } >"$1"
  rm -f "$pf" "$sf"
}
pktgen() {  # flows -> prints packets sent
  nsx "$VM1" taskset -c 0 "$BUILD/flowpath-pktgen" eth0 --dst-mac 02:00:00:00:10:00 \
    --src-mac 02:00:00:00:01:01 --src-ip 192.0.2.1 --dst-ip 192.0.2.100 \
    --flows "$1" --seconds "$SECONDS_PER_RUN" | awk '/^sent/ {print $2}'
}
measure() {  # flows -> "sent received batch kernel-us/pkt" of one pktgen run
  local cf before after sent probe
  cf=$(mktemp /tmp/fp-core-XXXXXX)
  core_probe "$cf" & probe=$!
  before=$(drop_count); sent=$(pktgen "$1"); sleep 0.2; after=$(drop_count)
  wait "$probe" || true
  echo "$sent $((after - before)) $(cat "$cf")"
  rm -f "$cf"
}
record() {  # contestant flows run sent received cycles batch kernel-us/pkt
  echo "$*" >>"$RESULTS"
  awk -v c="$1" -v f="$2" -v r="$3" -v s="$4" -v d="$5" -v y="$6" -v b="${7:--}" -v t="$SECONDS_PER_RUN" \
    -v kus="${8:--}" \
    'BEGIN {printf "%-10s flows %-5s run %s: sent %.3f Mpps, received %.3f Mpps, loss %.2f%%, %s busy cycles/pkt, %s pkts/kick, %s kernel us/pkt\n",
            c, f, r, s/t/1e6, d/t/1e6, (s > 0 ? 100*(s-d)/s : 0), y, b, kus}'
}
run_floor() {  # name "if_a if_b [if_c if_d]" [pace-us...]
  local name=$1 ifs=$2 flows run log pid m pace paces=${3:-0}
  for flows in $FLOWS; do
    for pace in $paces; do
      for run in $(seq "$RUNS"); do
        log=$(mktemp /tmp/fp-floor-XXXXXX)
        ip netns exec "$SW" taskset -c 1 "$BUILD/flowpath-floor" $ifs --pace-us "$pace" >"$log" 2>&1 &
        pid=$!; PIDS+=("$pid")
        for _ in $(seq 50); do [[ $(grep -c '^floor:' "$log") -ge $(wc -w <<<"$ifs") ]] && break; sleep 0.1; done
        m=($(measure "$flows"))
        kill -INT "$pid"; wait "$pid" || true
        record "$name" "$flows" "$run" "${m[0]}" "${m[1]}" \
          "$(awk '/cycles_per_packet/ {print $6}' "$log")" "${m[2]}" "${m[3]}"
        awk '/^tsc_hz/ {print $2}' "$log" >>"$TSCS"
        rm -f "$log"
      done
    done
  done
}
run_ovs() {  # name shape [fw]
  local name=$1 flows run m hops=1
  [[ $2 == veth ]] && hops=2
  ovs_start "$2" "${3:-}"
  for flows in $FLOWS; do
    for run in $(seq "$RUNS"); do
      learn
      ovs-appctl -t "$OVSDIR/vswitchd.ctl" dpif-netdev/pmd-stats-clear >/dev/null
      m=($(measure "$flows"))
      record "$name" "$flows" "$run" "${m[0]}" "${m[1]}" "$(ovs_cycles "$hops")" "${m[2]}" "${m[3]}"
    done
    [[ ${3:-} != fw ]] || fw_conntrack "$name" "$OVSDIR/vswitchd.ctl" "$flows" \
      "$(ovs-appctl -t "$OVSDIR/vswitchd.ctl" dpif-netdev/pmd-stats-show |
         awk '/core_id/ {pmd=1} /main thread/ {pmd=0} pmd && /passes per packet/ {print $NF; exit}')"
  done
  ovs_stop
}
# compute-node.conf plus br-int as Neutron's agent sets it: an OpenFlow
# target for ovs-ofctl, fail mode secure (no fail-open NORMAL).  The
# firewall flows themselves go in over OpenFlow once the switch runs.
write_fw_conf() {
  { cat "$root/examples/compute_node/compute-node.conf"
    echo "set-controller br-int punix:$OVSDIR/fp-br-int.mgmt"
    echo "set-fail-mode br-int secure"
  } >"$OVSDIR/compute-node-fw.conf"
}
run_flowpath() {  # [NAME CONFIG HOPS [fw [BINARY]]]
  # flowpath switch in $SW on CPU 1 (one PMD thread) with
  # examples/compute_node/compute-node.conf; measured like run_ovs.  Busy
  # cycles/packet: `flowpath ctl pmd-stats-show` "avg processing cycles per
  # packet" = TSC cycles of port polls that received packets (receive,
  # parse, caches, actions, transmit, flush) / packets received, the same
  # definition as the floor's.  The patch ports make it one PMD pass per
  # packet.
  local fp=${5:-$BUILD/flowpath}
  if ! "$fp" switch --help >/dev/null 2>&1; then
    echo "flowpath   (skipped: $fp has no 'switch' command)"
    return
  fi
  local name=${1:-flowpath} config=${2:-$root/examples/compute_node/compute-node.conf} hops=${3:-1}
  local flows run m pid log=$OVSDIR/$name.log sock=$OVSDIR/$name.ctl
  nsx "$SW" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1 || true
  ip netns exec "$SW" "$fp" switch --config "$config" \
    --pmd-cores 1 --ctl "$sock" >"$log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  for _ in $(seq 100); do [[ -S $sock ]] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  [[ -S $sock ]] || { echo "flowpath   (failed to start:)"; cat "$log"; return; }
  if [[ ${4:-} == fw ]]; then  # br-int's OpenFlow target (set-controller in the config)
    for _ in $(seq 100); do [[ -S $OVSDIR/fp-br-int.mgmt ]] && break; sleep 0.1; done
    fw_load "unix:$OVSDIR/fp-br-int.mgmt" "$name" "$FWFLOWS" || { cat "$log"; stop_pid "$pid"; return; }
  fi
  for flows in $FLOWS; do
    for run in $(seq "$RUNS"); do
      learn
      "$fp" ctl --socket "$sock" pmd-stats-clear >/dev/null
      local prof=""
      [[ -z $PERF_DIR || $run != 1 ]] || { profile_core "$PERF_DIR/$name-$flows" & prof=$!; }
      m=($(measure "$flows"))
      [[ -z $prof ]] || wait "$prof" || true
      # Cycles per packet entering at vm1: in the veth shape every packet
      # is received twice (vm1, then pb), as OVS's figure is scaled by hops.
      record "$name" "$flows" "$run" "${m[0]}" "${m[1]}" \
        "$("$fp" ctl --socket "$sock" pmd-stats-show |
           awk -v h="$hops" '/processing cycles per packet/ {print $6 * h}')" "${m[2]}" "${m[3]}"
    done
    [[ ${4:-} != fw ]] || fw_conntrack "$name" "$sock" "$flows" \
      "$("$fp" ctl --socket "$sock" pmd-stats-show | awk '/passes per packet/ {print $NF; exit}')"
  done
  "$fp" ctl --socket "$sock" dpctl/show >"$OVSDIR/flowpath-ports.txt" 2>&1 || true
  stop_pid "$pid"
}

# The switch's core while the generator runs: syscalls (read: TAP ports,
# poll: their readiness check, sendto: AF_XDP tx kicks, futex: a contended
# mutex), then a profile.  Divide by the received rate for per packet.
profile_core() {  # file prefix
  sleep 2
  perf stat -C 1 -e raw_syscalls:sys_enter,syscalls:sys_enter_sendto,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_poll,syscalls:sys_enter_futex \
    -o "$1.stat" -- sleep 4 >/dev/null 2>&1 || echo "perf stat failed" >"$1.stat"
  perf record -C 1 -e cpu-clock -g -o "$1.data" -- sleep 4 >/dev/null 2>&1 || true
}

# ---- main ---------------------------------------------------------------
"$root/scripts/netns/topology.sh" up "$P" "$BUILD/bpf" >/dev/null
drop_on
[[ " $ONLY " != *-fw[\ -]* ]] || fw_generate "$FWFLOWS"
echo "e2e benchmark: ${SECONDS_PER_RUN}s x $RUNS runs x $ROUNDS rounds, flows: $FLOWS, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
((ROUNDS == 1)) || echo "-- round $ROUND of $ROUNDS, load $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $ONLY; do
  case $c in
    floor) run_floor floor "vm1 eth2" ;;
    floor-paced) run_floor floor-paced "vm1 eth2" "1 2 4 8" ;;
    ovs-patch) run_ovs ovs-patch patch ;;
    ovs-veth) run_ovs ovs-veth veth ;;
    floor2)
      # The veth shape's floor: both hops (vm1 <-> ib, pb <-> eth2) served
      # by one flowpath-floor on one core, the frame crossing a veth pair
      # between them as it does between OVS's two bridges.
      nsx "$SW" ip link add ib type veth peer name pb; nsx "$SW" ip link set ib up; nsx "$SW" ip link set pb up
      run_floor floor2 "vm1 ib pb eth2"
      nsx "$SW" ip link del ib 2>/dev/null || true ;;
    flowpath) run_flowpath ;;
    ovs-fw) run_ovs ovs-fw patch fw ;;
    flowpath-fw)
      write_fw_conf
      run_flowpath flowpath-fw "$OVSDIR/compute-node-fw.conf" 1 fw ;;
    flowpath-fw-base)  # the same with another build's binary (A/B)
      write_fw_conf
      run_flowpath flowpath-fw-base "$OVSDIR/compute-node-fw.conf" 1 fw "$BASE/flowpath" ;;
    flowpath-veth)
      # The seed's shape: the bridges joined by the veth pair ib/pb (AF_XDP
      # ports int-br-eth2 and phy-br-eth2) instead of patch ports.
      nsx "$SW" ip link add ib type veth peer name pb; nsx "$SW" ip link set ib up; nsx "$SW" ip link set pb up
      nsx "$SW" ethtool -K ib txvlan off rxvlan off >/dev/null 2>&1 || true
      nsx "$SW" ethtool -K pb txvlan off rxvlan off >/dev/null 2>&1 || true
      sed -e 's/int-br-eth2 type=patch peer=phy-br-eth2/int-br-eth2 options:ifname=ib/' \
          -e 's/phy-br-eth2 type=patch peer=int-br-eth2/phy-br-eth2 options:ifname=pb/' \
          "$root/examples/compute_node/compute-node.conf" >"$OVSDIR/compute-node-veth.conf"
      run_flowpath flowpath-veth "$OVSDIR/compute-node-veth.conf" 2
      nsx "$SW" ip link del ib 2>/dev/null || true ;;
    *) echo "run.sh: unknown contestant $c" >&2 ;;
  esac
done
done

echo
echo "summary (means over runs; own cost = busy cycles/pkt minus the floor's;"
echo "  matched = minus the floor fitted at the contestant's own pkts/kick, when floor runs were made;"
echo "  kern cyc = the PMD thread's kernel time per packet (perf samples), user own = cyc/pkt - kern cyc,"
echo "  minus the floor's; +- one standard error)"
TSC=$( [[ -s $TSCS ]] && sort -n "$TSCS" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' || echo 0)
[[ $TSC == 0 ]] || echo "TSC rate (the floor's runs, median): $(awk -v h="$TSC" 'BEGIN {printf "%.0f MHz", h / 1e6}')"
awk -v t="$SECONDS_PER_RUN" -v tsc="$TSC" '
  # Least squares y = p + a x over n points (x = 1 / batch), into r: p, a,
  # the spread of one point about the line (sd), and what fit_se needs.
  function linfit(x, y, n, r,   i, mx, my, sxx, sxy, e) {
    if (n < 3) return 0
    for (i = 1; i <= n; i++) { mx += x[i]; my += y[i] }
    mx /= n; my /= n
    for (i = 1; i <= n; i++) { sxx += (x[i] - mx) ^ 2; sxy += (x[i] - mx) * (y[i] - my) }
    if (sxx <= 0) return 0
    r["a"] = sxy / sxx; r["p"] = my - r["a"] * mx; r["mx"] = mx; r["sxx"] = sxx; r["n"] = n
    for (i = 1; i <= n; i++) e += (y[i] - r["p"] - r["a"] * x[i]) ^ 2
    r["sd"] = sqrt(e / (n - 2)); return 1
  }
  function fit_at(r, x0) { return r["p"] + r["a"] * x0 }
  function fit_se(r, x0) { return r["sd"] * sqrt(1 / r["n"] + (x0 - r["mx"]) ^ 2 / r["sxx"]) }
  # The unmatched own costs (mean busy cycles minus those of the floor, no error
  # bars): a ratio only when both sides stand above the floor; a side at or
  # below it is named instead of dividing into a negative or empty ratio.
  function own_ratio(label, a, b, f, x, y) {
    if (x > 0 && y > 0) printf "%s%s own cost / %s own cost (%s flows): %.2f\n", label, a, b, f, x / y
    else printf "%s%s / %s own cost (%s flows): n/a (%s not above the floor: %.0f cycles/pkt)\n", label, a, b, f, (y > 0 ? a : b), (y > 0 ? x : y) }
  # Each pair (flowpath side : its OVS peer) of one measure (own costs and
  # their standard errors): a ratio only when the peer own cost stands
  # clear of the noise (more than two standard errors above 0).
  function pair_ratios(label, own, se, long,   f, j, q, u, v) {
    for (f in fn) for (j in pairs) { split(pairs[j], q, ":"); u = q[1] " " f; v = q[2] " " f
      if (!(u in own) || !(v in own)) continue
      if (own[v] > 2 * se[v])
        printf "%s: %s%s / %s%s (%s flows): %.2f (%.0f±%.0f / %.0f±%.0f cycles/pkt)\n", label, q[1], long, q[2], long, f, own[u] / own[v], own[u], se[u], own[v], se[v]
      else if (long != "")
        printf "%s: %s / %s (%s flows): not resolved, %s own cost %.0f±%.0f is within two standard errors of the floor (%s: %.0f±%.0f)\n", label, q[1], q[2], f, q[2], own[v], se[v], q[1], own[u], se[u]
      else
        printf "%s: %s / %s (%s flows): not resolved (%s %.0f±%.0f, %s %.0f±%.0f)\n", label, q[1], q[2], f, q[2], own[v], se[v], q[1], own[u], se[u] } }
  { k = $1 " " $2; n[k]++; s[k] += $4; d[k] += $5; y[k] += $6; yy[k] += $6 * $6; if (!(k in seen)) { seen[k]=1; order[++m]=k }
    if (tsc > 0 && NF >= 8 && $8 != "-") { kc = $8 * tsc / 1e6; nk[k]++; kcs[k] += kc; us[k] += $6 - kc; uss[k] += ($6 - kc) ^ 2
      if (($1 == "floor" || $1 == "floor-paced") && $7 != "-" && $7 + 0 > 0) { ux[++un] = 1 / $7; uy[un] = $6 - kc } }
    if ($7 != "-" && $7 + 0 > 0) { nb[k]++; b[k] += $7
      if ($1 == "floor" || $1 == "floor-paced") { f = $2; fn[f]++; x = 1 / $7; fx[f] += x; fy[f] += $6; fxx[f] += x * x; fxy[f] += x * $6
        px[++pn] = x; py[pn] = $6 } } }
  END {
    for (f in fn) if (fn[f] >= 2 && fn[f] * fxx[f] - fx[f] * fx[f] > 0) {  # cycles/pkt = per_pkt + per_kick / batch
      A[f] = (fn[f] * fxy[f] - fx[f] * fy[f]) / (fn[f] * fxx[f] - fx[f] * fx[f]); P[f] = (fy[f] - A[f] * fx[f]) / fn[f]
      printf "floor fit (%s flows, %d runs): busy cycles/pkt = %.0f + %.0f / (pkts per kick)\n", f, fn[f], P[f], A[f] }
    # The matched own costs use ONE fit over every floor run: the floor
    # never looks at a header, so the flow count changes nothing of its
    # work, and pooling halves the noise of the fit.  The residual spread (sd of
    # one run about the fit) gives the standard error of floor(b), and with
    # the run-to-run spread of a contestant, the "±" of its matched cost.
    if ((pooled = linfit(px, py, pn, BF)))
      printf "floor fit (all %d floor runs, used for matched): busy cycles/pkt = %.0f + %.0f / (pkts per kick); one run sd %.0f about it\n", pn, BF["p"], BF["a"], BF["sd"]
    # the user-space part: per contestant mean and standard error; the
    # floor of the same flow count (its own ring handling) subtracted
    for (k in nk) { um[k] = us[k] / nk[k]; v = nk[k] > 1 ? (uss[k] - us[k] * us[k] / nk[k]) / (nk[k] - 1) : 0; use2[k] = (v > 0 ? v : 0) / nk[k] }
    # On this guest a kick costs user-mode time too (the return from the
    # system call is slow under the hypervisor), so the floor user part
    # also falls with the batch: fitted over every floor run like the busy
    # cycles (user = per_pkt + per_kick / batch) and taken at the
    # contestant own batch, when there are 3 floor runs or more.
    if ((ufit = linfit(ux, uy, un, UF)))
      printf "floor user-space fit (all %d floor runs): user cycles/pkt = %.0f + %.0f / (pkts per kick); one run sd %.0f about it\n", un, UF["p"], UF["a"], UF["sd"]
    printf "%-12s %6s %10s %10s %8s %10s %10s %10s %10s %10s %10s\n", "contestant", "flows", "sent Mpps", "recv Mpps", "loss%", "cyc/pkt", "own cyc", "pkts/kick", "matched", "kern cyc", "user own"
    for (i = 1; i <= m; i++) {
      k = order[i]; split(k, a, " ")
      fl = "floor " a[2]; fc = (fl in n) ? y[fl] / n[fl] : 0
      veth = (a[1] == "ovs-veth" || a[1] == "flowpath-veth")
      if (veth) { f2 = "floor2 " a[2]; if (f2 in n) fc = y[f2] / n[f2] }
      own = (a[1] ~ /^floor/) ? 0 : y[k] / n[k] - fc
      bk = (k in nb) ? b[k] / nb[k] : 0
      mo = "-"
      if (!veth && a[1] !~ /^floor/ && bk > 0 && pooled) {
        x0 = 1 / bk; sef = fit_se(BF, x0)
        sdc = n[k] > 1 ? (yy[k] - y[k] * y[k] / n[k]) / (n[k] - 1) : 0; sdc = sdc > 0 ? sqrt(sdc) : 0
        mown[k] = y[k] / n[k] - fit_at(BF, x0); mse[k] = sqrt(sef ^ 2 + sdc ^ 2 / n[k])
        mo = sprintf("%.0f±%.0f", mown[k], mse[k]) }
      ko = "-"; uo = "-"; fk = "floor " a[2]
      if (k in nk) { ko = sprintf("%.0f", kcs[k] / nk[k])
        if (a[1] !~ /^floor/ && !veth && ufit && bk > 0) {
          x0 = 1 / bk; uown[k] = um[k] - fit_at(UF, x0); useo[k] = sqrt(fit_se(UF, x0) ^ 2 + use2[k])
          uo = sprintf("%.0f±%.0f", uown[k], useo[k]) }
        else if (a[1] != "floor" && !veth && (fk in nk)) { uown[k] = um[k] - um[fk]; useo[k] = sqrt(use2[k] + use2[fk]); uo = sprintf("%.0f±%.0f", uown[k], useo[k]) } }
      printf "%-12s %6s %10.3f %10.3f %8.2f %10.0f %10.0f %10s %10s %10s %10s\n", a[1], a[2], s[k]/n[k]/t/1e6, d[k]/n[k]/t/1e6,
             (s[k] > 0 ? 100 * (s[k] - d[k]) / s[k] : 0), y[k] / n[k], own, (bk > 0 ? sprintf("%.1f", bk) : "-"), mo, ko, uo
      if (a[1] == "ovs-patch") ovsown[a[2]] = own
      if (a[1] == "flowpath") fpown[a[2]] = own
      if (a[1] == "ovs-veth") ovsvown[a[2]] = own
      if (a[1] == "flowpath-veth") fpvown[a[2]] = own
      if (a[1] == "ovs-fw") ovsfown[a[2]] = own
      if (a[1] == "flowpath-fw") fpfown[a[2]] = own
      if (a[1] == "flowpath-fw-base") fpbown[a[2]] = own
    }
    for (f in fpown) if (f in ovsown) own_ratio("", "flowpath", "OVS", f, fpown[f], ovsown[f])
    for (f in fpvown) if (f in ovsvown) own_ratio("veth shape: ", "flowpath", "OVS", f, fpvown[f], ovsvown[f])
    for (f in fpfown) if (f in ovsfown) own_ratio("firewall: ", "flowpath-fw", "ovs-fw", f, fpfown[f], ovsfown[f])
    for (f in fpbown) if (f in ovsfown) own_ratio("firewall: ", "flowpath-fw-base", "ovs-fw", f, fpbown[f], ovsfown[f])
    for (f in fpbown) if (f in fpfown) own_ratio("firewall A/B: ", "flowpath-fw", "flowpath-fw-base", f, fpfown[f], fpbown[f])
    for (f in ovsfown) if (f in ovsown) printf "firewall added cost, OVS (%s flows): %.0f cycles/pkt\n", f, ovsfown[f] - ovsown[f]
    for (f in fpfown) if (f in fpown) printf "firewall added cost, flowpath (%s flows): %.0f cycles/pkt\n", f, fpfown[f] - fpown[f]
    # the batch-matched own costs, pairwise
    split("flowpath:ovs-patch flowpath-fw:ovs-fw flowpath-fw-base:ovs-fw", pairs, " ")
    pair_ratios("matched", mown, mse, " own cost")
    pair_ratios("user-space own cost", uown, useo, "")
  }' "$RESULTS"
rm -f "$RESULTS"
