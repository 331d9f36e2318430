// Differential tests: every SIMD backend's hash against the scalar
// reference, on random data with fixed seeds, plus hash quality checks.
#include "flowpath/simd/hash.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <set>
#include <span>
#include <vector>

#include "simd/backends.hpp"

namespace simd_test {
namespace hash_test {

TEST(SimdTargets, Report) {
  // Which instruction sets this executable runs (visible in ctest -V output).
  std::cout << "HWY_TARGET=" << simd::backend_name<simd::Highway>()
            << " xsimd default_arch=" << simd::backend_name<simd::Xsimd>() << "\n";
  RecordProperty("highway", simd::backend_name<simd::Highway>());
  RecordProperty("xsimd", simd::backend_name<simd::Xsimd>());
}

template <class B>
class SimdHash : public ::testing::Test {};
TYPED_TEST_SUITE(SimdHash, Backends, BackendNames);

TYPED_TEST(SimdHash, MaskedMatchesScalar) {
  std::mt19937_64 rng(11);
  for (int it = 0; it < 3000; ++it) {
    const FlowKey k = random_key(rng);
    const FlowMask m = it % 7 == 0 ? exact_mask() : random_mask(rng);
    const uint32_t basis = it % 3 == 0 ? 0 : uint32_t(rng());
    ASSERT_EQ((simd::hash_masked<TypeParam>(k, m, basis)),
              (simd::hash_masked<simd::Scalar>(k, m, basis)))
        << "iteration " << it;
  }
}

TYPED_TEST(SimdHash, BatchEqualsSingle) {
  std::mt19937_64 rng(12);
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{32}, size_t{33}}) {
    std::vector<FlowKey> keys(n);
    for (auto& k : keys) k = random_key(rng);
    const FlowMask m = random_mask(rng);
    auto out = exact<uint32_t>(n);
    simd::hash_masked_batch<TypeParam>(std::span<const FlowKey>(keys), m, 99, out.get());
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(out[i], (simd::hash_masked<simd::Scalar>(keys[i], m, 99))) << i;
  }
}

TYPED_TEST(SimdHash, WordsMatchScalarForEveryN) {
  std::mt19937_64 rng(13);
  for_each_n<simd::kMaxHashWords>([&](auto nc) {
    constexpr size_t N = decltype(nc)::value;
    for (int it = 0; it < 200; ++it) {
      auto w = exact<uint64_t>(N);  // exact size: an over-read trips ASan
      for (size_t i = 0; i < N; ++i) w[i] = it % 5 == 0 ? (rng() & 0xffff) : rng();
      const uint32_t basis = uint32_t(rng());
      const uint32_t ref = simd::hash_words<simd::Scalar, N>(w.get(), basis);
      ASSERT_EQ((simd::hash_words<TypeParam, N>(w.get(), basis)), ref) << "N=" << N;
      ASSERT_EQ((simd::hash_words<TypeParam>(w.get(), N, basis)), ref) << "N=" << N;
    }
  });
}

TYPED_TEST(SimdHash, MaskedEqualsWordsOverMaskedKey) {
  std::mt19937_64 rng(14);
  for (int it = 0; it < 500; ++it) {
    const FlowKey k = random_key(rng);
    const FlowMask m = random_mask(rng);
    const FlowKey mk = masked(k, m);
    ASSERT_EQ((simd::hash_masked<TypeParam>(k, m, 5)),
              (simd::hash_words<TypeParam, FlowKey::kWords>(mk.words(), 5)));
  }
}

TYPED_TEST(SimdHash, GatherMatchesScalar) {
  std::mt19937_64 rng(15);
  for (int it = 0; it < 2000; ++it) {
    const FlowKey k = random_key(rng);
    const FlowMask m = random_mask(rng);
    const uint32_t map = it == 0   ? (1u << FlowKey::kWords) - 1
                         : it == 1 ? 0
                                   : uint32_t(rng());  // high bits ignored
    const size_t n = size_t(std::popcount(map & ((1u << FlowKey::kWords) - 1)));
    auto got = exact<uint64_t>(n);
    ASSERT_EQ((simd::gather_masked_words<TypeParam>(k, m, map, got.get())), n);
    std::vector<uint64_t> want(16);
    ASSERT_EQ((simd::gather_masked_words<simd::Scalar>(k, m, map, want.data())), n);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], want[i]) << "map " << map << " i " << i;
  }
}

#if HWY_TARGET != HWY_SCALAR
// The compress-based gather runs in production only where compress is
// native (AVX-512); test it on whatever target this build has.
TEST(SimdHighwayGather, CompressMatchesScalar) {
  std::mt19937_64 rng(17);
  for (int it = 0; it < 2000; ++it) {
    const FlowKey k = random_key(rng);
    const FlowMask m = random_mask(rng);
    const uint32_t map = uint32_t(rng());
    const size_t n = size_t(std::popcount(map & ((1u << FlowKey::kWords) - 1)));
    auto got = exact<uint64_t>(n);
    ASSERT_EQ(simd::Kernels<simd::Highway>::gather_compress(k, m, map, got.get()), n);
    std::vector<uint64_t> want(16);
    simd::gather_masked_words<simd::Scalar>(k, m, map, want.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], want[i]) << "map " << map;
  }
}
#endif

// Golden values pin the hash definition: tables persisted or shared across
// processes and builds rely on it never changing by accident.  (The
// full-key values changed on purpose when FlowKey grew from 15 to 16 words
// for the connection-tracking fields; hash_words over 3 words did not.)
TEST(SimdHashDefinition, KnownAnswers) {
  FlowKey k;
  const FlowMask all = exact_mask();
  EXPECT_EQ(simd::hash_masked<simd::Scalar>(k, all, 0), 2263051453u);
  k.in_port = 1;
  k.nw_src = Be32(0xc0000201);
  EXPECT_EQ(simd::hash_masked<simd::Scalar>(k, all, 0), 3760440407u);
  EXPECT_EQ(simd::hash_masked<simd::Scalar>(k, all, 1), 3328594074u);
  const uint64_t w[3] = {1, 2, 3};
  EXPECT_EQ((simd::hash_words<simd::Scalar, 3>(w, 0)), 2632759729u);
}

// ---- quality: keys differing in one realistic field -----------------------

struct Spread {
  size_t collisions;
  double chi2;  // over 1024 buckets of the low bits, and of the high bits
  double chi2_high;
};

template <class Fill>
Spread measure(size_t n, Fill fill) {
  std::vector<uint32_t> hs;
  hs.reserve(n);
  const FlowMask all = exact_mask();
  for (size_t i = 0; i < n; ++i) {
    FlowKey k;
    k.dl_type = Be16(kEthTypeIpv4);
    k.nw_proto = kIpProtoUdp;
    fill(k, i);
    hs.push_back(simd::hash_masked<simd::Scalar>(k, all, 0));
  }
  std::vector<double> lo(1024), hi(1024);
  for (uint32_t h : hs) {
    lo[h & 1023] += 1;
    hi[h >> 22] += 1;
  }
  auto chi2 = [&](const std::vector<double>& b) {
    const double e = double(n) / 1024;
    double c = 0;
    for (double x : b) c += (x - e) * (x - e) / e;
    return c;
  };
  std::sort(hs.begin(), hs.end());
  const size_t distinct = size_t(std::unique(hs.begin(), hs.end()) - hs.begin());
  return {n - distinct, chi2(lo), chi2(hi)};
}

void expect_good(const char* what, const Spread& s) {
  // 65536 keys into 2^32: ~0.5 expected collisions.  chi2 with 1023 degrees
  // of freedom: mean 1023, sd ~45; 1300 is > 6 sd.
  EXPECT_LE(s.collisions, 4u) << what;
  EXPECT_LT(s.chi2, 1300) << what;
  EXPECT_LT(s.chi2_high, 1300) << what;
}

TEST(SimdHashQuality, OneFieldVaries) {
  constexpr size_t n = 65536;
  expect_good("in_port", measure(n, [](FlowKey& k, size_t i) { k.in_port = uint32_t(i); }));
  expect_good("nw_src",
              measure(n, [](FlowKey& k, size_t i) { k.nw_src = Be32(0x0a000000u + uint32_t(i)); }));
  expect_good("nw_dst*256",
              measure(n, [](FlowKey& k, size_t i) { k.nw_dst = Be32(uint32_t(i) << 8); }));
  expect_good("tp_src", measure(n, [](FlowKey& k, size_t i) { k.tp_src = Be16(uint16_t(i)); }));
  expect_good("dl_src", measure(n, [](FlowKey& k, size_t i) {
                k.dl_src.b[4] = uint8_t(i >> 8);
                k.dl_src.b[5] = uint8_t(i);
              }));
  expect_good("vlan+port", measure(n, [](FlowKey& k, size_t i) {
                k.vlans[0].tci = Be16(uint16_t(kVlanCfi | (i & kVlanVidMask)));
                k.in_port = uint32_t(i >> 12);
              }));
  expect_good("ipv6_src low", measure(n, [](FlowKey& k, size_t i) {
                k.ipv6_src.b[14] = uint8_t(i >> 8);
                k.ipv6_src.b[15] = uint8_t(i);
              }));
}

TEST(SimdHashQuality, BasisChangesEveryHash) {
  std::mt19937_64 rng(16);
  for (int it = 0; it < 1000; ++it) {
    const FlowKey k = random_key(rng);
    EXPECT_NE(simd::hash_masked<simd::Scalar>(k, exact_mask(), 0),
              simd::hash_masked<simd::Scalar>(k, exact_mask(), 1));
  }
}

}  // namespace hash_test
}  // namespace simd_test
