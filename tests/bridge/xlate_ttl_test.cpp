// Translation of the TTL actions and megaflow pinning of rewrites, through
// ofproto/trace, with the Megaflow and Datapath actions lines a private Open
// vSwitch 3.1 printed for the same flows (ports by name here; nw_frag=no
// aside: OVS always pins it for IP, flowpath only when something reads it):
//   ip,actions=dec_ttl,output:2 on udp,nw_ttl=64
//       Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_ttl=64,nw_frag=no
//       Datapath actions: set(ipv4(ttl=63)),2
//   ... on nw_ttl=1: "dec_ttl", " >> IPv4 decrement TTL exception", and a
//       controller call that sends nothing (flowpath: drop)
//   ip,actions=mod_nw_src:192.0.2.9,output:2 on nw_src=192.0.2.9
//       Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_src=192.0.2.9,nw_frag=no
//       Datapath actions: 2
//   ip,actions=mod_nw_tos:32,output:2 on nw_tos=33 (DSCP 32, ECN 1)
//       Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_tos=32,nw_frag=no
//   ip,actions=set_field:2->nw_ecn,output:2 on nw_tos=4 (ECN 0)
//       Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_ecn=0,nw_frag=no
//       Datapath actions: set(ipv4(tos=0x2/0x3)),2
#include <gtest/gtest.h>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/bridge/trace.hpp"

namespace flowpath {
namespace xlate_ttl_test {

std::string line_of(const std::string& t, const std::string& head) {
  size_t p = t.find(head);
  if (p == std::string::npos) return "<no " + head + " in:\n" + t + ">";
  return t.substr(p, t.find('\n', p) - p);
}

Ofproto make(const std::string& flow) {
  return Ofproto(SwitchConfig::parse("add-br br0\nadd-port br0 p1\nadd-port br0 p2\nadd-flow br0 " +
                                     flow + "\n"));
}

TEST(XlateTtl, DecTtlDecrementsAndPinsTheTtl) {
  Ofproto of = make("priority=10,in_port=p1,ip,actions=dec_ttl,output:p2");
  const std::string t = trace(of, "br0", "in_port=p1,udp,nw_ttl=64");
  EXPECT_EQ(line_of(t, "Megaflow:"), "Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_ttl=64") << t;
  EXPECT_EQ(line_of(t, "Datapath actions:"), "Datapath actions: set(ipv4(ttl=63)),p2") << t;
}

TEST(XlateTtl, NotIpIsLeftAlone) {
  Ofproto of = make("priority=10,in_port=p1,actions=dec_ttl,output:p2");
  const std::string t = trace(of, "br0", "in_port=p1,arp");
  EXPECT_EQ(line_of(t, "Datapath actions:"), "Datapath actions: p2") << t;
  EXPECT_EQ(line_of(t, "Megaflow:"), "Megaflow: recirc_id=0,eth,arp,in_port=p1") << t;
}

TEST(XlateTtl, ExpiredTtlStopsTheActions) {
  Ofproto of = make("priority=10,in_port=p1,ip,actions=dec_ttl,output:p2");
  for (const char* ttl : {"1", "0"}) {
    const std::string t = trace(of, "br0", std::string("in_port=p1,udp,nw_ttl=") + ttl);
    EXPECT_NE(t.find("    dec_ttl\n     >> IPv4 decrement TTL exception\n"), std::string::npos)
        << t;
    EXPECT_EQ(line_of(t, "Megaflow:"),
              std::string("Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_ttl=") + ttl);
    EXPECT_EQ(line_of(t, "Datapath actions:"), "Datapath actions: drop") << t;
  }
}

TEST(XlateTtl, Ipv6HopLimitAndModNwTtl) {
  Ofproto of = make("priority=10,in_port=p1,ipv6,actions=mod_nw_ttl:9,dec_ttl,output:p2");
  const std::string t = trace(of, "br0", "in_port=p1,udp6,nw_ttl=0");
  EXPECT_EQ(line_of(t, "Datapath actions:"), "Datapath actions: set(ipv6(hlimit=8)),p2") << t;
  EXPECT_EQ(line_of(t, "Megaflow:"), "Megaflow: recirc_id=0,eth,udp6,in_port=p1,nw_ttl=0") << t;
}

TEST(XlateTtl, ARewriteThatChangesNothingStillPinsItsField) {
  Ofproto of = make("priority=10,in_port=p1,ip,actions=mod_nw_src:192.0.2.9,output:p2");
  const std::string t = trace(of, "br0", "in_port=p1,udp,nw_src=192.0.2.9");
  EXPECT_EQ(line_of(t, "Megaflow:"), "Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_src=192.0.2.9")
      << t;
  EXPECT_EQ(line_of(t, "Datapath actions:"), "Datapath actions: p2") << t;
}

TEST(XlateTtl, TosRewritesPinTheirPartOfTheByte) {
  Ofproto dscp = make("priority=10,in_port=p1,ip,actions=mod_nw_tos:32,output:p2");
  std::string t = trace(dscp, "br0", "in_port=p1,udp,nw_tos=32,nw_ecn=1");
  EXPECT_EQ(line_of(t, "Megaflow:"), "Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_tos=32") << t;
  EXPECT_EQ(line_of(t, "Datapath actions:"), "Datapath actions: p2") << t;
  Ofproto ecn = make("priority=10,in_port=p1,ip,actions=set_field:2->nw_ecn,output:p2");
  t = trace(ecn, "br0", "in_port=p1,udp,nw_tos=4");
  EXPECT_EQ(line_of(t, "Megaflow:"), "Megaflow: recirc_id=0,eth,udp,in_port=p1,nw_ecn=0") << t;
  EXPECT_EQ(line_of(t, "Datapath actions:"), "Datapath actions: set(ipv4(tos=0x2/0x3)),p2") << t;
}

}  // namespace xlate_ttl_test
}  // namespace flowpath
