#!/usr/bin/env bash
# e2e: `flowpath switch --db` following a private, real ovsdb-server, the
# compute node built and changed with ovs-vsctl as an operator would
# (issue 10 §2).  Needs root; exits 77 (ctest: skipped) otherwise.
#   1. private ovsdb-server (temp dir, ovsdb-tool create with the Debian
#      schema), topology up, the switch started on the database: no config
#   2. add-br br-int, add-port vm1 tag=1 (type=afxdp), vm3 tag=2 (type ""):
#      each ovs-vsctl WITHOUT --no-wait returns (cur_cfg written back);
#      ofport, link/admin state, mac_in_use, datapath_id written; vm1 !-> vm3 (VLANs differ)
#   3. live add-port vm2 tag=1: vm1 -> vm2 (the control for vm1 !-> vm3)
#   4. tag changes: vm3 -> tag 1 (vm1 -> vm3), vm2 -> tag 2 (vm1 !-> vm2,
#      control vm1 -> vm3)
#   5. del-port vm2 (back on tag 1 first: vm1 -> vm2): vm1 !-> vm2, its
#      XDP program gone (within 1 s: closed in the background), control vm1 -> vm3
#   6. a missing device: ofport -1 and `error`, vm1 -> vm3 still forwards;
#      `ovs-vsctl show` prints the error; add-br/del-br of a bridge (its
#      LOCAL TAP comes and goes); vm1 -> vm3 lost no packet over 5-6
#   6b. br-eth2 + eth2 + the patch pair in one ovs-vsctl call, the VLAN
#      translation flows via the control socket: vm1 -> remote (VLAN 1000);
#      del-port of one half: vm1 !-> remote, the other half ofport -1
#   7. SIGTERM, then the switch started again on the same database forwards
#      with no command (vm1 -> vm3), same ofport; SIGTERM leaves nothing
# Usage: tests/e2e/ovsdb_switch_test.sh BUILD_DIR [PMD_CORES [MAX_SLEEP_US]]
#        (e.g. 0,1: two PMD threads, ports split between them; MAX_SLEEP_US:
#        idle PMDs sleep, `--pmd-max-sleep`: every step must hold the same)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: ovsdb_switch_test.sh BUILD_DIR [PMD_CORES]}" && pwd)
CORES=${2:-}
SLEEP_US=${3:-}
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, AF_XDP)"; exit 77; }
for t in ping ovsdb-server ovsdb-tool ovs-vsctl; do
  command -v $t >/dev/null || { echo "SKIP: no $t (scripts/deps.sh installs it)"; exit 77; }
done
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
[[ -f $SCHEMA ]] || { echo "SKIP: no $SCHEMA"; exit 77; }
[[ -x $B/flowpath && -f $B/bpf/vlan_host.bpf.o ]] ||
  { echo "SKIP: build the targets flowpath_cli and flowpath_bpf in $B first"; exit 77; }
P=fpo$$ SW=fpo$$-sw
D=$(mktemp -d /tmp/fpo$$-XXXXXX)
SOCK=$D/switch.ctl LOG=$D/switch.log DB=unix:$D/db.sock
SWPID="" DBPID=""
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
stop_switch() {
  if [[ -n $SWPID ]]; then kill -TERM "$SWPID" 2>/dev/null; wait "$SWPID" 2>/dev/null || true; fi
  SWPID=""
}
cleanup() {
  stop_switch
  if [[ -n $DBPID ]]; then kill -TERM "$DBPID" 2>/dev/null; wait "$DBPID" 2>/dev/null || true; fi
  "$root/scripts/netns/topology.sh" down "$P" >/dev/null 2>&1 || true
  rm -rf "$D"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [[ -f $LOG ]] && sed 's/^/  switch: /' "$LOG"; exit 1; }
vsctl() { ovs-vsctl --timeout=15 --db="$DB" "$@"; }
can_ping() { ns "$1" ping -c "${3:-2}" -i 0.2 -W 1 "$2" >/dev/null 2>&1; }
must_ping() { can_ping "$1" "$2" 3 || fail "$3"; }
must_not_ping() { can_ping "$1" "$2" 1 && fail "$3" || true; }
# A removed port's device closes on the switch's closer thread once the
# change is in effect (switch/port_closer.hpp): gone within a second.
gone_soon() { for _ in $(seq 50); do "$@" || return 0; sleep 0.02; done; return 1; }
has_xdp() { ip -n "$SW" link show "$1" | grep -q xdp; }
has_link() { ip -n "$SW" link show "$1" >/dev/null 2>&1; }
start_switch() {
  rm -f "$SOCK"
  ip netns exec "$SW" "$B/flowpath" switch --db "$DB" --ctl "$SOCK" ${CORES:+--pmd-cores "$CORES"} \
    ${SLEEP_US:+--pmd-max-sleep "$SLEEP_US"} >>"$LOG" 2>&1 &
  SWPID=$!
  for _ in $(seq 100); do [[ -S $SOCK ]] && break; kill -0 "$SWPID" 2>/dev/null || break; sleep 0.1; done
  [[ -S $SOCK ]] || fail "the switch did not start"
}

# 1. database, topology, switch
ovsdb-tool create "$D/conf.db" "$SCHEMA"
ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --pidfile="$D/ovsdb.pid" \
  --unixctl="$D/ovsdb.ctl" --log-file="$D/ovsdb.log" -vconsole:off 2>/dev/null &
DBPID=$!
for _ in $(seq 100); do [[ -S $D/db.sock ]] && break; sleep 0.05; done
vsctl --no-wait init
"$root/scripts/netns/topology.sh" up "$P" "$B/bpf" >/dev/null
ip netns exec "$SW" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
ip -n "$P-vm1" route add 198.51.100.0/24 dev eth0
ip -n "$P-vm3" route add 192.0.2.0/24 dev eth0
# remote holds both VLANs' hosts in one namespace: ARP only on the owner
ns remote sysctl -qw net.ipv4.conf.all.arp_ignore=1
start_switch
echo "ok: private ovsdb-server, switch following it"

# 2. the compute node, as an operator builds it
vsctl add-br br-int || fail "add-br (cur_cfg not written back?)"
vsctl add-port br-int vm1 tag=1 -- set interface vm1 type=afxdp || fail "add-port vm1"
vsctl add-port br-int vm3 tag=2 || fail "add-port vm3"
[[ $(vsctl get interface vm1 ofport) == 1 ]] || fail "vm1 ofport $(vsctl get interface vm1 ofport)"
[[ $(vsctl get interface br-int ofport) == 65534 ]] || fail "br-int ofport"
[[ $(vsctl get open_vswitch . cur_cfg) == $(vsctl get open_vswitch . next_cfg) ]] || fail "cur_cfg"
# link state follows the device (re-read once a second): up within 3 s
for _ in $(seq 30); do [[ $(vsctl get interface vm1 link_state) == up ]] && break; sleep 0.1; done
[[ $(vsctl get interface vm1 link_state) == up ]] || fail "vm1 link_state $(vsctl get interface vm1 link_state)"
[[ $(vsctl get interface vm1 admin_state) == up ]] || fail "vm1 admin_state"
vsctl get interface vm1 mac_in_use | grep -Eq '"([0-9a-f]{2}:){5}[0-9a-f]{2}"' || fail "vm1 mac_in_use"
vsctl get bridge br-int datapath_id | grep -Eq '"[0-9a-f]{16}"' || fail "br-int datapath_id"
must_not_ping vm1 198.51.100.3 "vm1 reached vm3 across VLANs"
echo "ok: add-br, add-port (ovs-vsctl returned), ofport written, vm1 !-> vm3 (VLAN 1 vs 2)"

# 3. a port added live
vsctl add-port br-int vm2 tag=1 || fail "add-port vm2"
must_ping vm1 192.0.2.2 "vm1 -> vm2 after add-port vm2"
echo "ok: add-port vm2 live: vm1 -> vm2 (control of the isolation above)"

# 4. tags changed live
vsctl set port vm3 tag=1 || fail "set port vm3 tag=1"
must_ping vm1 198.51.100.3 "vm1 -> vm3 after vm3 moved to VLAN 1"
vsctl set port vm2 tag=2 || fail "set port vm2 tag=2"
must_not_ping vm1 192.0.2.2 "vm1 reached vm2 after vm2 moved to VLAN 2"
must_ping vm1 198.51.100.3 "vm1 -> vm3 (control)"
echo "ok: tag changes move isolation: vm1 -> vm3, vm1 !-> vm2"

# 5. a port deleted live; meanwhile vm1 -> vm3 (untouched) is measured:
#    500 pings 10 ms apart across steps 5 and 6 and a bridge added/deleted
ns vm1 ping -c 500 -i 0.01 -W 1 198.51.100.3 >"$D/untouched.txt" 2>&1 &
PINGPID=$!
vsctl set port vm2 tag=1 || fail "set port vm2 tag=1"
must_ping vm1 192.0.2.2 "vm1 -> vm2 back on VLAN 1"
vsctl del-port vm2 || fail "del-port vm2"
must_not_ping vm1 192.0.2.2 "vm1 reached vm2 after del-port"
gone_soon has_xdp vm2 || fail "XDP left on vm2 after del-port"
must_ping vm1 198.51.100.3 "vm1 -> vm3 (control)"
echo "ok: del-port vm2: vm1 !-> vm2, XDP detached; vm1 -> vm3"

# 6. a device that does not exist
vsctl add-port br-int ghost$$ || fail "add-port ghost"
[[ $(vsctl get interface ghost$$ ofport) == -1 ]] || fail "ghost ofport $(vsctl get interface ghost$$ ofport)"
vsctl get interface ghost$$ error | grep -q . || fail "ghost has no error"
must_ping vm1 198.51.100.3 "vm1 -> vm3 with a failed port beside"
vsctl show | tee "$D/show.txt" | sed 's/^/  /'
grep -q "error:" "$D/show.txt" || fail "ovs-vsctl show lacks the error"
echo "ok: missing device: ofport -1, error set, the rest forwards"
BX=fpx$$
vsctl add-br $BX || fail "add-br $BX"
ip -n "$SW" link show $BX >/dev/null 2>&1 || fail "no LOCAL TAP device $BX after add-br"
vsctl del-br $BX || fail "del-br $BX"
gone_soon has_link $BX || fail "TAP device $BX left after del-br"
echo "ok: add-br / del-br $BX: its LOCAL TAP device comes and goes"
wait $PINGPID || true
grep -q " 500 received" "$D/untouched.txt" ||
  fail "vm1 -> vm3 lost packets during the changes: $(grep 'packet loss' "$D/untouched.txt")"
echo "ok: untouched vm1 -> vm3 during steps 5-6: $(grep -o '[0-9]* received, [0-9.]*% packet loss' "$D/untouched.txt")"

# 6b. the provider side, live: br-eth2 with eth2 and the patch pair in one
#     ovs-vsctl call; Neutron's VLAN translation flows through the control
#     socket (the OpenFlow channel is issue 11); vm1 -> remote (VLAN 1000)
vsctl add-br br-eth2 -- add-port br-eth2 eth2 \
  -- add-port br-int int-br-eth2 -- set interface int-br-eth2 type=patch options:peer=phy-br-eth2 \
  -- add-port br-eth2 phy-br-eth2 -- set interface phy-br-eth2 type=patch options:peer=int-br-eth2 ||
  fail "add-br br-eth2 with the patch pair"
ctl() { "$B/flowpath" ctl --socket "$SOCK" "$@"; }
ctl add-flow br-int "priority=3,in_port=int-br-eth2,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL"
ctl add-flow br-int "priority=2,in_port=int-br-eth2 actions=drop"
ctl add-flow br-eth2 "priority=4,in_port=phy-br-eth2,dl_vlan=1 actions=mod_vlan_vid:1000,NORMAL"
ctl add-flow br-eth2 "priority=2,in_port=phy-br-eth2 actions=drop"
must_ping vm1 192.0.2.100 "vm1 -> remote (VLAN 1000) over the new patch pair"
vsctl del-port br-int int-br-eth2 || fail "del-port int-br-eth2"
must_not_ping vm1 192.0.2.100 "vm1 reached remote with half the patch pair gone"
[[ $(vsctl get interface phy-br-eth2 ofport) == -1 ]] || fail "phy-br-eth2 without its peer has an ofport"
must_ping vm1 198.51.100.3 "vm1 -> vm3 (control)"
echo "ok: br-eth2 + patch pair live: vm1 -> remote VLAN 1000; del-port of one half cuts it (peer: ofport -1)"

# 7. restart on the same database
stop_switch
ip -n "$SW" link show | grep -q xdp && fail "XDP left after SIGTERM"
start_switch
must_ping vm1 198.51.100.3 "vm1 -> vm3 after restart, no command"
[[ $(vsctl get interface vm1 ofport) == 1 ]] || fail "vm1 ofport changed on restart"
echo "ok: restart on the same database forwards with no command"
kill -TERM "$SWPID"
rc=0; wait "$SWPID" || rc=$?
SWPID=""
[[ $rc -eq 0 ]] || fail "the switch exited with $rc on SIGTERM"
ip -n "$SW" link show | grep -q xdp && fail "XDP program left attached"
for t in br-int br-eth2; do
  ip -n "$SW" link show $t >/dev/null 2>&1 && fail "TAP device $t left behind"
done
cleanup; trap - EXIT
ip netns list | grep -q "^$P-" && fail "namespaces left"
echo "ok: stopped, nothing left behind"
