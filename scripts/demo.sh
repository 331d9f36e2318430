#!/usr/bin/env bash
# The README's main command: the OpenStack compute node of the seed article,
# switched by flowpath.
#
#   sudo scripts/demo.sh
#
# 1. installs missing Debian packages (scripts/deps.sh) and builds only what
#    the demo needs (build-demo/, or $FLOWPATH_DEMO_BUILD);
# 2. as root: starts a private ovsdb-server (the standard Open_vSwitch
#    schema; its database, sockets, pid and log files in a fresh temp dir,
#    never the system's /var/run/openvswitch or its service), builds the
#    topology in network namespaces only (scripts/netns/topology.sh: vm1,
#    vm2 on tenant VLAN 1 <-> provider VLAN 1000, vm3 on VLAN 2 <-> 1001,
#    remote at eth2's far end with its VLAN 1000/1001 hosts; addresses from
#    192.0.2.0/24 and 198.51.100.0/24 inside the namespaces only), starts
#    `flowpath switch --db unix:...` in the switch's namespace, builds the
#    compute node with ovs-vsctl as an operator would (br-int with vm1-vm3,
#    br-eth2 with eth2, the patch pair), puts the Neutron VLAN-translation
#    flows of examples/compute_node/compute-node.conf in with `ovs-ofctl
#    add-flow` over OpenFlow (each bridge gets a punix: controller target
#    with ovs-vsctl set-controller), prints `ovs-vsctl show`, pings
#    vm1 -> remote, vm3 -> remote and vm1 -> vm2, shows that vm1 cannot
#    reach the VLAN 1001 network, prints `flowpath ctl show`, both bridges'
#    `ovs-ofctl dump-flows` and dump-flows with their counters, fdb/show br-int, dpctl/show and
#    pmd-stats-show, and removes everything it created (also on Ctrl-C or
#    failure; it kills only the PIDs it started);
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
for t in ovsdb-server ovsdb-tool ovs-vsctl ovs-ofctl; do
  command -v $t >/dev/null || { echo "demo: no $t (scripts/deps.sh installs openvswitch-switch)"; exit 1; }
done
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
P=fpdemo
# Everything of ours under one temp dir: the database, its socket, pid,
# log and unixctl files, the switch's control socket and log.  OVS_* make
# ovs-vsctl and ovsdb-server use it instead of /var/run/openvswitch.
D=$(mktemp -d /tmp/flowpath-demo.XXXXXX)
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
DB=unix:$D/db.sock SOCK=$D/switch.ctl LOG=$D/switch.log
SWPID="" DBPID=""
cleanup() {
  set +e
  # only the PIDs this script started
  if [[ -n $SWPID ]]; then kill -TERM "$SWPID" 2>/dev/null; wait "$SWPID" 2>/dev/null; fi
  if [[ -n $DBPID ]]; then kill -TERM "$DBPID" 2>/dev/null; wait "$DBPID" 2>/dev/null; fi
  "$root/scripts/netns/topology.sh" down "$P" >/dev/null 2>&1
  rm -rf "$D"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM
ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
ctl() { "$out/flowpath" ctl --socket "$SOCK" "$@"; }
show() { say "flowpath ctl $*"; ctl "$@"; }
# ovs-vsctl as an operator types it (printed), on our private database;
# without --no-wait each call returns once the switch has the change in effect
vsctl() {
  printf '$ ovs-vsctl'; printf ' %s' "$@"; echo
  ovs-vsctl --timeout=20 --db="$DB" "$@"
}

say "private ovsdb-server in $D (not the system's /var/run/openvswitch)"
ovsdb-tool create "$D/conf.db" "$SCHEMA"
ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --pidfile="$D/ovsdb.pid" \
  --unixctl="$D/ovsdb.ctl" --log-file="$D/ovsdb.log" -vconsole:off 2>/dev/null &
DBPID=$!
for _ in $(seq 100); do [[ -S $D/db.sock ]] && break; sleep 0.05; done
[[ -S $D/db.sock ]] || { echo "demo: ovsdb-server did not start ($D/ovsdb.log)"; exit 1; }
ovs-vsctl --db="$DB" --no-wait init
echo "ovsdb-server $D/conf.db --remote=punix:$D/db.sock (pid $DBPID)"

say "topology: namespaces $P-{sw,vm1,vm2,vm3,remote}"
"$root/scripts/netns/topology.sh" up "$P" "$out/bpf"
ip netns exec "$P-sw" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
ns remote sysctl -qw net.ipv4.conf.all.arp_ignore=1   # its two hosts share a namespace
ip -n "$P-vm1" route add 198.51.100.0/24 dev eth0   # so vm1 really tries (ARPs)

say "flowpath switch --db $DB --ctl $SOCK   (in namespace $P-sw)"
ip netns exec "$P-sw" "$out/flowpath" switch --db "$DB" --ctl "$SOCK" >"$LOG" 2>&1 &
SWPID=$!
for _ in $(seq 100); do [[ -S $SOCK ]] && break; kill -0 "$SWPID" 2>/dev/null || break; sleep 0.1; done
cat "$LOG"
[[ -S $SOCK ]] || { echo "demo: the switch did not start (log above)"; exit 1; }

say "the compute node, built with ovs-vsctl as an operator (or Neutron's agent) would"
vsctl add-br br-int -- set-fail-mode br-int secure
vsctl add-port br-int vm1 tag=1 -- set interface vm1 type=afxdp
vsctl add-port br-int vm2 tag=1 -- set interface vm2 type=afxdp
vsctl add-port br-int vm3 tag=2 -- set interface vm3 type=afxdp
vsctl add-br br-eth2 -- set-fail-mode br-eth2 secure
vsctl add-port br-eth2 eth2 -- set interface eth2 type=afxdp
vsctl add-port br-int int-br-eth2 -- set interface int-br-eth2 type=patch options:peer=phy-br-eth2 \
  -- add-port br-eth2 phy-br-eth2 -- set interface phy-br-eth2 type=patch options:peer=int-br-eth2

say "the Neutron VLAN-translation flows (from $(basename "$conf")) over OpenFlow, with ovs-ofctl"
# Each bridge gets a passive OpenFlow target (a unix socket in $D), as
# ovs-vswitchd's br.mgmt; ovs-ofctl talks to it as it would to OVS.
vsctl set-controller br-int "punix:$D/br-int.mgmt" -- set-controller br-eth2 "punix:$D/br-eth2.mgmt"
for _ in $(seq 100); do [[ -S $D/br-int.mgmt && -S $D/br-eth2.mgmt ]] && break; sleep 0.05; done
ofctl() {
  local cmd=$1 br=$2; shift 2
  printf '$ ovs-ofctl %s %s' "$cmd" "$br"; (($#)) && printf ' "%s"' "$@"; echo
  ovs-ofctl "$cmd" "unix:$D/$br.mgmt" "$@"
}
while read -r verb br flow; do
  [[ $verb == add-flow ]] || continue
  ofctl add-flow "$br" "$flow"
done <"$conf"

say "ovs-vsctl show   (the seed's first command)"
ovs-vsctl --db="$DB" show

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
say "ovs-ofctl dump-flows   (the seed's second command, over the OpenFlow channel)"
ofctl dump-flows br-int
ofctl dump-flows br-eth2
show dump-flows br-int
show dump-flows br-eth2
show fdb/show br-int
show dpctl/dump-flows
show dpctl/show
show pmd-stats-show
say "ovs-vsctl list interface vm1   (what the switch wrote back)"
ovs-vsctl --db="$DB" --columns=name,ofport,link_state,admin_state,mac_in_use,error list interface vm1
say "cleaning up (switch, ovsdb-server, namespaces, $D)"
exit $status
