# Sourced by bench/e2e/run.sh and bench/e2e/fw_callgrind.sh: the compute
# node built in a private Open vSwitch, the same way in both, and Neutron's
# firewall flows for vm1's port.  The caller exports OVS_RUNDIR (also
# OVS_DBDIR, OVS_LOGDIR): the database, its socket, the bridges' OpenFlow
# sockets and the logs all live there, never in the system's directories.

V() { ovs-vsctl --db="unix:$OVS_RUNDIR/db.sock" "$@"; }

ovs_db_start() {  # a fresh database and its server; prints the server's PID
  ovsdb-tool create "$OVS_RUNDIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  ovsdb-server "$OVS_RUNDIR/conf.db" --remote="punix:$OVS_RUNDIR/db.sock" \
    --unixctl="$OVS_RUNDIR/ovsdb.ctl" --pidfile="$OVS_RUNDIR/ovsdb.pid" --detach \
    --log-file="$OVS_RUNDIR/ovsdb.log" 2>/dev/null
  V --no-wait init
  cat "$OVS_RUNDIR/ovsdb.pid"
}

# br-int (vm1, vm2 on VLAN 1, vm3 on 2) and br-eth2 (eth2), joined by the
# patch pair int-br-eth2/phy-br-eth2 (shape patch) or, for shape veth, by
# ports of those names whose devices the caller made.  vm1 and eth2 are
# ofport 1, as the firewall's flows and flowpath's config expect.  With fw,
# br-int is as Neutron's agent sets it: secure, OpenFlow 1.0 and 1.3.
ovs_compute_node() {  # DATAPATH-TYPE INTERFACE-TYPE patch|veth [fw]
  local dp=$1 type=$2 shape=$3 fw=${4:-}
  V add-br br-int -- set bridge br-int datapath_type="$dp"
  [[ $fw != fw ]] || V set bridge br-int fail_mode=secure "protocols=OpenFlow10,OpenFlow13"
  V add-br br-eth2 -- set bridge br-eth2 datapath_type="$dp"
  V add-port br-int vm1 tag=1 -- set interface vm1 type="$type" ofport_request=1
  V add-port br-int vm2 tag=1 -- set interface vm2 type="$type" ofport_request=2
  V add-port br-int vm3 tag=2 -- set interface vm3 type="$type" ofport_request=3
  V add-port br-eth2 eth2 -- set interface eth2 type="$type" ofport_request=1
  local peer=("type=patch" "options:peer=phy-br-eth2") back=("type=patch" "options:peer=int-br-eth2")
  [[ $shape == patch ]] || peer=("type=$type") back=("type=$type")
  V add-port br-int int-br-eth2 -- set interface int-br-eth2 "${peer[@]}" \
    -- add-port br-eth2 phy-br-eth2 -- set interface phy-br-eth2 "${back[@]}"
  # Neutron's VLAN translation in place of the fail-open NORMAL flow
  ovs-ofctl --strict del-flows "unix:$OVS_RUNDIR/br-int.mgmt" priority=0
  ovs-ofctl --strict del-flows "unix:$OVS_RUNDIR/br-eth2.mgmt" priority=0
  ovs-ofctl add-flows "unix:$OVS_RUNDIR/br-int.mgmt" - <<'FLOWS'
priority=3,in_port=int-br-eth2,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL
priority=3,in_port=int-br-eth2,dl_vlan=1001 actions=mod_vlan_vid:2,NORMAL
priority=2,in_port=int-br-eth2 actions=drop
priority=1 actions=NORMAL
FLOWS
  ovs-ofctl add-flows "unix:$OVS_RUNDIR/br-eth2.mgmt" - <<'FLOWS'
priority=4,in_port=phy-br-eth2,dl_vlan=1 actions=mod_vlan_vid:1000,NORMAL
priority=4,in_port=phy-br-eth2,dl_vlan=2 actions=mod_vlan_vid:1001,NORMAL
priority=2,in_port=phy-br-eth2 actions=drop
priority=1 actions=NORMAL
FLOWS
}

# ---- Neutron's firewall on vm1's port ----------------------------------
# vm1 as the topology makes it: br-int's first port, local VLAN 1 (also
# the conntrack zone, reg6), the generator's source MAC and address.
FW_OFPORT=1 FW_VLAN=1 FW_MAC=02:00:00:00:01:01 FW_IP=192.0.2.1
fw_generate() {  # FILE: every switch gets exactly these flows
  local g=$root/tests/e2e/neutron_sg_flows.py
  { /usr/bin/python3 "$g" base
    /usr/bin/python3 "$g" port $FW_OFPORT $FW_VLAN $FW_MAC $FW_IP
    /usr/bin/python3 "$g" rule $FW_OFPORT $FW_VLAN egress any    # the default SG:
    /usr/bin/python3 "$g" rule $FW_OFPORT $FW_VLAN egress any6   # egress all
  } >"$1"
}
fw_load() {  # OPENFLOW-TARGET NAME FILE: br-int's table-0 NORMAL gives way to Neutron's
  local of=$1 name=$2 port n    # table 0 -> 60 (-> 71 for vm1, NORMAL otherwise)
  port=$(ovs-ofctl -O OpenFlow13 show "$of" | sed -n 's/^ *\([0-9]*\)(vm1):.*/\1/p')
  [[ $port == "$FW_OFPORT" ]] || { echo "$name: vm1 is ofport '$port', the flows are for $FW_OFPORT" >&2; return 1; }
  ovs-ofctl --strict del-flows "$of" priority=1
  ovs-ofctl -O OpenFlow13 add-flows "$of" "$3"
  n=$(ovs-ofctl -O OpenFlow13 dump-flows "$of" | grep -c "cookie=0x8f3c5d6e7a9b0c1d" || true)
  echo "$name: $n Neutron firewall flows loaded on br-int (vm1 ofport $port, zone $FW_VLAN)"
}
