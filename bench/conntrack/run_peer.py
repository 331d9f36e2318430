#!/usr/bin/python3
"""flowpath's connection tracker against OVS's userspace conntrack, in one run.

    bench/conntrack/run_peer.py [BENCH_BINARY]

BENCH_BINARY defaults to build-bench/bench/conntrack_conntrack_bench (build it
with -DFLOWPATH_BUILD_BENCH=ON).  The peer is OVS 3.1's `ovstest` built by
bench/peers/build_ovstest.sh from Debian's openvswitch-source.

Figures are CPU nanoseconds per packet (user+sys of the OVS process, Google
benchmark's cpu_time for flowpath): the machine is shared, so wall time
measures the neighbours more than the code.
  established: ovstest test-conntrack benchmark T 10000000 32 1 (T threads,
               32 UDP connections per thread, batches of 32, commit) against
               BM_Established/threads:T, the same frames and connections.
  new conns:   OVS has no new-connection benchmark; `ovstest test-conntrack
               pcap` over 1M frames of 1M new flows minus the same over 1M
               frames of 32 flows gives the extra cost of a new connection over
               an existing one, to which OVS's established cost is added.
               Against BM_NewConnections/1000000 (1M new flows, commit, into
               a tracker that held 1M before: pool and bucket arrays kept)
               and BM_NewConnectionsCold/1000000 (a fresh tracker's whole
               life each time, as OVS's fresh process: construction, the
               pool's page faults, the bucket arrays' growth and the
               destruction are timed, as OVS's figure holds its
               conntrack_init(), heap growth, conntrack_destroy() and exit).
  many conns:  flowpath only: BM_EstablishedMany/{1024,262144}, established
               packets of that many connections in a random order (how well
               a batch overlaps the tracker's cache misses).
  SYN flood:   flowpath only (OVS has no such benchmark): a zone at its limit
               (10,000) refusing batches of 32 SYNs from distinct sources,
               established TCP packets with and without the flood state, and
               the two interleaved; printed after the table.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def cpu_of(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(f, n=3):
    return min(f() for _ in range(n))


def main():
    load0 = os.getloadavg()
    bench = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "build-bench/bench/conntrack_conntrack_bench")
    ovstest = subprocess.run([os.path.join(ROOT, "bench/peers/build_ovstest.sh")], check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
    out = subprocess.run([bench, "--benchmark_format=json", "--benchmark_repetitions=3",
                          "--benchmark_min_time=1"], check=True, capture_output=True,
                         text=True).stdout
    ours = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        ns = b["cpu_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
        name = b["run_name"]
        if name.startswith("BM_Established/"):
            per = 32
        elif name.startswith("BM_New"):
            per = int(name.split("/")[1])
        else:
            per = b["items_per_second"] * b["cpu_time"] / {"ns": 1e9, "us": 1e6, "ms": 1e3}[
                b["time_unit"]]
        ours[name] = ns / per
    rows = []
    n = 10_000_000
    for t in (1, 2):
        ovs = best(lambda: cpu_of([ovstest, "test-conntrack", "benchmark", str(t), str(n), "32", "1"]))
        ovs_ns = ovs * 1e9 / (n * t)
        mine = ours[f"BM_Established/real_time/threads:{t}"]
        rows.append((f"established, {t} thread(s), {32 * t} conns", ovs_ns, mine))
    est1 = rows[0][1]
    with tempfile.TemporaryDirectory() as d:
        for mode in ("new", "same"):
            subprocess.run(["/usr/bin/python3", os.path.join(HERE, "make_pcap.py"),
                            os.path.join(d, mode + ".pcap"), "1000000", mode], check=True)
        t_new = best(lambda: cpu_of([ovstest, "test-conntrack", "pcap", os.path.join(d, "new.pcap"), "32"]))
        t_same = best(lambda: cpu_of([ovstest, "test-conntrack", "pcap", os.path.join(d, "same.pcap"), "32"]))
    ovs_new = (t_new - t_same) * 1e9 / 1e6 + est1
    rows.append(("new connections, 1 thread, 1M conns", ovs_new, ours["BM_NewConnections/1000000"]))
    rows.append(("new connections, 1M conns, fresh tracker", ovs_new,
                 ours["BM_NewConnectionsCold/1000000"]))
    print(f"load average at start: {load0}, at end: {os.getloadavg()}")
    print(f"{'workload':44} {'OVS ns/pkt':>11} {'flowpath':>9} {'ratio':>6}")
    for name, o, m in rows:
        print(f"{name:44} {o:11.1f} {m:9.1f} {o / m:6.2f}x")
    print("\nEstablished packets of many connections, 32 at random per batch (flowpath, ns/pkt):")
    for name in ("BM_EstablishedMany/1024", "BM_EstablishedMany/262144"):
        print(f"  {name.split('/')[1] + ' connections':44} {ours[name]:9.1f}")
    print("\nSYN flood into a zone at its limit (flowpath, ns/pkt):")
    for name, label in (("BM_SynFlood", "flood SYNs, refused"),
                        ("BM_EstablishedTcp/flood:0", "established TCP, no flood"),
                        ("BM_EstablishedTcp/flood:1", "established TCP, zone full of the flood"),
                        ("BM_SynFloodMixed", "flood + established interleaved (1:2)")):
        print(f"  {label:44} {ours[name]:9.1f}")


main()
