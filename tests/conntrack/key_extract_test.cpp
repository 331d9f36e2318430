// key_detail::ipv4_csum_ok (the tracker's IPv4 header checksum check, run
// on every packet a ct() extracts) against a plain 16-bit one's-complement
// sum (action/checksum.hpp): random headers of every length (20 to 60
// bytes), with their checksum made right and then one bit of the header
// flipped; and headers built to overflow every fold (all bytes 0xff, words
// whose 8-byte sums carry out).  The 20-byte header has its own path (two
// 8-byte words and one 4-byte word, carries added back), so a dropped carry
// there shows as a disagreement.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "flowpath/action/checksum.hpp"
#include "flowpath/conntrack/conn_key.hpp"

namespace flowpath {
namespace key_extract_test {

bool reference_ok(const uint8_t* p, uint32_t ihl) {
  return csum_fold(csum_add_bytes(0, p, ihl)) == 0xffff;
}

// Writes the header's checksum (bytes 10-11) so that it verifies.
void make_right(uint8_t* p, uint32_t ihl) {
  p[10] = p[11] = 0;
  const uint16_t c = uint16_t(~csum_fold(csum_add_bytes(0, p, ihl)));
  p[10] = uint8_t(c >> 8), p[11] = uint8_t(c);
}

TEST(Ipv4Checksum, RandomHeadersEveryLengthAsThe16BitSum) {
  std::mt19937 rng(12);
  int right = 0, wrong = 0;
  for (uint32_t ihl = 20; ihl <= 60; ihl += 4) {
    for (int round = 0; round < 2000; ++round) {
      std::vector<uint8_t> h(ihl);
      for (auto& b : h) b = uint8_t(rng());
      // The checksum as written (mostly wrong): the same answer as the sum.
      EXPECT_EQ(ct::key_detail::ipv4_csum_ok(h.data(), ihl), reference_ok(h.data(), ihl))
          << "ihl " << ihl << " round " << round;
      make_right(h.data(), ihl);
      ASSERT_TRUE(reference_ok(h.data(), ihl));
      EXPECT_TRUE(ct::key_detail::ipv4_csum_ok(h.data(), ihl)) << "ihl " << ihl;
      ++right;
      // One bit flipped anywhere: a one's-complement sum always sees it.
      const uint32_t bit = rng() % (ihl * 8);
      h[bit / 8] ^= uint8_t(1u << (bit % 8));
      EXPECT_FALSE(ct::key_detail::ipv4_csum_ok(h.data(), ihl)) << "ihl " << ihl << " bit " << bit;
      ++wrong;
    }
  }
  EXPECT_EQ(right, 11 * 2000);
  EXPECT_EQ(wrong, 11 * 2000);
}

TEST(Ipv4Checksum, CarriesOutOfEveryFold) {
  for (uint32_t ihl : {20u, 24u, 60u}) {
    // Every byte 0xff but the checksum: each 8-byte addition carries out.
    std::vector<uint8_t> h(ihl, 0xff);
    make_right(h.data(), ihl);
    EXPECT_TRUE(ct::key_detail::ipv4_csum_ok(h.data(), ihl)) << ihl;
    h[ihl - 1] ^= 0x80;
    EXPECT_FALSE(ct::key_detail::ipv4_csum_ok(h.data(), ihl)) << ihl;
    EXPECT_EQ(ct::key_detail::ipv4_csum_ok(h.data(), ihl), reference_ok(h.data(), ihl));
    // Words that sum to exactly 2^64 (a carry and a zero low part), then the
    // last word pushing the sum over again.
    std::vector<uint8_t> g(ihl, 0);
    for (int i = 0; i < 8; ++i) g[i] = 0xff;
    g[8] = 0x01;
    for (uint32_t i = 16; i < 20; ++i) g[i] = 0xff;
    make_right(g.data(), ihl);
    EXPECT_TRUE(ct::key_detail::ipv4_csum_ok(g.data(), ihl)) << ihl;
    g[3] ^= 0x01;
    EXPECT_FALSE(ct::key_detail::ipv4_csum_ok(g.data(), ihl)) << ihl;
  }
}

}  // namespace key_extract_test
}  // namespace flowpath
