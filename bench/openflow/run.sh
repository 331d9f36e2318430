#!/usr/bin/env bash
# Flow programming over OpenFlow (issue 11 §4): how long do `ovs-ofctl
# add-flows` of N flows, `dump-flows` and `del-flows` take against
# flowpath and against the real ovs-vswitchd, and does an existing flow
# keep forwarding meanwhile?
#
# Usage: sudo bench/openflow/run.sh BUILD_DIR [N] [RUNS]
#   N flows (default 100000), RUNS rounds per mode (default 3; medians).
#   BUILD_DIR holds `flowpath` and bpf/ (targets flowpath_cli, flowpath_bpf).
#   PORTS=afxdp (default) or PORTS=system: the kind of vm1/vm2.
#   SEED=42 the flow file's seed; KEEP_LOGS=DIR keeps logs and series.
#   BUNDLE=1: the two modes are -O OpenFlow13 and --bundle with no -O
#   (add-flows and del-flows each in one atomic bundle: open, N bundle-add
#   messages, a barrier, commit; ovs-ofctl then offers OpenFlow 1.4 only
#   and sends the standard OFPT_BUNDLE_* messages).  BUNDLE=13: -O
#   OpenFlow13 without and with --bundle (OVS's ONF extension in 1.3).
#   The columns say which.
#
# For each switch in turn, in the same run:
#   flowpath  `flowpath switch --db unix:...` in namespace fpo<pid>f-sw,
#             OpenFlow on `set-controller br-int punix:DIR/br-int.mgmt`
#   ovs       the real ovs-vswitchd, userspace datapath (datapath_type=netdev),
#             in its OWN namespace fpo<pid>o-sw, OpenFlow on its own
#             management socket DIR/br-int.mgmt
# each with its own private ovsdb-server (database, sockets, pid and log
# files in a fresh temp dir), the same work:
#   1. scripts/netns/topology.sh builds the namespaces; br-int with vm1 and
#      vm2 (tag=1, type afxdp by default: both switches attach an XDP
#      program and bind an AF_XDP socket) is built with ovs-vsctl; the
#      bridge's flow count before (the visible priority=0 NORMAL flow) is
#      recorded; vm1 -> vm2 must ping;
#   2. a steady ping vm1 -> vm2 every 10 ms starts (it goes by NORMAL);
#   3. RUNS times, in the default mode and with -O OpenFlow13 (BUNDLE=1:
#      -O OpenFlow13 and --bundle; BUNDLE=13: -O OpenFlow13 and -O
#      OpenFlow13 --bundle), each step
#      timed (wall seconds, including ovs-ofctl's own start and parsing,
#      the same for both switches):
#        add   ovs-ofctl add-flows unix:DIR/br-int.mgmt FLOWS
#              (N flows, cookie=0x1; ovs-ofctl ends with a barrier)
#        dump  ovs-ofctl dump-flows unix:DIR/br-int.mgmt >FILE (then the
#              flows in FILE are counted: N + the flows before; the header
#              lines, one per multipart reply, are not flows)
#        del   ovs-ofctl del-flows unix:DIR/br-int.mgmt cookie=0x1/-1
#              (spares the flows before; the count is checked after)
#        floor ovs-ofctl del-flows unix:DIR/br-int.mgmt cookie=0x2/-1
#              (matches nothing: ovs-ofctl's own start and exchanges, the
#              floor under each step)
#   4. the ping stops; a sequence number below the last answered one that
#      got no answer is lost, and charged to the step during which it was
#      sent (its send time estimated from its answered neighbours).
# ovs-ofctl's own cost is measured too: the same add-flows parsing with
# `ovs-ofctl parse-flows` (which talks to no switch), and a third
# contestant, the floor (bench/openflow/of_floor.cpp, target
# openflow_floor, found in BUILD_DIR/bench or FLOOR=PATH): a switch with
# no flow table (flow-mods dropped, the dump replayed from bytes encoded
# at start from the same flow file), run through the same steps; the
# ratios "net of the floor" are (ovs - floor) / (flowpath - floor).
# Prints per step and mode the median seconds, OVS/flowpath ratios, losses,
# the switch's and ovs-ofctl's own CPU per step, and for the add (N serial
# flow-mod + barrier round trips) the split of one round trip: client CPU,
# switch CPU, and the rest (wake-ups, waiting for a core).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: bench/openflow/run.sh BUILD_DIR [N] [RUNS]}" && pwd)
N=${2:-100000}
RUNS=${3:-3}
PORTS=${PORTS:-afxdp}
SEED=${SEED:-42}
# the two modes: of10 (default), of13 (-O OpenFlow13), of13b (-O OpenFlow13
# --bundle), of14b (--bundle: OpenFlow 1.4)
case ${BUNDLE:-} in
  "") MODES="of10 of13" ;;
  13) MODES="of13 of13b" ;;
  *) MODES="of13 of14b" ;;
esac
mode_opt() {
  case $1 in
    of10) echo "" ;;
    of13) echo "-O OpenFlow13" ;;
    of13b) echo "-O OpenFlow13 --bundle" ;;
    of14b) echo "--bundle" ;;
  esac
}
# column labels: "add" for the first mode, "add (1.3)" / "add (1.3 bundle)" for the second
M2=${MODES#* }
case $M2 in of13) L2="1.3" ;; of13b) L2="1.3 bundle" ;; of14b) L2="1.4 bundle" ;; esac
[[ ${MODES%% *} == of13 ]] && L1=" (1.3)" || L1=""
# shellcheck source=../lib/ovs_private.sh
source "$root/bench/lib/ovs_private.sh"
ovs_private_require ovs-ofctl /usr/bin/python3
ovs_private_tmpdir fpo

/usr/bin/python3 "$root/bench/openflow/gen_flows.py" "$N" "$SEED" 0x1 >"$T/flows.txt"
[[ $(wc -l <"$T/flows.txt") -eq $N ]] || { echo "flow file: not $N lines"; exit 1; }

# median FILE -> the median of the numbers in FILE (one a line)
median() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The switch's own CPU time: nanoseconds on CPU (schedstat) summed over
# its threads except the busy-polling ones (PMDs, found as the threads
# that use over 5% of a core while nothing happens), which burn a core
# whatever they do.  SWPID and POLLERS are set by run_side.
thread_ns() {  # -> "TID NS" lines
  local t
  for t in /proc/$SWPID/task/*; do echo "${t##*/} $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0)"; done
}
find_pollers() {
  thread_ns >"$D/ns0"
  sleep 0.5
  thread_ns >"$D/ns1"
  POLLERS=$(join "$D/ns0" "$D/ns1" | awk '$3 - $2 > 25000000 { print $1 }' | paste -sd' ')
}
switch_ns() {
  thread_ns | awk -v p=" $POLLERS " 'index(p, " " $1 " ") == 0 { s += $2 } END { printf "%.0f", s }'
}

# The client's CPU: user + sys clock ticks of this shell's waited-for
# children (fields 16 and 17 of /proc/$$/stat, cutime and cstime), read
# with a builtin (no child of its own) right before and after CMD, so the
# difference is ovs-ofctl's own CPU (10 ms ticks: exact enough for the add).
child_ticks() {  # -> $ticks (no subshell: it would be a child too)
  local f
  read -ra f </proc/$$/stat
  ticks=$((f[15] + f[16]))
}
HZ=$(getconf CLK_TCK)

# step NAME CMD...: runs CMD (a shell string), records its wall seconds
# in $R.NAME, the switch's CPU seconds in $R.NAME.cpu, the client's
# (ovs-ofctl's user + sys) in $R.NAME.client and its [start, end) in
# $D/steps for the loss accounting.
step() {
  local name=$1 t0 t1 c0 c1 k0 k1 ticks
  shift
  c0=$(switch_ns)
  child_ticks
  k0=$ticks
  t0=$EPOCHREALTIME
  eval "$@"
  t1=$EPOCHREALTIME
  child_ticks
  k1=$ticks
  c1=$(switch_ns)
  echo "$t1 - $t0" | bc -l >>"$R.$name"
  echo "($c1 - $c0) / 1000000000" | bc -l >>"$R.$name.cpu"
  echo "($k1 - $k0) / $HZ" | bc -l >>"$R.$name.client"
  echo "$name $t0 $t1" >>"$D/steps"
}

# run_steps SIDE OF BASE [check]: the timed steps, RUNS rounds per mode;
# with `check`, the flow counts after dump and del are checked (the floor
# contestant keeps no flows: its dump always prints the canned N + 1).
run_steps() {
  local side=$1 OF=$2 base=$3 check=${4:-} mode opt k n
  : >"$D/steps"
  for mode in $MODES; do
    opt=$(mode_opt "$mode")
    for k in $(seq "$RUNS"); do
      step "$mode-add" "ovs-ofctl $opt add-flows $OF $T/flows.txt"
      step "$mode-dump" "ovs-ofctl $opt dump-flows $OF >$D/dump.txt"
      n=$(grep -c 'actions=' "$D/dump.txt" || true)
      [[ $n -eq $((N + base)) ]] || { echo "$side $mode: dump-flows printed $n flows, not $N + $base"; exit 1; }
      step "$mode-del" "ovs-ofctl $opt del-flows $OF cookie=0x1/-1"
      if [[ -n $check ]]; then
        n=$(ovs-ofctl dump-flows "$OF" | grep -c 'actions=' || true)
        [[ $n -eq $base ]] || { echo "$side $mode: $n flows after del-flows, not $base"; exit 1; }
      fi
      # the floor under every step: ovs-ofctl starting, connecting, asking
      # for the table names, one flow-mod that matches nothing, a barrier
      step "$mode-floor" "ovs-ofctl $opt del-flows $OF cookie=0x2/-1"
      sleep 0.3
    done
  done
}

# run_floor: the floor contestant (bench/openflow/of_floor.cpp, target
# openflow_floor): no flow table; flow-mods dropped, the dump replayed from
# bytes encoded at start from the same flow file.  What ovs-ofctl and the
# socket cost by themselves, measured with the same steps.
run_floor() {
  D=$T/floor R=$T/floor
  mkdir -p "$D"
  "$FLOOR" "punix:$D/br-int.mgmt" "$T/flows.txt" >"$D/floor.log" 2>&1 &
  SWPID=$!
  PIDS+=("$SWPID")
  for _ in $(seq 400); do [[ -S $D/br-int.mgmt ]] && break; sleep 0.05; done
  [[ -S $D/br-int.mgmt ]] || { echo "floor: no socket"; cat "$D/floor.log"; exit 1; }
  POLLERS=
  run_steps floor "unix:$D/br-int.mgmt" 1
  kill -TERM "$SWPID"
  wait "$SWPID" || true
  PIDS=()
  echo 1 >"$R.base"
  echo "sent 0 lost 0 (no ports)" >"$R.loss"
}

# run_side NAME   (flowpath | ovs); writes $T/NAME.* figures
run_side() {
  local side=$1 P=fpo$$${1:0:1}
  D=$T/$side R=$T/$side
  local DB OF=unix:$D/br-int.mgmt dbpid swpid
  ovs_private_up
  ovs_private_start "$side"
  ovs_private_bridge "$side" -- set-controller br-int "punix:$D/br-int.mgmt"
  ovs_private_vm_ports "$PORTS"
  for _ in $(seq 100); do [[ -S $D/br-int.mgmt ]] && break; sleep 0.05; done
  # the existing flow: ovs-vswitchd's bridge (no controller) has its
  # visible priority=0 NORMAL flow; flowpath's (a controller target
  # configured, as OVS would with one) gets the same over OpenFlow
  local base
  base=$(ovs-ofctl dump-flows "$OF" | grep -c 'actions=' || true)
  if [[ $base -eq 0 ]]; then
    ovs-ofctl add-flow "$OF" priority=0,actions=NORMAL
    base=$(ovs-ofctl dump-flows "$OF" | grep -c 'actions=' || true)
  fi
  ip netns exec "$P-vm1" ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null ||
    { echo "$side: vm1 -> vm2 does not ping before the benchmark (flows: $base)"; ovs-ofctl dump-flows "$OF"; exit 1; }

  SWPID=$swpid
  find_pollers
  echo "$side: busy-polling threads (left out of the CPU figures): ${POLLERS:-none}"
  ip netns exec "$P-vm1" ping -D -i 0.01 -W 1 192.0.2.2 >"$D/ping.txt" 2>&1 &
  local pingpid=$!
  PIDS+=("$pingpid")
  sleep 0.5
  run_steps "$side" "$OF" "$base" check
  sleep 0.5
  kill -INT "$pingpid"
  wait "$pingpid" || true
  # answered sequence numbers with their time; a missing one below the last
  # answered is lost, sent at about the time interpolated between its
  # answered neighbours; charged to the step that was running then.
  grep -o '^\[[0-9.]*\].*icmp_seq=[0-9]*' "$D/ping.txt" |
    sed 's/^\[\([0-9.]*\)\].*icmp_seq=\([0-9]*\)/\2 \1/' | sort -n -k1,1 -u >"$D/seqs"
  awk -v steps="$D/steps" '
    BEGIN { while ((getline l < steps) > 0) { split(l, f, " "); ns++; sn[ns] = f[1]; s0[ns] = f[2]; s1[ns] = f[3] } }
    { if (NR > 1 && $1 > ps + 1) for (q = ps + 1; q < $1; q++) {
        t = pt + ($2 - pt) * (q - ps) / ($1 - ps); lost++; where = "between"
        for (i = 1; i <= ns; i++) if (t >= s0[i] && t < s1[i]) where = sn[i]
        per[where]++ }
      ps = $1; pt = $2; last = $1 }
    END { printf "sent %d lost %d", last, lost + 0
          for (w in per) printf " %s=%d", w, per[w]; printf "\n" }' "$D/seqs" >"$R.loss"
  ovs_private_down
  echo "$base" >"$R.base"
  if [[ -n ${KEEP_LOGS:-} ]]; then cp -r "$D" "$KEEP_LOGS/$side"; cp "$R".* "$KEEP_LOGS/" 2>/dev/null || true; fi
}

FLOOR=${FLOOR:-}
for f in "$B/bench/openflow_floor" "$B/openflow_floor"; do [[ -z $FLOOR && -x $f ]] && FLOOR=$f; done
if [[ -z ${SIDES:-} ]]; then
  SIDES="flowpath ovs"
  if [[ -n $FLOOR ]]; then SIDES+=" floor"; else
    echo "no floor contestant (build target openflow_floor, -DFLOWPATH_BUILD_BENCH=ON, in $B)"; fi
fi
echo "flow programming over OpenFlow: $N flows (seed $SEED) added, dumped, deleted; $RUNS runs per mode"
echo "kernel $(uname -r), $(nproc) cores, $(ovs-vswitchd --version | head -1), ports $PORTS"
: >"$T/parse"
for k in $(seq "$RUNS"); do
  t0=$EPOCHREALTIME
  ovs-ofctl parse-flows "$T/flows.txt" >/dev/null
  echo "$EPOCHREALTIME - $t0" | bc -l >>"$T/parse"
done
for side in $SIDES; do
  echo "running $side ..."
  if [[ $side == floor ]]; then run_floor; else run_side "$side"; fi
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf("%.2f", (b > 0) ? a / b : 0) }'; }
# net A B F: (A - F) / (B - F), each difference floored at 1 ms so that
# the ratio stays defined when a switch's own share is within the noise
net() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { x = a - f; y = b - f
  if (x < 0.001) x = 0.001; if (y < 0.001) y = 0.001; printf("%.2f", x / y) }'; }
has() { [[ " $SIDES " == *" $1 "* ]]; }
fmt='%-24s %12s %12s %12s %12s %12s %12s %12s %12s\n'
echo
echo "wall seconds per step, median of $RUNS:"
printf "$fmt" "" "add$L1" "dump$L1" "del$L1" "floor$L1" "add ($L2)" "dump ($L2)" "del ($L2)" "floor ($L2)"
for side in $SIDES; do
  row=()
  for m in $MODES; do for s in add dump del floor; do row+=("$(median "$T/$side.$m-$s")s"); done; done
  printf "$fmt" "$side" "${row[@]}"
done
if has flowpath && has ovs; then
  row=()
  for m in $MODES; do for s in add dump del floor; do
    row+=("$(ratio "$(median "$T/ovs.$m-$s")" "$(median "$T/flowpath.$m-$s")")x")
  done; done
  printf "$fmt" "ovs-vswitchd / flowpath" "${row[@]}"
  if has floor; then
    row=()
    for m in $MODES; do for s in add dump del floor; do
      row+=("$(net "$(median "$T/ovs.$m-$s")" "$(median "$T/flowpath.$m-$s")" "$(median "$T/floor.$m-$s")")x")
    done; done
    printf "$fmt" "  net of the floor" "${row[@]}"
  fi
fi
fmt='%-24s %12s %12s %12s %12s %12s %12s\n'
echo
echo "the switch's own CPU seconds per step (schedstat of every thread but the busy-polling ones), median:"
printf "$fmt" "" "add$L1" "dump$L1" "del$L1" "add ($L2)" "dump ($L2)" "del ($L2)"
for side in $SIDES; do
  row=()
  for m in $MODES; do for s in add dump del; do row+=("$(median "$T/$side.$m-$s.cpu")s"); done; done
  printf "$fmt" "$side" "${row[@]}"
done
if has flowpath && has ovs; then
  row=()
  for m in $MODES; do for s in add dump del; do
    row+=("$(ratio "$(median "$T/ovs.$m-$s.cpu")" "$(median "$T/flowpath.$m-$s.cpu")")x")
  done; done
  printf "$fmt" "ovs-vswitchd / flowpath" "${row[@]}"
fi
echo
echo "ovs-ofctl's own CPU seconds per step (user + sys of the client process), median:"
printf "$fmt" "" "add$L1" "dump$L1" "del$L1" "add ($L2)" "dump ($L2)" "del ($L2)"
for side in $SIDES; do
  row=()
  for m in $MODES; do for s in add dump del; do row+=("$(median "$T/$side.$m-$s.client")s"); done; done
  printf "$fmt" "$side" "${row[@]}"
done
# The add is N serial round trips (ovs-ofctl waits for the barrier reply
# after every flow-mod), so its wall time is at least client CPU + switch
# CPU + the wake-ups between them; per flow, from the medians:
echo
echo "the add per flow (without a bundle: one flow-mod + barrier round trip), microseconds: wall = client CPU + switch CPU + rest (wake-ups, waiting for a core)"
fmt='%-24s %10s %10s %10s %10s   %10s %10s %10s %10s\n'
printf "$fmt" "" "wall$L1" client switch rest "wall $L2" "client" "switch" "rest"
for side in $SIDES; do
  row=()
  for m in $MODES; do
    row+=($(awk -v w="$(median "$T/$side.$m-add")" -v c="$(median "$T/$side.$m-add.client")" \
      -v s="$(median "$T/$side.$m-add.cpu")" -v n="$N" \
      'BEGIN { k = 1e6 / n; printf "%.2f %.2f %.2f %.2f", w * k, c * k, s * k, (w - c - s) * k }'))
  done
  printf "$fmt" "$side" "${row[@]}"
done
echo
echo "ovs-ofctl parse-flows of the file alone (no switch): $(median "$T/parse")s"
for side in $SIDES; do
  echo "$side: flows before: $(cat "$T/$side.base"); vm1->vm2 ping every 10 ms: $(cat "$T/$side.loss")"
done
