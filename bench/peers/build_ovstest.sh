#!/bin/sh
# Builds Open vSwitch's `ovstest` (which holds `test-conntrack benchmark`)
# from Debian's openvswitch-source tarball, reproducibly and cached.
#
#   bench/peers/build_ovstest.sh [BUILD_DIR [TARGET]]   (default: build-peer/ovs,
#                                                        tests/ovstest)
#
# TARGET may be another program of the tree, e.g. vswitchd/ovs-vswitchd
# (unstripped, for bench/e2e/fw_callgrind.sh: Debian's is stripped).
# Prints the path of the binary on success.  Only what TARGET needs
# is built (configure, then `make TARGET`), without SSL or DPDK; the
# result is cached under BUILD_DIR keyed by the tarball's checksum, so a second
# run costs nothing.  Needs: openvswitch-source (apt-get install -y
# openvswitch-source), gcc, make, python3.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$here/build-peer/ovs}
tarball=/usr/src/openvswitch/openvswitch.tar.gz
if [ ! -f "$tarball" ]; then
  echo "build_ovstest: $tarball missing; apt-get install -y openvswitch-source" >&2
  exit 1
fi
sum=$(sha256sum "$tarball" | cut -c1-16)
src=$out/src-$sum
target=${2:-tests/ovstest}
bin=$src/$target
mark=$src/.flowpath-built
[ "$target" = tests/ovstest ] || mark=$src/.flowpath-built-$(echo "$target" | tr / _)
if [ -x "$bin" ] && [ -f "$mark" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$out"
if [ ! -f "$src/config.status" ]; then
  rm -rf "$src"
  mkdir -p "$src"
  tar xzf "$tarball" -C "$src" --strip-components=1
fi
cd "$src"
# Same optimisation level as Debian's package (-O2), no -march tuning: the
# peer is measured as OVS ships it.
[ -f config.status ] || ./configure --disable-ssl --disable-libcapng --without-dpdk \
  --disable-silent-rules CFLAGS="-O2 -g0" >configure.log 2>&1 ||
  { tail -30 configure.log >&2; exit 1; }
# `make tests/ovstest` alone skips automake's BUILT_SOURCES (generated
# headers such as include/odp-netlink.h): build those first.
printf 'print-built:\n\t@echo $(BUILT_SOURCES)\n' >print-built.mk
built=$(make -s -f Makefile -f print-built.mk print-built)
make -j"${JOBS:-2}" $built >make.log 2>&1 || { tail -40 make.log >&2; exit 1; }
make -j"${JOBS:-2}" "$target" >>make.log 2>&1 || { tail -40 make.log >&2; exit 1; }
touch "$mark"
echo "$bin"
