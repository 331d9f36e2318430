#!/usr/bin/env bash
# `flowpath flows` end to end: a pcap written by the pcap_sample snippet is
# printed in ovs-ofctl match syntax; errors exit non-zero with a message.
# Usage: flows_cli_test.sh FLOWPATH_BINARY PCAP_SAMPLE_BINARY WORKDIR
set -euo pipefail
flowpath=$1 gen=$2 work=$3
mkdir -p "$work"
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # text, fixed substring
  grep -qF -- "$2" <<<"$1" || fail "expected '$2' in:"$'\n'"$1"
}

"$gen" sample.pcap >/dev/null
out=$("$flowpath" flows sample.pcap) || fail "flows exited $?"
echo "$out"
[[ $(wc -l <<<"$out") -eq 6 ]] || fail "expected 5 packet lines and a summary"
expect "$out" "udp,in_port=0,dl_vlan=1000,dl_vlan_pcp=0,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=192.0.2.1,nw_dst=198.51.100.2,"
expect "$out" "tp_src=1234,tp_dst=5001"
expect "$out" "arp,in_port=0,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=192.0.2.1,arp_tpa=192.0.2.2,arp_op=1"
expect "$out" "tcp6,in_port=0,"
expect "$out" "ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,"
expect "$out" "tp_src=40000,tp_dst=443,tcp_flags=syn"
expect "$out" "icmp,in_port=0,"
expect "$out" "icmp_type=8,icmp_code=0"
[[ $(grep -c '# malformed$' <<<"$out") -eq 1 ]] || fail "expected one malformed line"
[[ $(tail -n 1 <<<"$out") == "5 packets, 1 malformed" ]] || fail "bad summary"

out=$("$flowpath" flows --in-port 7 sample.pcap)
[[ $(head -n 1 <<<"$out") == udp,in_port=7,* ]] || fail "--in-port not applied: $out"

# Missing file.
if err=$("$flowpath" flows missing.pcap 2>&1); then fail "missing file accepted"; fi
expect "$err" "missing.pcap"

# Link type RAW (101): a pcap file header and one 20-byte record.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x65\x00\x00\x00' >raw.pcap
printf '\x00\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00\x14\x00\x00\x00' >>raw.pcap
head -c 20 /dev/zero >>raw.pcap
if err=$("$flowpath" flows raw.pcap 2>&1); then fail "RAW link type accepted"; fi
expect "$err" "raw.pcap"
expect "$err" "(RAW) is not supported"

# Damaged: the last record cut short; the four before it are still printed.
size=$(stat -c %s sample.pcap)
head -c $((size - 5)) sample.pcap >cut.pcap
set +e
out=$("$flowpath" flows cut.pcap 2>err.txt)
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "damaged file: exit $rc"
[[ $(tail -n 1 <<<"$out") == "4 packets, 0 malformed" ]] || fail "damaged file: $out"
expect "$(cat err.txt)" "cut.pcap"
expect "$(cat err.txt)" "record 5"

# Usage.
set +e
"$flowpath" flows >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "no argument: exit $rc"
echo "flows cli: ok"
