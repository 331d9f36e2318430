#!/bin/sh
# Builds peers_ovs_classifier (bench/peers/ovs_classifier_peer.c): Open
# vSwitch's own classifier on the ClassBench files, linked against the Open
# vSwitch tree that build_ovstest.sh builds from Debian's openvswitch-source.
#
#   bench/peers/build_ovs_classifier.sh [BUILD_DIR]   (default: build-peer/ovs)
#
# Prints the path of the binary on success; cached (keyed by the peer's
# source), so a second run costs nothing.  The first run builds Open vSwitch's
# library (a few minutes on 2 cores).  Needs what build_ovstest.sh needs.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$here/build-peer/ovs}
ovstest=$("$here/bench/peers/build_ovstest.sh" "$out")
src=$(dirname "$(dirname "$ovstest")")
peer=$here/bench/peers/ovs_classifier_peer.c
sum=$(sha256sum "$peer" | cut -c1-16)
bin=$out/peers_ovs_classifier-$sum
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
# The libraries Open vSwitch's configure chose (e.g. -latomic -lxdp -lbpf).
printf 'print-libs:\n\t@echo $(LIBS) $(PTHREAD_LIBS)\n' >"$src/print-libs.mk"
libs=$(make -s -C "$src" -f Makefile -f print-libs.mk print-libs)
# The library's AVX-512 part (a separate archive, when configure built one).
avx512=""
[ -f "$src/lib/.libs/libopenvswitchavx512.a" ] && avx512=$src/lib/.libs/libopenvswitchavx512.a
# -O2 as Debian's package and the tree above.
cc -O2 -g0 -std=gnu11 -Wall -I"$src" -I"$src/include" -I"$src/lib" \
  -o "$bin.tmp" "$peer" "$src/lib/.libs/libopenvswitch.a" $avx512 $libs -lpthread -lrt -lm ||
  { echo "build_ovs_classifier: compiling $peer failed" >&2; exit 1; }
mv "$bin.tmp" "$bin"
echo "$bin"
