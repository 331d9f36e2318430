#!/usr/bin/env bash
# e2e: the netns topology, the floor forwarder over real AF_XDP ports, and
# the tc-BPF VLAN hosts.  Needs root; exits 77 (ctest: skipped) otherwise.
#   1. topology up; flowpath-floor between vm1 and vm2: vm1 pings vm2
#      through AF_XDP; after the floor exits no XDP program is left.
#   2. a stand-in switch (Linux bridge + vlan_host.bpf.o tagging vm1's
#      port with VLAN 1000): vm1 pings remote's VLAN 1000 host, tcpdump on
#      the trunk's far end sees VLAN 1000, vm1 cannot reach VLAN 1001.
#   3. topology down leaves no namespace, process or XDP program.
# Usage: tests/e2e/topology_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:?usage: topology_test.sh BUILD_DIR}
[[ $(id -u) -eq 0 ]] || { echo "SKIP: e2e topology test needs root"; exit 77; }
command -v ping >/dev/null || { echo "SKIP: no ping (scripts/deps.sh installs iputils-ping)"; exit 77; }
[[ -x $B/flowpath-floor && -f $B/bpf/vlan_host.bpf.o ]] || { echo "SKIP: build flowpath_floor and flowpath_bpf first"; exit 77; }
P=fpe$$ SW=fpe$$-sw
FLOOR=""
cleanup() {
  [[ -n $FLOOR ]] && kill "$FLOOR" 2>/dev/null && wait "$FLOOR" 2>/dev/null
  "$root/scripts/netns/topology.sh" down "$P" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$root/scripts/netns/topology.sh" up "$P" "$B/bpf"

# 1. the floor forwards vm1 <-> vm2 over AF_XDP
ip netns exec "$SW" "$B/flowpath-floor" vm1 vm2 >/tmp/$P-floor.log 2>&1 &
FLOOR=$!
for _ in $(seq 50); do [[ $(grep -c '^floor:' /tmp/$P-floor.log) -ge 2 ]] && break; sleep 0.1; done
ip netns exec "$P-vm1" ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null || { cat /tmp/$P-floor.log; fail "vm1 -> vm2 through the floor"; }
kill -INT "$FLOOR"; wait "$FLOOR" || true; FLOOR=""
grep -q "^port vm1: rx [1-9]" /tmp/$P-floor.log || fail "floor counted nothing"
rm -f /tmp/$P-floor.log
ip -n "$SW" link show | grep -q "xdp" && fail "XDP program left attached after the floor exited"
echo "ok: vm1 -> vm2 through flowpath-floor, no XDP left"

# 2. stand-in switch: bridge vm1 and eth2, tag vm1's traffic with 1000
ip -n "$SW" link add swbr type bridge
ip -n "$SW" link set swbr up
for i in vm1 eth2; do ip -n "$SW" link set "$i" master swbr; done
ip netns exec "$SW" tc qdisc add dev vm1 clsact
ip netns exec "$SW" tc filter add dev vm1 ingress bpf da obj "$B/bpf/vlan_host.bpf.o" sec tc/push_1000
ip netns exec "$SW" tc filter add dev vm1 egress bpf da obj "$B/bpf/vlan_host.bpf.o" sec tc/pop_1000
ip netns exec "$P-remote" timeout 10 tcpdump -c 1 -e -n -i trunk vlan 1000 >/tmp/$P-dump.log 2>/dev/null &
DUMP=$!
sleep 1
ip netns exec "$P-vm1" ping -c 3 -i 0.2 -W 2 192.0.2.100 >/dev/null || fail "vm1 -> remote on VLAN 1000"
wait "$DUMP" || true
grep -q "vlan 1000" /tmp/$P-dump.log || fail "tcpdump at the trunk's far end saw no VLAN 1000"
rm -f /tmp/$P-dump.log
ip netns exec "$P-vm1" ping -c 1 -W 1 198.51.100.100 >/dev/null 2>&1 && fail "vm1 reached the VLAN 1001 network"
echo "ok: VLAN 1000 host in remote reachable, tagged on the trunk, VLAN 1001 isolated"

# 3. nothing left behind
cleanup; trap - EXIT
ip netns list | grep -q "^$P-" && fail "namespaces left: $(ip netns list | grep "^$P-")"
echo "ok: topology removed"
