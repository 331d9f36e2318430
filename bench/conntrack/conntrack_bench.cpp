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
// hold them), so the harness does not walk 2 KB packet buffers; ptrs
// points at pkts, in order, for Conntrack::execute's batches.
struct Frames {
  std::vector<uint8_t> mem;
  std::vector<Packet> pkts;
  std::vector<Packet*> ptrs;
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
    for (auto& b : pkts) ptrs.push_back(&b);  // after the last push: reserve(n) kept them in place
  }
};

void BM_NewConnections(benchmark::State& state) {
  const uint32_t n = uint32_t(state.range(0));
  Frames f(n);
  ct::CtParams p{.zone = 0, .commit = true};
  ct::Conntrack tracker;
  std::vector<Packet*>& ptrs = f.ptrs;
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

// Packets of n known connections in an order unrelated to their place in
// memory, batches of 32 distinct connections: at 1,024 the tracker fits
// the core's L2, at 256K the batch's chain heads, nodes and entries miss
// every cache (the frames are touched first, as a datapath's parse does),
// so this measures how well a batch overlaps its misses (an
// e2e switch sees its tracker cold after the kernel's work between polls).
void BM_EstablishedMany(benchmark::State& state) {
  const uint32_t n = uint32_t(state.range(0));
  Frames f(n);
  ct::CtParams p{.zone = 0, .commit = true};
  ct::Conntrack tracker;
  std::vector<Packet*>& ptrs = f.ptrs;
  std::vector<ct::CtResult> out(32);
  auto pass = [&] {
    for (size_t i = 0; i + 32 <= n; i += 32) {
      // The datapath parsed each frame just before its ct(): its bytes
      // are cached; only the tracker's own misses are measured.
      uint32_t touch = 0;
      for (size_t j = i; j < i + 32; ++j) touch += ptrs[j]->data()[26] + ptrs[j]->meta.l4;
      benchmark::DoNotOptimize(touch);
      tracker.execute(std::span<Packet* const>(ptrs.data() + i, 32), p, 1000, out.data());
      benchmark::DoNotOptimize(out.data());
    }
  };
  // Commit, then a second packet each: steady (first -> multiple), so
  // every timed packet takes the lock-free path.
  pass(), pass();
  uint64_t x = 88172645463325252ull;  // xorshift: a fixed shuffle
  for (size_t i = n - 1; i > 0; --i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::swap(ptrs[i], ptrs[x % (i + 1)]);
  }
  for (auto _ : state) pass();
  if (tracker.n_conns() != n / 32 * 32) state.SkipWithError("connections lost");
  state.SetItemsProcessed(state.iterations() * (n / 32) * 32);
}
BENCHMARK(BM_EstablishedMany)->Arg(1024)->Arg(262144);

// The same with a fresh tracker's whole life in every iteration, as OVS's
// `test-conntrack pcap` run is a fresh process whose CPU time holds its
// conntrack_init(), the heap's page faults, its tables' growth, its
// conntrack_destroy() and the unmapping at exit: here the construction,
// the pool chunks' mapping (page faults included), the bucket arrays'
// growth and the destruction (chunks unmapped) are all timed.
void BM_NewConnectionsCold(benchmark::State& state) {
  const uint32_t n = uint32_t(state.range(0));
  Frames f(n);
  ct::CtParams p{.zone = 0, .commit = true};
  std::vector<Packet*>& ptrs = f.ptrs;
  std::vector<ct::CtResult> out(32);
  for (auto _ : state) {
    auto tracker = std::make_unique<ct::Conntrack>();
    for (size_t i = 0; i < n; i += 32) {
      const size_t k = std::min<size_t>(32, n - i);
      tracker->execute(std::span<Packet* const>(ptrs.data() + i, k), p, 1000, out.data());
      benchmark::DoNotOptimize(out.data());
    }
    tracker.reset();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_NewConnectionsCold)->Arg(1000000)->Unit(benchmark::kMillisecond);

// SYN flood into a zone with a limit (issue 12, section 5): zone 7 holds
// kLimit entries (its limit) of which 16 are established TCP connections;
// zone 9 (unlimited) holds 16 more.  BM_SynFlood sends batches of 32 SYNs
// from distinct sources into zone 7: every one is +new and refused (the
// zone is full), so nothing is allocated.
constexpr uint32_t kLimit = 10000;
constexpr uint16_t kFloodZone = 7, kOtherZone = 9;

Be32 addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t v[4] = {a, b, c, d};
  Be32 r;
  std::memcpy(&r, v, 4);
  return r;
}
PacketBuffer tcp(Be32 src, Be32 dst, uint16_t sp, uint16_t dp, uint8_t flags, uint32_t seq,
                 uint32_t ack) {
  PacketBuffer b =
      (Eth{} / IPv4{.src = Ip4{src}, .dst = Ip4{dst}} /
       TCP{.sport = sp, .dport = dp, .flags = flags, .seq = seq, .ack = ack} / Payload{.n = 0})
          .packet();
  FlowKey key;
  parse_packet(b.packet(), key);
  return b;
}

struct FloodSetup {
  ct::Conntrack tracker;
  std::vector<PacketBuffer> syns, est;  // est: [zone 7 x16, zone 9 x16], orig then reply
  std::vector<Packet*> syn_ptrs, est_ptrs[2];
  explicit FloodSetup(bool fill = true) {
    tracker.set_zone_limit(kFloodZone, kLimit);
    const Be32 server = addr(198, 51, 100, 2);
    for (uint16_t zone : {kFloodZone, kOtherZone})
      for (uint8_t i = 1; i <= 16; ++i) {
        const Be32 c = addr(192, 0, 2, i);
        ct::CtParams p{.zone = zone, .commit = true};
        auto run = [&](PacketBuffer b) { tracker.execute(b.packet(), p, 1000); };
        run(tcp(c, server, 1000, 80, 0x02, 100, 0));
        run(tcp(server, c, 80, 1000, 0x12, 5000, 101));
        run(tcp(c, server, 1000, 80, 0x10, 101, 5001));
        est.push_back(tcp(c, server, 1000, 80, 0x10, 101, 5001));
        est.push_back(tcp(server, c, 80, 1000, 0x10, 5001, 101));
      }
    // 65,536 distinct sources: 10.2.0.0/16 (no traffic leaves the process).
    for (uint32_t i = 0; i < 65536; ++i)
      syns.push_back(tcp(addr(10, 2, uint8_t(i >> 8), uint8_t(i)), server,
                         uint16_t(1024 + i % 50000), 80, 0x02, i * 7919u, 0));
    for (auto& b : syns) syn_ptrs.push_back(&b.packet());
    for (size_t i = 0; i < est.size(); ++i) est_ptrs[i / 32].push_back(&est[i].packet());
    // Fill zone 7 to its limit with half-open entries.
    if (!fill) return;
    std::vector<ct::CtResult> out(32);
    ct::CtParams p{.zone = kFloodZone, .commit = true};
    for (size_t i = 0; i + 32 <= syn_ptrs.size() && tracker.zone_count(kFloodZone) < kLimit;
         i += 32)
      tracker.execute(std::span<Packet* const>(syn_ptrs.data() + i, 32), p, 1000, out.data());
  }
};

void BM_SynFlood(benchmark::State& state) {
  FloodSetup f;
  ct::CtParams p{.zone = kFloodZone, .commit = true};
  std::vector<ct::CtResult> out(32);
  const uint64_t refused0 = f.tracker.counters().zone_limit_refused.load();
  const size_t mem0 = f.tracker.conn_memory_bytes();
  size_t i = 0;
  for (auto _ : state) {
    f.tracker.execute(std::span<Packet* const>(f.syn_ptrs.data() + i, 32), p, 1000, out.data());
    benchmark::DoNotOptimize(out.data());
    i = (i + 32) % f.syn_ptrs.size();
  }
  state.SetItemsProcessed(state.iterations() * 32);
  state.counters["refused"] = double(f.tracker.counters().zone_limit_refused.load() - refused0);
  state.counters["zone_count"] = f.tracker.zone_count(kFloodZone);
  state.counters["mem_growth"] = double(f.tracker.conn_memory_bytes() - mem0);
}
BENCHMARK(BM_SynFlood);

// The established packets alone (batches of 32 per zone), in a tracker
// whose zone 7 is full of the flood's half-open entries (/1) or with no
// flood at all (/0): the flood must not slow them down.
void BM_EstablishedTcp(benchmark::State& state) {
  FloodSetup f(state.range(0) != 0);
  ct::CtParams zp[2] = {{.zone = kFloodZone, .commit = true}, {.zone = kOtherZone, .commit = true}};
  std::vector<ct::CtResult> out(32);
  uint64_t bad = 0;
  for (auto _ : state)
    for (int z = 0; z < 2; ++z) {
      f.tracker.execute(f.est_ptrs[z], zp[z], 1000, out.data());
      for (size_t k = 0; k < 32; ++k) bad += !(out[k].state & ct::kCsEstablished);
    }
  state.SetItemsProcessed(state.iterations() * 64);
  state.counters["not_est"] = double(bad);
}
BENCHMARK(BM_EstablishedTcp)->ArgName("flood")->Arg(0)->Arg(1);

// Flood and established traffic interleaved: per iteration one batch of 32
// refused SYNs and the two batches of established packets (96 packets).
void BM_SynFloodMixed(benchmark::State& state) {
  FloodSetup f;
  ct::CtParams flood{.zone = kFloodZone, .commit = true};
  ct::CtParams zp[2] = {{.zone = kFloodZone, .commit = true}, {.zone = kOtherZone, .commit = true}};
  std::vector<ct::CtResult> out(32);
  size_t i = 0;
  uint64_t bad = 0;
  for (auto _ : state) {
    f.tracker.execute(std::span<Packet* const>(f.syn_ptrs.data() + i, 32), flood, 1000, out.data());
    i = (i + 32) % f.syn_ptrs.size();
    for (int z = 0; z < 2; ++z) {
      f.tracker.execute(f.est_ptrs[z], zp[z], 1000, out.data());
      for (size_t k = 0; k < 32; ++k) bad += !(out[k].state & ct::kCsEstablished);
    }
  }
  state.SetItemsProcessed(state.iterations() * 96);
  state.counters["not_est"] = double(bad);
  state.counters["mem_bytes"] = double(f.tracker.conn_memory_bytes());
}
BENCHMARK(BM_SynFloodMixed);

}  // namespace

BENCHMARK_MAIN();
