# bench/lib/ovs_private.sh — a private Open vSwitch database and one switch
# (flowpath or the real ovs-vswitchd) in its own namespaces, for the
# benchmark scripts that drive a switch through ovs-vsctl/ovs-ofctl
# (bench/openflow/run.sh, bench/ovsdb/run.sh).  Sourced, not run:
#
#   source "$root/bench/lib/ovs_private.sh"
#   ovs_private_require [TOOL...]     # root, OVS tools, $B's binaries, else exit 77
#   ovs_private_tmpdir fpx            # T=/tmp/fpx<pid>-XXXXXX, removed on exit
#   run_side() {
#     local P=fpx$$f D=$T/side DB dbpid swpid
#     ovs_private_up                  # ovsdb-server in $D, namespaces $P-*
#     ovs_private_start flowpath      # or: ovs, or floor (DB_FLOOR=ovsdb_floor)
#     ovs_private_bridge flowpath     # br-int
#     ovs_private_vm_ports afxdp      # vm1, vm2 (tag=1); afxdp or system
#     ...measure...
#     ovs_private_down                # stops both, removes the namespaces
#   }
#
# Private means: database, sockets, pid and log files in $D (OVS_RUNDIR,
# OVS_DBDIR, OVS_LOGDIR, OVS_SYSCONFDIR point there), never the system's
# /var/run/openvswitch; only processes started here are signalled, by PID.
# The per-side functions use the caller's P (namespace prefix of
# scripts/netns/topology.sh), D (directory) and B (build directory), and set
# the caller's DB, dbpid and swpid (declare them local there).  vsctl runs
# ovs-vsctl on $DB.  Every started PID is in PIDS and every namespace
# prefix in PREFIXES until ovs_private_down, so that an early exit
# (set -e, a failed check, ^C) still stops and removes them.

ovs_private_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# ovs_private_require [TOOL...]: root, the OVS tools (and TOOLs) and $B's
# flowpath and BPF objects, or a reason and exit 77 (skipped).
ovs_private_require() {
  local t
  [[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces, AF_XDP)"; exit 77; }
  for t in ping ovsdb-server ovsdb-tool ovs-vsctl ovs-vswitchd "$@"; do
    command -v "$t" >/dev/null || { echo "no $t (scripts/deps.sh installs openvswitch-switch)"; exit 77; }
  done
  SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
  [[ -x $B/flowpath && -f $B/bpf/vlan_host.bpf.o ]] ||
    { echo "build the targets flowpath_cli and flowpath_bpf in $B first"; exit 77; }
}

# ovs_private_tmpdir PREFIX: T, a fresh /tmp/PREFIX<pid>-XXXXXX; on exit
# every PID in PIDS is stopped, every prefix in PREFIXES taken down, T removed.
ovs_private_tmpdir() {
  T=$(mktemp -d "/tmp/$1$$-XXXXXX")
  PIDS=() PREFIXES=()
  trap ovs_private_cleanup EXIT
  trap 'exit 130' INT TERM
}
ovs_private_cleanup() {
  set +e
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for p in "${PREFIXES[@]}"; do "$ovs_private_root/scripts/netns/topology.sh" down "$p" >/dev/null 2>&1; done
  rm -rf "$T"
}

vsctl() { ovs-vsctl --timeout=60 --db="$DB" "$@"; }

# ovs_private_up: a fresh database and its ovsdb-server in $D (DB, dbpid),
# then the namespaces $P-sw, $P-vm1, $P-vm2 (IPv6 off in the switch's).
ovs_private_up() {
  mkdir -p "$D"
  PREFIXES+=("$P")
  export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
  DB=unix:$D/db.sock
  ovsdb-tool create "$D/conf.db" "$SCHEMA"
  ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --pidfile="$D/ovsdb.pid" \
    --unixctl="$D/ovsdb.ctl" --log-file="$D/ovsdb.log" -vconsole:off 2>/dev/null &
  dbpid=$!
  PIDS+=("$dbpid")
  for _ in $(seq 100); do [[ -S $D/db.sock ]] && break; sleep 0.05; done
  vsctl --no-wait init
  "$ovs_private_root/scripts/netns/topology.sh" up "$P" "$B/bpf" >/dev/null
  ip netns exec "$P-sw" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
}

# ovs_private_start SIDE [ARG...]: the switch (swpid) in $P-sw on $DB:
# flowpath (`flowpath switch`, ARGs added) or ovs (ovs-vswitchd).
ovs_private_start() {
  local side=$1
  shift
  if [[ $side == flowpath ]]; then
    ip netns exec "$P-sw" "$B/flowpath" switch --db "$DB" --ctl "$D/switch.ctl" "$@" >"$D/switch.log" 2>&1 &
  elif [[ $side == floor ]]; then  # bench/ovsdb/db_floor.cpp: raises cur_cfg, nothing else
    "${DB_FLOOR:?DB_FLOOR=path of ovsdb_floor}" "$DB" >"$D/floor.log" 2>&1 &
  else
    ip netns exec "$P-sw" ovs-vswitchd "$DB" --pidfile="$D/vswitchd.pid" --unixctl="$D/vswitchd.ctl" \
      --log-file="$D/vswitchd.log" -vconsole:off --no-chdir 2>/dev/null &
  fi
  swpid=$!
  PIDS+=("$swpid")
}

# ovs_private_bridge SIDE [VSCTL_ARG...]: br-int; on ovs-vswitchd with the
# userspace datapath (netdev), on flowpath with VSCTL_ARGs appended.
ovs_private_bridge() {
  local side=$1
  shift
  if [[ $side != ovs ]]; then
    vsctl add-br br-int "$@"
  else
    vsctl add-br br-int -- set bridge br-int datapath_type=netdev
  fi
}

# ovs_private_vm_ports TYPE: vm1 and vm2 on br-int, access ports of VLAN 1,
# of type afxdp if TYPE is afxdp, else system interfaces.
ovs_private_vm_ports() {
  local v
  for v in vm1 vm2; do
    if [[ $1 == afxdp ]]; then
      vsctl add-port br-int $v tag=1 -- set interface $v type=afxdp
    else
      vsctl add-port br-int $v tag=1
    fi
  done
}

# ovs_private_down: stops the switch and ovsdb-server (and waits for them),
# takes the namespaces down, and forgets them: never signal a reused PID.
ovs_private_down() {
  kill -TERM "$swpid"
  wait "$swpid" || true
  kill -TERM "$dbpid"
  wait "$dbpid" || true
  "$ovs_private_root/scripts/netns/topology.sh" down "$P" >/dev/null 2>&1
  PIDS=() PREFIXES=()
}
