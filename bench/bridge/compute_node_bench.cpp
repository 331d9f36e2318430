// The compute-node pipeline in memory: the seed's two bridges and their
// Neutron flows (examples/compute_node/compute-node.conf) behind a real
// Datapath, one thread, batches of 32 64-byte frames.
//
//   compute_node/vm1_to_eth2/emc       vm1 -> remote: NORMAL on br-int,
//                                       patch, mod_vlan_vid:1000 + NORMAL on
//                                       br-eth2 => push_vlan(1000),eth2;
//                                       exact-match cache hits
//   compute_node/vm1_to_eth2/megaflow  same, EMC off: megaflow hits
//   compute_node/eth2_to_vm1/megaflow  remote -> vm1: pop_vlan,vm1
//   compute_node/vm1_to_vm2/megaflow   one bridge, no VLAN change
//   baseline/restore_frames            the per-packet frame restore the
//                                       benchmarks above include
//
// Counters: Mpps and cycles_per_pkt (rdtsc cycles / packets).  Frames are
// restored (first 18 bytes) before each batch because the actions rewrite
// them in place; the baseline measures that restore alone.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace fp = flowpath;

namespace {

constexpr const char* kVm1 = "52:54:00:00:00:01";
constexpr const char* kVm2 = "52:54:00:00:00:02";
constexpr const char* kRemote = "52:54:00:00:00:64";

struct CountingSink {
  uint64_t outputs = 0, drops = 0;
  void output(uint32_t, fp::Packet&, bool) noexcept { ++outputs; }
  void drop(fp::Packet&) noexcept { ++drops; }
};

std::unique_ptr<fp::Ofproto> make_node() {
  using namespace fp::test;
  auto node = std::make_unique<fp::Ofproto>(
      fp::SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"));
  fp::Ofproto& of = *node;
  // Learn every host where it lives, as ARP would.
  auto learn = [&](std::vector<uint8_t> f, const char* port) {
    fp::PacketBuffer b(f, of.find_port(port)->dp_port);
    fp::FlowKey k;
    fp::parse_packet(b.packet(), k);
    fp::XlateResult x;
    of.translate(k, true, x, nullptr);
  };
  learn((Eth{"ff:ff:ff:ff:ff:ff", kVm1} / ARP{.sha = mac(kVm1)}).bytes(), "vm1");
  learn((Eth{"ff:ff:ff:ff:ff:ff", kVm2} / ARP{.sha = mac(kVm2)}).bytes(), "vm2");
  learn((Eth{"ff:ff:ff:ff:ff:ff", kRemote} / Dot1Q{.vid = 1000} / ARP{.sha = mac(kRemote)})
            .bytes(),
        "eth2");
  return node;
}

std::vector<uint8_t> udp64(const char* dst, const char* src, int vid, uint16_t sport) {
  using namespace fp::test;
  if (vid >= 0)
    return (Eth{dst, src} / Dot1Q{.vid = uint16_t(vid)} /
            IPv4{.src = "192.0.2.100", .dst = "192.0.2.1"} / UDP{.sport = sport, .dport = 9} /
            Payload{.n = 14})
        .bytes();
  return (Eth{dst, src} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.100"} /
          UDP{.sport = sport, .dport = 9} / Payload{.n = 18})
      .bytes();
}

void run(benchmark::State& state, const char* port, const char* dst, const char* src, int vid,
         bool emc) {
  auto node = make_node();
  fp::Ofproto& of = *node;
  fp::DatapathConfig cfg;
  cfg.emc_enabled = emc;
  cfg.emc.insert_inv_prob = 1;
  fp::Datapath<fp::Ofproto> dp(of, cfg);
  uint32_t in = of.find_port(port)->dp_port;
  std::vector<fp::PacketBuffer> bufs(fp::kBatchSize);
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 0; i < fp::kBatchSize; ++i) {
    frames.push_back(udp64(dst, src, vid, uint16_t(1000 + i)));
    bufs[i].assign(frames[i]);
  }
  const uint32_t headroom = bufs[0].packet().headroom();
  CountingSink sink;
  fp::Batch batch;
  auto refill = [&] {
    batch.clear();
    for (uint32_t i = 0; i < fp::kBatchSize; ++i) {
      fp::Packet& p = bufs[i].packet();
      p.reset(headroom, uint32_t(frames[i].size()));
      std::memcpy(p.data(), frames[i].data(), 18);
      p.in_port = in;
      batch.push(&p);
    }
  };
  for (int i = 0; i < 4; ++i) {  // warm the caches (upcall, install)
    refill();
    dp.process(batch, sink);
  }
  uint64_t packets = 0, cycles = 0;
  for (auto _ : state) {
    refill();
    uint64_t t0 = fp::read_cycles();
    dp.process(batch, sink);
    cycles += fp::read_cycles() - t0;
    packets += fp::kBatchSize;
  }
  if (sink.drops) state.SkipWithError("packets dropped");
  state.counters["Mpps"] =
      benchmark::Counter(double(packets) / 1e6, benchmark::Counter::kIsRate);
  state.counters["cycles_per_pkt"] = double(cycles) / double(packets);
  state.counters["upcalls"] = double(dp.stats().upcall_ok);
  state.SetItemsProcessed(int64_t(packets));
}

void BM_vm1_to_eth2_emc(benchmark::State& s) { run(s, "vm1", kRemote, kVm1, -1, true); }
void BM_vm1_to_eth2_megaflow(benchmark::State& s) { run(s, "vm1", kRemote, kVm1, -1, false); }
void BM_eth2_to_vm1_megaflow(benchmark::State& s) { run(s, "eth2", kVm1, kRemote, 1000, false); }
void BM_vm1_to_vm2_megaflow(benchmark::State& s) { run(s, "vm1", kVm2, kVm1, -1, false); }

void BM_restore_frames(benchmark::State& state) {
  std::vector<fp::PacketBuffer> bufs(fp::kBatchSize);
  auto f = udp64(kRemote, kVm1, -1, 1);
  for (auto& b : bufs) b.assign(f);
  uint64_t packets = 0, cycles = 0;
  for (auto _ : state) {
    uint64_t t0 = fp::read_cycles();
    for (auto& b : bufs) {
      b.packet().reset(fp::PacketBuffer::kHeadroom, uint32_t(f.size()));
      std::memcpy(b.packet().data(), f.data(), 18);
    }
    benchmark::ClobberMemory();
    cycles += fp::read_cycles() - t0;
    packets += fp::kBatchSize;
  }
  state.counters["Mpps"] = benchmark::Counter(double(packets) / 1e6, benchmark::Counter::kIsRate);
  state.counters["cycles_per_pkt"] = double(cycles) / double(packets);
}

}  // namespace

BENCHMARK(BM_vm1_to_eth2_emc)->Name("compute_node/vm1_to_eth2/emc");
BENCHMARK(BM_vm1_to_eth2_megaflow)->Name("compute_node/vm1_to_eth2/megaflow");
BENCHMARK(BM_eth2_to_vm1_megaflow)->Name("compute_node/eth2_to_vm1/megaflow");
BENCHMARK(BM_vm1_to_vm2_megaflow)->Name("compute_node/vm1_to_vm2/megaflow");
BENCHMARK(BM_restore_frames)->Name("baseline/restore_frames");
BENCHMARK_MAIN();
