// `ovs-ofctl del-flows BR cookie=0x1/-1` inside the switch: an Ofproto with
// one bridge, its change journal wired as in a running switch, N flows
// shaped like bench/openflow/gen_flows.py's (ACL 5-tuples, L2, VLAN),
// each with cookie 0x1 (or, for /small, 1,000 of them among N with cookie 0x2).
//
//   flow_delete/all/N      del-flows cookie=0x1/-1 removing all N flows
//   flow_delete/small/N    del-flows cookie=0x1/-1 removing 1,000 of N
//
// CPU time of the delete alone (the re-adds between iterations are paused);
// periodic_ms: the run_periodic after it, which frees what the delete retired.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "../openflow/bench_flows.hpp"
#include "flowpath/bridge/ofproto.hpp"

namespace fp = flowpath;

namespace {

using flowpath_bench::make_flows;

void run(benchmark::State& state, size_t marked) {
  size_t n = size_t(state.range(0));
  auto flows = make_flows(n, std::min(n, marked));
  fp::SwitchConfig cfg;
  cfg.bridges.push_back(fp::BridgeConfig{"br0", {}, {}, {}, ""});
  fp::Ofproto of(cfg);
  fp::Bridge& br = of.require_bridge("br0");
  size_t removed = 0;
  std::chrono::steady_clock::duration reclaim{};
  for (auto _ : state) {
    state.PauseTiming();
    for (const auto& f : flows) br.tables().add(f);
    state.ResumeTiming();
    removed = of.del_flows("br0", "cookie=0x1/0xffffffffffffffff");
    state.PauseTiming();
    auto t0 = std::chrono::steady_clock::now();
    of.run_periodic();  // the switch's periodic work (deferred frees)
    reclaim += std::chrono::steady_clock::now() - t0;
    state.ResumeTiming();
  }
  state.counters["removed"] = double(removed);
  state.counters["periodic_ms"] =  // wall time of the run_periodic after each delete
      std::chrono::duration<double, std::milli>(reclaim).count() / double(state.iterations());
}

void BM_all(benchmark::State& s) { run(s, SIZE_MAX); }
void BM_small(benchmark::State& s) { run(s, 1000); }

}  // namespace

BENCHMARK(BM_all)
    ->Name("flow_delete/all")
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);
BENCHMARK(BM_small)
    ->Name("flow_delete/small")
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

BENCHMARK_MAIN();
