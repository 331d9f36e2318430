#!/usr/bin/env bash
# e2e: when `ovs-vsctl add-port` (without --no-wait) returns, the new port
# already forwards (issue 10 §4: cur_cfg is never raised before the port
# forwards).  The switch follows a private, real ovsdb-server.
#   1. topology up (scripts/netns/topology.sh), switch on the database,
#      br-int with vm1 (tag=1, afxdp); static neighbours everywhere, so the
#      first packet sent after add-port returns is the ICMP echo itself (no
#      ARP to retry, and ping -c 1 sends exactly one request)
#   2. control: vm1 !-> vm2 while vm2 is not a port
#   3. ROUNDS times: add-port vm2 tag=1 (type "": AF_XDP on the veth), at
#      once ONE ping vm2 -> vm1 (the new socket receives the first frame:
#      its fill ring must be full already) and one vm1 -> vm2 must be
#      answered; del-port vm2, then vm1 !-> vm2 (the same ping fails: the
#      check can fail)
#   4. ROUNDS times: add-port in1 tag=1 type=internal (a TAP in the
#      switch's namespace), address and neighbours on it, ONE ping vm1 ->
#      in1 answered; del-port in1, then vm1 !-> in1
# Usage: tests/ovsdb/add_in_effect_test.sh BUILD_DIR [MAX_SLEEP_US [ROUNDS]]
#   MAX_SLEEP_US: run the switch with --pmd-max-sleep (idle PMD sleeps).
# Needs root; exits 77 (ctest: skipped) otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: add_in_effect_test.sh BUILD_DIR [MAX_SLEEP_US [ROUNDS]]}" && pwd)
SLEEP_US=${2:-}
ROUNDS=${3:-5}
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, AF_XDP)"; exit 77; }
for t in ping ovsdb-server ovsdb-tool ovs-vsctl; do
  command -v $t >/dev/null || { echo "SKIP: no $t (scripts/deps.sh installs it)"; exit 77; }
done
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
[[ -f $SCHEMA ]] || { echo "SKIP: no $SCHEMA"; exit 77; }
[[ -x $B/flowpath && -f $B/bpf/vlan_host.bpf.o ]] ||
  { echo "SKIP: build the targets flowpath_cli and flowpath_bpf in $B first"; exit 77; }
P=fpe$$ SW=fpe$$-sw
D=$(mktemp -d /tmp/fpe$$-XXXXXX)
LOG=$D/switch.log DB=unix:$D/db.sock
SWPID="" DBPID=""
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
cleanup() {
  if [[ -n $SWPID ]]; then kill -TERM "$SWPID" 2>/dev/null; wait "$SWPID" 2>/dev/null || true; fi
  if [[ -n $DBPID ]]; then kill -TERM "$DBPID" 2>/dev/null; wait "$DBPID" 2>/dev/null || true; fi
  "$root/scripts/netns/topology.sh" down "$P" >/dev/null 2>&1 || true
  rm -rf "$D"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [[ -f $LOG ]] && sed 's/^/  switch: /' "$LOG"; exit 1; }
vsctl() { ovs-vsctl --timeout=15 --db="$DB" "$@"; }
ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
one_ping() { ns vm1 ping -c 1 -W 1 "$1" >/dev/null 2>&1; }

ovsdb-tool create "$D/conf.db" "$SCHEMA"
ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --pidfile="$D/ovsdb.pid" \
  --unixctl="$D/ovsdb.ctl" --log-file="$D/ovsdb.log" -vconsole:off 2>/dev/null &
DBPID=$!
for _ in $(seq 100); do [[ -S $D/db.sock ]] && break; sleep 0.05; done
vsctl --no-wait init
"$root/scripts/netns/topology.sh" up "$P" "$B/bpf" >/dev/null
ip netns exec "$SW" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$SW" "$B/flowpath" switch --db "$DB" --ctl "$D/switch.ctl" \
  ${SLEEP_US:+--pmd-max-sleep "$SLEEP_US"} >>"$LOG" 2>&1 &
SWPID=$!
vsctl add-br br-int || fail "add-br"
vsctl add-port br-int vm1 tag=1 -- set interface vm1 type=afxdp || fail "add-port vm1"
# No ARP anywhere: the echo request is the first frame after add-port.
ns vm1 ip neigh replace 192.0.2.2 lladdr 02:00:00:00:02:01 dev eth0
ns vm2 ip neigh replace 192.0.2.1 lladdr 02:00:00:00:01:01 dev eth0
one_ping 192.0.2.2 && fail "vm1 reached vm2 before vm2 was a port"
echo "ok: control: vm1 !-> vm2 without the port"

# "" port: the veth vm2 opened as an AF_XDP port by add-port.
for r in $(seq "$ROUNDS"); do
  vsctl add-port br-int vm2 tag=1 || fail "round $r: add-port vm2"
  # vm2 sends first: the new AF_XDP socket must already receive (rings filled)
  ns vm2 ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1 ||
    fail "round $r: vm2's first ping after add-port vm2 returned was lost"
  one_ping 192.0.2.2 || fail "round $r: vm1 -> vm2 after add-port vm2 was lost"
  vsctl del-port br-int vm2 || fail "round $r: del-port vm2"
  one_ping 192.0.2.2 && fail "round $r: vm1 reached vm2 after del-port vm2"
done
echo "ok: $ROUNDS x add-port vm2 (\"\"): the first ping right after ovs-vsctl returned crossed; del-port: none"

# internal port: a TAP created by add-port, host side in the switch's namespace.
one_ping 192.0.2.9 && fail "something answers 192.0.2.9 before in1 exists"
for r in $(seq "$ROUNDS"); do
  vsctl add-port br-int in1 tag=1 -- set interface in1 type=internal || fail "round $r: add-port in1"
  ip -n "$SW" addr add 192.0.2.9/24 dev in1
  ip -n "$SW" neigh replace 192.0.2.1 lladdr 02:00:00:00:01:01 dev in1
  mac=$(ip -n "$SW" -o link show in1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
  ns vm1 ip neigh replace 192.0.2.9 lladdr "$mac" dev eth0
  one_ping 192.0.2.9 || fail "round $r: the first ping after add-port in1 returned was lost"
  vsctl del-port br-int in1 || fail "round $r: del-port in1"
  one_ping 192.0.2.9 && fail "round $r: vm1 reached in1 after del-port in1"
done
echo "ok: $ROUNDS x add-port in1 (internal): the first ping after ovs-vsctl returned crossed; del-port: none"
