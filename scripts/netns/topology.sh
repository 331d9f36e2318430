#!/usr/bin/env bash
# The compute-node topology of the demo, the e2e tests and the benchmark,
# built entirely inside network namespaces (nothing touches the host).
#
# Usage: scripts/netns/topology.sh up   PREFIX [BPF_DIR]
#        scripts/netns/topology.sh down PREFIX
#        scripts/netns/topology.sh env  PREFIX      (prints the names)
#
# Namespaces (all named PREFIX-...):
#   PREFIX-sw      the switch's side: veth ends vm1, vm2, vm3, eth2 (the
#                  switch process runs here via `ip netns exec PREFIX-sw`)
#   PREFIX-vm1     eth0 192.0.2.1/24     tenant VLAN 1 <-> provider VLAN 1000
#   PREFIX-vm2     eth0 192.0.2.2/24     tenant VLAN 1 <-> provider VLAN 1000
#   PREFIX-vm3     eth0 198.51.100.3/24  tenant VLAN 2 <-> provider VLAN 1001
#   PREFIX-remote  trunk (peer of eth2) carrying VLANs 1000 and 1001; the
#                  hosts v1000 192.0.2.100/24 and v1001 198.51.100.100/24
#
# VLAN subinterfaces in remote: real ones (`type vlan`) where the kernel
# has 802.1Q; otherwise (these machines) a plain Linux bridge rbr joins
# trunk with veth ends x1000 and x1001 whose peers v1000 and v1001 hold the
# addresses, and a tc-BPF program (examples/bpf/vlan_host.bpf.c) on each
# xN pops tag N towards the host (dropping everything else) and pushes
# tag N from it.  Either way v1000/v1001 behave as subinterfaces.
#
# MACs are fixed (the benchmark generator addresses them):
#   vm1 eth0 02:00:00:00:01:01, vm2 02:00:00:00:02:01, vm3 02:00:00:00:03:01,
#   remote v1000 02:00:00:00:10:00, v1001 02:00:00:00:10:01.
# Offloads: txvlan off on the trunk veths (else tags travel in metadata and
# XDP never sees them), tx checksum off on the hosts' veths (AF_XDP
# forwards frames as they are).
set -euo pipefail
cmd=${1:?usage: topology.sh up|down|env PREFIX [BPF_DIR]}
P=${2:?usage: topology.sh up|down|env PREFIX [BPF_DIR]}
root=$(cd "$(dirname "$0")/../.." && pwd)
BPF_DIR=${3:-${FLOWPATH_BPF_DIR:-$root/build/bpf}}
SW=$P-sw VM1=$P-vm1 VM2=$P-vm2 VM3=$P-vm3 REM=$P-remote

q() { "$@" >/dev/null 2>&1; }

down() {
  for ns in "$SW" "$VM1" "$VM2" "$VM3" "$REM"; do
    q ip netns del "$ns" || true
  done
}

host() {  # ns ifname-in-sw addr mac
  local ns=$1 swif=$2 addr=$3 mac=$4
  ip netns add "$ns"
  ip -n "$SW" link add "$swif" type veth peer name eth0 netns "$ns"
  ip -n "$ns" link set eth0 address "$mac"
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$SW" link set "$swif" up
  q ip netns exec "$ns" ethtool -K eth0 tx off txvlan off || true
  q ip netns exec "$SW" ethtool -K "$swif" txvlan off || true
  q ip netns exec "$ns" sysctl -w net.ipv6.conf.all.disable_ipv6=1 || true
}

remote_vlan() {  # vid addr mac
  local vid=$1 addr=$2 mac=$3
  if q ip -n "$REM" link add link trunk name "trunk.$vid" type vlan id "$vid"; then
    ip -n "$REM" link set "trunk.$vid" address "$mac"
    ip -n "$REM" addr add "$addr" dev "trunk.$vid"
    ip -n "$REM" link set "trunk.$vid" up
    return
  fi
  [[ -f $BPF_DIR/vlan_host.bpf.o ]] || {
    echo "topology: no 802.1Q here and $BPF_DIR/vlan_host.bpf.o missing (build examples/bpf)" >&2
    return 1
  }
  q ip -n "$REM" link show rbr || {
    ip -n "$REM" link add rbr type bridge
    ip -n "$REM" link set rbr up
    ip -n "$REM" link set trunk master rbr
  }
  ip -n "$REM" link add "x$vid" type veth peer name "v$vid"
  ip -n "$REM" link set "v$vid" address "$mac"
  ip -n "$REM" link set "x$vid" master rbr
  ip -n "$REM" addr add "$addr" dev "v$vid"
  ip -n "$REM" link set "x$vid" up
  ip -n "$REM" link set "v$vid" up
  q ip netns exec "$REM" ethtool -K "x$vid" txvlan off rxvlan off || true
  q ip netns exec "$REM" ethtool -K "v$vid" tx off txvlan off || true
  ip netns exec "$REM" tc qdisc add dev "x$vid" clsact
  ip netns exec "$REM" tc filter add dev "x$vid" egress bpf da obj "$BPF_DIR/vlan_host.bpf.o" sec "tc/pop_$vid"
  ip netns exec "$REM" tc filter add dev "x$vid" ingress bpf da obj "$BPF_DIR/vlan_host.bpf.o" sec "tc/push_$vid"
}

up() {
  down
  trap 'echo "topology: setup failed, removing $P-*" >&2; down' ERR
  ip netns add "$SW"
  ip -n "$SW" link set lo up
  host "$VM1" vm1 192.0.2.1/24 02:00:00:00:01:01
  host "$VM2" vm2 192.0.2.2/24 02:00:00:00:02:01
  host "$VM3" vm3 198.51.100.3/24 02:00:00:00:03:01
  ip netns add "$REM"
  ip -n "$REM" link set lo up
  ip -n "$SW" link add eth2 type veth peer name trunk netns "$REM"
  ip -n "$SW" link set eth2 up
  ip -n "$REM" link set trunk up
  q ip netns exec "$SW" ethtool -K eth2 txvlan off rxvlan off || true
  q ip netns exec "$REM" ethtool -K trunk txvlan off rxvlan off tx off || true
  q ip netns exec "$REM" sysctl -w net.ipv6.conf.all.disable_ipv6=1 || true
  remote_vlan 1000 192.0.2.100/24 02:00:00:00:10:00
  remote_vlan 1001 198.51.100.100/24 02:00:00:00:10:01
  trap - ERR
}

case $cmd in
  up) up ;;
  down) down ;;
  env) echo "SW=$SW VM1=$VM1 VM2=$VM2 VM3=$VM3 REMOTE=$REM" ;;
  *) echo "topology.sh: unknown command '$cmd' (up|down|env)" >&2; exit 2 ;;
esac
