// `ovs-ofctl del-flows BR cookie=0x1/-1` inside the switch: an Ofproto with
// one bridge, its change journal wired as in a running switch, N flows
// shaped like bench/openflow/gen_flows.py's (ACL 5-tuples, L2, VLAN),
// each with cookie 0x1 (or, for /small, 1,000 of them among N with cookie 0x2).
//
//   flow_delete/all/N      del-flows cookie=0x1/-1 removing all N flows
//   flow_delete/small/N    del-flows cookie=0x1/-1 removing 1,000 of N
//
// CPU time of the delete alone (the re-adds between iterations are paused).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <vector>

#include "flowpath/bridge/ofproto.hpp"

namespace fp = flowpath;

namespace {

std::vector<fp::OfctlFlow> make_flows(size_t n, size_t marked) {
  std::vector<fp::OfctlFlow> out;
  out.reserve(n);
  char buf[256];
  for (size_t i = 0; i < n; ++i) {
    unsigned a = unsigned(i & 0xff), b = unsigned(i >> 8 & 0xff), c = unsigned(i >> 16);
    unsigned cookie = i < marked ? 1 : 2;
    switch (i % 3) {
      case 0:
        std::snprintf(buf, sizeof buf,
                      "cookie=%u,priority=%u,tcp,nw_src=198.51.100.%u,nw_dst=203.0.113.%u,"
                      "tp_dst=%u actions=output:%u",
                      cookie, 1000 + unsigned(i % 39000), a, b, 1 + c, 10 + a % 100);
        break;
      case 1:
        std::snprintf(buf, sizeof buf,
                      "cookie=%u,priority=%u,in_port=%u,dl_src=02:00:00:%02x:%02x:%02x,"
                      "dl_dst=02:00:01:00:00:%02x actions=output:%u",
                      cookie, 100 + unsigned(i % 900), 10 + a % 50, a, b, c, c, 10 + b % 100);
        break;
      default:
        std::snprintf(buf, sizeof buf,
                      "cookie=%u,priority=%u,in_port=%u,dl_vlan=%u,nw_dst=203.0.113.%u,ip "
                      "actions=mod_vlan_vid:%u,NORMAL",
                      cookie, 10 + unsigned(i % 90), 10 + c, 1 + (a * 16 + b) % 4000, a,
                      1 + b % 4000);
    }
    out.push_back(fp::parse_flow(buf));
  }
  return out;
}

void run(benchmark::State& state, size_t marked) {
  size_t n = size_t(state.range(0));
  auto flows = make_flows(n, std::min(n, marked));
  fp::SwitchConfig cfg;
  cfg.bridges.push_back(fp::BridgeConfig{"br0", {}, {}, {}, ""});
  fp::Ofproto of(cfg);
  fp::Bridge& br = of.require_bridge("br0");
  size_t removed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (const auto& f : flows) br.tables().add(f);
    state.ResumeTiming();
    removed = of.del_flows("br0", "cookie=0x1/0xffffffffffffffff");
    state.PauseTiming();
    of.run_periodic();  // the switch's periodic work (deferred frees)
    state.ResumeTiming();
  }
  state.counters["removed"] = double(removed);
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
