#!/bin/sh
# A/B interleaved: A=bench-s16a (before), B=bench-s16b (after); $1 rounds, $2 cold KB
F='^(fw_udp/1000/20000|fw_tcp/1000/20000|plain/1000/20000)/'
for r in $(seq 1 $1); do
  for v in s16a $3; do
    echo "round $r $v cold=$2 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    FW_BENCH_COLD=$2 ./bench-$v --benchmark_filter="$F" --benchmark_min_time=0.5 2>/dev/null | grep -E '^(plain|fw_)' | awk '{for(i=1;i<=NF;i++) if ($i ~ /^ns_per_pkt=/) print $1, $i}'
  done
done
