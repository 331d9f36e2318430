#!/bin/sh
# Runs ovsdb-watch --once against a private ovsdb-server (own temp dir,
# killed by PID) after ovs-vsctl built a small compute node.
# Usage: watch_example.sh PATH/TO/ovsdb-watch     Exit 77: no Open vSwitch.
set -eu
watch=$1
for t in /usr/sbin/ovsdb-server /usr/bin/ovsdb-tool /usr/bin/ovs-vsctl; do
  [ -x "$t" ] || { echo "skip: $t missing (openvswitch-switch)"; exit 77; }
done
dir=$(mktemp -d /tmp/fp-ovsdb-watch-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
export OVS_RUNDIR=$dir OVS_DBDIR=$dir OVS_LOGDIR=$dir OVS_SYSCONFDIR=$dir
ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$dir/conf.db" --remote=punix:"$dir/db.sock" --pidfile="$dir/pid" \
  --unixctl="$dir/ctl" --log-file="$dir/log" -vconsole:off &
pid=$!
i=0
while [ ! -S "$dir/db.sock" ]; do i=$((i + 1)); [ $i -lt 500 ] || exit 1; sleep 0.01; done
ovs-vsctl --db=unix:"$dir/db.sock" --no-wait init -- add-br br-int \
  -- add-port br-int vm1 tag=1 -- set interface vm1 type=afxdp \
  -- add-port br-int vx0 -- set interface vx0 type=vxlan
out=$("$watch" --once unix:"$dir/db.sock")
echo "$out"
echo "$out" | grep -q "Bridge br-int  fail_mode=standalone"
echo "$out" | grep -Eq "Port vm1 +ofport=1 +type=afxdp tag=1"
echo "$out" | grep -Eq "Port br-int +ofport=LOCAL +type=internal"
echo "$out" | grep -q "error: Interface vx0: unknown type 'vxlan'"
echo "ovsdb-watch example: ok"
