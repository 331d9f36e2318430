#!/usr/bin/env bash
# Reconfiguration through OVSDB (issue 10 §4): how soon is a change made
# with ovs-vsctl in effect, and does traffic on untouched ports notice?
#
# Usage: sudo bench/ovsdb/run.sh BUILD_DIR [N]     (N ports, default 100)
#   BUILD_DIR holds `flowpath` and bpf/ (targets flowpath_cli, flowpath_bpf).
#
# For each switch in turn, in the same run:
#   flowpath  `flowpath switch --db unix:...` in namespace fpr<pid>f-sw
#   ovs       the real ovs-vswitchd, userspace datapath (datapath_type=netdev),
#             in its OWN namespace fpr<pid>o-sw
# each with its own private ovsdb-server (database, sockets, pid and log files
# in a fresh temp dir; two OVS-style instances in one namespace would collide
# on the bridges' LOCAL devices), the same work is done:
#   1. scripts/netns/topology.sh builds the namespaces; for system and afxdp
#      ports N spare veth pairs pK/qK (K = 1..N, both ends up) are made in the
#      switch's namespace;
#   2. br-int with vm1 and vm2 (tag=1) is built with ovs-vsctl; vm1 -> vm2
#      must ping;
#   3. a steady ping vm1 -> vm2 every 10 ms starts;
#   4. N times `ovs-vsctl add-port br-int pK tag=1 ...` (one call per port,
#      WITHOUT --no-wait: it returns when the switch has raised cur_cfg,
#      i.e. when the change is in effect), then N times `del-port br-int pK`;
#      every ofport is checked (no -1) after the adds;
#   5. the ping stops; a sequence number below the last answered one that
#      got no answer is a lost packet.
# Three kinds of port, each a separate pass (KINDS="system internal afxdp" by
# default), the same ovs-vsctl command for both switches:
#   system    `add-port br-int pK tag=1`: pK is a veth (plain system interface).
#             flowpath opens it on a packet socket, as ovs-vswitchd's netdev
#             datapath does with netdev-linux, and then moves it to AF_XDP
#             behind it (XDP attached, socket bound on a thread of its own,
#             after cur_cfg: docs/ovsdb.md, "A system port's life").
#   internal  `add-port br-int pK tag=1 -- set interface pK type=internal`:
#             both switches create a TAP device pK: the same work.
#   afxdp     `add-port br-int pK tag=1 -- set interface pK type=afxdp`, pK a
#             veth, and vm1, vm2 afxdp too: both switches attach an XDP
#             program and bind an AF_XDP socket (ovs-vswitchd's afxdp ports
#             are PMD ports: it then busy-polls too, as flowpath always does).
# The seconds per change include starting ovs-vsctl (the same for both); its
# own cost is measured too: before each change, one `--no-wait` call (which
# waits for no switch).  Prints median and p90 seconds per add and per
# delete, the loss, and the median net of ovs-vsctl's own cost (each change
# minus its paired --no-wait call: what the switch and the database round
# trip add), with the ratios ovs-vswitchd / flowpath, raw and net.
# And the database's view (bench/ovsdb/cfg_monitor.py, a third client of
# the same ovsdb-server): per change, from the commit of ovs-vsctl's
# next_cfg to the commit of the switch's cur_cfg, i.e. the switch's own
# time plus one commit, without ovs-vsctl's start, reads and exit (an
# add-port's ovs-vsctl reads every Bridge/Port/Interface row, so its own
# cost exceeds the paired `set` call's and "net" above keeps some of it).
# DB_FLOOR=PATH (bench target ovsdb_floor) adds a third side, the floor:
# a client that raises cur_cfg (and gives new interfaces an ofport) the
# moment it reads next_cfg, and does nothing else: what ovsdb-server and
# ovs-vsctl cost with no switch at all, the least any switch can take.
# And ovs-vsctl's tail: from the moment cfg_monitor.py read the update that
# raised cur_cfg (ovsdb-server sends ovs-vsctl its copy in the same pass)
# to ovs-vsctl's return, per change (wall clock both): what ovs-vsctl does
# after the switch's answer, and how much CPU it finds to do it.
# KEEP_LOGS=DIR keeps each pass's logs and per-change series there.
# MONITOR_RT=0 runs cfg_monitor.py at normal priority (default: chrt -f 10,
# so that its timestamps are taken when the updates arrive, not when a
# busy core gets round to it).
# PMD_MAX_SLEEP=US runs flowpath with --pmd-max-sleep US (idle PMDs sleep,
# as ovs-vswitchd's other_config:pmd-maxsleep; default: busy-poll).
# By default each flowpath AF_XDP port has a UMEM of its own (4,096 frames:
# the kernel's per-socket pool is sized by the UMEM it binds to).
# SHARED_UMEM=1 runs flowpath with --shared-umem (the ports of a PMD share
# one 16,384-frame UMEM, as before 2026-12-05: an AF_XDP add costs O(16K));
# UMEM_FRAMES=N with --umem-frames N (shared, N frames); PORT_RING=N with
# --port-ring N (a port's own UMEM: rings of N, 2N frames).
# STRACE=DIR: `strace -f -ttt -T` of each switch during its adds, into
# DIR/SIDE-KIND.strace (slows every syscall: for breakdowns, not figures).
# With STRACE or KEEP_LOGS, flowpath logs one "db-trace:" line per update
# (FLOWPATH_DB_TRACE, docs/ovsdb.md) into its switch.log (DIR/flowpath-KIND.log).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: bench/ovsdb/run.sh BUILD_DIR [N]}" && pwd)
N=${2:-100}
# shellcheck source=../lib/ovs_private.sh
source "$root/bench/lib/ovs_private.sh"
ovs_private_require
ovs_private_tmpdir fpr

# stats FILE -> "median p90" of the numbers in FILE (one a line)
stats() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    i = int(0.9 * NR + 0.999999); if (i < 1) i = 1
    printf "%.4f %.4f", m, v[i] }'
}

# run_side NAME KIND   (flowpath | ovs, system | internal);
# writes $T/NAME-KIND.{add,del,base,result}
run_side() {
  local side=$1 kind=$2 P=fpr$$${1:0:1}
  local D=$T/$side-$kind SW=$P-sw R=$T/$side-$kind
  local DB dbpid swpid
  ovs_private_up
  if [[ $kind != internal ]]; then
    for k in $(seq "$N"); do
      ip -n "$SW" link add "p$k" type veth peer name "q$k"
      ip -n "$SW" link set "p$k" up
      ip -n "$SW" link set "q$k" up
    done
  fi
  if [[ -n ${STRACE:-}${KEEP_LOGS:-} ]]; then export FLOWPATH_DB_TRACE=1; fi
  ovs_private_start "$side" ${PMD_MAX_SLEEP:+--pmd-max-sleep "$PMD_MAX_SLEEP"} \
    ${UMEM_FRAMES:+--umem-frames "$UMEM_FRAMES"} ${SHARED_UMEM:+--shared-umem} \
    ${PORT_RING:+--port-ring "$PORT_RING"}
  ovs_private_bridge "$side"
  ovs_private_vm_ports "$kind"
  local pingpid=
  if [[ $side != floor ]]; then  # the floor forwards nothing
    ip netns exec "$P-vm1" ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null ||
      { echo "$side: vm1 -> vm2 does not ping before the benchmark"; exit 1; }
    ip netns exec "$P-vm1" ping -i 0.01 -W 1 192.0.2.2 >"$D/ping.txt" 2>&1 &
    pingpid=$!
    PIDS+=("$pingpid")
  fi
  sleep 0.5
  : >"$R.add"
  : >"$R.del"
  : >"$R.base"
  : >"$R.addnet"
  : >"$R.delnet"
  : >"$R.addend"
  : >"$R.delend"
  local t0 t1
  # Each change is paired with a `--no-wait` call just before it: ovs-vsctl's
  # own cost (start, read the database, commit) waiting for no switch, taken
  # under the same load a moment earlier; change - pair is what the switch
  # and the database round trip add (on a loaded 2-core machine a baseline
  # taken once, apart, drifts more than the differences measured here).
  base() {  # K
    t0=$EPOCHREALTIME
    vsctl --no-wait set open_vswitch . "external_ids:fpbench=$1"
    t1=$EPOCHREALTIME
    echo "$t1 - $t0" | bc -l >>"$R.base"
  }
  timed() {  # FILE NETFILE ENDFILE
    local now=$EPOCHREALTIME
    echo "$now - $t0" | bc -l >>"$1"
    echo "$now - $t0 - ($t1 - $t0_base)" | bc -l >>"$2"
    echo "$now" >>"$3"
  }
  local t0_base
  # The database's view (cfg_monitor.py): next_cfg = K committed -> cur_cfg
  # >= K committed, per change, without ovs-vsctl's own start and exit.
  # It runs at real-time priority (SCHED_FIFO 10; MONITOR_RT=0: not): on
  # two busy cores a normal-priority monitor woke late, read next_cfg and
  # cur_cfg in one recv() and saw a change take ~0 ms (session 12), which
  # flattered the fastest side; it only ever blocks in recv(), so it takes
  # no CPU from the switches beyond reading the updates.
  local rt=()
  [[ ${MONITOR_RT:-1} == 0 ]] || ! chrt -f 10 true 2>/dev/null || rt=(chrt -f 10)
  "${rt[@]}" /usr/bin/python3 "$root/bench/ovsdb/cfg_monitor.py" "$DB" "$R.effect" &
  local monpid=$!
  PIDS+=("$monpid")
  sleep 0.3
  local stracepid=
  if [[ -n ${STRACE:-} ]]; then
    strace -f -ttt -T ${STRACE_ARGS:-} -p "$swpid" -o "$STRACE/$side-$kind.strace" 2>/dev/null &
    stracepid=$!
    sleep 1
  fi
  for k in $(seq "$N"); do
    base "a$k"
    t0_base=$t0 t0=$EPOCHREALTIME
    if [[ $kind == system ]]; then
      vsctl add-port br-int "p$k" tag=1
    else
      vsctl add-port br-int "p$k" tag=1 -- set interface "p$k" type="$kind"
    fi
    timed "$R.add" "$R.addnet" "$R.addend"
  done
  if [[ -n $stracepid ]]; then
    kill -INT "$stracepid"
    wait "$stracepid" || true
  fi
  local bad
  bad=$(vsctl --bare --columns=name,ofport find interface ofport=-1 | grep -c . || true)
  [[ $bad -eq 0 ]] || { echo "$side: $bad interfaces with ofport -1 after the adds"; vsctl show; exit 1; }
  [[ $(vsctl --bare --columns=ofport list interface | grep -c '^[0-9]') -ge $((N + 3)) ]] ||
    { echo "$side: not every added interface got an ofport"; exit 1; }
  for k in $(seq "$N"); do
    base "d$k"
    t0_base=$t0 t0=$EPOCHREALTIME
    vsctl del-port br-int "p$k"
    timed "$R.del" "$R.delnet" "$R.delend"
  done
  kill -TERM "$monpid"
  wait "$monpid" || true
  head -n "$N" "$R.effect" | cut -d' ' -f2 >"$R.effadd"
  tail -n +"$((N + 1))" "$R.effect" | cut -d' ' -f2 >"$R.effdel"
  # ovs-vsctl's tail: from the moment cur_cfg was read (by cfg_monitor.py,
  # in the same ovsdb-server pass as ovs-vsctl's copy) to ovs-vsctl's return
  head -n "$N" "$R.effect" | cut -d' ' -f3 | paste - "$R.addend" | awk '{ print $2 - $1 }' >"$R.tailadd"
  tail -n +"$((N + 1))" "$R.effect" | cut -d' ' -f3 | paste - "$R.delend" |
    awk '{ print $2 - $1 }' >"$R.taildel"
  sleep 0.5
  local last=0 got lost=0
  if [[ -n $pingpid ]]; then
    kill -INT "$pingpid"
    wait "$pingpid" || true
    # received sequence numbers; lost = those missing below the last one answered
    grep -o 'icmp_seq=[0-9]*' "$D/ping.txt" | cut -d= -f2 | sort -n | uniq >"$D/seqs"
    last=$(tail -1 "$D/seqs")
    got=$(wc -l <"$D/seqs")
    lost=$((last - got))
  fi
  ovs_private_down
  if [[ -n ${STRACE:-} && $side == flowpath ]]; then cp "$D/switch.log" "$STRACE/$side-$kind.log"; fi
  echo "$(stats "$R.add") $(stats "$R.del") $last $lost $(stats "$R.base") $(stats "$R.addnet")" \
    "$(stats "$R.delnet")" "$(stats "$R.effadd")" "$(stats "$R.effdel")" \
    "$(stats "$R.tailadd")" "$(stats "$R.taildel")" >"$R.result"
  if [[ -n ${KEEP_LOGS:-} ]]; then cp -r "$D" "$KEEP_LOGS/$side-$kind"; cp "$R".* "$KEEP_LOGS/"; fi
}

umem_desc="per port, rings ${PORT_RING:-2048}"
if [[ -n ${UMEM_FRAMES:-} ]]; then umem_desc="shared, $UMEM_FRAMES frames"
elif [[ -n ${SHARED_UMEM:-} ]]; then umem_desc="shared, 16384 frames"; fi
echo "reconfiguration through OVSDB: $N ports added then removed, one ovs-vsctl call each"
echo "kernel $(uname -r), $(nproc) cores, $(ovs-vswitchd --version | head -1)," \
  "flowpath --pmd-max-sleep ${PMD_MAX_SLEEP:-0} umem $umem_desc, load average $(cut -d' ' -f1-3 /proc/loadavg)"
ratio() { echo "scale=1; $1 / $2" | bc -l; }
# pos X: X floored at 0.1 ms, so that a ratio stays defined when the noise
# eats a difference
pos() { echo "x = $1; if (x < 0.0001) x = 0.0001; x" | bc -l | awk '{ printf "%.4f", $1 }'; }
report() {  # KIND
  local fam fa9 fdm fd9 fsent flost fbm fan fdn oam oa9 odm od9 osent olost obm oan odn
  local fea fe9 fed fd9e oea oe9 oed od9e fta ft9 ftd ftd9 ota ot9 otd otd9
  read -r fam fa9 fdm fd9 fsent flost fbm _ fan _ fdn _ fea fe9 fed fd9e fta ft9 ftd ftd9 \
    <"$T/flowpath-$1.result"
  read -r oam oa9 odm od9 osent olost obm _ oan _ odn _ oea oe9 oed od9e ota ot9 otd otd9 \
    <"$T/ovs-$1.result"
  fan=$(pos "$fan") fdn=$(pos "$fdn") oan=$(pos "$oan") odn=$(pos "$odn")
  echo
  if [[ $1 == system ]]; then echo 'ports of type "" (system interfaces: veths):'; else echo "ports of type $1 (vm1, vm2 too: ${1/internal/\"\"}):"; fi
  printf '%-34s %11s %11s %11s %11s %16s\n' "switch" "add median" "add p90" "del median" "del p90" "vm1->vm2 lost"
  printf '%-34s %10ss %10ss %10ss %10ss %9s / %s\n' "flowpath switch --db" "$fam" "$fa9" "$fdm" "$fd9" "$flost" "$fsent"
  printf '%-34s %10ss %10ss %10ss %10ss %9s / %s\n' "ovs-vswitchd (netdev datapath)" "$oam" "$oa9" "$odm" "$od9" "$olost" "$osent"
  echo "ovs-vsctl --no-wait (waits for no switch), median: ${fbm}s (flowpath run), ${obm}s (ovs run)"
  echo "net of ovs-vsctl's own cost (median of change - its paired --no-wait call):" \
    "flowpath add ${fan}s del ${fdn}s; ovs-vswitchd add ${oan}s del ${odn}s"
  echo "ovs-vswitchd / flowpath, raw median: add $(ratio "$oam" "$fam")x, del $(ratio "$odm" "$fdm")x;" \
    "p90: add $(ratio "$oa9" "$fa9")x, del $(ratio "$od9" "$fd9")x"
  echo "ovs-vswitchd / flowpath, net median: add $(ratio "$oan" "$fan")x, del $(ratio "$odn" "$fdn")x" \
    " (goal: >= 5x, 0 lost)"
  echo "in effect, database view (next_cfg committed -> cur_cfg committed), median (p90):" \
    "flowpath add ${fea}s (${fe9}) del ${fed}s (${fd9e}); ovs-vswitchd add ${oea}s (${oe9})" \
    "del ${oed}s (${od9e})"
  echo "ovs-vswitchd / flowpath, database view, median: add $(ratio "$(pos "$oea")" "$(pos "$fea")")x," \
    "del $(ratio "$(pos "$oed")" "$(pos "$fed")")x  (goal: >= 5x)"
  echo "ovs-vsctl's tail (cur_cfg sent -> ovs-vsctl returned), median (p90): flowpath add ${fta}s" \
    "(${ft9}) del ${ftd}s (${ftd9}); ovs-vswitchd add ${ota}s (${ot9}) del ${otd}s (${otd9})"
  [[ -f $T/floor-$1.result ]] || return 0
  local lam la9 ldm ld9 lbm lan ldn lea le9 led ld9e
  read -r lam la9 ldm ld9 _ _ lbm _ lan _ ldn _ lea le9 led ld9e _ <"$T/floor-$1.result"
  echo "floor (bench/ovsdb/db_floor.cpp: raises cur_cfg, opens nothing), median: add ${lam}s del ${ldm}s;" \
    "net add $(pos "$lan")s del $(pos "$ldn")s; database view add ${lea}s (${le9}) del ${led}s (${ld9e})"
  echo "5x goal against the floor, database view: ovs-vswitchd / 5 = add" \
    "$(echo "$oea / 5" | bc -l | awk '{printf "%.4f", $1}')s del $(echo "$oed / 5" | bc -l | awk '{printf "%.4f", $1}')s;" \
    "no switch at all takes add ${lea}s del ${led}s; flowpath's own share (flowpath - floor): add" \
    "$(echo "$fea - $lea" | bc -l | awk '{printf "%.4f", $1}')s del $(echo "$fed - $led" | bc -l | awk '{printf "%.4f", $1}')s"
}
for kind in ${KINDS:-system internal afxdp}; do
  for side in flowpath ovs ${DB_FLOOR:+floor}; do
    echo "running $side, $N ports of type $kind ..."
    run_side "$side" "$kind"
  done
done
for kind in ${KINDS:-system internal afxdp}; do report "$kind"; done
