#include "flowpath/action/set_field.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "action/test_frames.hpp"
#include "flowpath/action/executor.hpp"
#include "flowpath/action/vlan.hpp"

namespace flowpath {
namespace set_field_test {

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

/// IPv6 frames of every kind set_tp_* rewrites.
std::vector<Case> cases6() {
  std::vector<Case> out;
  for (uint8_t proto : {6, 17, 132}) {
    for (bool hbh : {false, true}) {
      FrameSpec s;
      s.ipv6 = true, s.proto = proto, s.ipv6_hbh = hbh;
      s.vlans.push_back({0x8100, 0x0064});
      out.push_back({"ipv6", s});
    }
  }
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
    EXPECT_EQ(set_ipv4_tos(p, 0x02, 0x03), ActionStatus::kOk);  // ECN only (nw_ecn)
    EXPECT_TRUE(test::checksums_ok(p));
    EXPECT_EQ(ip_of(p)[1], 0xba);
    EXPECT_EQ(apply_action(p, DpAction::set_ipv4_tos(0x21, 0xff)), ActionStatus::kOk);
    EXPECT_TRUE(test::checksums_ok(p));
    EXPECT_EQ(ip_of(p)[1], 0x21);
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

/// The L4 header of an Ethernet/[tags]/IPv6 frame (40-byte header, then
/// hop-by-hop or destination options headers).
const uint8_t* l4_of6(const Packet& p) {
  const uint8_t* ip = ip_of(p);
  const uint8_t* l4 = ip + 40;
  for (uint8_t nh = ip[6]; nh == 0 || nh == 60; nh = l4[0], l4 += (l4[1] + 1) * 8) {
  }
  return l4;
}

// IPv6 as Open vSwitch does it: the ports are rewritten (TCP, UDP, SCTP,
// under 0-2 tags and behind extension headers) with the L4 checksum fixed;
// the IPv4 rewrites leave the frame alone; a zero UDP checksum stays zero.
TEST(SetField, Ipv6PortsKeepEveryChecksum) {
  for (uint8_t proto : {6, 17, 132}) {
    for (int tags = 0; tags <= 2; ++tags) {
      for (int variant = 0; variant < 3; ++variant) {
        if (variant == 2 && proto != 17) continue;
        FrameSpec s;
        s.ipv6 = true, s.proto = proto, s.ipv6_hbh = variant == 1, s.udp_zero_csum = variant == 2;
        if (tags >= 1) s.vlans.push_back({tags == 2 ? 0x88a8 : 0x8100, 0x0064});
        if (tags == 2) s.vlans.push_back({0x8100, 0x0005});
        SCOPED_TRACE(testing::Message()
                     << "proto " << int(proto) << " tags " << tags << " variant " << variant);
        Bytes f = test::make_frame(s);
        PacketBuffer pb(f);
        Packet& p = pb.packet();
        ASSERT_TRUE(test::checksums_ok(p));
        EXPECT_EQ(set_ipv4_src(p, 1), ActionStatus::kSkipped);
        EXPECT_EQ(set_ipv4_ttl(p, 1), ActionStatus::kSkipped);
        EXPECT_EQ(test::bytes_of(p), f);
        EXPECT_EQ(set_tp_src(p, 40000), ActionStatus::kOk);
        EXPECT_TRUE(test::checksums_ok(p));
        EXPECT_EQ(set_tp_dst(p, 443), ActionStatus::kOk);
        EXPECT_TRUE(test::checksums_ok(p));
        EXPECT_EQ(test::get16(l4_of6(p)), 40000);
        EXPECT_EQ(test::get16(l4_of6(p) + 2), 443);
        if (s.udp_zero_csum) {
          EXPECT_EQ(test::get16(l4_of6(p) + 6), 0) << "OVS leaves a zero UDP checksum alone";
        } else {
          EXPECT_NE(test::bytes_of(p), f);
        }
        // After a push the headers are found again.
        EXPECT_EQ(push_vlan(p, 0x8100, 9), ActionStatus::kOk);
        EXPECT_EQ(set_tp_src(p, 7), ActionStatus::kOk);
        EXPECT_TRUE(test::checksums_ok(p));
        EXPECT_EQ(test::get16(l4_of6(p)), 7);
      }
    }
  }
}

// IPv6 fragments: the first carries the ports, a later one does not.
TEST(SetField, Ipv6FragmentsAsTheParser) {
  for (uint16_t offset_flags : {0x0001, 0x0101}) {
    FrameSpec s;
    s.ipv6 = true, s.ipv6_hbh = true, s.proto = 17, s.udp_zero_csum = true;
    Bytes f = test::make_frame(s);
    f[14 + 6] = 44;  // the hop-by-hop header becomes a fragment header
    f[14 + 40 + 1] = 0;
    f[14 + 40 + 2] = uint8_t(offset_flags >> 8), f[14 + 40 + 3] = uint8_t(offset_flags);
    PacketBuffer pb(f);
    bool later = offset_flags & 0xfff8;
    EXPECT_EQ(set_tp_dst(pb.packet(), 9), later ? ActionStatus::kSkipped : ActionStatus::kOk);
    EXPECT_EQ(test::get16(pb.packet().data() + 14 + 48 + 2), later ? 80 : 9);
  }
  // A broken chain (an extension header longer than the payload) is skipped.
  FrameSpec s;
  s.ipv6 = true, s.ipv6_hbh = true;
  Bytes f = test::make_frame(s);
  f[14 + 40 + 1] = 9;
  PacketBuffer pb(f);
  EXPECT_EQ(set_tp_dst(pb.packet(), 9), ActionStatus::kSkipped);
  EXPECT_EQ(test::bytes_of(pb.packet()), f);
}

TEST(SetField, RandomActionSequencesKeepChecksums) {
  std::mt19937 rng(2024);
  for (int iter = 0; iter < 3000; ++iter) {
    FrameSpec s;
    s.proto = std::array<uint8_t, 3>{6, 17, 132}[rng() % 3];
    s.ipv6 = rng() % 3 == 0;
    s.ipv6_hbh = s.ipv6 && rng() % 2;
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

// IPv6 traffic class and hop limit (as Open vSwitch rewrites them): the
// frame becomes exactly the frame built with the new values, since no
// checksum covers them; the flow label, the other traffic class bits and
// every checksum stay.  Run through apply_action, as the executor does.
TEST(SetField, Ipv6TclassAndHlimitGiveTheBuiltFrame) {
  for (Case c : cases6()) {
    for (int tags : {0, 1, 2}) {
      c.spec.vlans.assign(size_t(tags), {0x8100, 0x0064});
      for (uint8_t tos : {0x00, 0x01, 0x02, 0x03, 0xfd}) {
        c.spec.tos = tos;
        SCOPED_TRACE(testing::Message() << "proto " << int(c.spec.proto) << " tags " << tags
                                        << " hbh " << c.spec.ipv6_hbh << " tc " << int(tos));
        PacketBuffer pb(test::make_frame(c.spec));
        FrameSpec want = c.spec;
        ASSERT_EQ(apply_action(pb.packet(), DpAction::set_ipv6_tclass(0xb8, 0xfc)),
                  ActionStatus::kOk);
        want.tos = uint8_t(0xb8 | (tos & 3));  // DSCP only: ECN kept
        EXPECT_EQ(test::bytes_of(pb.packet()), test::make_frame(want));
        ASSERT_EQ(apply_action(pb.packet(), DpAction::set_ipv6_tclass(0x02, 0x03)),
                  ActionStatus::kOk);
        want.tos = 0xba;  // ECN only: DSCP kept
        EXPECT_EQ(test::bytes_of(pb.packet()), test::make_frame(want));
        ASSERT_EQ(apply_action(pb.packet(), DpAction::set_ipv6_hlimit(1)), ActionStatus::kOk);
        want.ttl = 1;
        EXPECT_EQ(test::bytes_of(pb.packet()), test::make_frame(want));
        EXPECT_TRUE(test::checksums_ok(pb.packet()));
      }
    }
  }
}

// The IPv6 rewrites leave IPv4 (and non-IP) frames alone, and the IPv4 ones
// leave IPv6 frames alone: xlate emits each only for its own ethertype.
TEST(SetField, Ipv6RewritesSkipOtherFrames) {
  FrameSpec arp;
  arp.ethertype = 0x0806;
  for (const FrameSpec& s : {FrameSpec{}, arp}) {
    Bytes f = test::make_frame(s);
    PacketBuffer pb(f);
    EXPECT_EQ(set_ipv6_tclass(pb.packet(), 0xfc, 0xff), ActionStatus::kSkipped);
    EXPECT_EQ(set_ipv6_hlimit(pb.packet(), 1), ActionStatus::kSkipped);
    EXPECT_EQ(test::bytes_of(pb.packet()), f);
  }
  FrameSpec v6;
  v6.ipv6 = true;
  Bytes f = test::make_frame(v6);
  PacketBuffer pb(f);
  EXPECT_EQ(set_ipv4_ttl(pb.packet(), 1), ActionStatus::kSkipped);
  EXPECT_EQ(set_ipv4_tos(pb.packet(), 0xfc), ActionStatus::kSkipped);
  EXPECT_EQ(test::bytes_of(pb.packet()), f);
}

// Every truncation of every frame kind, under every action: no read or
// write outside the frame (the buffer is exactly sized, so ASan sees it).
TEST(SetField, TruncatedFramesNeverOverrun) {
  std::vector<DpAction> acts = {
      DpAction::set_ipv4_src(1),      DpAction::set_ipv4_dst(2),
      DpAction::set_ipv4_tos(0xfc),   DpAction::set_ipv4_tos(0x03, 0x03),
      DpAction::set_ipv4_ttl(1),      DpAction::set_tp_src(5),
      DpAction::set_tp_dst(6),        DpAction::pop_vlan(),
      DpAction::set_vlan_vid(3),      DpAction::set_vlan_pcp(2),
      DpAction::set_eth_src({}),      DpAction::set_eth_dst({}),
      DpAction::push_vlan(0x8100, 1), DpAction::set_ipv6_tclass(0xff, 0xff),
      DpAction::set_ipv6_hlimit(1)};
  std::vector<Case> all = cases(), v6 = cases6();
  all.insert(all.end(), v6.begin(), v6.end());
  for (const Case& c : all) {
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

}  // namespace set_field_test
}  // namespace flowpath
