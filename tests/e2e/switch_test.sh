#!/usr/bin/env bash
# e2e: `flowpath switch` on the compute-node topology (issue 6 §5).  Needs
# root; exits 77 (ctest: skipped) otherwise.
#   1. topology up, switch started on examples/compute_node/compute-node.conf
#   2. pings: vm1 -> remote VLAN 1000 host, vm3 -> remote VLAN 1001 host,
#      vm1 -> vm2; tcpdump at eth2's far end sees vm1's traffic on VLAN 1000
#   3. isolation: vm1 (with an on-link route, so it really ARPs) cannot
#      reach the VLAN 1001 network, vm3 cannot reach VLAN 1000's (remote
#      gets arp_ignore=1: its two hosts share a namespace)
#   4. add-flow priority=10,in_port=vm1,actions=drop stops vm1 at once;
#      del-flows brings it back at once
#   5. Debian's real ovs-appctl -t SOCKET: show, bridge/dump-flows,
#      dpif-netdev/pmd-stats-show, fdb/show (skipped if not installed)
#   6. SIGTERM: the switch exits 0; no socket, XDP program, TAP device,
#      process, namespace or veth is left behind
# Usage: tests/e2e/switch_test.sh BUILD_DIR [PMD_CORES]   (e.g. 0,1: two PMD
#        threads, ports split between them, cross-thread transmit)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: switch_test.sh BUILD_DIR}" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "SKIP: e2e switch test needs root (network namespaces, AF_XDP)"; exit 77; }
for t in ping tcpdump; do
  command -v $t >/dev/null || { echo "SKIP: no $t (scripts/deps.sh installs it)"; exit 77; }
done
[[ -x $B/flowpath && -f $B/bpf/vlan_host.bpf.o ]] ||
  { echo "SKIP: build the targets flowpath_cli and flowpath_bpf in $B first"; exit 77; }
P=fps$$ SW=fps$$-sw
SOCK=/tmp/$P.ctl LOG=/tmp/$P-switch.log
SWPID=""
ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
cleanup() {
  if [[ -n $SWPID ]]; then kill -TERM "$SWPID" 2>/dev/null; wait "$SWPID" 2>/dev/null || true; fi
  "$root/scripts/netns/topology.sh" down "$P" >/dev/null 2>&1 || true
  rm -f "$SOCK" "$LOG" "/tmp/$P-dump.log"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [[ -f $LOG ]] && sed 's/^/  switch: /' "$LOG"; exit 1; }
ctl() { "$B/flowpath" ctl --socket "$SOCK" "$@"; }
can_ping() { ns "$1" ping -c "${3:-2}" -i 0.2 -W 1 "$2" >/dev/null 2>&1; }

# 1. topology and switch
"$root/scripts/netns/topology.sh" up "$P" "$B/bpf" >/dev/null
ip netns exec "$SW" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
# remote holds both VLANs' hosts in one namespace: answer ARP only on the
# interface that owns the address, as two separate hosts would.
ns remote sysctl -qw net.ipv4.conf.all.arp_ignore=1
ip -n "$P-vm1" route add 198.51.100.0/24 dev eth0
ip -n "$P-vm3" route add 192.0.2.0/24 dev eth0
ip netns exec "$SW" "$B/flowpath" switch --config "$root/examples/compute_node/compute-node.conf" \
  --ctl "$SOCK" ${2:+--pmd-cores "$2"} >"$LOG" 2>&1 &
SWPID=$!
for _ in $(seq 100); do [[ -S $SOCK ]] && break; kill -0 "$SWPID" 2>/dev/null || break; sleep 0.1; done
[[ -S $SOCK ]] || fail "the switch did not start"
ctl version >/dev/null || fail "flowpath ctl version"
echo "ok: switch up ($(head -1 "$LOG"))"

# 2. forwarding, VLAN on the wire
ns remote timeout 10 tcpdump -c 1 -e -n -i trunk vlan 1000 and icmp >"/tmp/$P-dump.log" 2>/dev/null &
DUMP=$!
sleep 1
can_ping vm1 192.0.2.100 3 || fail "vm1 -> remote (VLAN 1000)"
can_ping vm3 198.51.100.100 || fail "vm3 -> remote (VLAN 1001)"
can_ping vm1 192.0.2.2 || fail "vm1 -> vm2"
wait "$DUMP" || true
grep -q "vlan 1000" "/tmp/$P-dump.log" || fail "tcpdump at eth2's far end saw no VLAN 1000"
echo "ok: vm1 -> remote (VLAN 1000 on the trunk), vm3 -> remote (VLAN 1001), vm1 -> vm2"

# 3. isolation
can_ping vm1 198.51.100.100 1 && fail "vm1 reached the VLAN 1001 network"
can_ping vm1 198.51.100.3 1 && fail "vm1 reached vm3"
can_ping vm3 192.0.2.100 1 && fail "vm3 reached the VLAN 1000 network"
echo "ok: tenant networks isolated"

# 4. run-time flow changes take effect at once
ctl add-flow br-int "priority=10,in_port=vm1,actions=drop" || fail "add-flow"
can_ping vm1 192.0.2.100 1 && fail "vm1 still forwarded after add-flow ...drop"
ctl dump-flows br-int | grep -q "priority=10,in_port=vm1 actions=drop" || fail "dump-flows lacks the new flow"
ctl del-flows br-int "in_port=vm1" || fail "del-flows"
can_ping vm1 192.0.2.100 1 || fail "vm1 blocked after del-flows"
echo "ok: add-flow / del-flows change forwarding at once"

# 5. the real ovs-appctl as a client
if command -v ovs-appctl >/dev/null; then
  ovs-appctl -t "$SOCK" show | grep -q "Bridge br-eth2" || fail "ovs-appctl show"
  ovs-appctl -t "$SOCK" bridge/dump-flows br-int | grep -q "n_packets=[1-9]" || fail "ovs-appctl bridge/dump-flows"
  ovs-appctl -t "$SOCK" dpif-netdev/pmd-stats-show | grep -q "packets received: [1-9]" ||
    fail "ovs-appctl dpif-netdev/pmd-stats-show"
  ovs-appctl -t "$SOCK" fdb/show br-int | grep -q "02:00:00:00:01:01" || fail "ovs-appctl fdb/show"
  ovs-appctl -t "$SOCK" no-such-command >/dev/null 2>&1 && fail "ovs-appctl accepted an unknown command"
  echo "ok: ovs-appctl -t SOCKET show / bridge/dump-flows / dpif-netdev/pmd-stats-show / fdb/show"
else
  echo "note: ovs-appctl not installed, its client check skipped"
fi

# 6. shutdown leaves nothing behind
kill -TERM "$SWPID"
rc=0; wait "$SWPID" || rc=$?
SWPID=""
[[ $rc -eq 0 ]] || fail "the switch exited with $rc on SIGTERM"
[[ -e $SOCK ]] && fail "control socket left behind"
ip -n "$SW" link show | grep -q "xdp" && fail "XDP program left attached"
ip -n "$SW" link show br-int >/dev/null 2>&1 && fail "TAP device br-int left behind"
cleanup; trap - EXIT
ip netns list | grep -q "^$P-" && fail "namespaces left: $(ip netns list | grep "^$P-")"
# Only what this run created: its veths live in its own namespaces (gone
# above), so the host may keep only interfaces whose names are not ours.
ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -q "^$P" &&
  fail "interfaces named $P* left on the host"
echo "ok: switch stopped, nothing left behind"
