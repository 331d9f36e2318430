// Parser throughput: ns per packet and Mpps for 64-byte IPv4/UDP, 64-byte
// VLAN+IPv4/UDP and IPv6/TCP with one extension header (hop-by-hop),
// packet by packet and batched (32), beside two baselines from the same
// run: `naive` (a plain byte-at-a-time parser, bounds-checked per byte, as
// one would write it first) and `memcpy` (copying each 64-byte frame: the
// floor of touching the bytes at all).
//
//   build-*/bench/parse_parser_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include "flowpath/simd/hwy_kernels.hpp"  // Highway, with its AVX3_DL workaround
#include <x86intrin.h>

#include <chrono>
#include <vector>

#include "flowpath/parse/parser.hpp"
#include "support/packet_builder.hpp"

namespace {

using namespace flowpath;
using namespace flowpath::test;

enum FrameKind { kIpv4Udp, kVlanIpv4Udp, kIpv6ExtTcp };

std::vector<uint8_t> make_frame(int kind, uint16_t sport) {
  const Eth eth{"02:00:00:00:00:02", "02:00:00:00:00:01"};
  const IPv4 ip4{.src = "192.0.2.1", .dst = "198.51.100.1"};
  switch (kind) {
    case kIpv4Udp:  // 14 + 20 + 8 + 22 = 64
      return (eth / ip4 / UDP{.sport = sport, .dport = 4789} / Payload{.n = 22}).bytes();
    case kVlanIpv4Udp:  // 18 + 20 + 8 + 18 = 64
      return (eth / Dot1Q{.vid = 1000} / ip4 / UDP{.sport = sport, .dport = 4789} /
              Payload{.n = 18})
          .bytes();
    default:  // 14 + 40 + 8 + 20 = 82
      return (eth / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} / Ipv6Ext{.type = 0} /
              TCP{.sport = sport, .dport = 443, .flags = 0x10})
          .bytes();
  }
}
const char* kind_name(int kind) {
  return kind == kIpv4Udp       ? "ipv4_udp_64B"
         : kind == kVlanIpv4Udp ? "vlan_ipv4_udp_64B"
                                : "ipv6_ext_tcp_82B";
}

// 32 packets of one kind with distinct source ports, in their own buffers.
struct Workload {
  std::vector<PacketBuffer> bufs;
  Batch batch;
  explicit Workload(int kind) {
    bufs.reserve(kBatchSize);
    for (uint32_t i = 0; i < kBatchSize; ++i) {
      bufs.emplace_back(make_frame(kind, uint16_t(1000 + i)), 1);
      batch.push(&bufs.back().packet());
    }
  }
};

// TSC ticks per ns, measured once against steady_clock.
double tsc_per_ns() {
  static const double v = [] {
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t c0 = __rdtsc();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(50)) {
    }
    const uint64_t c1 = __rdtsc();
    const double ns = double(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count());
    return double(c1 - c0) / ns;
  }();
  return v;
}

// The fastest batch of the run, in TSC ticks (rdtsc overhead included, about
// one tick per packet).  On a shared, loaded machine the mean (ns_per_pkt)
// carries other processes' cache pollution and preemption; the minimum is
// the parser's own warm-cache cost.
struct BestBatch {
  uint64_t best = ~uint64_t(0);
  uint64_t t0 = 0;
  void start() { t0 = __rdtsc(); }
  void stop() {
    const uint64_t d = __rdtsc() - t0;
    if (d < best) best = d;
  }
};

void set_counters(benchmark::State& state, const BestBatch& b) {
  const double pkts = double(state.iterations()) * kBatchSize;
  state.counters["ticks_per_pkt_min"] = double(b.best) / kBatchSize;
  state.counters["ns_per_pkt_min"] = double(b.best) / kBatchSize / tsc_per_ns();
  state.counters["Mpps"] = benchmark::Counter(pkts / 1e6, benchmark::Counter::kIsRate);
  state.counters["ns_per_pkt"] =
      benchmark::Counter(pkts * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(kind_name(int(state.range(0))));
}

void BM_parse_batch(benchmark::State& state) {
  Workload w(int(state.range(0)));
  ParseStats stats;
  BestBatch b;
  for (auto _ : state) {
    b.start();
    parse_batch(w.batch, stats);
    benchmark::ClobberMemory();
    b.stop();
  }
  benchmark::DoNotOptimize(stats);
  set_counters(state, b);
}

void BM_parse_packet(benchmark::State& state) {
  Workload w(int(state.range(0)));
  BestBatch b;
  for (auto _ : state) {
    b.start();
    for (uint32_t i = 0; i < kBatchSize; ++i) {
      bool ok = parse_packet(*w.batch.pkts[i], w.batch.keys[i]);
      benchmark::DoNotOptimize(ok);
    }
    benchmark::ClobberMemory();
    b.stop();
  }
  set_counters(state, b);
}

// ---- baselines ------------------------------------------------------------

// A first-draft parser: every byte read through a bounds-checked accessor,
// fields assembled one byte at a time.  Same output fields as the real one
// for these three frame kinds.
struct NaiveReader {
  const uint8_t* p;
  size_t n;
  bool bad = false;
  uint8_t u8(size_t i) {
    if (i >= n) {
      bad = true;
      return 0;
    }
    return p[i];
  }
  uint16_t u16(size_t i) { return uint16_t(u8(i) << 8 | u8(i + 1)); }
  uint32_t u32(size_t i) { return uint32_t(u16(i)) << 16 | u16(i + 2); }
};

__attribute__((noinline)) bool naive_parse(const Packet& pkt, FlowKey& key) {
  key = FlowKey{};
  key.in_port = pkt.in_port;
  NaiveReader r{pkt.data(), pkt.size()};
  for (int i = 0; i < 6; ++i) key.dl_dst.b[i] = r.u8(i);
  for (int i = 0; i < 6; ++i) key.dl_src.b[i] = r.u8(6 + i);
  size_t off = 12;
  uint16_t type = r.u16(off);
  for (int t = 0; t < 2 && (type == 0x8100 || type == 0x88a8); ++t) {
    key.vlans[t].tpid = Be16{type};
    key.vlans[t].tci = Be16{uint16_t(r.u16(off + 2) | kVlanCfi)};
    off += 4;
    type = r.u16(off);
  }
  off += 2;
  key.dl_type = Be16{type};
  uint8_t proto = 0;
  if (type == 0x0800) {
    size_t ihl = (r.u8(off) & 15) * 4;
    key.nw_tos = r.u8(off + 1);
    key.nw_ttl = r.u8(off + 8);
    proto = key.nw_proto = r.u8(off + 9);
    key.nw_src = Be32{r.u32(off + 12)};
    key.nw_dst = Be32{r.u32(off + 16)};
    off += ihl;
  } else if (type == 0x86dd) {
    uint32_t vtf = r.u32(off);
    key.nw_tos = uint8_t(vtf >> 20);
    key.ipv6_label = Be32{vtf & 0xfffff};
    key.nw_ttl = r.u8(off + 7);
    proto = r.u8(off + 6);
    for (int i = 0; i < 16; ++i) key.ipv6_src.b[i] = r.u8(off + 8 + i);
    for (int i = 0; i < 16; ++i) key.ipv6_dst.b[i] = r.u8(off + 24 + i);
    off += 40;
    while (!r.bad && (proto == 0 || proto == 43 || proto == 60)) {
      size_t len = (r.u8(off + 1) + 1) * 8;
      proto = r.u8(off);
      off += len;
    }
    key.nw_proto = proto;
  }
  if (proto == 6 || proto == 17) {
    key.tp_src = Be16{r.u16(off)};
    key.tp_dst = Be16{r.u16(off + 2)};
    if (proto == 6) key.tcp_flags = Be16{uint16_t(r.u16(off + 12) & 0x0fff)};
  }
  return !r.bad;
}

void BM_naive_parse(benchmark::State& state) {
  Workload w(int(state.range(0)));
  BestBatch b;
  for (auto _ : state) {
    b.start();
    for (uint32_t i = 0; i < kBatchSize; ++i) {
      bool ok = naive_parse(*w.batch.pkts[i], w.batch.keys[i]);
      benchmark::DoNotOptimize(ok);
    }
    benchmark::ClobberMemory();
    b.stop();
  }
  set_counters(state, b);
}

void BM_memcpy_frame(benchmark::State& state) {
  Workload w(int(state.range(0)));
  alignas(64) uint8_t sink[kBatchSize][128];
  BestBatch b;
  for (auto _ : state) {
    b.start();
    for (uint32_t i = 0; i < kBatchSize; ++i) {
      const Packet& p = *w.batch.pkts[i];
      std::memcpy(sink[i], p.data(), p.size() < 128 ? p.size() : 128);
    }
    benchmark::DoNotOptimize(sink);
    benchmark::ClobberMemory();
    b.stop();
  }
  set_counters(state, b);
}

BENCHMARK(BM_parse_batch)->DenseRange(kIpv4Udp, kIpv6ExtTcp);
BENCHMARK(BM_parse_packet)->DenseRange(kIpv4Udp, kIpv6ExtTcp);
BENCHMARK(BM_naive_parse)->DenseRange(kIpv4Udp, kIpv6ExtTcp);
BENCHMARK(BM_memcpy_frame)->DenseRange(kIpv4Udp, kIpv6ExtTcp);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // The parser itself is scalar code; the target names what -march allowed
  // the compiler (key zeroing and copies are vectorised by it).
  benchmark::AddCustomContext("simd_target", hwy::TargetName(HWY_STATIC_TARGET));
  benchmark::AddCustomContext("tsc_ticks_per_ns", std::to_string(tsc_per_ns()));
#ifdef __AVX512F__
  benchmark::AddCustomContext("isa", "AVX-512 (-march=native)");
#elif defined(__AVX2__)
  benchmark::AddCustomContext("isa", "AVX2 (-march=native)");
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
