// Datapath fast path: parse + hash + lookup + one output per packet, one
// thread, batches of 32 64-byte IPv4/UDP frames, in-memory packets (the
// sink counts; buffers are reused).  Counters: Mpps, cycles_per_pkt (rdtsc).
//
//   emc_hit/<backend>               one flow, every packet an EMC hit
//   megaflow/<backend>/<subtables>  10,000 flows spread over 1/8/64 masks,
//                                   EMC disabled, every packet a megaflow hit
//   upcall/<backend>                every packet a new flow (flow setups/s)
//   baseline/parse_output           parse + output, no lookup (the floor)
//   baseline/unordered_map          parse + std::unordered_map on the full key
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "flowpath/datapath/datapath.hpp"
#include "flowpath/datapath/table_upcall.hpp"
#include "support/packet_builder.hpp"

namespace fp = flowpath;
using fp::Batch;

namespace {

struct CountingSink {
  uint64_t outputs = 0, drops = 0;
  void output(uint32_t, fp::Packet&, bool) noexcept { ++outputs; }
  void drop(fp::Packet&) noexcept { ++drops; }
};

std::vector<uint8_t> frame_for(uint32_t flow) {
  using namespace fp::test;
  return (Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
          IPv4{.src = fp::Be32(0x0a000000u + flow), .dst = "192.0.2.1"} /
          UDP{.sport = uint16_t(1000 + flow % 7), .dport = 53} / Payload{.n = 22})
      .bytes();
}

// A slow path whose megaflow masks fall into `n_masks` shapes: flow f (from
// its nw_src) gets shape f % n_masks, built from nw_src plus a subset of
// six other fields chosen by the bits of the shape number.
struct ShapedHandler {
  uint32_t n_masks = 1;
  void upcall(const fp::FlowKey& key, const fp::Packet*, fp::UpcallResult& r) {
    uint32_t shape = (key.nw_src.host() - 0x0a000000u) % n_masks;
    r.mask.dl_type = fp::Be16(0xffff);
    r.mask.nw_src = fp::Be32(0xffffffffu);
    if (shape & 1) r.mask.dl_dst.b.fill(0xff);
    if (shape & 2) r.mask.dl_src.b.fill(0xff);
    if (shape & 4) r.mask.nw_dst = fp::Be32(0xffffffffu);
    if (shape & 8) r.mask.nw_proto = 0xff;
    if (shape & 16) r.mask.tp_dst = fp::Be16(0xffff);
    if (shape & 32) r.mask.tp_src = fp::Be16(0xffff);
    r.actions.push_back(fp::DpAction::output(1));
  }
  uint64_t generation() const noexcept { return 1; }
};

double tsc_hz();

// cycles_per_pkt: rdtsc cycles (wall) per packet, as specified.
// cpu_cycles_per_pkt: this thread's CPU time in TSC cycles per packet —
// the same figure without time the thread spent preempted (the machine
// is shared, so both are reported).
void report(benchmark::State& state, uint64_t packets, uint64_t cycles, double cpu_s) {
  state.counters["Mpps"] = benchmark::Counter(double(packets) / 1e6, benchmark::Counter::kIsRate);
  state.counters["cycles_per_pkt"] = packets ? double(cycles) / double(packets) : 0.0;
  state.counters["cpu_cycles_per_pkt"] = packets ? cpu_s * tsc_hz() / double(packets) : 0.0;
}

// Frames in a compact arena (128 bytes each, so 10,000 flows' packets
// take 1.3 MB, as a NIC's receive ring would) rather than 2 KB buffers.
struct Frames {
  std::vector<uint8_t> arena;
  std::vector<fp::Packet> pkts;
  size_t size() const noexcept { return pkts.size(); }
  fp::Packet& operator[](size_t i) noexcept { return pkts[i]; }
};

Frames make_bufs(uint32_t n_flows, uint32_t n_bufs, uint32_t seed) {
  constexpr uint32_t kSlot = 128, kHead = 32;
  std::vector<uint32_t> order(n_bufs);
  for (uint32_t i = 0; i < n_bufs; ++i) order[i] = i % n_flows;
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  Frames f;
  f.arena.assign(size_t(n_bufs) * kSlot, 0);
  for (uint32_t i = 0; i < n_bufs; ++i) {
    auto bytes = frame_for(order[i]);
    uint8_t* slot = f.arena.data() + size_t(i) * kSlot;
    std::copy(bytes.begin(), bytes.end(), slot + kHead);
    f.pkts.emplace_back(slot, kSlot, kHead, uint32_t(bytes.size()));
    f.pkts.back().in_port = 1;
  }
  return f;
}

// TSC ticks per second, calibrated once against steady_clock.
double tsc_hz() {
  static const double hz = [] {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t c0 = fp::read_cycles();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(20)) {
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return double(fp::read_cycles() - c0) / s;
  }();
  return hz;
}
double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

template <class DP>
void run_batches(benchmark::State& state, DP& dp, Frames& bufs) {
  CountingSink sink;
  uint64_t packets = 0, cycles = 0;
  const double cpu0 = thread_cpu_s();
  size_t pos = 0;
  Batch batch;
  for (auto _ : state) {
    batch.clear();
    for (uint32_t i = 0; i < fp::kBatchSize; ++i) {
      batch.push(&bufs[pos]);
      pos = pos + 1 == bufs.size() ? 0 : pos + 1;
    }
    uint64_t t0 = fp::read_cycles();
    dp.process(batch, sink);
    cycles += fp::read_cycles() - t0;
    packets += fp::kBatchSize;
  }
  benchmark::DoNotOptimize(sink.outputs);
  report(state, packets, cycles, thread_cpu_s() - cpu0);
}

template <class B>
void bm_emc_hit(benchmark::State& state) {
  fp::TableUpcall<> table;
  table.add_flow(fp::Match(), 0, {fp::DpAction::output(1)});
  fp::DatapathConfig cfg;
  cfg.emc.insert_inv_prob = 1;
  fp::Datapath<fp::TableUpcall<>, B> dp(table, cfg);
  auto bufs = make_bufs(1, 32, 1);
  run_batches(state, dp, bufs);
  state.counters["emc_hits_pct"] = 100.0 * double(dp.stats().emc_hits) / double(dp.stats().packets);
}

template <class B>
void bm_megaflow(benchmark::State& state) {
  ShapedHandler h{uint32_t(state.range(0))};
  fp::DatapathConfig cfg;
  cfg.emc_enabled = false;
  fp::Datapath<ShapedHandler, B> dp(h, cfg);
  auto bufs = make_bufs(10'000, 10'016, 2);
  CountingSink warm;
  for (size_t i = 0; i + 32 <= bufs.size(); i += 32) {  // install every flow
    Batch b;
    for (size_t j = i; j < i + 32; ++j) b.push(&bufs[j]);
    dp.process(b, warm);
  }
  dp.megaflows().resort();
  dp.pmd_stats_clear();
  run_batches(state, dp, bufs);
  const auto& s = dp.stats();
  state.counters["subtables"] = double(dp.megaflows().n_subtables());
  state.counters["lookups_per_hit"] = double(s.subtable_lookups) / double(s.megaflow_hits);
  state.counters["upcalls"] = double(s.upcall_ok);
}

template <class B>
void bm_upcall(benchmark::State& state) {
  fp::TableUpcall<> table;
  fp::FlowMask m;
  m.dl_type = fp::Be16(0xffff);
  m.nw_src = fp::Be32(0xffffffffu);
  fp::FlowKey v;
  v.dl_type = fp::Be16(fp::kEthTypeIpv4);
  v.nw_src = fp::Be32(0x0a000001u);
  table.add_flow(fp::Match(v, m), 10, {fp::DpAction::output(2)});
  table.add_flow(fp::Match(), 0, {fp::DpAction::output(1)});
  fp::Datapath<fp::TableUpcall<>, B> dp(table);
  auto bufs = make_bufs(32, 32, 3);
  const uint32_t l3 = 14;  // IPv4 header offset; nw_src at +12
  CountingSink sink;
  uint64_t packets = 0, cycles = 0;
  const double cpu0 = thread_cpu_s();
  uint32_t next = 0x0b000000u;
  Batch batch;
  for (auto _ : state) {
    if (dp.megaflows().size() >= 150'000) {
      state.PauseTiming();
      dp.flush();
      state.ResumeTiming();
    }
    batch.clear();
    for (auto& pkt : bufs.pkts) {
      fp::store_be32(pkt.data() + l3 + 12, next++);
      batch.push(&pkt);
    }
    uint64_t t0 = fp::read_cycles();
    dp.process(batch, sink);
    cycles += fp::read_cycles() - t0;
    packets += fp::kBatchSize;
  }
  report(state, packets, cycles, thread_cpu_s() - cpu0);
  state.counters["setups_per_s"] =
      benchmark::Counter(double(dp.stats().upcall_ok), benchmark::Counter::kIsRate);
}

void bm_baseline_parse_output(benchmark::State& state) {
  auto bufs = make_bufs(1, 32, 1);
  CountingSink sink;
  fp::ParseStats ps;
  uint64_t packets = 0, cycles = 0;
  const double cpu0 = thread_cpu_s();
  Batch batch;
  for (auto& p : bufs.pkts) batch.push(&p);
  for (auto _ : state) {
    uint64_t t0 = fp::read_cycles();
    fp::parse_batch(batch, ps);
    for (uint32_t i = 0; i < batch.count; ++i) sink.output(1, *batch.pkts[i], true);
    benchmark::DoNotOptimize(batch.keys);
    cycles += fp::read_cycles() - t0;
    packets += batch.count;
  }
  report(state, packets, cycles, thread_cpu_s() - cpu0);
}

struct KeyHash {
  size_t operator()(const fp::FlowKey& k) const noexcept {
    return fp::simd::hash_words<fp::simd::Scalar, fp::FlowKey::kWords>(k.words(), 0);
  }
};

void bm_baseline_unordered_map(benchmark::State& state) {
  auto bufs = make_bufs(1, 32, 1);
  std::unordered_map<fp::FlowKey, uint32_t, KeyHash> map;
  fp::ParseStats ps;
  Batch batch;
  for (auto& p : bufs.pkts) batch.push(&p);
  fp::parse_batch(batch, ps);
  map[batch.keys[0]] = 1;
  CountingSink sink;
  uint64_t packets = 0, cycles = 0;
  const double cpu0 = thread_cpu_s();
  for (auto _ : state) {
    uint64_t t0 = fp::read_cycles();
    fp::parse_batch(batch, ps);
    for (uint32_t i = 0; i < batch.count; ++i) {
      auto it = map.find(batch.keys[i]);
      if (it != map.end())
        sink.output(it->second, *batch.pkts[i], true);
      else
        sink.drop(*batch.pkts[i]);
    }
    cycles += fp::read_cycles() - t0;
    packets += batch.count;
  }
  report(state, packets, cycles, thread_cpu_s() - cpu0);
}

template <class B>
void register_backend(const std::string& name) {
  benchmark::RegisterBenchmark(("emc_hit/" + name).c_str(), bm_emc_hit<B>);
  benchmark::RegisterBenchmark(("megaflow/" + name).c_str(), bm_megaflow<B>)
      ->Arg(1)
      ->Arg(8)
      ->Arg(64);
  benchmark::RegisterBenchmark(("upcall/" + name).c_str(), bm_upcall<B>);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("baseline/parse_output", bm_baseline_parse_output);
  benchmark::RegisterBenchmark("baseline/unordered_map", bm_baseline_unordered_map);
  register_backend<fp::simd::Scalar>("scalar");
  register_backend<fp::simd::Highway>("highway");
  register_backend<fp::simd::Xsimd>("xsimd");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
