// flow_hash: backends agree, and keys that differ in one field spread over
// the exact-match cache's slots (both the low bits and the second index).
#include "flowpath/datapath/flow_hash.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <set>

namespace flowpath {
namespace flow_hash_test {

FlowKey ipv4_key() {
  FlowKey k;
  k.in_port = 3;
  k.dl_dst.b = {2, 0, 0, 0, 0, 2};
  k.dl_src.b = {2, 0, 0, 0, 0, 1};
  k.dl_type = Be16(kEthTypeIpv4);
  k.nw_src = Be32(0x0a000001u);
  k.nw_dst = Be32(0xc0000201u);
  k.nw_proto = kIpProtoUdp;
  k.nw_ttl = 64;
  k.tp_src = Be16(1000);
  k.tp_dst = Be16(53);
  return k;
}

TEST(FlowHash, BackendsAgreeOnBothPaths) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 1000; ++round) {
    FlowKey k;
    uint32_t map = uint32_t(rng());
    if (round % 3 != 0) map &= ~kRareKeyWords;
    for (size_t i = 0; i < FlowKey::kWords; ++i)
      if (map >> i & 1) k.words()[i] = rng() >> (rng() % 64);
    ASSERT_EQ(flow_hash<simd::Scalar>(k), flow_hash<simd::Highway>(k)) << round;
    ASSERT_EQ(flow_hash<simd::Scalar>(k), flow_hash<simd::Xsimd>(k)) << round;
  }
}

// n keys differing in one field must use nearly n distinct slots of an
// 8,192-entry table (a uniform hash: ~n * (1 - n / 16384) expected).
void expect_spread(const std::function<void(FlowKey&, uint32_t)>& vary, const char* what) {
  constexpr uint32_t kN = 4096, kSlots = 8192;
  std::set<uint32_t> low, second;
  for (uint32_t i = 0; i < kN; ++i) {
    FlowKey k = ipv4_key();
    vary(k, i);
    uint32_t h = flow_hash<simd::Scalar>(k);
    low.insert(h & (kSlots - 1));
    second.insert((h >> 13 ^ h >> 26) & (kSlots - 1));
  }
  EXPECT_GT(low.size(), kN * 3 / 4) << what;
  EXPECT_GT(second.size(), kN * 3 / 4) << what;
}

TEST(FlowHash, SpreadsKeysThatDifferInOneField) {
  expect_spread([](FlowKey& k, uint32_t i) { k.nw_src = Be32(0x0a000000u + i); }, "nw_src");
  expect_spread([](FlowKey& k, uint32_t i) { k.nw_dst = Be32(0xc0000000u + (i << 8)); }, "nw_dst");
  expect_spread([](FlowKey& k, uint32_t i) { k.tp_src = Be16(uint16_t(i)); }, "tp_src");
  expect_spread([](FlowKey& k, uint32_t i) { k.in_port = i; }, "in_port");
  expect_spread(
      [](FlowKey& k, uint32_t i) { k.dl_src.b[5] = uint8_t(i), k.dl_src.b[4] = uint8_t(i >> 8); },
      "dl_src");
  expect_spread([](FlowKey& k, uint32_t i) { k.vlans[0].tci = Be16(uint16_t(0x1000 | i)); },
                "vlan");
  expect_spread(
      [](FlowKey& k, uint32_t i) {
        k.ipv6_src.b[15] = uint8_t(i), k.ipv6_src.b[14] = uint8_t(i >> 8);
      },
      "ipv6_src");
}

TEST(FlowHash, EveryWordMatters) {
  const FlowKey base = ipv4_key();
  const uint32_t h0 = flow_hash<simd::Scalar>(base);
  for (size_t i = 0; i < FlowKey::kWords; ++i)
    for (int bit : {0, 17, 40, 63}) {
      FlowKey k = base;
      k.words()[i] ^= uint64_t{1} << bit;
      EXPECT_NE(flow_hash<simd::Scalar>(k), h0) << "word " << i << " bit " << bit;
    }
}

}  // namespace flow_hash_test
}  // namespace flowpath
