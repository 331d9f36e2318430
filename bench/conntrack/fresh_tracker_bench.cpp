// Where a fresh connection tracker pays (docs/benchmarks.md, "Connection
// tracking"): conntrack_bench's BM_NewConnectionsCold (a fresh tracker's
// whole life, 1M commits) costs about 1.8x BM_NewConnections (the same
// commits into a flushed tracker).  These isolate the entry pool's share of
// that gap: a fresh ObjectPool carving n entries of sizeof(Conn) (2 MiB
// chunks mapped with MAP_POPULATE, then unmapped at its death) against a
// kept pool refilled after every entry was freed.  What remains of the gap
// is the bucket arrays' growth (each regrow walks the shard's nodes).
#include <benchmark/benchmark.h>

#include <vector>

#include "flowpath/conntrack/conn_table.hpp"

namespace {
using flowpath::ct::Conn;
using flowpath::ct::ObjectPool;

void touch(void* p) {  // a commit writes the entry: the pool's memory is written, not just mapped
  static_cast<char*>(p)[0] = 1;
  benchmark::DoNotOptimize(p);
}

void BM_PoolFresh(benchmark::State& state) {
  const size_t n = size_t(state.range(0));
  for (auto _ : state) {
    ObjectPool pool(sizeof(Conn));
    for (size_t i = 0; i < n; ++i) touch(pool.alloc());
  }  // the pool's munmaps are timed, as the tracker's destruction is
  state.SetItemsProcessed(state.iterations() * int64_t(n));
}
BENCHMARK(BM_PoolFresh)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_PoolKept(benchmark::State& state) {
  const size_t n = size_t(state.range(0));
  ObjectPool pool(sizeof(Conn));
  std::vector<void*> live(n);
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) touch(live[i] = pool.alloc());
    state.PauseTiming();
    for (void* p : live) pool.free(p);  // all free: carving restarts at the first chunk
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * int64_t(n));
}
BENCHMARK(BM_PoolKept)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
