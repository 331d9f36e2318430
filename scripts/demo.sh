#!/usr/bin/env bash
# The README's main command: the OpenStack compute node of the seed article,
# switched by flowpath.
#
#   sudo scripts/demo.sh
#
# 1. installs missing Debian packages (scripts/deps.sh) and builds only what
#    the demo needs (build-demo/, or $FLOWPATH_DEMO_BUILD);
# 2. as root: builds the topology in network namespaces only
#    (scripts/netns/topology.sh: vm1, vm2 on tenant VLAN 1 <-> provider
#    VLAN 1000, vm3 on VLAN 2 <-> 1001, remote at eth2's far end with its
#    VLAN 1000/1001 hosts; addresses from 192.0.2.0/24 and 198.51.100.0/24
#    inside the namespaces only), starts `flowpath switch` on
#    examples/compute_node/compute-node.conf, pings vm1 -> remote, vm3 ->
#    remote and vm1 -> vm2, shows that vm1 cannot reach the VLAN 1001
#    network, prints `flowpath ctl show`, both bridges' dump-flows with
#    their counters, fdb/show br-int, dpctl/show and pmd-stats-show, and
#    removes everything it created (also on Ctrl-C or failure);
# 3. without root: says so and runs the same bridges over pcap files
#    instead (`flowpath replay`, no privileges): the inputs are written by
#    flowpath-demo-pcaps, the outputs shown with tcpdump -r -e.
# Env: JOBS (default nproc), FLOWPATH_DEMO_BUILD (default build-demo/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${FLOWPATH_DEMO_BUILD:-$root/build-demo}
conf=$root/examples/compute_node/compute-node.conf
say() { printf '\n\033[1m=== %s\033[0m\n' "$*"; }

"$root/scripts/deps.sh"
say "building in $out"
cmake -S "$root" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWPATH_BUILD_TESTS=OFF \
      -DFLOWPATH_BUILD_BENCH=OFF -DFLOWPATH_BUILD_EXAMPLES=ON >/dev/null
if [[ $(id -u) -ne 0 ]]; then
  cmake --build "$out" -j "${JOBS:-$(nproc)}" --target flowpath_cli flowpath_demo_pcaps
  say "not root: the live demo needs root (network namespaces, AF_XDP, TAP devices)"
  echo "Running the same bridges over pcap files instead (flowpath replay)."
  echo "For the live compute node: sudo $0"
  d=$out/demo/replay
  rm -rf "$d" && mkdir -p "$d/out"
  "$out/flowpath-demo-pcaps" "$d"
  say "flowpath replay --config $conf"
  "$out/flowpath" replay --config "$conf" --in "vm1=$d/vm1.pcap" --in "vm3=$d/vm3.pcap" \
    --in "eth2=$d/eth2.pcap" --out-dir "$d/out"
  for port in eth2 vm1 vm2 vm3; do
    say "what left port $port (tcpdump -n -e -r $d/out/$port.pcap)"
    tcpdump -n -e -r "$d/out/$port.pcap" 2>/dev/null || true
  done
  echo
  echo "vm1's frames leave eth2 on VLAN 1000, vm3's on VLAN 1001; vm3 never sees vm1's ARP."
  exit 0
fi

cmake --build "$out" -j "${JOBS:-$(nproc)}" --target flowpath_cli flowpath_bpf
P=fpdemo
SOCK=/run/flowpath/demo.$$.ctl
LOG=$out/demo/switch.log
mkdir -p "$out/demo" /run/flowpath
SWPID=""
cleanup() {
  set +e
  if [[ -n $SWPID ]]; then kill -TERM "$SWPID" 2>/dev/null; wait "$SWPID" 2>/dev/null; fi
  "$root/scripts/netns/topology.sh" down "$P" >/dev/null 2>&1
  rm -f "$SOCK"
}
trap cleanup EXIT
ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
ctl() { "$out/flowpath" ctl --socket "$SOCK" "$@"; }
show() { say "flowpath ctl $*"; ctl "$@"; }

say "topology: namespaces $P-{sw,vm1,vm2,vm3,remote}"
"$root/scripts/netns/topology.sh" up "$P" "$out/bpf"
ip netns exec "$P-sw" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
ns remote sysctl -qw net.ipv4.conf.all.arp_ignore=1   # its two hosts share a namespace
ip -n "$P-vm1" route add 198.51.100.0/24 dev eth0   # so vm1 really tries (ARPs)

say "flowpath switch --config $conf --ctl $SOCK   (in namespace $P-sw)"
ip netns exec "$P-sw" "$out/flowpath" switch --config "$conf" --ctl "$SOCK" >"$LOG" 2>&1 &
SWPID=$!
for _ in $(seq 100); do [[ -S $SOCK ]] && break; kill -0 "$SWPID" 2>/dev/null || break; sleep 0.1; done
cat "$LOG"
[[ -S $SOCK ]] || { echo "demo: the switch did not start (log above)"; exit 1; }

status=0
ping_ok() {  # ns addr what
  say "$3: ip netns exec $P-$1 ping $2"
  ns "$1" ping -c 3 -i 0.3 -W 2 "$2" || { echo "demo: FAILED: $3"; status=1; }
}
ping_ok vm1 192.0.2.100 "vm1 -> remote (tenant VLAN 1 = provider VLAN 1000)"
ping_ok vm3 198.51.100.100 "vm3 -> remote (tenant VLAN 2 = provider VLAN 1001)"
ping_ok vm1 192.0.2.2 "vm1 -> vm2 (same tenant VLAN, same bridge)"
say "isolation: vm1 -> 198.51.100.100 (the VLAN 1001 network) must fail"
if ns vm1 ping -c 2 -i 0.3 -W 1 198.51.100.100; then
  echo "demo: FAILED: vm1 reached the VLAN 1001 network"; status=1
else
  echo "-> no answer: vm1's frames only ever travel on VLAN 1 / 1000"
fi

show show
show dump-flows br-int
show dump-flows br-eth2
show fdb/show br-int
show dpctl/dump-flows
show dpctl/show
show pmd-stats-show
say "cleaning up (switch, namespaces)"
exit $status
