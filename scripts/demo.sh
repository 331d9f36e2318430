#!/usr/bin/env bash
# The README's main command: installs missing Debian packages, builds the
# `flowpath` tool and runs the end-to-end path that exists today: it writes
# a small capture (examples/snippets/pcap_sample.cpp: VLAN-tagged UDP, ARP,
# IPv6/TCP, ICMP and one malformed frame) and prints every packet's flow key
# in ovs-ofctl syntax with `flowpath flows`.  (The compute-node demo over
# AF_XDP replaces this script's body once it lands.)
# Usage: sudo scripts/demo.sh [FILE.pcap]     (a pcap of your own, optional)
# Env:   JOBS (default nproc), FLOWPATH_DEMO_BUILD (default build-demo/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
out=${FLOWPATH_DEMO_BUILD:-$root/build-demo}
echo "=== flowpath demo: building in $out ===" >&2
cmake -S "$root" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWPATH_BUILD_TESTS=OFF \
      -DFLOWPATH_BUILD_BENCH=OFF -DFLOWPATH_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$out" -j "${JOBS:-$(nproc)}" --target flowpath_cli snippet_pcap_sample
pcap=${1:-}
if [[ -z "$pcap" ]]; then
  pcap="$out/demo/sample.pcap"
  mkdir -p "$out/demo"
  "$out/examples/snippet_pcap_sample" "$pcap"
fi
echo "=== flowpath flows $pcap ===" >&2
"$out/flowpath" flows "$pcap"
