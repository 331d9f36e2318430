#include "flowpath/io/frame_pool.hpp"

#include <gtest/gtest.h>

#include <set>

namespace flowpath {
namespace frame_pool_test {

TEST(FramePool, TakesEveryFrameOnceAndTakesThemBack) {
  FramePool pool(4);
  EXPECT_EQ(pool.available(), 4u);
  std::set<uint32_t> taken;
  std::vector<Packet*> held;
  while (pool.available()) {
    uint32_t top = pool.top();
    uint32_t i = pool.take();
    EXPECT_EQ(i, top);
    EXPECT_TRUE(taken.insert(i).second) << "frame " << i << " handed out twice";
    Packet& p = pool.packet(i, PacketBuffer::kHeadroom, 60);
    EXPECT_EQ(p.user, i);
    EXPECT_EQ(p.size(), 60u);
    EXPECT_EQ(p.data(), pool.frame(i) + PacketBuffer::kHeadroom);
    EXPECT_TRUE(pool.mine(p));
    held.push_back(&p);
  }
  EXPECT_EQ(taken.size(), 4u);
  EXPECT_EQ(pool.in_flight(), 4u);
  for (Packet* p : held) pool.release(*p);
  EXPECT_EQ(pool.available(), 4u);
}

TEST(FramePool, ForeignPacketsAndUnusedFramesAreNotCountedTwice) {
  FramePool a(2), b(2);
  Packet& pb = b.packet(b.take(), PacketBuffer::kHeadroom, 64);
  EXPECT_FALSE(a.mine(pb));  // same index, another pool's header
  a.release(pb);
  EXPECT_EQ(a.available(), 2u);
  uint32_t i = a.take();
  a.give_back(i);  // taken for a receive that brought nothing
  EXPECT_EQ(a.available(), 2u);
  EXPECT_EQ(a.top(), i);
  b.release(pb);
  EXPECT_EQ(b.in_flight(), 0u);
}

}  // namespace frame_pool_test
}  // namespace flowpath
