#!/usr/bin/env bash
# A real controller drives flowpath: os-ken (Debian's python3-os-ken) runs
# tests/openflow/osken_l2_learning.py behind the bridge's active
# tcp:127.0.0.1:PORT target, in secure mode.  Two hosts (namespaces) ping
# through `flowpath switch` (AF_XDP on veths):
#   1. no controller yet: secure, no flows -> nothing is forwarded;
#   2. the controller connects: table-miss flow, packet-in, packet-out,
#      flow-mods -> the ping goes through, and the learned flows are there;
#   3. the controller stops: the installed flows keep forwarding the ping,
#      but nothing new: h2's second address 192.0.2.3 was never resolved,
#      and its ARP broadcast meets only the table-miss flow;
#   4. the controller restarts: the switch reconnects and the same ping to
#      192.0.2.3 goes through (the control for step 3).
# Every must-not-forward check has a control that forwards.
# Needs root, ping, flowpath_cli built, /usr/bin/python3 with os_ken;
# exits 77 (skip) otherwise.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:?usage: osken_test.sh BUILD_DIR}" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, AF_XDP)"; exit 77; }
command -v ping >/dev/null || { echo "SKIP: no ping"; exit 77; }
command -v ovs-ofctl >/dev/null || { echo "SKIP: no ovs-ofctl"; exit 77; }
[[ -x $B/flowpath ]] || { echo "SKIP: build the target flowpath_cli in $B first"; exit 77; }
/usr/bin/python3 -c "import os_ken" 2>/dev/null || { echo "SKIP: no os_ken for /usr/bin/python3"; exit 77; }

P=fpok$$
DIR=$(mktemp -d /tmp/$P-XXXXXX)
PORT=$((20000 + $$ % 20000))
SWPID="" CPID=""
ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
stop_controller() {
  if [[ -n $CPID ]]; then kill -TERM "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=""; fi
}
cleanup() {
  stop_controller
  if [[ -n $SWPID ]]; then kill -TERM "$SWPID" 2>/dev/null; wait "$SWPID" 2>/dev/null; fi
  for n in sw h1 h2; do ip netns del "$P-$n" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  sed 's/^/  switch: /' "$DIR/switch.log"
  [[ -f $DIR/osken.log ]] && tail -20 "$DIR/osken.log" | sed 's/^/  os-ken: /'
  exit 1
}
can_ping() { ns h1 ping -c "${1:-2}" -i 0.2 -W 1 "${2:-192.0.2.2}" >/dev/null 2>&1; }
flows() { ns sw ovs-ofctl -O OpenFlow13 dump-flows "unix:$DIR/br0.mgmt" 2>&1; }
start_controller() {
  # `ip netns exec` (not the ns function, a subshell) so that $! is os-ken itself.
  ip netns exec "$P-sw" /usr/bin/python3 -m os_ken.cmd.manager --ofp-listen-host 127.0.0.1 \
    --ofp-tcp-listen-port "$PORT" "$root/tests/openflow/osken_l2_learning.py" \
    >>"$DIR/osken.log" 2>&1 &
  CPID=$!
}
# Until the switch's controller connection is up (its log says so), 20 s.
wait_connected() {
  for _ in $(seq 200); do
    grep -q "switch .* connected" "$DIR/osken.log" 2>/dev/null && [[ $(grep -c "connected" "$DIR/osken.log") -ge $1 ]] && return 0
    sleep 0.1
  done
  return 1
}

# Topology: h1 (192.0.2.1) -- s1 [flowpath br0, in namespace sw] s2 -- h2 (192.0.2.2).
for n in sw h1 h2; do ip netns add "$P-$n" || fail "ip netns add"; done
for i in 1 2; do
  ip link add "s$i" netns "$P-sw" type veth peer name eth0 netns "$P-h$i" || fail "veth"
  ns sw ip link set "s$i" up
  ns "h$i" ip addr add "192.0.2.$i/24" dev eth0
  ns "h$i" ip link set eth0 up
  ns "h$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ns h2 ip addr add 192.0.2.3/24 dev eth0
ns sw ip link set lo up
ns sw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
cat >"$DIR/sw.conf" <<EOF
add-br br0
add-port br0 s1 ofport=1
add-port br0 s2 ofport=2
set-fail-mode br0 secure
set-controller br0 tcp:127.0.0.1:$PORT punix:$DIR/br0.mgmt
EOF
ip netns exec "$P-sw" "$B/flowpath" switch --config "$DIR/sw.conf" --ctl "$DIR/ctl.sock" >"$DIR/switch.log" 2>&1 &
SWPID=$!
for _ in $(seq 100); do [[ -S $DIR/ctl.sock ]] && break; kill -0 "$SWPID" 2>/dev/null || break; sleep 0.1; done
[[ -S $DIR/ctl.sock ]] || fail "the switch did not start"

# 1. Secure, no controller, no flows: nothing forwarded.
can_ping 2 && fail "forwarded with no controller and no flows (secure)"
echo "ok: secure bridge without a controller forwards nothing"

# 2. The controller: table-miss -> packet-in -> packet-out + flow-mods.
start_controller
wait_connected 1 || fail "the switch did not connect to os-ken"
can_ping 3 || fail "no forwarding with the MAC-learning controller"
grep -q "packet-in" "$DIR/osken.log" || fail "os-ken saw no packet-in"
f=$(flows)
grep -q "priority=0 actions=CONTROLLER:65535" <<<"$f" || fail "no table-miss flow: $f"
grep -q "priority=1,in_port=1,dl_dst=" <<<"$f" || fail "no learned flow from s1: $f"
grep -q "priority=1,in_port=2,dl_dst=" <<<"$f" || fail "no learned flow from s2: $f"
echo "ok: os-ken learned the hosts (packet-in, packet-out, flow-mod); ping goes through"

# 3. The controller stops: learned flows keep forwarding; nothing new does.
stop_controller
sleep 0.5
can_ping 3 || fail "installed flows stopped forwarding while the controller is down"
can_ping 2 192.0.2.3 && fail "new traffic (ARP for 192.0.2.3) was forwarded with the controller down: $(flows)"
echo "ok: controller down: installed flows forward, new traffic (ARP) does not"

# 4. The controller restarts: the switch reconnects (backoff <= 8 s).
start_controller
wait_connected 2 || fail "the switch did not reconnect to the restarted os-ken"
ns h1 ip neigh flush to 192.0.2.3
can_ping 3 192.0.2.3 || fail "no forwarding to 192.0.2.3 after the controller restarted"
can_ping 2 || fail "no forwarding to 192.0.2.2 after the controller restarted"
echo "ok: the switch reconnected; new traffic (ARP for 192.0.2.3) goes through the controller"
exit 0
