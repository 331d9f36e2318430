#include "flowpath/action/vlan.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "action/test_frames.hpp"

namespace flowpath {
namespace vlan_test {

using test::Bytes;

Bytes untagged() {
  test::FrameSpec s;
  s.payload = 4;
  return test::make_frame(s);
}

TEST(Vlan, PushPopGoldenBytesQinQ) {
  Bytes orig = untagged();
  PacketBuffer pb(orig);
  Packet& p = pb.packet();
  p.meta.l3 = 14;
  p.meta.l4 = 34;
  uint32_t head = p.headroom();

  ASSERT_EQ(push_vlan(p, 0x8100, 0x2005), ActionStatus::kOk);  // pcp 1, vid 5
  Bytes one(orig.begin(), orig.begin() + 12);
  one.insert(one.end(), {0x81, 0x00, 0x20, 0x05});
  one.insert(one.end(), orig.begin() + 12, orig.end());
  EXPECT_EQ(test::bytes_of(p), one);
  EXPECT_EQ(p.headroom(), head - 4);
  EXPECT_EQ(p.meta.l2_5, 12);
  EXPECT_EQ(p.meta.l3, 18);
  EXPECT_EQ(p.meta.l4, 38);

  ASSERT_EQ(push_vlan(p, 0x88a8, 100 | kVlanCfi), ActionStatus::kOk);  // CFI never on the wire
  Bytes two(orig.begin(), orig.begin() + 12);
  two.insert(two.end(), {0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x20, 0x05});
  two.insert(two.end(), orig.begin() + 12, orig.end());
  EXPECT_EQ(test::bytes_of(p), two);
  EXPECT_EQ(p.meta.l3, 22);
  EXPECT_TRUE(test::checksums_ok(p));

  ASSERT_EQ(pop_vlan(p), ActionStatus::kOk);
  EXPECT_EQ(test::bytes_of(p), one);
  EXPECT_EQ(p.meta.l2_5, 12);
  EXPECT_EQ(p.meta.l3, 18);
  ASSERT_EQ(pop_vlan(p), ActionStatus::kOk);
  EXPECT_EQ(test::bytes_of(p), orig);
  EXPECT_EQ(p.meta.l2_5, kNoOffset);
  EXPECT_EQ(p.meta.l3, 14);
  EXPECT_EQ(p.headroom(), head);
  EXPECT_EQ(pop_vlan(p), ActionStatus::kSkipped);
  EXPECT_EQ(test::bytes_of(p), orig);
}

TEST(Vlan, SetVidAndPcpRewriteOuterTag) {
  test::FrameSpec s;
  s.vlans = {{0x88a8, 0x0010}, {0x8100, 0x0020}};
  PacketBuffer pb(test::make_frame(s));
  Packet& p = pb.packet();
  ASSERT_EQ(set_vlan_vid(p, 1000), ActionStatus::kOk);
  EXPECT_EQ(test::get16(p.data() + 14), 1000);
  ASSERT_EQ(set_vlan_pcp(p, 5), ActionStatus::kOk);
  EXPECT_EQ(test::get16(p.data() + 14), (5 << 13) | 1000);
  ASSERT_EQ(set_vlan_vid(p, 0x1fff), ActionStatus::kOk);  // only 12 bits, CFI stays clear
  EXPECT_EQ(test::get16(p.data() + 14), (5 << 13) | 0xfff);
  EXPECT_EQ(test::get16(p.data() + 18), 0x0020);  // inner tag untouched
  EXPECT_TRUE(test::checksums_ok(p));
}

TEST(Vlan, SetVidOnUntaggedPushesDot1Q) {
  Bytes orig = untagged();
  PacketBuffer pb(orig);
  Packet& p = pb.packet();
  ASSERT_EQ(set_vlan_vid(p, 1), ActionStatus::kOk);
  ASSERT_EQ(p.size(), orig.size() + 4);
  EXPECT_EQ(test::get16(p.data() + 12), 0x8100);
  EXPECT_EQ(test::get16(p.data() + 14), 1);

  PacketBuffer pb2(orig);
  ASSERT_EQ(set_vlan_pcp(pb2.packet(), 3), ActionStatus::kOk);
  EXPECT_EQ(test::get16(pb2->data() + 14), 3 << 13);
}

// A Packet over an exactly-sized heap buffer, so ASan sees any overrun.
struct TightPacket {
  std::vector<uint8_t> buf;
  Packet pkt;
  TightPacket(const Bytes& frame, uint32_t headroom)
      : buf(headroom + frame.size() + 1),
        pkt(buf.data(), uint32_t(headroom + frame.size()), headroom, uint32_t(frame.size())) {
    std::copy(frame.begin(), frame.end(), buf.begin() + headroom);
  }
};

TEST(Vlan, HeadroomExhaustionFailsAndLeavesFrame) {
  Bytes orig = untagged();
  for (uint32_t head : {0u, 3u, 4u, 7u, 8u}) {
    TightPacket t(orig, head);
    int pushed = 0;
    for (int i = 0; i < 3; ++i) {
      ActionStatus s = push_vlan(t.pkt, 0x8100, 7);
      if (s == ActionStatus::kOk) {
        ++pushed;
      } else {
        EXPECT_EQ(s, ActionStatus::kFailed);
      }
    }
    EXPECT_EQ(pushed, int(head / 4));
    EXPECT_EQ(t.pkt.size(), orig.size() + 4 * pushed);
    EXPECT_EQ(Bytes(t.pkt.data() + 4 * pushed + 12, t.pkt.data() + t.pkt.size()),
              Bytes(orig.begin() + 12, orig.end()));
  }
}

TEST(Vlan, ShortFramesAreSkippedNotCrashed) {
  Bytes orig = untagged();
  orig.insert(orig.begin() + 12, {0x81, 0x00, 0x00, 0x05});
  for (size_t len = 0; len < 20; ++len) {
    TightPacket t(Bytes(orig.begin(), orig.begin() + len), 8);
    ActionStatus pop = pop_vlan(t.pkt);
    EXPECT_EQ(pop, len >= 18 ? ActionStatus::kOk : ActionStatus::kSkipped) << len;
    TightPacket u(Bytes(orig.begin(), orig.begin() + len), 8);
    ActionStatus push = push_vlan(u.pkt, 0x8100, 1);
    EXPECT_EQ(push, len >= 14 ? ActionStatus::kOk : ActionStatus::kSkipped) << len;
    TightPacket w(Bytes(orig.begin(), orig.begin() + len), 8);
    set_vlan_vid(w.pkt, 9);
    set_vlan_pcp(w.pkt, 9);
  }
}

}  // namespace vlan_test
}  // namespace flowpath
