// The switch's side of `ovs-ofctl dump-flows` of 100,000 flows, in
// process: OfprotoBackend::stats (select the rules, build the reply) and
// append_flow_stats_replies (encode the multipart messages), as
// openflow::Connection does for a flow stats request, in each format
// ovs-ofctl asks in: NXST_FLOW (its default), OpenFlow 1.0, OpenFlow 1.3.
//
//   flow_dump/<format>/N    CPU per dump; counter ns_per_flow
//
// Flows as bench/openflow/gen_flows.py shapes them (bench_flows.hpp).
#include <benchmark/benchmark.h>

#include <vector>

#include "bench_flows.hpp"
#include "flowpath/openflow/flow_stats_stream.hpp"
#include "flowpath/switch/openflow_backend.hpp"

namespace fp = flowpath;
namespace of = flowpath::openflow;

namespace {

void run(benchmark::State& state, uint8_t version, of::MatchFormat format) {
  size_t n = size_t(state.range(0));
  fp::SwitchConfig cfg;
  cfg.bridges.push_back(fp::BridgeConfig{"br0", {}, {}, {}, ""});
  fp::Ofproto ofp(cfg);
  for (const auto& f : flowpath_bench::make_flows(n, n)) ofp.require_bridge("br0").tables().add(f);
  fp::OfprotoBackend be(ofp, "br0");
  of::StatsRequest rq;
  rq.type = of::StatsType::kFlow;
  rq.match_format = format;
  rq.table_id = fp::kOfTableAll;
  std::vector<uint8_t> out;
  for (auto _ : state) {
    out.clear();
    of::StatsReply rep = be.stats(rq);
    rep.type = rq.type;
    rep.match_format = format;
    of::append_flow_stats_replies(out, version, 7, rep);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["ns_per_flow"] = benchmark::Counter(
      double(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["bytes"] = double(out.size());
}

void BM_nxm(benchmark::State& s) { run(s, of::kOfp10, of::MatchFormat::kNxm); }
void BM_of10(benchmark::State& s) { run(s, of::kOfp10, of::MatchFormat::kOf10); }
void BM_of13(benchmark::State& s) { run(s, of::kOfp13, of::MatchFormat::kOf10); }

}  // namespace

BENCHMARK(BM_nxm)->Name("flow_dump/nxm")->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_of10)->Name("flow_dump/of10")->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_of13)->Name("flow_dump/of13")->Arg(100000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
