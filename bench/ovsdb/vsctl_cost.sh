#!/usr/bin/env bash
# What ovs-vsctl itself costs for an add-port versus the `set open_vswitch`
# that bench/ovsdb/run.sh pairs each change with (its "net" figure), with
# no switch at all: a private ovsdb-server holding br-int and 50 internal
# ports, then 40 pairs of `--no-wait set open_vswitch .` and `--no-wait
# add-port` (nothing waits for a switch).  Prints the medians and the
# median of add-port - set: the part of ovs-vsctl's own cost that "net"
# keeps.  Usage: bench/ovsdb/vsctl_cost.sh   (no root needed)
set -euo pipefail
for t in ovsdb-server ovsdb-tool ovs-vsctl; do command -v $t >/dev/null || { echo "no $t"; exit 77; }; done
D=$(mktemp -d /tmp/fpv$$-XXXXXX); DBPID=
cleanup() { set +e; [[ -n $DBPID ]] && { kill -TERM $DBPID; wait $DBPID; } 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
ovsdb-tool create $D/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server $D/conf.db --remote=punix:$D/db.sock --pidfile=$D/o.pid --unixctl=$D/o.ctl --log-file=$D/o.log -vconsole:off 2>/dev/null &
DBPID=$!
for _ in $(seq 100); do [[ -S $D/db.sock ]] && break; sleep 0.05; done
v() { ovs-vsctl --db=unix:$D/db.sock --no-wait "$@"; }
v init; v add-br br-int
for k in $(seq 50); do v add-port br-int p$k tag=1 -- set interface p$k type=internal; done
for k in $(seq 40); do
  t0=$EPOCHREALTIME; v set open_vswitch . external_ids:x=$k; t1=$EPOCHREALTIME
  v add-port br-int x$k tag=1 -- set interface x$k type=internal; t2=$EPOCHREALTIME
  echo "$t0 $t1 $t2" | awk '{printf "%.2f %.2f\n", ($2-$1)*1000, ($3-$2)*1000}'
done > $D/t
awk '{print $1}' $D/t | sort -g | awk '{a[NR]=$1} END {print "set --no-wait median ms", a[int((NR+1)/2)]}'
awk '{print $2}' $D/t | sort -g | awk '{a[NR]=$1} END {print "add-port --no-wait median ms", a[int((NR+1)/2)]}'
awk '{print $2-$1}' $D/t | sort -g | awk '{a[NR]=$1} END {print "add-port minus set, median ms", a[int((NR+1)/2)]}'
cat /proc/loadavg
