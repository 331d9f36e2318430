// Connection tracker throughput: established-connection packets/s and new
// connections/s.  The established workload is the one of OVS's
// `ovstest test-conntrack benchmark N_THREADS N_PKTS 32 1`: each thread
// sends one batch of 32 UDP packets (10.1.1.1 -> 10.1.1.2, source port
// 1 + thread, destination ports 2..33) over and over with commit.  The
// new-connection workload commits packets of never-seen flows.
// Peer: bench/conntrack/run_peer.py runs OVS in the same session.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "flowpath/conntrack/conntrack.hpp"
#include "flowpath/parse/parser.hpp"
#include "support/packet_builder.hpp"

namespace {
using namespace flowpath;
using namespace flowpath::test;

std::vector<PacketBuffer> udp_flows(uint32_t n, uint16_t sport, uint32_t salt) {
  std::vector<PacketBuffer> v;
  v.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    Be32 src = ipv4("10.1.1.1");
    uint8_t b[4];
    std::memcpy(b, &src, 4);
    b[2] = uint8_t(salt + i / 65000);
    std::memcpy(&src, b, 4);
    PacketBuffer p =
        (Eth{} / IPv4{.src = Ip4{src}, .dst = "10.1.1.2"} /
         UDP{.sport = uint16_t(sport + (i / 65000) * 0), .dport = uint16_t(2 + i % 65000)} /
         Payload{.n = 0})
            .packet();
    FlowKey key;
    parse_packet(p.packet(), key);
    v.push_back(p);
  }
  return v;
}

ct::Conntrack* g_ct = nullptr;

void BM_Established(benchmark::State& state) {
  if (state.thread_index() == 0) g_ct = new ct::Conntrack();
  auto pkts = udp_flows(32, uint16_t(1 + state.thread_index()), 0);
  std::vector<Packet*> batch;
  for (auto& p : pkts) batch.push_back(&p.packet());
  ct::CtParams p{.zone = 0, .commit = true};
  ct::CtResult out[32];
  for (auto _ : state) {
    g_ct->execute(batch, p, 1000, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * 32);
  if (state.thread_index() == 0) {  // the timed loop ends on a barrier: all threads are done
    state.counters["conns"] = g_ct->n_conns();
    delete g_ct;
    g_ct = nullptr;
  }
}
BENCHMARK(BM_Established)->Threads(1)->Threads(2)->UseRealTime();

// The frames of n new flows packed 128 bytes apart (as a NIC ring would
// hold them), so the harness does not walk 2 KB packet buffers.
struct Frames {
  std::vector<uint8_t> mem;
  std::vector<Packet> pkts;
  explicit Frames(uint32_t n) : mem(size_t(n) * 128) {
    auto src = udp_flows(n, 1, 0);
    pkts.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      const Packet& s = src[i].packet();
      std::memcpy(mem.data() + size_t(i) * 128, s.data(), s.size());
      Packet p(mem.data() + size_t(i) * 128, 128, 0, s.size());
      p.meta = s.meta;
      pkts.push_back(p);
    }
  }
};

void BM_NewConnections(benchmark::State& state) {
  const uint32_t n = uint32_t(state.range(0));
  Frames f(n);
  ct::CtParams p{.zone = 0, .commit = true};
  ct::Conntrack tracker;
  std::vector<Packet*> ptrs;
  for (auto& b : f.pkts) ptrs.push_back(&b);
  std::vector<ct::CtResult> out(32);
  for (auto _ : state) {
    for (size_t i = 0; i < n; i += 32) {  // batches of 32, as OVS's pcap runner
      const size_t k = std::min<size_t>(32, n - i);
      tracker.execute(std::span<Packet* const>(ptrs.data() + i, k), p, 1000, out.data());
      benchmark::DoNotOptimize(out.data());
    }
    state.PauseTiming();
    tracker.flush();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_NewConnections)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

// The same from a fresh tracker every iteration, as OVS's `test-conntrack
// pcap` starts from a fresh process: the entry pool's chunks are mapped
// and the bucket arrays grown inside the timed loop (the tracker's
// destruction is not timed).
void BM_NewConnectionsCold(benchmark::State& state) {
  const uint32_t n = uint32_t(state.range(0));
  Frames f(n);
  ct::CtParams p{.zone = 0, .commit = true};
  std::vector<Packet*> ptrs;
  for (auto& b : f.pkts) ptrs.push_back(&b);
  std::vector<ct::CtResult> out(32);
  for (auto _ : state) {
    auto tracker = std::make_unique<ct::Conntrack>();
    for (size_t i = 0; i < n; i += 32) {
      const size_t k = std::min<size_t>(32, n - i);
      tracker->execute(std::span<Packet* const>(ptrs.data() + i, k), p, 1000, out.data());
      benchmark::DoNotOptimize(out.data());
    }
    state.PauseTiming();
    tracker.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_NewConnectionsCold)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
