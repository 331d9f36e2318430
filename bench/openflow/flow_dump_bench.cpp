// The switch's side of `ovs-ofctl dump-flows` of 100,000 flows, in
// process, in each format ovs-ofctl asks in: NXST_FLOW (its default),
// OpenFlow 1.0, OpenFlow 1.3.
//
//   flow_dump/<format>/N       OfprotoBackend::append_flow_stats, as
//                              openflow::Connection calls it: the rules
//                              encoded in place
//   flow_dump_copy/<format>/N  the baseline: OfprotoBackend::stats (a
//                              FlowStats copy per rule) then
//                              append_flow_stats_replies
//   CPU per dump; counter ns_per_flow
//   table_stats/N              OfprotoBackend::stats(OFPST_TABLE), which
//                              ovs-ofctl asks before each add-flows,
//                              dump-flows and del-flows in OpenFlow 1.0
//   table_stats_listing/N      the baseline (the code before): per-table
//                              counts by listing every rule
//
// Flows as bench/openflow/gen_flows.py shapes them (bench_flows.hpp).
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "bench_flows.hpp"
#include "flowpath/openflow/flow_stats_stream.hpp"
#include "flowpath/switch/openflow_backend.hpp"

namespace fp = flowpath;
namespace of = flowpath::openflow;

namespace {

void run(benchmark::State& state, uint8_t version, of::MatchFormat format, bool copy) {
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
    out = {};  // as the connection's output after the channel took it
    if (copy) {
      of::StatsReply rep = be.stats(rq);
      rep.type = rq.type;
      rep.match_format = format;
      of::append_flow_stats_replies(out, version, 7, rep);
    } else {
      be.append_flow_stats(rq, version, 7, out);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["ns_per_flow"] = benchmark::Counter(
      double(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["bytes"] = double(out.size());
}

void BM_nxm(benchmark::State& s) { run(s, of::kOfp10, of::MatchFormat::kNxm, false); }
void BM_of10(benchmark::State& s) { run(s, of::kOfp10, of::MatchFormat::kOf10, false); }
void BM_of13(benchmark::State& s) { run(s, of::kOfp13, of::MatchFormat::kOf10, false); }
void BM_nxm_copy(benchmark::State& s) { run(s, of::kOfp10, of::MatchFormat::kNxm, true); }
void BM_of10_copy(benchmark::State& s) { run(s, of::kOfp10, of::MatchFormat::kOf10, true); }
void BM_of13_copy(benchmark::State& s) { run(s, of::kOfp13, of::MatchFormat::kOf10, true); }

void table_stats(benchmark::State& state, bool listing) {
  size_t n = size_t(state.range(0));
  fp::SwitchConfig cfg;
  cfg.bridges.push_back(fp::BridgeConfig{"br0", {}, {}, {}, ""});
  fp::Ofproto ofp(cfg);
  auto& t = ofp.require_bridge("br0").tables();
  for (const auto& f : flowpath_bench::make_flows(n, n)) t.add(f);
  fp::OfprotoBackend be(ofp, "br0");
  of::StatsRequest rq;
  rq.type = of::StatsType::kTable;
  for (auto _ : state) {
    if (listing) {
      std::array<uint32_t, 256> active{};
      for (const fp::OfRule* r : t.rules()) ++active[r->table_id];
      benchmark::DoNotOptimize(active.data());
    } else {
      of::StatsReply rep = be.stats(rq);
      benchmark::DoNotOptimize(rep.tables.data());
    }
  }
}
void BM_table_stats(benchmark::State& s) { table_stats(s, false); }
void BM_table_stats_listing(benchmark::State& s) { table_stats(s, true); }

}  // namespace

BENCHMARK(BM_table_stats)->Name("table_stats")->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_table_stats_listing)
    ->Name("table_stats_listing")
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nxm)->Name("flow_dump/nxm")->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_of10)->Name("flow_dump/of10")->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_of13)->Name("flow_dump/of13")->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nxm_copy)->Name("flow_dump_copy/nxm")->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_of10_copy)->Name("flow_dump_copy/of10")->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_of13_copy)->Name("flow_dump_copy/of13")->Arg(100000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
