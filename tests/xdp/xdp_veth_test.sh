#!/usr/bin/env bash
# The XDP fast path on real veths: the same frames through `flowpath
# switch` with the fast path off (every packet through the PMD over
# AF_XDP) and on (cached flows forwarded inside the kernel), captured at the
# far ends; every output frame (bytes, which host) must be the same.  Then,
# fast path on: a flow change must stop the kernel forwarding at once (no
# frame of the old decision after `add-flow` returns); pmd-stats-show shows
# kernel hits; and on SIGTERM no XDP program is left attached.
# SHAPE "bridge" (default): one bridge br0 with s1 and s2.  SHAPE
# "veth-pair": the seed's compute node, h1 on br-int, h2 on br-eth2, the
# bridges joined by the veth pair int-br-eth2 <-> phy-br-eth2 (both AF_XDP
# ports of the switch), VLAN 1 inside br-int and 1000 on br-eth2; a cached
# flow crosses both bridges inside the kernel (a redirect into
# int-br-eth2 is received by phy-br-eth2's copy of the program).
# Needs root; exits 77 (ctest: skipped) otherwise.
# Usage: tests/xdp/xdp_veth_test.sh BUILD_DIR [bridge|veth-pair]
set -euo pipefail
B=$(cd "${1:?usage: xdp_veth_test.sh BUILD_DIR [bridge|veth-pair]}" && pwd)
SHAPE=${2:-bridge}
[[ $SHAPE == bridge || $SHAPE == veth-pair ]] || { echo "xdp_veth_test.sh: unknown shape $SHAPE"; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, AF_XDP, BPF)"; exit 77; }
for t in tcpdump ethtool /usr/bin/python3; do
  command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
[[ -x $B/flowpath ]] || { echo "SKIP: build flowpath_cli in $B first"; exit 77; }
P=fx$$
T=$(mktemp -d /tmp/$P.XXXX)
SWPID=""
ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
cleanup() {
  if [[ -n $SWPID ]]; then kill -TERM "$SWPID" 2>/dev/null; wait "$SWPID" 2>/dev/null || true; fi
  for n in sw h1 h2; do ip netns del "$P-$n" 2>/dev/null || true; done
  [[ -n ${KEEP:-} ]] || rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [[ -f $T/switch.log ]] && sed 's/^/  switch: /' "$T/switch.log"; exit 1; }

for n in sw h1 h2; do ip netns add "$P-$n"; done
for h in 1 2; do
  ip link add "$P-s$h" netns "$P-sw" type veth peer name eth0 netns "$P-h$h"
  ip -n "$P-sw" link set "$P-s$h" name "s$h"
  ip -n "$P-sw" link set "s$h" up
  ip -n "$P-h$h" link set eth0 address "02:00:00:00:0$h:01" up
  # XDP redirected into a veth needs NAPI on the receiving peer (GRO on or
  # an XDP program there); tags stay in the frame for the capture.
  ns h$h ethtool -K eth0 gro on rxvlan off txvlan off >/dev/null 2>&1 || true
done
ip -n "$P-sw" link set lo up
for n in sw h1 h2; do  # no IPv6 chatter (router solicitations) in the captures
  ns $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
if [[ $SHAPE == bridge ]]; then
  BR=br0
  cat >"$T/sw.conf" <<'EOF'
add-br br0
add-port br0 s1
add-port br0 s2
add-flow br0 priority=10,in_port=s1,udp,actions=mod_vlan_vid:1000,output:s2
add-flow br0 priority=10,in_port=s2,dl_vlan=1000,actions=strip_vlan,output:s1
add-flow br0 priority=1,actions=NORMAL
EOF
else
  BR=br-int
  ip -n "$P-sw" link add int-br-eth2 type veth peer name phy-br-eth2
  for d in int-br-eth2 phy-br-eth2; do
    ns sw ethtool -K $d rxvlan off txvlan off >/dev/null 2>&1 || true
    ip -n "$P-sw" link set $d up
  done
  cat >"$T/sw.conf" <<'EOF'
add-br br-int
add-port br-int s1
add-port br-int int-br-eth2
add-flow br-int priority=10,in_port=s1,udp,actions=mod_vlan_vid:1,output:int-br-eth2
add-flow br-int priority=10,in_port=int-br-eth2,dl_vlan=1,actions=strip_vlan,output:s1
add-flow br-int priority=1,actions=NORMAL
add-br br-eth2
add-port br-eth2 s2
add-port br-eth2 phy-br-eth2
add-flow br-eth2 priority=10,in_port=phy-br-eth2,dl_vlan=1,actions=mod_vlan_vid:1000,output:s2
add-flow br-eth2 priority=10,in_port=s2,dl_vlan=1000,actions=mod_vlan_vid:1,output:phy-br-eth2
add-flow br-eth2 priority=1,actions=NORMAL
EOF
fi

# send.py DEV: UDP flows (untagged, h1 -> h2), TCP ACKs and ICMP through
# NORMAL, and VLAN 1000 UDP back (h2 -> h1), paced (no loss by overload).
cat >"$T/send.py" <<'EOF'
import socket, struct, sys, time
dev, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
m1, m2 = bytes.fromhex("020000000101"), bytes.fromhex("020000000201")
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff
def ip4(src, dst, proto, payload, tos=0, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), 1, 0, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload
def frames():
    out = []
    for f in range(8):  # UDP flows h1 -> h2: tagged 1000 by the switch
        udp = struct.pack("!HHHH", 1000 + f, 9, 8 + 18, 0) + bytes(18)
        out.append((m2 + m1 + b"\x08\x00" + ip4("192.0.2.1", "192.0.2.2", 17, udp, tos=f * 4)))
    for f in range(4):  # TCP ACKs h1 -> h2 through NORMAL (unicast once learned)
        tcp = struct.pack("!HHIIBBHHH", 2000 + f, 80, 1, 1, 0x50, 0x10, 1000, 0, 0) + bytes(6)
        out.append(m2 + m1 + b"\x08\x00" + ip4("192.0.2.1", "192.0.2.2", 6, tcp))
    return out
def back():
    out = []
    for f in range(4):  # VLAN 1000 UDP h2 -> h1: untagged by the switch
        udp = struct.pack("!HHHH", 3000 + f, 9, 8 + 18, 0) + bytes(18)
        out.append(m1 + m2 + b"\x81\x00\x03\xe8\x08\x00" + ip4("192.0.2.2", "192.0.2.1", 17, udp))
    # an ICMP echo so NORMAL learns h2's MAC on s2
    out.append(m1 + m2 + b"\x08\x00" + ip4("192.0.2.2", "192.0.2.1", 1, b"\x08\x00\xf7\xff" + bytes(4)))
    return out
fs = frames() if who == "h1" else back()
for i in range(n):
    for f in fs:
        s.send(f)
        time.sleep(0.0005)
EOF

# pcap -> one hex line per frame, sorted (the order across flows is free).
cat >"$T/frames.py" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
le = d[:4] == b"\xd4\xc3\xb2\xa1"
e = "<" if le else ">"
off, out = 24, []
while off + 16 <= len(d):
    _, _, incl, _ = struct.unpack(e + "IIII", d[off:off + 16])
    out.append(d[off + 16:off + 16 + incl].hex())
    off += 16 + incl
print("\n".join(sorted(out)))
EOF

start_switch() {
  ip netns exec "$P-sw" "$B/flowpath" switch --config "$T/sw.conf" --ctl "$T/ctl" "$@" >"$T/switch.log" 2>&1 &
  SWPID=$!
  for _ in $(seq 100); do [[ -S $T/ctl ]] && break; kill -0 "$SWPID" 2>/dev/null || break; sleep 0.1; done
  [[ -S $T/ctl ]] || fail "the switch did not start ($*)"
}
stop_switch() {
  kill -TERM "$SWPID"
  local rc=0
  wait "$SWPID" || rc=$?
  SWPID=""
  [[ $rc -eq 0 ]] || fail "the switch exited with $rc"
  rm -f "$T/ctl"
  ip -n "$P-sw" link show | grep -q "xdp" && fail "XDP program left attached"
  return 0
}
ctl() { "$B/flowpath" ctl --socket "$T/ctl" "$@"; }
capture() {  # capture NAME: both hosts' eth0 into $T/NAME-h{1,2}.pcap
  for h in 1 2; do
    ip netns exec "$P-h$h" tcpdump --immediate-mode -U -n -i eth0 -w "$T/$1-h$h.pcap" "not ip6" 2>/dev/null &
    echo $! >"$T/tcpdump-h$h.pid"
  done
  # tcpdump writes the file header once it listens (a loaded machine can
  # take seconds): wait for both, then a little more.
  for h in 1 2; do
    for _ in $(seq 100); do [[ $(stat -c %s "$T/$1-h$h.pcap" 2>/dev/null || echo 0) -ge 24 ]] && break; sleep 0.1; done
  done
  sleep 0.5
}
end_capture() {  # immediate mode: nothing waits in a half-full capture block
  sleep 1
  for h in 1 2; do kill -INT "$(cat "$T/tcpdump-h$h.pid")"; wait "$(cat "$T/tcpdump-h$h.pid")" 2>/dev/null || true; done
}
warm_up() {  # both MACs learned, sockets settled: outside the capture
  ns h2 /usr/bin/python3 "$T/send.py" eth0 h2 1
  ns h1 /usr/bin/python3 "$T/send.py" eth0 h1 1
  sleep 0.5
}
traffic() {  # the same frames each run
  ns h1 /usr/bin/python3 "$T/send.py" eth0 h1 20
  ns h2 /usr/bin/python3 "$T/send.py" eth0 h2 20
}

run() {  # run NAME SWITCH_ARGS...
  local name=$1; shift
  start_switch "$@"
  warm_up
  capture "$name"
  traffic
  end_capture
  ctl dpif-netdev/pmd-stats-show >"$T/$name-pmd.txt" || fail "pmd-stats-show"
  ctl dpctl/dump-flows >"$T/$name-dpflows.txt" || fail "dpctl/dump-flows"
  ctl bridge/dump-flows $BR >"$T/$name-flows.txt" || fail "dump-flows"
  if [[ $SHAPE == veth-pair ]]; then
    ctl bridge/dump-flows br-eth2 >"$T/$name-flows2.txt" || fail "dump-flows br-eth2"
  fi
}

run slow --no-xdp-fast
stop_switch
run fast --xdp-fast
for h in 1 2; do
  /usr/bin/python3 "$T/frames.py" "$T/slow-h$h.pcap" >"$T/slow-h$h.txt"
  /usr/bin/python3 "$T/frames.py" "$T/fast-h$h.pcap" >"$T/fast-h$h.txt"
  [[ -s $T/slow-h$h.txt ]] || fail "nothing captured on h$h"
  # The same distinct frames (bytes) at each host; counts may differ only by
  # loss on a loaded machine (either path), at most 10% of the 340 expected.
  sort -u "$T/slow-h$h.txt" >"$T/slow-h$h.set"
  sort -u "$T/fast-h$h.txt" >"$T/fast-h$h.set"
  diff -q "$T/slow-h$h.set" "$T/fast-h$h.set" >/dev/null ||
    fail "h$h saw different frames with the fast path ($(diff "$T/slow-h$h.set" "$T/fast-h$h.set" | head -5))"
  for run in slow fast; do
    c=$(grep -c "^" "$T/$run-h$h.txt")
    ((c >= 306 && c <= 340)) || fail "h$h: $c frames with the fast path $run (expected 340, <=10% loss)"
  done
done
n2=$(grep -c "^" "$T/fast-h2.txt")
echo "ok: the same $(grep -c "^" "$T/fast-h2.set") distinct frames at h2 and $(grep -c "^" "$T/fast-h1.set") at h1, fast path off and on ($n2 / $(grep -c "^" "$T/fast-h1.txt") frames)"
hits=$(sed -n 's/.*xdp fast path hits: \([0-9]*\).*/\1/p' "$T/fast-pmd.txt" | head -1)
[[ ${hits:-0} -gt 0 ]] || fail "no kernel hits: $(cat "$T/fast-pmd.txt")"
grep -q "offloaded:yes" "$T/fast-dpflows.txt" || fail "dpctl/dump-flows marks nothing offloaded"
grep -q "n_packets=168, .*priority=10,udp,in_port=s1" "$T/fast-flows.txt" ||
  fail "rule counters lack kernel hits: $(cat "$T/fast-flows.txt")"
if [[ $SHAPE == veth-pair ]]; then  # the second bridge's hop ran in the kernel too
  grep -q "n_packets=168, .*priority=10,in_port=phy-br-eth2,dl_vlan=1 " "$T/fast-flows2.txt" ||
    fail "br-eth2's rule counters lack kernel hits: $(cat "$T/fast-flows2.txt")"
  ((hits >= 2 * 160)) || fail "only $hits kernel hits: both hops of the UDP flows should be in the kernel"
fi
echo "ok: $hits packets forwarded in the kernel; counters exact (n_packets=168 on the UDP rule)"

# A flow change stops kernel forwarding at once.
ctl add-flow $BR "priority=20,in_port=s1,udp,actions=drop" >/dev/null || fail "add-flow"
capture after
ns h1 /usr/bin/python3 "$T/send.py" eth0 h1 5
end_capture
/usr/bin/python3 "$T/frames.py" "$T/after-h2.pcap" | grep -q "810003e8" &&
  fail "h2 still got VLAN 1000 UDP after add-flow ...drop (stale kernel entry)"
echo "ok: add-flow drop stops the kernel's forwarding at once"
stop_switch
echo "ok: xdp fast path on real veths ($SHAPE)"
