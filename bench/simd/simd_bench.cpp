// Per-backend cost of the simd/ kernels: hashing and comparing flow keys.
// Scalar is the baseline in the same run; the Highway target and xsimd
// arch are printed in the benchmark context ("highway", "xsimd").
//
//   build-*/bench/simd_simd_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <random>
#include <span>
#include <vector>

#include "flowpath/simd/backend_name.hpp"
#include "flowpath/simd/compare.hpp"
#include "flowpath/simd/hash.hpp"

namespace {

using namespace flowpath;
namespace simd = flowpath::simd;
using simd::Highway;
using simd::Scalar;
using simd::Xsimd;

constexpr size_t kKeys = 1024;  // fits L1/L2: measures compute, not memory

std::vector<FlowKey> make_keys(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<FlowKey> keys(kKeys);
  for (auto& k : keys)
    for (size_t i = 0; i < FlowKey::kWords; ++i) k.words()[i] = rng();
  return keys;
}

/// A typical megaflow mask: in_port, dl_dst, dl_type, vlan, nw_src/dst, proto, ports.
FlowMask five_tuple_mask() {
  FlowMask m;
  m.in_port = ~0u;
  m.dl_dst.b.fill(0xff);
  m.dl_type = Be16(0xffff);
  m.vlans[0].tci = Be16(0xffff);
  m.nw_src = Be32(0xffffffff);
  m.nw_dst = Be32(0xffffffff);
  m.nw_proto = 0xff;
  m.tp_src = Be16(0xffff);
  m.tp_dst = Be16(0xffff);
  return m;
}

template <class B>
void BM_hash_masked(benchmark::State& state) {
  const auto keys = make_keys(1);
  const FlowMask m = five_tuple_mask();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(simd::hash_masked<B>(keys[i], m, 0));
    i = (i + 1) & (kKeys - 1);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}

template <class B>
void BM_hash_masked_batch32(benchmark::State& state) {
  const auto keys = make_keys(2);
  const FlowMask m = five_tuple_mask();
  uint32_t out[32];
  size_t i = 0;
  for (auto _ : state) {
    simd::hash_masked_batch<B>(std::span<const FlowKey>(keys).subspan(i, 32), m, 0, out);
    benchmark::DoNotOptimize(out);
    i = (i + 32) & (kKeys - 1);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 32);
}

template <class B, size_t N>
void BM_hash_words(benchmark::State& state) {
  const auto keys = make_keys(3);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(simd::hash_words<B, N>(keys[i].words(), 0));
    i = (i + 1) & (kKeys - 1);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}

template <class B>
void BM_gather_masked_words(benchmark::State& state) {
  const auto keys = make_keys(4);
  const FlowMask m = five_tuple_mask();
  const uint32_t map = mask_word_map(m);
  uint64_t out[16];
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(simd::gather_masked_words<B>(keys[i], m, map, out));
    benchmark::ClobberMemory();
    i = (i + 1) & (kKeys - 1);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}

/// 32 keys against one value, half of them matching.
template <class B>
void BM_match_masked_many32(benchmark::State& state) {
  auto keys = make_keys(5);
  const FlowMask m = five_tuple_mask();
  const FlowKey value = masked(keys[0], m);
  for (size_t j = 0; j < kKeys; j += 2) keys[j] = keys[0];
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        simd::match_masked_many<B>(std::span<const FlowKey>(keys).subspan(i, 32), m, value));
    i = (i + 32) & (kKeys - 1);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 32);
}

/// Miss against 16 stored values (the whole bucket is compared).
template <class B>
void BM_find_masked16_miss(benchmark::State& state) {
  const auto keys = make_keys(6);
  const FlowMask m = five_tuple_mask();
  std::vector<FlowKey> values(16);
  for (size_t j = 0; j < 16; ++j) values[j] = masked(keys[j + 100], m);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(simd::find_masked<B>(keys[i & 63], m, values));
    ++i;
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 16);
}

/// Probe a bucket of 8 compact N-word entries; hit on the last one.
template <class B, size_t N>
void BM_find_words8(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> entries(8 * N);
  for (auto& w : entries) w = rng();
  const std::vector<uint64_t> probe(entries.end() - N, entries.end());
  for (auto _ : state) {
    benchmark::DoNotOptimize(simd::find_words<B, N>(probe.data(), entries.data(), 8));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 8);
}

template <class B>
void BM_match_u32(benchmark::State& state) {
  std::mt19937_64 rng(8);
  std::vector<uint32_t> bucket(32);
  for (auto& h : bucket) h = uint32_t(rng());
  const size_t n = size_t(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(simd::match_u32<B>(bucket.data(), n, bucket[n - 1]));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}

#define FP_ALL_BACKENDS(fn)        \
  BENCHMARK_TEMPLATE(fn, Scalar);  \
  BENCHMARK_TEMPLATE(fn, Highway); \
  BENCHMARK_TEMPLATE(fn, Xsimd)
#define FP_ALL_BACKENDS_N(fn, n)      \
  BENCHMARK_TEMPLATE(fn, Scalar, n);  \
  BENCHMARK_TEMPLATE(fn, Highway, n); \
  BENCHMARK_TEMPLATE(fn, Xsimd, n)

FP_ALL_BACKENDS(BM_hash_masked);
FP_ALL_BACKENDS(BM_hash_masked_batch32);
FP_ALL_BACKENDS_N(BM_hash_words, 2);
FP_ALL_BACKENDS_N(BM_hash_words, 4);
FP_ALL_BACKENDS_N(BM_hash_words, 8);
FP_ALL_BACKENDS_N(BM_hash_words, 15);
FP_ALL_BACKENDS(BM_gather_masked_words);
FP_ALL_BACKENDS(BM_match_masked_many32);
FP_ALL_BACKENDS(BM_find_masked16_miss);
FP_ALL_BACKENDS_N(BM_find_words8, 1);
FP_ALL_BACKENDS_N(BM_find_words8, 2);
FP_ALL_BACKENDS_N(BM_find_words8, 4);
FP_ALL_BACKENDS_N(BM_find_words8, 8);
BENCHMARK_TEMPLATE(BM_match_u32, Scalar)->Arg(8)->Arg(16);
BENCHMARK_TEMPLATE(BM_match_u32, Highway)->Arg(8)->Arg(16);
BENCHMARK_TEMPLATE(BM_match_u32, Xsimd)->Arg(8)->Arg(16);

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("highway", simd::backend_name<Highway>());
  benchmark::AddCustomContext("xsimd", simd::backend_name<Xsimd>());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
