#!/bin/sh
# Checks the installed flowpath.pc: pkg-config finds it under PREFIX, its
# flags point into PREFIX, and a program compiles and runs with them.
# Usage: pkg_config.sh PREFIX CXX SOURCE WORKDIR
set -eu
prefix=$1 cxx=$2 src=$3 work=$4
export PKG_CONFIG_PATH="$prefix/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags=$(pkg-config --cflags flowpath)
echo "pkg-config --cflags flowpath: $cflags"
want=$(cd "$prefix/include" && pwd -P)
found=no
for f in $cflags; do
  case "$f" in
    -I*) d=${f#-I}; [ -d "$d" ] && [ "$(cd "$d" && pwd -P)" = "$want" ] && found=yes ;;
  esac
done
if [ "$found" != yes ]; then
  echo "flowpath.pc: no -I pointing at $want" >&2
  exit 1
fi
pkg-config --modversion flowpath
mkdir -p "$work"
$cxx $cflags "$src" -o "$work/consumer_pc" $(pkg-config --libs flowpath)
"$work/consumer_pc"
