#!/usr/bin/env bash
# The e2e firewall comparison in instructions, independent of the host's
# load: Open vSwitch's datapath and flowpath's, each with the compute node's
# flows plus Neutron's firewall on vm1's port exactly as bench/e2e/run.sh
# loads them, the generator's UDP from vm1 to 192.0.2.100 (no replies),
# counted by callgrind per packet at one packet per batch.
#
#   bench/e2e/fw_callgrind.sh [--batch N] [--cache] BUILD OVS_VSWITCHD [FLOWS...]
#                                                     (default FLOWS: 1 1000)
# --batch N: N packets per batch on both sides (OVS on veth ports; root;
# below, before ovs_run).  --cache: callgrind's cache simulation on both
# sides, adding L1 data read misses per packet (the lines a packet's work
# touches beyond a 48 KB L1; the instruction counts are the same).
#
# BUILD: a build with benches whose bench/datapath_neutron_fw_bench was
# made with -DFLOWPATH_ARCH_FLAGS="-march=x86-64-v3;-maes;-mpclmul"
# (valgrind has no AVX-512).  OVS_VSWITCHD: an ovs-vswitchd with symbols
# (Debian's is stripped): bench/peers/build_ovstest.sh DIR vswitchd/ovs-vswitchd.
#
# Open vSwitch runs private (own run/db/log directory, dummy datapath and
# ports: no kernel device, no root needed) under callgrind, collecting
# dp_netdev_process_rxq_port; the figure is the inclusive count of
# dp_netdev_input (parse, EMC/megaflow lookup, actions, conntrack and the
# recirculated pass, output into the port's tx batch) per call: the dummy
# port's receive gives one packet per call, so one packet per batch.  The
# dummy receive and send (a mutex, a list, malloc) are left out as I/O, and
# so is push_vlan's reallocation of a dummy packet (it has no headroom;
# an AF_XDP frame has, as flowpath's buffers): dp_packet_resize's count.
# flowpath: datapath_neutron_fw_bench --fixed CASE at FW_BENCH_BATCH=1,
# measured_batch per packet (frame copy, Datapath::process, the sink).
# Both warm: every connection's passes are in the EMC before counting
# (OVS with emc-insert-inv-prob=1 and 3 rounds of the flows; flowpath with
# its default 1 in 100 and 1,000 rounds, at least 20,000 packets).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
usage="usage: fw_callgrind.sh [--batch N] [--cache] BUILD OVS_VSWITCHD [FLOWS...]"
BATCH=1 CACHE=()
while [[ ${1:-} == --* ]]; do
  case $1 in
    --batch) BATCH=${2:?$usage}; shift 2 ;;
    --cache) CACHE=(--cache-sim=yes); shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
((BATCH >= 1 && BATCH <= 32)) || { echo "fw_callgrind: --batch takes 1 to 32" >&2; exit 2; }
build=${1:?$usage}
ovsd=${2:?$usage}
shift 2
flows_list=("$@")
[[ $# -gt 0 ]] || flows_list=(1 1000)
bench=$build/bench/datapath_neutron_fw_bench
for t in valgrind callgrind_control ovsdb-tool ovsdb-server ovs-vsctl ovs-ofctl ovs-appctl; do
  command -v $t >/dev/null || { echo "fw_callgrind: needs $t" >&2; exit 77; }
done
[[ -x $bench ]] || { echo "fw_callgrind: $bench missing" >&2; exit 2; }
[[ -x $ovsd ]] || { echo "fw_callgrind: $ovsd missing" >&2; exit 2; }
nm "$ovsd" | grep ' dp_netdev_input$' >/dev/null || { echo "fw_callgrind: $ovsd has no symbols" >&2; exit 2; }
((BATCH == 1 || $(id -u) == 0)) || { echo "fw_callgrind: --batch needs root (a network namespace)" >&2; exit 77; }

D=$(mktemp -d /tmp/fp-fwcg-XXXXXX)
PIDS=()
NS=""
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  [[ -z $NS ]] || ip netns del "$NS" 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D
# shellcheck source=bench/e2e/compute_node_ovs.sh
source "$root/bench/e2e/compute_node_ovs.sh"

# Calls to FUNCTION and their inclusive Ir and D1mr (L1 data read misses;
# 0 without --cache-sim) in a callgrind output file.
calls_of() {
  python3 - "$1" "$2" <<'PY'
import re, sys
names, calls, incl, miss, pending, want, d1 = {}, 0, 0, 0, None, False, None
def resolve(spec):
    m = re.match(r'\((\d+)\)(?: (.*))?', spec)
    if not m:
        return spec
    if m.group(2):
        names[m.group(1)] = m.group(2)
    return names.get(m.group(1), '')
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if line.startswith('events:'):
        ev = line.split()[1:]
        d1 = ev.index('D1mr') if 'D1mr' in ev else None
    elif line.startswith('cfn='):
        want = resolve(line[4:]) == sys.argv[2]
    elif line.startswith('fn='):
        resolve(line[3:])
    elif line.startswith('calls='):
        pending = int(line[6:].split()[0]) if want else None
    elif pending is not None and line[:1] in tuple('0123456789+-*'):
        parts = line.split()
        calls, incl, pending = calls + pending, incl + int(parts[1]), None
        if d1 is not None and len(parts) > 1 + d1:
            miss += int(parts[1 + d1])
print(calls, incl, miss)
PY
}

# The frames: remote (02:00:00:00:00:64, 192.0.2.100) announces itself on
# eth2 in VLAN 1000; vm1 sends UDP to it from FLOWS source ports.
frames() {  # FLOWS
  python3 - "$D" "$1" <<'PY'
import struct, sys
d, n = sys.argv[1], int(sys.argv[2])
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
def udp(smac, dmac, sip, dip, sport, dport, vlan=None):
    u = struct.pack('!HHHH', sport, dport, 26, 0) + bytes(18)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(u), 0, 0x4000, 64, 17, 0,
                     bytes(map(int, sip.split('.'))), bytes(map(int, dip.split('.'))))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    eth = bytes.fromhex(dmac.replace(':', '') + smac.replace(':', ''))
    if vlan is not None:
        eth += struct.pack('!HH', 0x8100, vlan)
    return (eth + struct.pack('!H', 0x0800) + ip + u).hex()
with open(d + '/learn.hex', 'w') as f:
    f.write(udp('02:00:00:00:00:64', 'ff:ff:ff:ff:ff:ff', '192.0.2.100', '192.0.2.1', 9, 9, 1000) + '\n')
with open(d + '/vm1.hex', 'w') as f:
    for i in range(n):
        f.write(udp('02:00:00:00:01:01', '02:00:00:00:00:64', '192.0.2.1', '192.0.2.100',
                    1000 + i, 5001) + '\n')
PY
}

A() { ovs-appctl -t "$D/vsd.ctl" "$@"; }
received() { A dpif-netdev/pmd-stats-show | awk '/main thread/ {m=1} m && /packets received/ {print $3; exit}'; }
send() {  # PORT FILE COUNT: 50 a call (the dummy queue holds 100), each call drained
  local port=$1 count=$3 i=0 j want got all pk
  mapfile -t all <"$2"
  want=$(received)
  while ((i < count)); do
    pk=()
    for ((j = 0; j < 50 && i < count; j++, i++)); do pk+=("${all[i % ${#all[@]}]}"); done
    A netdev-dummy/receive "$port" "${pk[@]}" >/dev/null
    want=$((want + ${#pk[@]}))
    for ((j = 0; j < 600; j++)); do
      got=$(received)
      ((got >= want)) && break
      sleep 0.05
    done
    ((got >= want)) || { echo "fw_callgrind: OVS processed $got of $want packets" >&2; exit 1; }
  done
}

# --batch N: OVS's ports are veths (type system: read with recvmmsg, up to
# 32 packets a call) in a namespace of the script's own, with no IPv6 (no
# stray frames); the frames go in at the veths' far ends (PORT-x) in bursts
# of N while ovs-vswitchd is stopped (SIGSTOP), so that its next poll reads
# the whole burst, and each burst is awaited at eth2-x.
ns_setup() {
  local p
  NS=fpcg$$
  ip netns add "$NS"
  ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  for p in vm1 vm2 vm3 eth2; do
    ip -n "$NS" link add "$p" type veth peer name "$p-x"
    ip netns exec "$NS" ethtool -K "$p" txvlan off >/dev/null 2>&1 || true
    ip netns exec "$NS" ethtool -K "$p-x" txvlan off >/dev/null 2>&1 || true
    ip -n "$NS" link set "$p" up
    ip -n "$NS" link set "$p-x" up
  done
}
burst() {  # PORT FILE COUNT [WAIT(1|0)]: as send, in bursts of BATCH
  ip netns exec "$NS" python3 - "$1-x" eth2-x "$OVS_PID" "$BATCH" "$3" "$2" "${4:-1}" <<'PY'
import os, signal, socket, sys, time
tx_if, rx_if, pid, burst, count, path, wait = sys.argv[1:]
pid, burst, count, wait = int(pid), int(burst), int(count), wait == '1'
frames = [bytes.fromhex(l) for l in open(path).read().split()]
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind((tx_if, 0))
rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
rx.bind((rx_if, 0))
rx.settimeout(60)
def stopped():
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0] == 'T'
sent = 0
while sent < count:
    k = min(burst, count - sent)
    os.kill(pid, signal.SIGSTOP)
    while not stopped():
        time.sleep(0.001)
    for i in range(k):
        tx.send(frames[(sent + i) % len(frames)])
    time.sleep(0.002)  # the veth's backlog into the switch's socket
    os.kill(pid, signal.SIGCONT)
    got = 0
    while wait and got < k:
        try:
            _, addr = rx.recvfrom(2048)
        except socket.timeout:
            sys.exit('fw_callgrind: %d of a burst of %d came out on %s' % (got, k, rx_if))
        got += addr[2] != socket.PACKET_OUTGOING
    sent += k
PY
}

inject() {  # PORT FILE COUNT [WAIT]: send at batch 1 (dummy ports), else burst
  if ((BATCH == 1)); then send "$1" "$2" "$3"; else burst "$@"; fi
}

ovs_run() {  # FW(0|1) FLOWS: sets RESULT to "Ir/packet packets batch"
  local fw=$1 n=$2 pid out
  rm -rf "${D:?}"/*
  PIDS+=("$(ovs_db_start)")
  # The EMC takes every flow at once (OVS's default inserts 1 in 100): a
  # short warm-up then reaches the state a long e2e run ends in.
  V --no-wait set Open_vSwitch . other_config:emc-insert-inv-prob=1
  local cg=(valgrind --tool=callgrind "${CACHE[@]}" --collect-atstart=no --toggle-collect=dp_netdev_process_rxq_port
    --dump-instr=no --callgrind-out-file="$D/cg.out" "$ovsd" "unix:$D/db.sock" --disable-system
    --unixctl="$D/vsd.ctl" --log-file="$D/vsd.log")
  if ((BATCH == 1)); then
    "${cg[@]}" --enable-dummy=override >"$D/valgrind.log" 2>&1 &
  else
    ip netns exec "$NS" "${cg[@]}" >"$D/valgrind.log" 2>&1 &
  fi
  pid=$!
  OVS_PID=$pid
  PIDS+=("$pid")
  for ((i = 0; i < 600; i++)); do [[ -S $D/vsd.ctl ]] && break; sleep 0.1; done
  if ((BATCH == 1)); then
    ovs_compute_node dummy dummy patch "$( ((fw)) && echo fw)"
  else
    ovs_compute_node netdev system patch "$( ((fw)) && echo fw)"
  fi
  if ((fw)); then
    fw_generate "$D/fw.flows"
    fw_load "unix:$D/br-int.mgmt" "OVS, $n flows" "$D/fw.flows" >&2
  fi
  frames "$n"
  local warm=$((n * 3 > 600 ? n * 3 : 600)) count=$((n > 2000 ? n : 2000))
  inject eth2 "$D/learn.hex" 1 0  # the announcement floods to the VMs, not to eth2
  ((BATCH == 1)) || sleep 1          # (send awaits it in OVS's counters; burst cannot)
  inject vm1 "$D/vm1.hex" $warm      # warm: upcalls done, EMC filled
  A dpif-netdev/pmd-stats-clear >/dev/null
  callgrind_control -z "$pid" >/dev/null
  inject vm1 "$D/vm1.hex" $count
  callgrind_control -d "$pid" >/dev/null
  A dpif-netdev/pmd-stats-show | awk '/main thread/ {m=1} m && /(emc|megaflow) hits|upcalls/' |
    tr -s ' ' | paste -sd, | sed "s/^/  OVS, $n flows, fw=$fw:/" >&2
  local packets
  packets=$(received)
  for ((i = 0; i < 100; i++)); do ls "$D"/cg.out.* >/dev/null 2>&1 && break; sleep 0.1; done
  out=$(ls "$D"/cg.out.* | tail -1)
  read -r calls incl miss < <(calls_of "$out" dp_netdev_input)
  # A dummy port's packet has no headroom, so OVS's push_vlan reallocates
  # it (dp_packet_resize); an AF_XDP frame has headroom (as flowpath's
  # buffers): that work is left out.
  read -r _ resize resize_miss < <(calls_of "$out" dp_packet_resize)
  incl=$((incl - resize)) miss=$((miss - resize_miss))
  awk -v p="$packets" -v r="$resize" -v n="$n" -v fw="$fw" \
    'BEGIN {printf "  OVS, %d flows, fw=%d: push_vlan realloc left out: %.0f per packet\n", n, fw, p ? r / p : 0}' >&2
  kill "$pid" "$(cat "$D/ovsdb.pid")" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  PIDS=()
  RESULT=$(awk -v c="$calls" -v i="$incl" -v m="$miss" -v p="$packets" \
    'BEGIN {printf "%.0f %d %.1f %.2f", p ? i / p : 0, p, c ? p / c : 0, p ? m / p : 0}')
}

fp_run() {  # CASE FLOWS -> "Ir/packet packets D1mr/packet"
  local out pk ir miss
  out=$(FW_BENCH_BATCH=$BATCH valgrind --tool=callgrind "${CACHE[@]}" --collect-atstart=no --dump-instr=no \
    --toggle-collect='*measured_batch*' --callgrind-out-file="$D/fp.out" \
    "$bench" --fixed "$1" "$2" 4000 $(($2 * 1000 > 20000 ? $2 * 1000 : 20000)) 2>&1)
  grep -E "lookups|hints" <<<"$out" | sed "s/^ */  flowpath $1\/$2: /" >&2
  pk=$(sed -n 's/^[^ ]*: \([0-9]*\) packets, .*/\1/p' <<<"$out" | head -1)
  read -r ir miss < <(awk '/^events:/ {for (k = 2; k <= NF; k++) if ($k == "D1mr") d = k}
    /^summary:/ {print $2, d ? $d : 0}' "$D/fp.out")
  awk -v p="$pk" -v i="$ir" -v m="$miss" 'BEGIN {printf "%.0f %d %.2f\n", p ? i / p : 0, p, p ? m / p : 0}'
}

((BATCH == 1)) || ns_setup
printf "%-6s %-8s %14s %14s %10s\n" flows case "OVS Ir/pkt" "flowpath Ir/pkt" "fp / OVS"
for n in "${flows_list[@]}"; do
  for c in plain fw; do
    ovs_run $([[ $c == fw ]] && echo 1 || echo 0) "$n"
    read -r o on ob om <<<"$RESULT"
    read -r f fn fm < <(fp_run $([[ $c == fw ]] && echo fw_udp || echo plain) "$n")
    awk -v n="$n" -v c="$c" -v o="$o" -v f="$f" -v on="$on" -v fn="$fn" -v ob="$ob" -v b="$BATCH" \
      'BEGIN {printf "%-6s %-8s %14s %14s %10.2f   (%d and %d packets; batches: OVS %.1f, flowpath %d)\n",
              n, c, o, f, o ? f / o : 0, on, fn, ob, b}'
    ((${#CACHE[@]} == 0)) || awk -v om="$om" -v fm="$fm" \
      'BEGIN {printf "%-15s L1 data read misses per packet: OVS %.2f, flowpath %.2f\n", "", om, fm}'
  done
done
