#!/usr/bin/python3
"""Writes N OpenFlow flows (ovs-ofctl add-flows syntax) to stdout, the same
ones for a given seed: bench/openflow/run.sh's flow file.

Usage: gen_flows.py N SEED COOKIE

A mix shaped like a compute node's tables (every flow carries the cookie,
so `del-flows BR cookie=COOKIE/-1` removes them and nothing else):
  40%  ACL 5-tuples: tcp/udp, nw_src 198.51.100.x[/24|/32], nw_dst
       203.0.113.x, tp_dst (sometimes tp_src); drop, output, NORMAL
  25%  L2: in_port, dl_src, dl_dst (sometimes dl_vlan); output
  20%  VLAN translation: in_port, dl_vlan; mod_vlan_vid + NORMAL|output
  15%  mixed: in_port, ip, nw_dst; mod_vlan_vid + output, or drop
Priorities 1..40000.  No flow can match the benchmark's own traffic
(vm1 <-> vm2, 192.0.2.0/24 on ofports 1 and 2): each one names an in_port
of 10 or more or an IPv4 source in 198.51.100.0/24.  (match, priority)
pairs are unique, so the switch ends with exactly N new flows.
"""
import random
import sys


def mac(r):
    return "02:%02x:%02x:%02x:%02x:%02x" % tuple(r.randrange(256) for _ in range(5))


def acl(r):
    proto = r.choice(["tcp", "udp"])
    src = "198.51.100.%d" % r.randrange(256)
    if r.random() < 0.3:
        src = "198.51.100.0/24"
    m = "%s,nw_src=%s,nw_dst=203.0.113.%d,tp_dst=%d" % (
        proto, src, r.randrange(256), r.randrange(1, 65536))
    if r.random() < 0.3:
        m += ",tp_src=%d" % r.randrange(1024, 65536)
    act = r.choice(["drop", "NORMAL", "output:%d" % r.randrange(10, 200)])
    return r.randrange(1000, 40001), m, act


def l2(r):
    m = "in_port=%d,dl_src=%s,dl_dst=%s" % (r.randrange(10, 1000), mac(r), mac(r))
    if r.random() < 0.5:
        m += ",dl_vlan=%d" % r.randrange(1, 4095)
    return r.randrange(100, 20001), m, "output:%d" % r.randrange(10, 1000)


def vlan(r):
    m = "in_port=%d,dl_vlan=%d" % (r.randrange(10, 1000), r.randrange(1, 4095))
    out = r.choice(["NORMAL", "output:%d" % r.randrange(10, 1000)])
    return r.randrange(1, 10), m, "mod_vlan_vid:%d,%s" % (r.randrange(1, 4095), out)


def mixed(r):
    m = "in_port=%d,ip,nw_dst=203.0.113.%d" % (r.randrange(10, 1000), r.randrange(256))
    if r.random() < 0.5:
        act = "mod_vlan_vid:%d,output:%d" % (r.randrange(1, 4095), r.randrange(10, 1000))
    else:
        act = "drop"
    return r.randrange(1, 40001), m, act


def main():
    n, seed, cookie = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    r = random.Random(seed)
    kinds = [acl] * 8 + [l2] * 5 + [vlan] * 4 + [mixed] * 3
    seen = set()
    out = []
    while len(out) < n:
        prio, m, act = r.choice(kinds)(r)
        if (prio, m) in seen:
            continue
        seen.add((prio, m))
        out.append("cookie=%s,priority=%d,%s,actions=%s\n" % (cookie, prio, m, act))
    sys.stdout.writelines(out)


main()
