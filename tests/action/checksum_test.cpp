#include "flowpath/action/checksum.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "action/test_frames.hpp"
#include "flowpath/core/byte_order.hpp"

namespace flowpath {
namespace checksum_test {

TEST(Checksum, Crc32cCheckValue) {
  const char* s = "123456789";
  EXPECT_EQ(crc32c(reinterpret_cast<const uint8_t*>(s), 9), 0xe3069283u);
}

TEST(Checksum, MatchesReferenceOnRandomBuffers) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 500; ++iter) {
    std::vector<uint8_t> b(rng() % 100);
    for (auto& x : b) x = uint8_t(rng());
    EXPECT_EQ(inet_checksum(b.data(), b.size()),
              test::ref_finish(test::ref_sum(b.data(), b.size())));
    EXPECT_EQ(crc32c(b.data(), b.size()), test::ref_crc32c(b.data(), b.size()));
  }
}

// RFC 1624 eq. 3 against a from-scratch checksum for random word changes.
TEST(Checksum, IncrementalEqualsRecomputed) {
  std::mt19937 rng(11);
  for (int iter = 0; iter < 20000; ++iter) {
    uint8_t b[20];
    for (auto& x : b) x = uint8_t(rng());
    uint16_t c = inet_checksum(b, sizeof b);
    int w = int(rng() % 9) * 2;
    uint32_t old = load_be32(b + w);
    uint32_t neu = iter % 3 == 0 ? old ^ (1u << (rng() % 32)) : uint32_t(rng());
    store_be32(b + w, neu);
    EXPECT_EQ(csum_replace32(c, old, neu), inet_checksum(b, sizeof b));
    uint16_t c2 = inet_checksum(b, sizeof b);
    uint16_t o16 = load_be16(b + 4), n16 = uint16_t(rng());
    store_be16(b + 4, n16);
    EXPECT_EQ(csum_replace16(c2, o16, n16), inet_checksum(b, sizeof b));
  }
}

}  // namespace checksum_test
}  // namespace flowpath
