#!/usr/bin/env bash
# Where flowpath's switch spends its CPU on OpenFlow flow programming
# (issue 11 §4): the flowpath side of bench/openflow/run.sh (private
# ovsdb-server, `flowpath switch --db` in its own namespace, vm1/vm2 afxdp
# ports, the priority=0 NORMAL flow), one `ovs-ofctl add-flows` of N flows
# and one `dump-flows`, each under `perf record` of the switch's
# non-polling threads; prints the switch CPU per flow and the top of each
# profile.
#
# Usage: bench/openflow/profile.sh BUILD_DIR [N] [MODE]   (as root)
#   N flows (default 20000), MODE of10 (default) or of13.
#   KEEP=DIR keeps perf.add.data / perf.dump.data there; STRACE=1 counts
#   the system calls (strace -c) instead of profiling.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: bench/openflow/profile.sh BUILD_DIR [N] [MODE]}" && pwd)
N=${2:-20000}
MODE=${3:-of10}
# shellcheck source=../lib/ovs_private.sh
source "$root/bench/lib/ovs_private.sh"
ovs_private_require ovs-ofctl perf /usr/bin/python3
ovs_private_tmpdir fpp
/usr/bin/python3 "$root/bench/openflow/gen_flows.py" "$N" 42 0x1 >"$T/flows.txt"
opt=
[[ $MODE == of13 ]] && opt="-O OpenFlow13"

P=fpp$$f D=$T/flowpath
declare DB dbpid swpid
ovs_private_up
ovs_private_start flowpath
ovs_private_bridge flowpath -- set-controller br-int "punix:$D/br-int.mgmt"
ovs_private_vm_ports "${PORTS:-afxdp}"
for _ in $(seq 100); do [[ -S $D/br-int.mgmt ]] && break; sleep 0.05; done
OF=unix:$D/br-int.mgmt
ovs-ofctl add-flow "$OF" priority=0,actions=NORMAL

# the threads to profile: all but the busy-polling ones (over 5% of a core idle)
ns() { for t in /proc/$swpid/task/*; do echo "${t##*/} $(cut -d' ' -f1 "$t/schedstat")"; done; }
ns >"$T/ns0"
sleep 0.5
ns >"$T/ns1"
TIDS=$(join "$T/ns0" "$T/ns1" | awk '$3 - $2 <= 25000000 { print $1 }' | paste -sd,)
cpu() { ns | awk -v t=",$TIDS," 'index(t, "," $1 ",") { s += $2 } END { printf "%.0f", s }'; }

# profile NAME CMD: runs CMD under perf record of the TIDS; CPU ns per flow
profile() {
  local name=$1 c0 c1
  shift
  if [[ -n ${STRACE:-} ]]; then  # system calls per flow instead of a profile
    strace -c -o "$T/strace.$name" $(printf -- '-p %s ' ${TIDS//,/ }) 2>/dev/null &
  else
    perf record -q -g -F 2000 -t "$TIDS" -o "$T/perf.$name.data" 2>/dev/null &
  fi
  local perfpid=$!
  PIDS+=("$perfpid")
  sleep 0.5
  c0=$(cpu)
  eval "$@"
  c1=$(cpu)
  kill -INT "$perfpid"
  wait "$perfpid" || true
  echo "$name: switch CPU $(((c1 - c0) / N)) ns per flow ($N flows, $MODE)"
  if [[ -n ${STRACE:-} ]]; then
    head -20 "$T/strace.$name"
    return
  fi
  perf report -i "$T/perf.$name.data" --no-children --percent-limit 1.5 --stdio 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -40
  [[ -n ${KEEP:-} ]] && cp "$T/perf.$name.data" "$KEEP/" || true
}
profile add "ovs-ofctl $opt add-flows $OF $T/flows.txt"
profile dump "ovs-ofctl $opt dump-flows $OF >$T/dump.txt"
echo "dumped $(grep -c actions= "$T/dump.txt") flows"
ovs_private_down
