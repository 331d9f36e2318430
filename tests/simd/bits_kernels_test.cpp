// simd::count_le16, simd::and_rows8, simd::ge7 and simd::read8_be32: every variant the
// compile flags allow against the scalar twin, on random data, boundary values and
// exact-size buffers (ASan sees any read past the inputs).  Built again per
// ISA level (tests.cmake).
#include "flowpath/simd/bits_kernels.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

namespace bits_kernels_test {

using flowpath::simd::count_le16_scalar;

uint32_t naive(const uint32_t* k, uint32_t x) {
  return static_cast<uint32_t>(std::count_if(k, k + 16, [&](uint32_t v) { return v <= x; }));
}

void check_all(const uint32_t* k, uint32_t x) {
  uint32_t want = naive(k, x);
  EXPECT_EQ(count_le16_scalar(k, x), want) << "x=" << x;
  EXPECT_EQ(flowpath::simd::count_le16(k, x), want) << "x=" << x;
#if defined(__AVX2__)
  EXPECT_EQ(flowpath::simd::count_le16_avx2(k, x), want) << "x=" << x;
#endif
#if defined(__AVX512F__)
  EXPECT_EQ(flowpath::simd::count_le16_avx512(k, x), want) << "x=" << x;
#endif
}

TEST(CountLe16, RandomAndBoundaryValues) {
  std::mt19937 rng(15);
  for (int round = 0; round < 2000; ++round) {
    auto k = std::make_unique<uint32_t[]>(16);  // exact size, unaligned start allowed
    bool sorted = round % 2 == 0;
    for (int i = 0; i < 16; ++i) k[i] = round % 3 == 0 ? rng() % 40 : rng();
    if (round % 5 == 0) k[rng() % 16] = ~0u;  // the padding value of rule_bits.hpp
    if (sorted) std::sort(k.get(), k.get() + 16);
    uint32_t xs[] = {0,
                     1,
                     ~0u,
                     ~0u - 1,
                     0x80000000u,
                     0x7fffffffu,
                     k[rng() % 16],
                     k[rng() % 16] - 1,
                     static_cast<uint32_t>(rng())};
    for (uint32_t x : xs) check_all(k.get(), x);
  }
}

TEST(CountLe16, CountsEveryPosition) {
  uint32_t k[16];
  for (uint32_t i = 0; i < 16; ++i) k[i] = 10 * i + 5;
  for (uint32_t i = 0; i < 16; ++i) {
    EXPECT_EQ(flowpath::simd::count_le16(k, 10 * i + 4), i);
    EXPECT_EQ(flowpath::simd::count_le16(k, 10 * i + 5), i + 1);
  }
}

/// Rows of 8 + off words each, sparse enough that the AND has zero lanes.
TEST(AndRows8, EveryVariantMatchesTheScalarTwin) {
  std::mt19937_64 rng(15);
  for (int round = 0; round < 2000; ++round) {
    uint32_t n = 1 + static_cast<uint32_t>(rng() % 8), off = static_cast<uint32_t>(rng() % 3) * 8;
    std::vector<std::unique_ptr<uint64_t[]>> own;
    const uint64_t* rows[8];
    for (uint32_t d = 0; d < n; ++d) {
      own.push_back(std::make_unique<uint64_t[]>(off + 8));  // exact size
      for (uint32_t w = 0; w < off + 8; ++w) {
        uint64_t v = rng() | rng() | rng();  // dense bits: the AND keeps some
        own.back()[w] = rng() % 4 == 0 ? 0 : v;
      }
      rows[d] = own.back().get();
    }
    uint64_t want[8], got[8];
    uint32_t nz = flowpath::simd::and_rows8_scalar(rows, n, off, want);
    for (uint32_t j = 0; j < 8; ++j) {
      uint64_t a = ~uint64_t{0};
      for (uint32_t d = 0; d < n; ++d) a &= rows[d][off + j];
      ASSERT_EQ(want[j], a);
      ASSERT_EQ(nz >> j & 1, a != 0 ? 1u : 0u);
    }
    auto same = [&](uint32_t r) {
      EXPECT_EQ(r, nz);
      for (uint32_t j = 0; j < 8; ++j) EXPECT_EQ(got[j], want[j]) << "lane " << j;
    };
    same(flowpath::simd::and_rows8(rows, n, off, got));
#if defined(__AVX2__)
    same(flowpath::simd::and_rows8_avx2(rows, n, off, got));
#endif
#if defined(__AVX512F__)
    same(flowpath::simd::and_rows8_avx512(rows, n, off, got));
#endif
  }
}

// ge7 reads eight lanes of x, d and t; the eighth of d and t is the
// caller's (a node's next field) and must not change the result.
TEST(Ge7, EveryVariantMatchesTheScalarTwin) {
  std::mt19937_64 rng(7);
  const uint32_t edge[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
  auto value = [&] {
    return rng() % 3 == 0 ? edge[rng() % 6] : static_cast<uint32_t>(rng() >> (rng() % 33));
  };
  for (int round = 0; round < 20000; ++round) {
    auto x = std::make_unique<uint32_t[]>(8);  // exact sizes: ASan sees an over-read
    auto t = std::make_unique<uint32_t[]>(8);
    auto d = std::make_unique<uint8_t[]>(8);
    for (int i = 0; i < 8; ++i) x[i] = value();
    for (int j = 0; j < 8; ++j) {
      d[j] = static_cast<uint8_t>(j < 7 ? rng() % 8 : rng() % 256);
      uint32_t xv = x[d[j] % 8];
      switch (rng() % 5) {  // at, just above and below the key's value, 0, anything
        case 0: t[j] = xv; break;
        case 1: t[j] = xv + 1; break;
        case 2: t[j] = xv - 1; break;
        case 3: t[j] = 0; break;
        default: t[j] = value();
      }
    }
    uint32_t want = 0;
    for (int j = 0; j < 7; ++j) want |= uint32_t{x[d[j]] >= t[j]} << j;
    ASSERT_EQ(flowpath::simd::ge7_scalar(x.get(), d.get(), t.get()), want);
    EXPECT_EQ(flowpath::simd::ge7(x.get(), d.get(), t.get()), want);
#if defined(__AVX2__)
    EXPECT_EQ(flowpath::simd::ge7_avx2(x.get(), d.get(), t.get()), want);
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
    EXPECT_EQ(flowpath::simd::ge7_avx512(x.get(), d.get(), t.get()), want);
#endif
  }
}

TEST(Ge7, EachTestHasItsOwnBit) {
  uint32_t x[8] = {10, 20, 30, 40, 50, 60, 70, 80};
  uint8_t d[8] = {0, 1, 2, 3, 4, 5, 6, 0xff};
  uint32_t t[8];
  for (uint32_t j = 0; j < 7; ++j) {
    for (uint32_t i = 0; i < 8; ++i) t[i] = 0xffffffffu;  // every test fails...
    t[j] = x[j];                                           // ...but test j
    t[7] = 0;
    EXPECT_EQ(flowpath::simd::ge7(x, d, t), 1u << j) << "test " << j;
    t[j] = x[j] + 1;
    EXPECT_EQ(flowpath::simd::ge7(x, d, t), 0u) << "test " << j;
  }
  uint8_t same[8] = {3, 3, 3, 3, 3, 3, 3, 3};  // one dimension for all seven
  for (uint32_t i = 0; i < 8; ++i) t[i] = 35 + i;
  EXPECT_EQ(flowpath::simd::ge7(x, same, t), 0x3fu);  // 40 >= 35..40, not >= 41
}

// read8_be32: big-endian words at any offset of an exact 128-byte buffer
// (ASan sees a read past it), shifts 0..32 (32: the word is gone).
TEST(Read8Be32, EveryVariantMatchesABytewiseReference) {
  std::mt19937_64 rng(8);
  constexpr uint32_t kBytes = 128;  // a FlowKey
  for (int round = 0; round < 20000; ++round) {
    auto buf = std::make_unique<uint8_t[]>(kBytes);
    for (uint32_t i = 0; i < kBytes; ++i) buf[i] = static_cast<uint8_t>(rng());
    uint32_t off[8], shift[8], want[8], got[8];
    uint8_t perm[32];
    for (int j = 0; j < 8; ++j) {
      off[j] = static_cast<uint32_t>(rng() % (kBytes - 3));
      shift[j] = static_cast<uint32_t>(rng() % 33);
      uint64_t w = 0;  // the word byte by byte, most significant first
      for (uint32_t b = 0; b < 4; ++b) w = w << 8 | buf[off[j] + b];
      want[j] = static_cast<uint32_t>(w >> shift[j]);
    }
    flowpath::simd::be32_perm(off, perm);
    auto same = [&](const char* variant) {
      for (int j = 0; j < 8; ++j)
        ASSERT_EQ(got[j], want[j]) << variant << " lane " << j << " off " << off[j] << " shift "
                                   << shift[j];
    };
    flowpath::simd::read8_be32_scalar(buf.get(), off, shift, got);
    same("scalar");
    flowpath::simd::read8_be32(buf.get(), off, perm, shift, got);
    same("dispatch");
#if defined(__AVX512VBMI__) && defined(__AVX512VL__)
    flowpath::simd::read8_be32_vbmi(buf.get(), perm, shift, got);
    same("vbmi");
#endif
  }
}

}  // namespace bits_kernels_test
