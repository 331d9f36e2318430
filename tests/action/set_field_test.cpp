#include "flowpath/action/set_field.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "action/test_frames.hpp"
#include "flowpath/action/executor.hpp"
#include "flowpath/action/vlan.hpp"

namespace flowpath {
namespace {

using test::Bytes;
using test::FrameSpec;

struct Case {
  const char* name;
  FrameSpec spec;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (uint8_t proto : {6, 17, 132, 1}) {
    for (int tags = 0; tags <= 2; ++tags) {
      FrameSpec s;
      s.proto = proto;
      if (tags >= 1) s.vlans.push_back({tags == 2 ? 0x88a8 : 0x8100, 0x0064});
      if (tags == 2) s.vlans.push_back({0x8100, 0x0005});
      out.push_back({"", s});
    }
  }
  FrameSpec z;
  z.udp_zero_csum = true;
  out.push_back({"udp-no-csum", z});
  FrameSpec first;
  first.frag = 0x2000;  // MF, offset 0: L4 header present
  out.push_back({"first-fragment", first});
  FrameSpec later;
  later.frag = 0x0010;
  later.proto = 6;
  out.push_back({"later-fragment", later});
  return out;
}

const uint8_t* ip_of(const Packet& p) {
  size_t off = 12;
  while (test::get16(p.data() + off) == 0x8100 || test::get16(p.data() + off) == 0x88a8) off += 4;
  return p.data() + off + 2;
}

// Every action, one after another, each followed by a from-scratch check
// of every checksum and of the rewritten field.
TEST(SetField, EveryActionKeepsEveryChecksum) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(testing::Message() << "proto " << int(c.spec.proto) << " tags "
                                    << c.spec.vlans.size() << " frag " << c.spec.frag);
    PacketBuffer pb(test::make_frame(c.spec));
    Packet& p = pb.packet();
    ASSERT_TRUE(test::checksums_ok(p));
    bool later = (c.spec.frag & 0x1fff) != 0;
    bool l4ports = !later && c.spec.proto != 1;
    EXPECT_EQ(set_ipv4_src(p, 0xcb007101), ActionStatus::kOk);
    EXPECT_TRUE(test::checksums_ok(p));
    EXPECT_EQ(load_be32(ip_of(p) + 12), 0xcb007101u);
    EXPECT_EQ(set_ipv4_dst(p, 0xc0000263), ActionStatus::kOk);
    EXPECT_TRUE(test::checksums_ok(p));
    EXPECT_EQ(load_be32(ip_of(p) + 16), 0xc0000263u);
    EXPECT_EQ(set_ipv4_tos(p, 0xb9), ActionStatus::kOk);  // DSCP 46; ECN 01 kept
    EXPECT_TRUE(test::checksums_ok(p));
    EXPECT_EQ(ip_of(p)[1], 0xb9);
    EXPECT_EQ(set_ipv4_ttl(p, 3), ActionStatus::kOk);
    EXPECT_TRUE(test::checksums_ok(p));
    EXPECT_EQ(ip_of(p)[8], 3);
    ActionStatus want = l4ports ? ActionStatus::kOk : ActionStatus::kSkipped;
    EXPECT_EQ(set_tp_src(p, 40000), want);
    EXPECT_TRUE(test::checksums_ok(p));
    EXPECT_EQ(set_tp_dst(p, 443), want);
    EXPECT_TRUE(test::checksums_ok(p));
    if (l4ports) {
      const uint8_t* l4 = ip_of(p) + 20;
      EXPECT_EQ(test::get16(l4), 40000);
      EXPECT_EQ(test::get16(l4 + 2), 443);
    }
    if (c.spec.udp_zero_csum) {
      EXPECT_EQ(test::get16(ip_of(p) + 26), 0);
    }
    EXPECT_EQ(push_vlan(p, 0x8100, 9), ActionStatus::kOk);
    EXPECT_EQ(set_ipv4_src(p, 0x01020304), ActionStatus::kOk);  // headers found after a push
    EXPECT_TRUE(test::checksums_ok(p));
    EXPECT_EQ(set_eth_src(p, EthAddr{{1, 2, 3, 4, 5, 6}}), ActionStatus::kOk);
    EXPECT_EQ(set_eth_dst(p, EthAddr{{7, 8, 9, 10, 11, 12}}), ActionStatus::kOk);
    EXPECT_EQ(Bytes(p.data(), p.data() + 12), (Bytes{7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6}));
    EXPECT_TRUE(test::checksums_ok(p));
  }
}

TEST(SetField, RandomActionSequencesKeepChecksums) {
  std::mt19937 rng(2024);
  for (int iter = 0; iter < 3000; ++iter) {
    FrameSpec s;
    s.proto = std::array<uint8_t, 3>{6, 17, 132}[rng() % 3];
    s.payload = rng() % 64;
    s.src = uint32_t(rng());
    s.sport = uint16_t(rng());
    if (rng() % 2) s.vlans.push_back({0x8100, uint16_t(rng() & 0xefff)});
    PacketBuffer pb(test::make_frame(s));
    Packet& p = pb.packet();
    for (int k = 0; k < 6; ++k) {
      switch (rng() % 7) {
        case 0:
          set_ipv4_src(p, uint32_t(rng()));
          break;
        case 1:
          set_ipv4_dst(p, uint32_t(rng()));
          break;
        case 2:
          set_ipv4_tos(p, uint8_t(rng()));
          break;
        case 3:
          set_ipv4_ttl(p, uint8_t(rng()));
          break;
        case 4:
          set_tp_src(p, uint16_t(rng()));
          break;
        case 5:
          set_tp_dst(p, uint16_t(rng()));
          break;
        case 6:
          rng() % 2 ? (void)push_vlan(p, 0x88a8, 1) : (void)pop_vlan(p);
          break;
      }
      ASSERT_TRUE(test::checksums_ok(p)) << "iteration " << iter << " step " << k;
    }
  }
}

// Walk every source port: one of them makes the UDP sum come out as 0,
// which must be stored as 0xffff (0 would mean "no checksum").
TEST(SetField, UdpComputedZeroBecomesFfff) {
  PacketBuffer pb(test::make_frame(FrameSpec{}));
  Packet& p = pb.packet();
  const uint8_t* csum = ip_of(p) + 26;
  int ffff = 0;
  for (uint32_t port = 0; port <= 0xffff; ++port) {
    ASSERT_EQ(set_tp_src(p, uint16_t(port)), ActionStatus::kOk);
    ASSERT_NE(test::get16(csum), 0);
    ffff += test::get16(csum) == 0xffff;
    if (port % 4096 == 0) {
      ASSERT_TRUE(test::checksums_ok(p));
    }
  }
  EXPECT_GE(ffff, 1);
  EXPECT_TRUE(test::checksums_ok(p));
}

TEST(SetField, NonIpv4IsSkipped) {
  FrameSpec s;
  s.ethertype = 0x0806;
  Bytes f = test::make_frame(s);
  PacketBuffer pb(f);
  EXPECT_EQ(set_ipv4_src(pb.packet(), 1), ActionStatus::kSkipped);
  EXPECT_EQ(set_tp_dst(pb.packet(), 1), ActionStatus::kSkipped);
  EXPECT_EQ(test::bytes_of(pb.packet()), f);
}

// Every truncation of every frame kind, under every action: no read or
// write outside the frame (the buffer is exactly sized, so ASan sees it).
TEST(SetField, TruncatedFramesNeverOverrun) {
  std::vector<DpAction> acts = {
      DpAction::set_ipv4_src(1), DpAction::set_ipv4_dst(2), DpAction::set_ipv4_tos(0xfc),
      DpAction::set_ipv4_ttl(1), DpAction::set_tp_src(5),   DpAction::set_tp_dst(6),
      DpAction::pop_vlan(),      DpAction::set_vlan_vid(3), DpAction::set_vlan_pcp(2),
      DpAction::set_eth_src({}), DpAction::set_eth_dst({}), DpAction::push_vlan(0x8100, 1)};
  for (const Case& c : cases()) {
    Bytes f = test::make_frame(c.spec);
    for (size_t len = 0; len <= f.size(); ++len) {
      for (const DpAction& a : acts) {
        std::vector<uint8_t> buf(4 + len);
        std::copy(f.begin(), f.begin() + long(len), buf.begin() + 4);
        Packet p(buf.data(), uint32_t(buf.size()), 4, uint32_t(len));
        apply_action(p, a);
        EXPECT_LE(p.size(), len + 4);
      }
    }
  }
}

TEST(SetField, SctpPortNeedsWholeSegment) {
  FrameSpec s;
  s.proto = 132;
  Bytes f = test::make_frame(s);
  f.resize(f.size() - 1);  // IPv4 total length now exceeds the frame
  PacketBuffer pb(f);
  EXPECT_EQ(set_tp_dst(pb.packet(), 9), ActionStatus::kSkipped);
  EXPECT_EQ(test::bytes_of(pb.packet()), f);
}

}  // namespace
}  // namespace flowpath
