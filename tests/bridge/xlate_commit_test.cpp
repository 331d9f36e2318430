// commit_flow on IPv6: which traffic class / hop limit actions it emits,
// with which masks, and how they print, against what a private Open
// vSwitch 3.1's ofproto/trace printed for the same changes (udp6 packet,
// nw_tos=32, nw_ecn=1, nw_ttl=64):
//   mod_nw_tos:64,set_field:200->nw_ttl  set(ipv6(tclass=0x40/0xfc,hlimit=200))
//   set_field:3->nw_ecn                  set(ipv6(tclass=0x3/0x3))
//   set_field:3->nw_ecn,mod_nw_tos:64    set(ipv6(tclass=0x43))
//   any of them with nw_proto=0          (nothing: no L3 header for OVS)
// and on IPv4 (udp, nw_tos=0, nw_ttl=64):
//   mod_nw_tos:32                        set(ipv4(tos=0x20/0xfc))
//   set_field:2->nw_ecn                  set(ipv4(tos=0x2/0x3))
//   mod_nw_tos:32,set_field:1->nw_ecn,set_field:9->nw_ttl  set(ipv4(tos=0x21,ttl=9))
//   ip,nw_proto=0 with those             (nothing; the megaflow pins nw_proto=0)
// pin_rewrite: what the megaflow pins for a rewrite that changes nothing
// (OVS: `mod_nw_src:X` on a packet from X pins nw_src and nw_proto).
#include "flowpath/bridge/xlate_commit.hpp"

#include <gtest/gtest.h>

#include "flowpath/datapath/dp_format.hpp"

namespace flowpath {
namespace xlate_commit_test {

FlowKey udp6() {
  FlowKey k{};
  k.dl_type = Be16{kEthTypeIpv6};
  k.nw_proto = kIpProtoUdp;
  k.nw_tos = 0x21;
  k.nw_ttl = 64;
  return k;
}

/// The datapath actions (as dpctl prints them, then output 2) that turn
/// the packet `base` into `flow`; `wc` collects the mask.
std::string commit(const FlowKey& flow, FlowKey base, FlowMask& wc) {
  DpActionList out;
  commit_flow(flow, base, wc, out);
  out.push_back(DpAction::output(2));
  return format_dp_actions(out);
}

TEST(XlateCommit, Ipv6TclassAndHlimitAsOpenVswitch) {
  FlowMask wc{};
  FlowKey f = udp6();
  f.nw_tos = 0x41, f.nw_ttl = 200;
  EXPECT_EQ(commit(f, udp6(), wc), "set(ipv6(tclass=0x40/0xfc,hlimit=200)),2");
  EXPECT_EQ(wc.nw_proto, 0xff);
  f = udp6(), f.nw_tos = 0x23;
  EXPECT_EQ(commit(f, udp6(), wc), "set(ipv6(tclass=0x3/0x3)),2");
  f.nw_tos = 0x43;
  EXPECT_EQ(commit(f, udp6(), wc), "set(ipv6(tclass=0x43)),2");
  f = udp6(), f.nw_ttl = 1;
  EXPECT_EQ(commit(f, udp6(), wc), "set(ipv6(hlimit=1)),2");
}

TEST(XlateCommit, Ipv6NothingChangedOrNoL3Header) {
  FlowMask wc{};
  EXPECT_EQ(commit(udp6(), udp6(), wc), "2");
  EXPECT_EQ(wc.nw_proto, 0) << "no rewrite: nothing to pin";
  FlowKey base = udp6();
  base.nw_proto = 0;
  FlowKey f = base;
  f.nw_ttl = 7, f.nw_tos = 0x80;
  EXPECT_EQ(commit(f, base, wc), "2");
  EXPECT_EQ(wc.nw_proto, 0xff) << "the megaflow must not catch packets that do get rewritten";
}

// IPv4 keeps its own actions; the IPv6 ones are for IPv6 only.
TEST(XlateCommit, Ipv4StaysIpv4) {
  FlowMask wc{};
  FlowKey base = udp6();
  base.dl_type = Be16{kEthTypeIpv4};
  FlowKey f = base;
  f.nw_ttl = 7;
  EXPECT_EQ(commit(f, base, wc), "set(ipv4(ttl=7)),2");
}

FlowKey udp4() {
  FlowKey k = udp6();
  k.dl_type = Be16{kEthTypeIpv4};
  k.nw_tos = 0;
  return k;
}

TEST(XlateCommit, Ipv4TosAsMaskedSetsOfTheChangedParts) {
  FlowMask wc{};
  FlowKey f = udp4();
  f.nw_tos = 0x20;
  EXPECT_EQ(commit(f, udp4(), wc), "set(ipv4(tos=0x20/0xfc)),2");
  f.nw_tos = 0x02;
  EXPECT_EQ(commit(f, udp4(), wc), "set(ipv4(tos=0x2/0x3)),2");
  f.nw_tos = 0x21, f.nw_ttl = 9;
  EXPECT_EQ(commit(f, udp4(), wc), "set(ipv4(tos=0x21,ttl=9)),2");
  EXPECT_EQ(wc.nw_proto, 0xff);
}

TEST(XlateCommit, Ipv4WithoutProtocolIsNotRewritten) {
  FlowMask wc{};
  FlowKey base = udp4();
  base.nw_proto = 0;
  FlowKey f = base;
  f.nw_src = Be32{0xc0000209}, f.nw_ttl = 9, f.nw_tos = 0x21;
  EXPECT_EQ(commit(f, base, wc), "2");
  EXPECT_EQ(wc.nw_proto, 0xff) << "a UDP packet of the same megaflow would be rewritten";
}

TEST(XlateCommit, PinRewriteMarksTheFieldAndTheProtocol) {
  FlowMask wc{}, w{};
  w.nw_src = Be32::from_raw(0xffffffffu);
  pin_rewrite(udp4(), w, wc);
  EXPECT_EQ(wc.nw_src, w.nw_src);
  EXPECT_EQ(wc.nw_proto, 0xff);
  FlowMask l2{};
  w = FlowMask{};
  w.dl_src.b.fill(0xff);
  pin_rewrite(udp4(), w, l2);
  EXPECT_EQ(l2.dl_src, w.dl_src);
  EXPECT_EQ(l2.nw_proto, 0) << "an Ethernet rewrite does not care about L3";
  FlowKey arp = udp4();
  arp.dl_type = Be16{0x0806};
  FlowMask a{};
  pin_rewrite(arp, FlowMask{}, a);
  EXPECT_EQ(a, FlowMask{});
}

}  // namespace xlate_commit_test
}  // namespace flowpath
