// The established-connection path of ct() in the datapath, against a plain
// megaflow hit, both through Ofproto + Datapath (one thread, batches of 32
// 64-byte IPv4/UDP frames of 32 connections, buffers reused, sink counts):
//
//   plain/<emc>      in_port=1,ip actions=output:2: one pass, one hit
//   ct_est/<emc>     in_port=1,ip actions=ct(table=1,zone=7) then
//                    ct_state=+est+trk actions=output:2: pass 1 hit, the
//                    tracker (established), recirculation, pass 2 hit
// emc: 1 = EMC on (both passes EMC hits), 0 = megaflow hits.
// Counters: packets/s (items_per_second) and ns_per_pkt.
#include <benchmark/benchmark.h>

#include <vector>

#include "../../examples/snippets/conntrack_firewall.hpp"  // kStatefulFirewall, the ct_est flows
#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace fp = flowpath;

namespace {

struct CountingSink {
  uint64_t outputs = 0, drops = 0;
  void output(uint32_t, fp::Packet&, bool) noexcept { ++outputs; }
  void drop(fp::Packet&) noexcept { ++drops; }
};

std::vector<uint8_t> frame(uint32_t conn, bool reply) {
  using namespace fp::test;
  fp::test::Ip4 a = fp::Be32(0xc0000200u + conn), b = "198.51.100.1";
  return (Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
          IPv4{.src = reply ? b : a, .dst = reply ? a : b} /
          UDP{.sport = uint16_t(reply ? 53 : 1000), .dport = uint16_t(reply ? 1000 : 53)} /
          Payload{.n = 22})
      .bytes();
}

constexpr const char* kPlain = R"(add-br br
add-port br a ofport=1 type=memory
add-port br b ofport=2 type=memory
add-flow br priority=10,ip,in_port=1 actions=output:2
add-flow br priority=10,ip,in_port=2 actions=output:1
)";

void run(benchmark::State& state, const char* conf) {
  fp::Ofproto of(fp::SwitchConfig::parse(conf));
  fp::DatapathConfig cfg;
  cfg.emc_enabled = state.range(0) != 0;
  fp::Datapath<fp::Ofproto> dp(of, cfg);
  CountingSink sink;
  std::vector<fp::PacketBuffer> req, rep;
  for (uint32_t c = 0; c < fp::kBatchSize; ++c) {
    req.emplace_back(frame(c, false), 1);
    rep.emplace_back(frame(c, true), 2);
  }
  auto send = [&](std::vector<fp::PacketBuffer>& bufs) {
    fp::Batch b;
    for (auto& x : bufs) b.push(&x.packet());
    dp.process(b, sink);
  };
  send(req), send(rep), send(req);  // commit, reply: every connection established
  sink = {};
  for (auto _ : state) send(req);
  if (sink.outputs != uint64_t(state.iterations()) * fp::kBatchSize)
    state.SkipWithError("packets lost");
  const double pkts = double(state.iterations()) * fp::kBatchSize;
  state.SetItemsProcessed(int64_t(pkts));
  state.counters["ns_per_pkt"] =
      benchmark::Counter(pkts, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Plain(benchmark::State& s) { run(s, kPlain); }
void BM_CtEstablished(benchmark::State& s) { run(s, fp::snippets::kStatefulFirewall); }

}  // namespace

BENCHMARK(BM_Plain)->Name("plain")->Arg(1)->Arg(0);
BENCHMARK(BM_CtEstablished)->Name("ct_est")->Arg(1)->Arg(0);
BENCHMARK_MAIN();
