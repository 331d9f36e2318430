#!/usr/bin/env bash
# Installs the Debian 12 packages flowpath needs to build, test and run its
# demo, skipping what is already there.  Usage: scripts/deps.sh [--bench]
set -euo pipefail
pkgs=(build-essential cmake pkg-config git libhwy-dev libxsimd-dev
      libgtest-dev libgmock-dev libbenchmark-dev libpcap-dev libxdp-dev
      libbpf-dev clang llvm libclang-rt-14-dev iproute2 iputils-ping tcpdump
      ethtool python3 python3-os-ken openvswitch-common openvswitch-switch nlohmann-json3-dev)
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(libdpdk-dev linux-perf gnuplot-nox openvswitch-source)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "flowpath: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
