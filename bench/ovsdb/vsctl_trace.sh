#!/usr/bin/env bash
# Where does one `ovs-vsctl add-port` (without --no-wait) spend its time,
# against flowpath and against ovs-vswitchd on the same kind of database?
#
# Usage: sudo bench/ovsdb/vsctl_trace.sh BUILD_DIR OUT_DIR [KIND] [N]
#   KIND system (default), internal or afxdp, as bench/ovsdb/run.sh;
#   N traced adds (default 3) after 5 untraced ones.
#
# For each side (flowpath, then ovs), with bench/lib/ovs_private.sh (private
# ovsdb-server, switch in its own namespace): br-int with vm1 and vm2, five
# warm-up adds, then N adds each traced three ways into OUT_DIR/SIDE-K.*:
#   .vsctl    strace -f -ttt of the ovs-vsctl call (its reads and writes)
#   .server   strace -f -ttt of ovsdb-server and the switch, attached for
#             that one call (one strace: one clock, one file)
#   .jsonrpc  ovsdb-server's jsonrpc log (debug) for that call: every
#             message in and out, with the peer
# and the wall time of the call in OUT_DIR/SIDE.wall (seconds, one a line).
# Strace slows every system call: read the order and the gaps, not the sums.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: bench/ovsdb/vsctl_trace.sh BUILD_DIR OUT_DIR [KIND] [N]}" && pwd)
OUT=$(mkdir -p "${2:?OUT_DIR}" && cd "$2" && pwd)
KIND=${3:-system}
N=${4:-3}
# shellcheck source=../lib/ovs_private.sh
source "$root/bench/lib/ovs_private.sh"
ovs_private_require strace
ovs_private_tmpdir fvt

add_cmd() {  # K
  if [[ $KIND == system ]]; then echo "add-port br-int p$1 tag=1"
  else echo "add-port br-int p$1 tag=1 -- set interface p$1 type=$KIND"; fi
}

run_side() {
  local side=$1 P=fvt$$${1:0:1}
  local D=$T/$side DB dbpid swpid
  ovs_private_up
  local k
  if [[ $KIND != internal ]]; then
    for k in $(seq $((N + 5))); do
      ip -n "$P-sw" link add "p$k" type veth peer name "q$k"
      ip -n "$P-sw" link set "p$k" up
      ip -n "$P-sw" link set "q$k" up
    done
  fi
  export FLOWPATH_DB_TRACE=1
  ovs_private_start "$side" ${PMD_MAX_SLEEP:+--pmd-max-sleep "$PMD_MAX_SLEEP"}
  ovs_private_bridge "$side"
  ovs_private_vm_ports "$KIND"
  for k in 1 2 3 4 5; do
    # shellcheck disable=SC2046
    vsctl $(add_cmd "$k")
  done
  : >"$OUT/$side.wall"
  for k in $(seq 6 $((N + 5))); do
    ovs-appctl -t "$D/ovsdb.ctl" vlog/set jsonrpc:file:dbg >/dev/null
    strace -f -ttt -o "$OUT/$side-$k.server" -p "$dbpid" -p "$swpid" 2>/dev/null &
    local st=$!
    sleep 1
    local t0=$EPOCHREALTIME
    # shellcheck disable=SC2046
    strace -f -ttt -o "$OUT/$side-$k.vsctl" ovs-vsctl --timeout=60 --db="$DB" $(add_cmd "$k")
    local t1=$EPOCHREALTIME
    echo "$t1 - $t0" | bc -l >>"$OUT/$side.wall"
    sleep 0.2
    kill -INT "$st"
    wait "$st" || true
    ovs-appctl -t "$D/ovsdb.ctl" vlog/set jsonrpc:file:info >/dev/null
    grep -a 'jsonrpc' "$D/ovsdb.log" >"$OUT/$side-$k.jsonrpc" || true
    : >"$D/ovsdb.log"
  done
  [[ $side == flowpath ]] && cp "$D/switch.log" "$OUT/flowpath.switch.log"
  ovs_private_down
}

run_side flowpath
run_side ovs
echo "wall seconds per traced add (strace on): flowpath $(paste -sd' ' "$OUT/flowpath.wall")," \
  "ovs $(paste -sd' ' "$OUT/ovs.wall")"
