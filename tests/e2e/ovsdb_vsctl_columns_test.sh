#!/usr/bin/env bash
# e2e: what `ovs-vsctl` reads back from the switch, flowpath against the real
# ovs-vswitchd (the oracle), each on a private ovsdb-server in its own
# namespaces (bench/lib/ovs_private.sh):
#   1. br-int, vm1 and vm2 (system interfaces, tag=1), in1 (internal);
#      vm1 -> vm2 pings (control: the switch forwards);
#   2. `ovs-vsctl add-port br-int nodev` (no such device), without
#      --no-wait: ovs-vsctl reads ofport and error in the update that raises
#      cur_cfg (post_db_reload_do_checks) and must print "Error detected
#      while setting up 'nodev': <the error>" (and exit as it does with
#      ovs-vswitchd: 0 for Debian's 3.1);
#      a good add (vm2 above) must exit 0 with nothing on stderr, which it
#      does only if ofport came with or before cur_cfg;
#   3. after the statistics interval: for vm1, in1 and br-int, the columns
#      ovs-vswitchd fills and flowpath fills too, by meaning:
#        ifindex, mtu     = the kernel's (`ip -o link` in the switch's namespace)
#        status           driver_name as OVS's for the same kind of device
#                         (veth, tun), the same keys
#        statistics       the same keys as OVS's; vm1's rx_packets >= the
#                         pings vm1 sent (the device's counters, as OVS)
#        link_state, admin_state, mac_in_use = the kernel's
#        link_speed, duplex = OVS's for the same kind of device;
#        link_resets a count (its value not checked: see step 3's note)
#      (the numbers themselves differ between two runs: not compared);
#   4. link_resets: vm1's peer (eth0 in the vm1 namespace) down, then up:
#      link_state follows, and link_resets moves by exactly 2 (OVS counts
#      each change of the carrier), on both switches;
#   5. a patch pair br-int pi (tag=1) <-> br-ex pe, vm2 moved to br-ex:
#      vm1 -> vm2 pings cross it; pi's statistics count them (tx_packets
#      = pings + the ARP that crossed, at most 3 more; pe's rx the same
#      numbers), the same keys as OVS's; admin_state, link_state,
#      link_resets, ifindex as OVS's; mac_in_use a unicast MAC;
#   6. the columns that say what the switch supports: Open_vSwitch
#      datapath_types, dpdk_initialized, dpdk_version as OVS's; every
#      iface_types entry one of OVS's (afxdp, internal, patch, system);
#      Bridge datapath_version as OVS's.
# Usage: tests/e2e/ovsdb_vsctl_columns_test.sh BUILD_DIR
# Needs root; exits 77 (ctest: skipped) otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: ovsdb_vsctl_columns_test.sh BUILD_DIR}" && pwd)
# shellcheck source=../../bench/lib/ovs_private.sh
source "$root/bench/lib/ovs_private.sh"
ovs_private_require
ovs_private_tmpdir fvc
fail() { echo "FAIL: $*"; [[ -f ${D:-}/switch.log ]] && sed 's/^/  switch: /' "$D/switch.log"; exit 1; }

# keys MAP: the keys of an ovs-vsctl map ({a=1, b="x"}), one a line, sorted
keys() { tr -d '{}' <<<"$1" | tr ',' '\n' | sed 's/=.*//; s/^ *//' | grep . | sort; }
# val MAP KEY
val() { tr -d '{}' <<<"$1" | tr ',' '\n' | sed 's/^ *//' | grep "^$2=" | cut -d= -f2- | tr -d '"'; }

# kernel_matches PREFIX IFC: "" if the Interface row's ifindex, mtu,
# mac_in_use and admin_state are the kernel's, else what differs (status 1)
kernel_matches() {
  local link idx mtu mac state got
  link=$(ip -n "$1-sw" -o link show "$2") || { echo "no device $2"; return 1; }
  idx=${link%%:*}
  mtu=$(sed -n 's/.* mtu \([0-9]*\) .*/\1/p' <<<"$link")
  mac=$(sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p' <<<"$link")
  state=down
  grep -q '[<,]UP[,>]' <<<"$link" && state=up
  got=$(vsctl get interface "$2" ifindex mtu mac_in_use admin_state | paste -sd' ')
  [[ $got == "$idx $mtu \"$mac\" $state" ]] ||
    { echo "$2: ifindex mtu mac_in_use admin_state: $got, kernel $idx $mtu $mac $state"; return 1; }
}

# wait_column IFC COLUMN VALUE: up to 10 s for the Interface column
wait_column() {
  for _ in $(seq 40); do
    [[ $(vsctl get interface "$1" "$2") == "$3" ]] && return 0
    sleep 0.25
  done
  return 1
}

run_side() {
  local side=$1 P=fvc$$${1:0:1}
  local D=$T/$side DB dbpid swpid
  ovs_private_up
  ovs_private_start "$side"
  ovs_private_bridge "$side"
  ovs_private_vm_ports system
  local out=$T/$side.cols
  : >"$out"
  vsctl add-port br-int in1 -- set interface in1 type=internal
  ip netns exec "$P-vm1" ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null ||
    fail "$side: vm1 -> vm2 does not ping"

  # 2. ovs-vsctl's own check of the new interface
  local err rc=0
  err=$(vsctl add-port br-int nodev 2>&1 >/dev/null) || rc=$?
  echo "nodev exit $rc" >>"$out"
  grep -q "Error detected while setting up 'nodev': ." <<<"$err" ||
    fail "$side: ovs-vsctl did not read the error with cur_cfg: $err"
  vsctl del-port br-int nodev
  err=$(vsctl del-port br-int vm2 -- add-port br-int vm2 tag=1 2>&1 >/dev/null) ||
    fail "$side: re-adding vm2 failed: $err"
  [[ -z $err ]] || fail "$side: a good add-port printed: $err"

  # 3. wait for statistics (OVS: every 5 s) that count all 8 pings
  local s
  ip netns exec "$P-vm1" ping -c 5 -i 0.2 -W 2 192.0.2.2 >/dev/null || fail "$side: vm1 -> vm2 after the adds"
  for _ in $(seq 80); do
    s=$(vsctl get interface vm1 statistics)
    [[ $(val "$s" rx_packets) -ge 8 && -n $(vsctl get interface in1 statistics | tr -d '{}') ]] && break
    sleep 0.25
  done
  local ifc msg r
  for ifc in vm1 in1 br-int; do
    # The kernel's view against the database's, again for up to 3 s: both
    # switches rewrite a changed device state on their next refresh.
    for _ in $(seq 12); do
      msg=$(kernel_matches "$P" "$ifc") && break
      sleep 0.25
    done
    [[ -z $msg ]] || fail "$side: $msg"
    s=$(vsctl get interface "$ifc" status)
    echo "$ifc status-keys $(keys "$s" | paste -sd,)" >>"$out"
    echo "$ifc driver $(val "$s" driver_name)" >>"$out"
    s=$(vsctl get interface "$ifc" statistics)
    [[ -n $(keys "$s") ]] || fail "$side: $ifc has no statistics: $s"
    echo "$ifc statistics-keys $(keys "$s" | grep -v -e link_ -e '^rx_1' -e '^tx_1' | paste -sd,)" >>"$out"
    # link_speed and duplex: ethtool's, read off the path of a change (<= 1 s)
    for _ in $(seq 12); do
      [[ $(vsctl get interface "$ifc" link_speed) != "[]" ]] && break
      sleep 0.25
    done
    echo "$ifc link $(vsctl get interface "$ifc" link_speed duplex | paste -sd' ')" >>"$out"
    # link_resets: a count, its value not checked: both switches have
    # counted a carrier change soon after the open (ovs-vswitchd vm1 1 in
    # one of five runs; flowpath vm1 1 in one CI run of session 11; cause
    # not looked into).  Step 4 checks how it moves.
    r=$(vsctl get interface "$ifc" link_resets)
    [[ $r =~ ^[0-9]+$ ]] || fail "$side: $ifc link_resets '$r'"
  done
  s=$(vsctl get interface vm1 statistics)
  [[ $(val "$s" rx_packets) -ge 8 ]] || fail "$side: vm1 rx_packets below the 8 pings vm1 sent: $s"
  [[ $(val "$s" rx_bytes) -gt $(val "$s" rx_packets) ]] || fail "$side: vm1 rx_bytes: $s"

  # 4. link_resets: the carrier of vm1 goes down and up (its peer's admin
  # state), each change seen by link_state, then counted.
  local r0 r1 st
  r0=$(vsctl get interface vm1 link_resets)
  [[ $r0 =~ ^[0-9]+$ ]] || fail "$side: vm1 link_resets '$r0'"
  ip -n "$P-vm1" link set eth0 down
  wait_column vm1 link_state down || fail "$side: vm1 link_state not down after its peer went down"
  ip -n "$P-vm1" link set eth0 up
  wait_column vm1 link_state up || fail "$side: vm1 link_state not up after its peer came up"
  for _ in $(seq 40); do
    r1=$(vsctl get interface vm1 link_resets)
    [[ $r1 =~ ^[0-9]+$ ]] && ((r1 >= r0 + 2)) && break
    sleep 0.25
  done
  [[ $r1 =~ ^[0-9]+$ ]] && ((r1 == r0 + 2)) || fail "$side: vm1 link_resets $r0 -> $r1 after down/up (expected +2)"
  echo "vm1 link_resets-moved $((r1 - r0))" >>"$out"

  # 5. a patch pair carries vm1 -> vm2: vm2 on br-ex behind it.
  if [[ $side == ovs ]]; then
    vsctl add-br br-ex -- set bridge br-ex datapath_type=netdev
  else
    vsctl add-br br-ex
  fi
  vsctl del-port br-int vm2 -- add-port br-ex vm2 \
    -- add-port br-int pi tag=1 -- set interface pi type=patch options:peer=pe \
    -- add-port br-ex pe -- set interface pe type=patch options:peer=pi
  local n=6 tx rx
  ip netns exec "$P-vm1" ping -c $n -i 0.2 -W 2 192.0.2.2 >/dev/null ||
    fail "$side: vm1 -> vm2 through the patch pair"
  # Both switches write counters every 5 s, and OVS's revalidators push
  # flow statistics to its patch ports on their own period: wait until
  # every echo request and reply is in (98 bytes each), pi and pe alike.
  local e
  for _ in $(seq 100); do
    s=$(vsctl get interface pi statistics) e=$(vsctl get interface pe statistics)
    [[ $(val "$s" tx_bytes) -ge $((98 * n)) && $(val "$s" rx_bytes) -ge $((98 * n)) &&
      $(val "$e" rx_bytes) == $(val "$s" tx_bytes) && $(val "$e" tx_bytes) == $(val "$s" rx_bytes) ]] && break
    sleep 0.25
  done
  tx=$(val "$s" tx_packets) rx=$(val "$s" rx_packets)
  [[ $tx =~ ^[0-9]+$ && $rx =~ ^[0-9]+$ ]] || fail "$side: pi has no statistics: $s"
  ((tx >= n && tx <= n + 3 && rx >= n && rx <= n + 3)) ||
    fail "$side: pi statistics do not count the $n pings that crossed: $s"
  (($(val "$s" tx_bytes) >= 98 * n && $(val "$s" rx_bytes) >= 98 * n)) ||
    fail "$side: pi bytes below $n echo requests and replies: $s"
  [[ $(val "$e" rx_packets) == "$tx" && $(val "$e" tx_packets) == "$rx" &&
    $(val "$e" rx_bytes) == $(val "$s" tx_bytes) && $(val "$e" tx_bytes) == $(val "$s" rx_bytes) ]] ||
    fail "$side: pe statistics are not pi's crossed: pi $s, pe $e"
  echo "pi statistics-keys $(keys "$s" | paste -sd,)" >>"$out"
  echo "pi state $(vsctl get interface pi admin_state link_state link_resets ifindex | paste -sd' ')" >>"$out"
  vsctl get interface pi mac_in_use | grep -Eq '^"[0-9a-f][02468ace](:[0-9a-f]{2}){5}"$' ||
    fail "$side: pi mac_in_use $(vsctl get interface pi mac_in_use)"

  # 6. what the switch supports
  echo "root types $(vsctl get open_vswitch . datapath_types dpdk_initialized dpdk_version | paste -sd' ')" >>"$out"
  echo "root iface_types $(vsctl get open_vswitch . iface_types | tr -d '[] ')" >>"$out"
  echo "br-int datapath_version $(vsctl get bridge br-int datapath_version)" >>"$out"
  ovs_private_down
}

run_side ovs
run_side flowpath
# flowpath fills a subset of OVS's statistics keys (OVS adds its own
# per-size counters for some devices): every key flowpath writes OVS writes.
while read -r ifc what v; do
  o=$(grep "^$ifc $what " "$T/ovs.cols" | cut -d' ' -f3-)
  case $what in
    statistics-keys)
      for k in ${v//,/ }; do [[ ,$o, == *,$k,* ]] || fail "flowpath $ifc statistics key $k, OVS has $o"; done
      [[ -n $v ]] || fail "flowpath $ifc: no statistics" ;;
    iface_types)
      [[ -n $v ]] || fail "flowpath writes no iface_types"
      for k in ${v//,/ }; do [[ ,$o, == *,$k,* ]] || fail "flowpath iface_types has $k, OVS has $o"; done ;;
    *) [[ $v == "$o" ]] || fail "flowpath $ifc $what '$v', ovs-vswitchd '$o'" ;;
  esac
done <"$T/flowpath.cols"
echo "PASS: ovs-vsctl reads the same columns from flowpath as from ovs-vswitchd"
sed 's/^/  ovs: /' "$T/ovs.cols"
