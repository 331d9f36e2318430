// Executor cost per packet over a group of 32 64-byte UDP frames, against a
// plain memcpy of the same frames (the cheapest possible "forward").
//
//   BM_memcpy_baseline      copy each frame into a TX slot
//   BM_output_zero_copy     output:1 into a sink that only counts
//   BM_output_copy          output:1 into a sink that copies into a TX slot
//   BM_push_vlan_output     push_vlan(0x8100, vid 1000), output:1 (copy sink)
//   BM_set_ipv4_src_output  set_ipv4_src (IPv4 + UDP checksums), output:1
//   BM_*_zero_copy          the same into the counting sink
//
// Every variant re-points each packet at its original offset first, so
// pushes never exhaust the headroom; that costs the same in all variants.
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "action/test_frames.hpp"
#include "flowpath/action/executor.hpp"

namespace {

using namespace flowpath;

constexpr size_t kGroup = 32;

struct CountSink {
  uint64_t pkts = 0, bytes = 0;
  void output(uint32_t, Packet& p, bool) {
    ++pkts;
    bytes += p.size();
  }
  void drop(Packet&) {}
};

struct CopySink {
  std::array<std::array<uint8_t, 2048>, kGroup>* slots;
  size_t next = 0;
  void output(uint32_t, Packet& p, bool) {
    std::memcpy((*slots)[next++ % kGroup].data(), p.data(), p.size());
  }
  void drop(Packet&) {}
};

struct Fixture {
  std::vector<std::unique_ptr<PacketBuffer>> bufs;
  std::vector<Packet*> ptrs;
  std::array<std::array<uint8_t, 2048>, kGroup> slots{};
  uint32_t head = 0, len = 0;
  Fixture() {
    test::FrameSpec s;
    s.payload = 64 - 14 - 20 - 8;
    auto f = test::make_frame(s);
    for (size_t i = 0; i < kGroup; ++i) {
      bufs.push_back(std::make_unique<PacketBuffer>(f));
      ptrs.push_back(&bufs.back()->packet());
    }
    head = ptrs[0]->headroom();
    len = ptrs[0]->size();
  }
  void reset() {
    for (Packet* p : ptrs) p->reset(head, len);
  }
};

void set_counters(benchmark::State& st) {
  st.SetItemsProcessed(int64_t(st.iterations() * kGroup));
  st.counters["ns_per_pkt"] = benchmark::Counter(
      double(st.iterations() * kGroup), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_memcpy_baseline(benchmark::State& st) {
  Fixture fx;
  for (auto _ : st) {
    fx.reset();
    for (size_t i = 0; i < kGroup; ++i)
      std::memcpy(fx.slots[i].data(), fx.ptrs[i]->data(), fx.ptrs[i]->size());
    benchmark::ClobberMemory();
  }
  set_counters(st);
}
BENCHMARK(BM_memcpy_baseline);

template <class Sink>
void run(benchmark::State& st, Sink& sink, Fixture& fx, DpActionList& acts, bool vary_ip) {
  ActionExecutor<Sink> exec(sink);
  uint32_t ip = 0xc0000201;
  for (auto _ : st) {
    fx.reset();
    if (vary_ip) acts[0].ipv4 = ip++;
    exec.run(acts, fx.ptrs);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(sink);
  set_counters(st);
}

void BM_output_zero_copy(benchmark::State& st) {
  Fixture fx;
  CountSink sink;
  DpActionList acts = {DpAction::output(1)};
  run(st, sink, fx, acts, false);
}
BENCHMARK(BM_output_zero_copy);

void BM_output_copy(benchmark::State& st) {
  Fixture fx;
  CopySink sink{&fx.slots};
  DpActionList acts = {DpAction::output(1)};
  run(st, sink, fx, acts, false);
}
BENCHMARK(BM_output_copy);

void BM_push_vlan_output(benchmark::State& st) {
  Fixture fx;
  CopySink sink{&fx.slots};
  DpActionList acts = {DpAction::push_vlan(0x8100, 1000), DpAction::output(1)};
  run(st, sink, fx, acts, false);
}
BENCHMARK(BM_push_vlan_output);

void BM_set_ipv4_src_output(benchmark::State& st) {
  Fixture fx;
  CopySink sink{&fx.slots};
  DpActionList acts = {DpAction::set_ipv4_src(0), DpAction::output(1)};
  run(st, sink, fx, acts, true);
}
BENCHMARK(BM_set_ipv4_src_output);

void BM_push_vlan_output_zero_copy(benchmark::State& st) {
  Fixture fx;
  CountSink sink;
  DpActionList acts = {DpAction::push_vlan(0x8100, 1000), DpAction::output(1)};
  run(st, sink, fx, acts, false);
}
BENCHMARK(BM_push_vlan_output_zero_copy);

void BM_set_ipv4_src_output_zero_copy(benchmark::State& st) {
  Fixture fx;
  CountSink sink;
  DpActionList acts = {DpAction::set_ipv4_src(0), DpAction::output(1)};
  run(st, sink, fx, acts, true);
}
BENCHMARK(BM_set_ipv4_src_output_zero_copy);

}  // namespace

BENCHMARK_MAIN();
