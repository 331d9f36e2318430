// MacTable against std::unordered_map<uint64_t, uint32_t> keyed the same
// way (vlan << 48 | mac), at 1K and 8K entries, fixed seed.
//
//   BM_*_lookup/N     hit lookups of random known (VLAN, MAC); MacTable
//                     reads the system clock per call, *_now once per 32
//   BM_*_refresh/N    learn() of known hosts on their port (the common case)
//   BM_*_flood        a new random source MAC per call at capacity 8192
//                     (MacTable evicts fairly; the map baseline erases the
//                     oldest key from a FIFO ring to stay bounded)
#include <benchmark/benchmark.h>

#include <deque>
#include <random>
#include <unordered_map>
#include <vector>

#include "flowpath/l2/mac_table.hpp"

namespace {

using namespace flowpath;

struct Host {
  uint16_t vlan;
  EthAddr mac;
  uint64_t key;
  uint32_t port;
};

std::vector<Host> hosts(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Host> v(n);
  for (auto& h : v) {
    uint64_t m = rng() & 0xfeffffffffffull;
    h.vlan = uint16_t(rng() % 4);
    for (int i = 0; i < 6; ++i) h.mac.b[i] = uint8_t(m >> (40 - 8 * i));
    h.key = uint64_t(h.vlan) << 48 | m;
    h.port = uint32_t(rng() % 16);
  }
  return v;
}

std::vector<uint32_t> order(size_t n, size_t len) {
  std::mt19937 rng(3);
  std::vector<uint32_t> o(len);
  for (auto& x : o) x = uint32_t(rng() % n);
  return o;
}

void BM_MacTable_lookup(benchmark::State& st) {
  size_t n = size_t(st.range(0));
  auto hs = hosts(n, 1);
  MacTable t({.capacity = 8192});
  for (auto& h : hs) t.learn(h.vlan, h.mac, h.port);
  auto o = order(n, 1 << 16);
  size_t i = 0;
  for (auto _ : st) {
    const Host& h = hs[o[i++ & 0xffff]];
    benchmark::DoNotOptimize(t.lookup(h.vlan, h.mac));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_MacTable_lookup)->Arg(1024)->Arg(8192);

// The same with the time read once per 32 lookups (as an upcall batch does).
void BM_MacTable_lookup_now(benchmark::State& st) {
  size_t n = size_t(st.range(0));
  auto hs = hosts(n, 1);
  MacTable t({.capacity = 8192});
  for (auto& h : hs) t.learn(h.vlan, h.mac, h.port);
  auto o = order(n, 1 << 16);
  size_t i = 0;
  int64_t now = Clock::system()->now_ms();
  for (auto _ : st) {
    if ((i & 31) == 0) now = Clock::system()->now_ms();
    const Host& h = hs[o[i++ & 0xffff]];
    benchmark::DoNotOptimize(t.lookup(h.vlan, h.mac, now));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_MacTable_lookup_now)->Arg(1024)->Arg(8192);

void BM_unordered_map_lookup(benchmark::State& st) {
  size_t n = size_t(st.range(0));
  auto hs = hosts(n, 1);
  std::unordered_map<uint64_t, uint32_t> m;
  for (auto& h : hs) m[h.key] = h.port;
  auto o = order(n, 1 << 16);
  size_t i = 0;
  for (auto _ : st) {
    const Host& h = hs[o[i++ & 0xffff]];
    auto it = m.find(h.key);
    benchmark::DoNotOptimize(it);
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_unordered_map_lookup)->Arg(1024)->Arg(8192);

void BM_MacTable_refresh(benchmark::State& st) {
  size_t n = size_t(st.range(0));
  auto hs = hosts(n, 1);
  MacTable t({.capacity = 8192});
  for (auto& h : hs) t.learn(h.vlan, h.mac, h.port);
  auto o = order(n, 1 << 16);
  size_t i = 0;
  for (auto _ : st) {
    const Host& h = hs[o[i++ & 0xffff]];
    benchmark::DoNotOptimize(t.learn(h.vlan, h.mac, h.port));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_MacTable_refresh)->Arg(1024)->Arg(8192);

void BM_MacTable_refresh_now(benchmark::State& st) {
  size_t n = size_t(st.range(0));
  auto hs = hosts(n, 1);
  MacTable t({.capacity = 8192});
  for (auto& h : hs) t.learn(h.vlan, h.mac, h.port);
  auto o = order(n, 1 << 16);
  size_t i = 0;
  int64_t now = Clock::system()->now_ms();
  for (auto _ : st) {
    if ((i & 31) == 0) now = Clock::system()->now_ms();
    const Host& h = hs[o[i++ & 0xffff]];
    benchmark::DoNotOptimize(t.learn(h.vlan, h.mac, h.port, now));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_MacTable_refresh_now)->Arg(1024)->Arg(8192);

void BM_unordered_map_refresh(benchmark::State& st) {
  size_t n = size_t(st.range(0));
  auto hs = hosts(n, 1);
  std::unordered_map<uint64_t, uint32_t> m;
  for (auto& h : hs) m[h.key] = h.port;
  auto o = order(n, 1 << 16);
  size_t i = 0;
  for (auto _ : st) {
    const Host& h = hs[o[i++ & 0xffff]];
    m.insert_or_assign(h.key, h.port);
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_unordered_map_refresh)->Arg(1024)->Arg(8192);

void BM_MacTable_flood(benchmark::State& st) {
  MacTable t({.capacity = 8192});
  std::mt19937_64 rng(9);
  int64_t now = Clock::system()->now_ms();
  size_t i = 0;
  for (auto _ : st) {
    if ((i++ & 31) == 0) now = Clock::system()->now_ms();
    uint64_t m = rng();
    EthAddr a;
    for (int i = 0; i < 6; ++i) a.b[i] = uint8_t(m >> (8 * i));
    a.b[0] &= 0xfe;
    benchmark::DoNotOptimize(t.learn(0, a, 7, now));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_MacTable_flood);

void BM_unordered_map_flood(benchmark::State& st) {
  std::unordered_map<uint64_t, uint32_t> m;
  std::deque<uint64_t> fifo;
  std::mt19937_64 rng(9);
  for (auto _ : st) {
    uint64_t k = rng() & 0xfeffffffffffull;
    if (m.size() == 8192) {
      m.erase(fifo.front());
      fifo.pop_front();
    }
    if (m.emplace(k, 7).second) fifo.push_back(k);
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_unordered_map_flood);

}  // namespace

BENCHMARK_MAIN();
