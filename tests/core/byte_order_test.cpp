#include "flowpath/core/byte_order.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include "flowpath/core/batch.hpp"

namespace flowpath {
namespace byte_order_test {

TEST(ByteOrder, WireLayout) {
  Be16 v{0x1234};
  uint8_t bytes[2];
  v.store(bytes);
  EXPECT_EQ(bytes[0], 0x12);
  EXPECT_EQ(bytes[1], 0x34);
  EXPECT_EQ(Be16::load(bytes).host(), 0x1234);
  EXPECT_EQ(load_be32((const uint8_t*)"\x0a\x00\x00\x01"), 0x0a000001u);
}

TEST(ByteOrder, NoImplicitMixing) {
  static_assert(!std::is_convertible_v<uint16_t, Be16>);
  static_assert(!std::is_convertible_v<Be16, uint16_t>);
  static_assert(!std::is_convertible_v<Be16, Be32>);
  EXPECT_EQ(Be32{5} & Be32{4}, Be32{4});
}

TEST(Packet, HeadroomPushPull) {
  PacketBuffer b(std::vector<uint8_t>(60, 0xAB));
  Packet& p = b.packet();
  EXPECT_EQ(p.size(), 60u);
  ASSERT_GE(p.headroom(), 8u);
  uint8_t* d = p.push_front(4);
  ASSERT_NE(d, nullptr);
  d = p.push_front(4);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(p.size(), 68u);
  EXPECT_TRUE(p.pull_front(8));
  EXPECT_EQ(p.data()[0], 0xAB);
  EXPECT_FALSE(p.pull_front(61));
  EXPECT_EQ(p.push_front(p.headroom() + 1), nullptr);
}

TEST(Batch, PushUpTo32) {
  Batch batch;
  std::vector<PacketBuffer> bufs(33);
  for (uint32_t i = 0; i < 32; ++i) EXPECT_TRUE(batch.push(&bufs[i].packet()));
  EXPECT_FALSE(batch.push(&bufs[32].packet()));
  EXPECT_EQ(batch.size(), 32u);
}

}  // namespace byte_order_test
}  // namespace flowpath
