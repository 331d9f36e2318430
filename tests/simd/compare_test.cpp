// Differential tests: every SIMD backend's compare/find kernels against the
// scalar reference on random data (fixed seeds), with exact-size buffers.
#include "flowpath/simd/compare.hpp"

#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "simd/backends.hpp"

namespace simd_test {
namespace compare_test {

template <class B>
class SimdCompare : public ::testing::Test {};
TYPED_TEST_SUITE(SimdCompare, Backends, BackendNames);

/// A key that matches `value` under `mask` (random bits outside the mask),
/// or, when `flip` is a word index < 15, one that differs in that word.
FlowKey key_for(std::mt19937_64& rng, const FlowMask& mask, const FlowKey& value, size_t flip) {
  FlowKey k = random_key(rng);
  for (size_t i = 0; i < FlowKey::kWords; ++i)
    k.words()[i] = (k.word(i) & ~mask.word(i)) | value.word(i);
  if (flip < FlowKey::kWords && mask.word(flip) != 0)
    k.words()[flip] ^= uint64_t{1} << std::countr_zero(mask.word(flip));
  return k;
}

TYPED_TEST(SimdCompare, MatchMaskedManyMatchesScalar) {
  std::mt19937_64 rng(21);
  for (int it = 0; it < 300; ++it) {
    const FlowMask m = it % 5 == 0 ? exact_mask() : random_mask(rng);
    const FlowKey value = masked(random_key(rng), m);
    const size_t n = size_t(rng() % 65);
    std::vector<FlowKey> keys(n);
    for (auto& k : keys) k = key_for(rng, m, value, size_t(rng() % 20));  // >= 15: match
    const std::span<const FlowKey> s(keys);
    const uint64_t want = simd::match_masked_many<simd::Scalar>(s, m, value);
    ASSERT_EQ((simd::match_masked_many<TypeParam>(s, m, value)), want) << "n=" << n;
    for (size_t j = 0; j < n; ++j) ASSERT_EQ((want >> j) & 1, masked_equal(keys[j], m, value));
  }
}

TYPED_TEST(SimdCompare, FindMaskedMatchesScalar) {
  std::mt19937_64 rng(22);
  for (int it = 0; it < 500; ++it) {
    const FlowMask m = random_mask(rng);
    const FlowKey key = random_key(rng);
    const size_t n = size_t(rng() % 40);
    std::vector<FlowKey> values(n);
    for (size_t j = 0; j < n; ++j) {
      // Near misses: masked key with one word changed (every word position).
      values[j] = masked(key, m);
      const size_t w = size_t(rng() % FlowKey::kWords);
      values[j].words()[w] ^= m.word(w) & (uint64_t{1} << (rng() % 64));
    }
    if (n > 0 && it % 2 == 0) values[size_t(rng() % n)] = masked(key, m);
    const std::span<const FlowKey> s(values);
    ASSERT_EQ((simd::find_masked<TypeParam>(key, m, s)),
              (simd::find_masked<simd::Scalar>(key, m, s)));
  }
}

TYPED_TEST(SimdCompare, FindWordsEveryN) {
  std::mt19937_64 rng(23);
  for_each_n<FlowKey::kWords>([&](auto nc) {
    constexpr size_t N = decltype(nc)::value;
    for (int it = 0; it < 60; ++it) {
      const size_t n_entries = size_t(rng() % 20);
      auto entries = exact<uint64_t>(n_entries * N);
      auto probe = exact<uint64_t>(N);
      for (size_t i = 0; i < N; ++i) probe[i] = rng() & 0xff;
      for (size_t j = 0; j < n_entries; ++j) {
        for (size_t i = 0; i < N; ++i) entries[j * N + i] = probe[i];
        entries[j * N + (j + size_t(it)) % N] ^= 1 + (rng() & 1);  // differs in one word
      }
      if (n_entries > 0 && it % 3 != 0) {
        const size_t hit = size_t(rng() % n_entries);
        for (size_t i = 0; i < N; ++i) entries[hit * N + i] = probe[i];
      }
      const uint32_t want =
          simd::find_words<simd::Scalar, N>(probe.get(), entries.get(), n_entries);
      ASSERT_EQ((simd::find_words<TypeParam, N>(probe.get(), entries.get(), n_entries)), want)
          << "N=" << N;
      ASSERT_EQ((simd::find_words<TypeParam>(probe.get(), N, entries.get(), n_entries)), want);
    }
  });
}

TYPED_TEST(SimdCompare, MatchU32EveryN) {
  std::mt19937_64 rng(24);
  for (size_t n = 0; n <= 32; ++n) {
    for (int it = 0; it < 50; ++it) {
      auto bucket = exact<uint32_t>(n);
      for (size_t j = 0; j < n; ++j) bucket[j] = uint32_t(rng() % 3) * 0x9e3779b9u;
      const uint32_t h = uint32_t(rng() % 3) * 0x9e3779b9u;
      const uint32_t want = simd::match_u32<simd::Scalar>(bucket.get(), n, h);
      ASSERT_EQ((simd::match_u32<TypeParam>(bucket.get(), n, h)), want) << "n=" << n;
    }
  }
}

TYPED_TEST(SimdCompare, RangeHitsEveryShape) {
  std::mt19937_64 rng(25);
  for (size_t n = 0; n <= 32; ++n) {
    for (size_t nd = 0; nd <= 8; ++nd) {
      for (int it = 0; it < 20; ++it) {
        auto r = exact<uint32_t>(2 * nd * n);  // lo, span arrays stride n apart, nothing more
        uint32_t x[8];
        for (size_t k = 0; k < nd; ++k) {
          x[k] = uint32_t(rng() % 64);  // small values: hits and misses both common
          for (size_t j = 0; j < n; ++j) {
            uint32_t lo = uint32_t(rng() % 64), span = uint32_t(rng() % 64);
            if (rng() % 8 == 0) lo = 0, span = ~0u;  // a wildcard
            r[2 * k * n + j] = lo;
            r[(2 * k + 1) * n + j] = span;
          }
        }
        const uint32_t want = simd::range_hits<simd::Scalar>(x, nd, r.get(), n, n);
        for (size_t j = 0; j < n; ++j) {  // the reference against the definition
          bool in = true;
          for (size_t k = 0; k < nd; ++k)
            in &= x[k] >= r[2 * k * n + j] &&
                  uint64_t{x[k]} <= uint64_t{r[2 * k * n + j]} + r[(2 * k + 1) * n + j];
          ASSERT_EQ((want >> j) & 1, uint32_t{in}) << "n=" << n << " nd=" << nd << " j=" << j;
        }
        ASSERT_EQ((simd::range_hits<TypeParam>(x, nd, r.get(), n, n)), want)
            << "n=" << n << " nd=" << nd;
      }
    }
  }
}

}  // namespace compare_test
}  // namespace simd_test
