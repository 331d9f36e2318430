#!/usr/bin/python3
"""Neutron's openvswitch firewall flows for the e2e test's compute node.

Prints, one a line, the flows that Neutron's `openvswitch` firewall driver
(neutron 21, neutron/agent/linux/openvswitch_firewall/firewall.py and
rules.py) installs on br-int, in the text Neutron's ovs_lib hands to
`ovs-ofctl add-flows` (tests/flow/data/neutron_ovsfw.txt is the reference
for one port).  Written for the test from the driver's behaviour, not
copied from it.

  neutron_sg_flows.py base
      br-int's own flows (table 0 -> 60, NORMAL in 60) and the firewall's
      port-independent ones (default drops of 71/72/73/81/82/92/93,
      untrack-and-retry in 71, 91 -> 94, NORMAL in 94)
  neutron_sg_flows.py port OFPORT VLAN MAC IPV4
      initialize_port_flows + _initialize_tracked_ingress/_egress: port
      identification in 60, anti-spoofing (MAC and IP) in 71, accept or
      ingress in 73, direct output in 94, ingress base in 81, tracked
      state (invalid, ct_mark=1, established/related, mark on rule loss)
      in 72 and 82
  neutron_sg_flows.py rule OFPORT VLAN DIRECTION PROTO [PORTS]
      one security-group rule of a port: DIRECTION ingress|egress, PROTO
      tcp|udp|icmp|any (IPv4) or any6 (IPv6), PORTS N or N-M (tcp/udp); two flows, one for
      +est-rel-rpl and one for +new-est, as rules.py
  neutron_sg_flows.py conj OFPORT VLAN DIRECTION PROTO PORTS CONJ MEMBER...
      a rule with a remote security group: the port-range half
      conjunction(CONJ,2/2) / (CONJ+1,2/2), the accept flows conj_id=CONJ
      (+est) and CONJ+1 (+new), and for each MEMBER address of the remote
      group the address half conjunction(...,1/2) (ConjIPFlowManager)

Option --match (first argument): print the flows' matches for
`ovs-ofctl --strict del-flows` (no timeouts, cookie or actions): what
Neutron deletes when a rule or member goes.
"""
import sys

COOKIE = "0x8f3c5d6e7a9b0c1d"  # one cookie per agent, as Neutron's
REG_PORT, REG_NET, REG_REMOTE_GROUP = 5, 6, 7
ZONE = "zone=NXM_NX_REG6[0..15]"
NEW = "+new-est"            # OF_STATE_NEW_NOT_ESTABLISHED
EST = "+est-rel-rpl"        # OF_STATE_ESTABLISHED_NOT_REPLY
IP_TYPES = (("0x0800", "ip"), ("0x86dd", "ipv6"))
PROTO_NUM = {"tcp": 6, "udp": 17, "icmp": 1}

flows = []


def flow(table, priority, match, actions):
    flows.append((table, priority, match, actions))


def link_local(mac):
    """The port's IPv6 link-local address (EUI-64), as Neutron derives it."""
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 0x02
    w = [b[0] << 8 | b[1], b[2] << 8 | 0xff, 0xfe << 8 | b[3], b[4] << 8 | b[5]]
    return "fe80::" + ":".join(f"{x:x}" for x in w)


def base():
    flow(0, 0, "", "resubmit(,60)")   # LOCAL_SWITCHING -> TRANSIENT_TABLE
    flow(60, 3, "", "NORMAL")          # the OVS agent's own default
    for t in (71, 72, 73, 81, 82):
        flow(t, 0, "", "drop")
    flow(71, 110, "ct_state=+trk", "ct_clear,resubmit(,71)")
    flow(94, 1, "", "normal")
    flow(91, 1, "", "resubmit(,94)")
    flow(92, 0, "", "drop")
    flow(93, 0, "", "drop")


def port(ofport, vlan, mac, ip):
    p, v = int(ofport), int(vlan)
    ids = f"set_field:{p}->reg{REG_PORT},set_field:{v}->reg{REG_NET}"
    reg = f"reg{REG_PORT}={p:#x}"
    ll = link_local(mac)
    # initialize_port_flows: which port, which network
    flow(60, 100, f"in_port={p}", f"{ids},resubmit(,71)")
    flow(60, 90, f"dl_dst={mac},dl_vlan={v:#x}", f"{ids},strip_vlan,resubmit(,81)")
    flow(60, 90, f"dl_dst={mac},vlan_tci=0x0000/0x1fff", f"{ids},resubmit(,81)")
    # _initialize_egress: the port's own MAC/IP pairs only (anti-spoofing)
    flow(71, 95, f"in_port={p},{reg},dl_src={mac},dl_type=0x0806,arp_spa={ip}", "resubmit(,94)")
    flow(71, 65, f"{reg},dl_type=0x0800,in_port={p},dl_src={mac},nw_src={ip}",
         f"ct(table=72,{ZONE})")
    # (the ports are IPv4-only: their one IPv6 address is the link-local)
    for t in (130, 133):
        flow(71, 95, f"in_port={p},{reg},dl_type=0x86dd,nw_proto=58,icmp_type={t},dl_src={mac},"
             f"ipv6_src={ll}", "resubmit(,94)")
    for t in (135, 136):
        flow(71, 95, f"in_port={p},{reg},dl_type=0x86dd,nw_proto=58,icmp_type={t},nd_target={ll}",
             "resubmit(,94)")
    flow(71, 65, f"{reg},in_port={p},dl_type=0x86dd,dl_src={mac},ipv6_src={ll}",
         f"ct(table=72,{ZONE})")
    flow(71, 80, f"{reg},in_port={p},dl_type=0x0800,dl_src={mac},nw_src={ip},nw_proto=17,"
         "tp_src=68,tp_dst=67", "resubmit(,73)")
    flow(71, 80, f"{reg},in_port={p},dl_type=0x0800,dl_src={mac},nw_src=0.0.0.0,nw_proto=17,"
         "tp_src=68,tp_dst=67", "resubmit(,73)")
    flow(71, 70, f"in_port={p},{reg},dl_type=0x0800,nw_proto=17,tp_src=67,tp_dst=68",
         "resubmit(,93)")
    flow(71, 70, f"in_port={p},{reg},dl_type=0x86dd,nw_proto=17,tp_src=547,tp_dst=546",
         "resubmit(,93)")
    flow(71, 70, f"in_port={p},{reg},dl_type=0x86dd,nw_proto=58,icmp_type=134", "resubmit(,93)")
    flow(71, 95, f"dl_type=0x8100,{reg}", "resubmit(,94)")
    flow(71, 10, f"in_port={p},{reg}", "ct_clear,resubmit(,93)")
    # accept or ingress: to a port of this host -> its ingress pipeline
    flow(73, 100, f"dl_dst={mac},reg{REG_NET}={v:#x}", f"set_field:{p}->reg{REG_PORT},resubmit(,81)")
    for dlt, _ in IP_TYPES:
        flow(73, 90, f"dl_type={dlt},{reg},ct_state={NEW}", f"ct(commit,{ZONE}),resubmit(,91)")
    flow(73, 80, reg, "resubmit(,94)")
    flow(94, 12, f"dl_dst={mac},reg{REG_NET}={v:#x}", f"output:{p}")
    # _initialize_ingress
    flow(81, 100, f"dl_type=0x0806,{reg}", f"output:{p}")
    for t in (130, 135, 136, 134):
        flow(81, 100, f"{reg},dl_type=0x86dd,nw_proto=58,icmp_type={t}", f"output:{p}")
    flow(81, 95, f"{reg},dl_type=0x0800,nw_proto=17,tp_src=67,tp_dst=68", f"output:{p}")
    flow(81, 95, f"{reg},dl_type=0x86dd,nw_proto=17,tp_src=547,tp_dst=546", f"output:{p}")
    for dlt, _ in IP_TYPES:
        flow(81, 90, f"{reg},dl_type={dlt},ct_state=-trk", f"ct(table=82,{ZONE})")
    flow(81, 80, f"ct_state=+trk,{reg}", "resubmit(,82)")
    # _initialize_tracked_ingress / _egress
    for table, accept in ((82, f"output:{p}"), (72, "resubmit(,94)")):
        flow(table, 50, "ct_state=+trk+inv", "resubmit(,93)")
        flow(table, 50, f"{reg},ct_mark=0x1", "resubmit(,93)")
        for st in ("+est-rel+rpl", "-new-est+rel-inv"):
            flow(table, 50, f"{reg},ct_state={st},ct_mark=0x0,ct_zone={v}", accept)
        flow(table, 40, f"{reg},ct_state=-est", "resubmit(,93)")
        for dlt, _ in IP_TYPES:
            flow(table, 40, f"dl_type={dlt},{reg},ct_state=+est",
                 f"ct(commit,{ZONE},exec(set_field:0x1->ct_mark))")


def rule_match(proto, ports):
    """The L3/L4 part of a rule's match and its priority (rules.py)."""
    if proto in ("any", "any6"):
        return ("dl_type=0x0800" if proto == "any" else "dl_type=0x86dd"), 70
    if proto not in PROTO_NUM:
        raise ValueError(f"protocol {proto}: not tcp, udp, icmp, any or any6")
    m = f"dl_type=0x0800,nw_proto={PROTO_NUM[proto]}"
    if proto == "icmp":
        return m, 76
    if ports:
        lo, _, hi = ports.partition("-")
        lo, hi = int(lo), int(hi or lo)
        m += "," + ",".join(f"{proto}_dst={v}" for v in port_masks(lo, hi))
    return m, 77


def port_masks(lo, hi):
    """A port range as value/mask pairs (neutron_lib's port_rule_masking);
    the test's ranges are single values or aligned blocks."""
    if lo == hi:
        return [f"{lo:#06x}"]
    size = hi - lo + 1
    assert size & (size - 1) == 0 and lo % size == 0, "aligned ranges only"
    return [f"{lo:#06x}/{0xffff & ~(size - 1):#06x}"]


def accept_actions(direction, p, state):
    if direction == "egress":
        return "resubmit(,73)"
    if state == NEW:
        return f"ct(commit,{ZONE}),output:{p},resubmit(,92)"
    return f"output:{p}"


def rule(ofport, vlan, direction, proto, ports=""):
    p = int(ofport)
    m, prio = rule_match(proto, ports)
    table = 82 if direction == "ingress" else 72
    for st in (EST, NEW):
        flow(table, prio, f"{m},reg{REG_PORT}={p:#x},ct_state={st}", accept_actions(direction, p, st))


def conj(ofport, vlan, direction, proto, ports, conj_id, *members):
    p, v, cid = int(ofport), int(vlan), int(conj_id)
    m, prio = rule_match(proto, ports)
    table = 82 if direction == "ingress" else 72
    src = "nw_src" if direction == "ingress" else "nw_dst"
    for i, st in enumerate((EST, NEW)):
        flow(table, prio, f"{m},reg{REG_PORT}={p:#x},ct_state={st}", f"conjunction({cid + i},2/2)")
        acc = f"set_field:{cid + i}->reg{REG_REMOTE_GROUP}," + accept_actions(direction, p, st)
        flow(table, 70, f"conj_id={cid + i},dl_type=0x0800,reg{REG_PORT}={p:#x},ct_state={st}", acc)
        for ip in members:
            flow(table, prio, f"ct_state={st},ip,reg{REG_NET}={v:#x},{src}={ip}",
                 f"conjunction({cid + i},1/2)")


def main(argv):
    match_only = argv[:1] == ["--match"]
    if match_only:
        argv = argv[1:]
    cmds = {"base": base, "port": port, "rule": rule, "conj": conj}
    if not argv or argv[0] not in cmds:
        sys.exit(__doc__)
    try:
        cmds[argv[0]](*argv[1:])
    except (TypeError, ValueError, KeyError, AssertionError) as e:
        sys.exit(f"neutron_sg_flows.py {' '.join(argv)}: bad arguments ({e}); run it without arguments for the usage")
    for table, prio, m, actions in flows:
        if match_only:
            print(f"table={table},priority={prio}" + (f",{m}" if m else ""))
        else:
            print(f"hard_timeout=0,idle_timeout=0,priority={prio},table={table},cookie={COOKIE}"
                  + (f",{m}" if m else "") + f",actions={actions}")


if __name__ == "__main__":
    main(sys.argv[1:])
