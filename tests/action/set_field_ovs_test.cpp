// Port, address, flow label, hop limit and traffic class rewrites on IPv6
// (IPv4 as a control:
// mod_nw_tos, set_field ip_dscp / nw_ecn / nw_ttl) against the real Open
// vSwitch: the same flows go into a private ovs-vswitchd 3.1 (dummy
// datapath, netdev-dummy/receive, the output port writing a pcap) and into
// a flowpath switch with memory ports; every output frame must be the same,
// byte for byte (ports, the TCP/UDP checksum over the IPv6 pseudo-header,
// the SCTP CRC32c, a zero UDP checksum left at zero, VLAN ops around the
// rewrite, extension headers in front of the L4 header, the ICMPv6 checksum
// after an address rewrite, a routing header with segments left, under
// which a destination rewrite leaves the L4 checksum alone).  Skips (with the
// reason) when Open vSwitch is missing; needs no root.
#include <gtest/gtest.h>

#include "action/rewrite_ovs.hpp"

namespace flowpath {
namespace set_field_ovs_test {

using namespace flowpath::test;

constexpr const char* kConf = R"(
add-br br0
add-port br0 p1
add-port br0 p2
add-port br0 p3
add-port br0 p4
add-port br0 p5
add-flow br0 priority=10,in_port=p1,tcp6,actions=mod_tp_src:1000,mod_tp_dst:2000,output:p2
add-flow br0 priority=10,in_port=p1,udp6,actions=set_field:3000->udp_src,mod_tp_dst:4000,output:p2
add-flow br0 priority=10,in_port=p1,ipv6,nw_proto=132,actions=mod_tp_dst:5000,output:p2
add-flow br0 priority=10,in_port=p1,tcp,actions=mod_tp_dst:8080,output:p2
add-flow br0 priority=10,in_port=p3,tcp6,actions=mod_vlan_vid:9,mod_tp_src:5,output:p2
add-flow br0 priority=10,in_port=p3,udp6,actions=strip_vlan,mod_tp_dst:53,output:p2
add-flow br0 priority=10,in_port=p3,udp,actions=strip_vlan,set_field:7->udp_dst,output:p2
add-flow br0 priority=10,in_port=p4,ipv6,ipv6_dst=2001:db8::10,actions=set_field:7->nw_ttl,output:p2
add-flow br0 priority=10,in_port=p4,ipv6,ipv6_dst=2001:db8::11,actions=mod_nw_tos:184,output:p2
add-flow br0 priority=10,in_port=p4,ipv6,ipv6_dst=2001:db8::12,actions=set_field:46->ip_dscp,output:p2
add-flow br0 priority=10,in_port=p4,ipv6,ipv6_dst=2001:db8::13,actions=set_field:3->nw_ecn,output:p2
add-flow br0 priority=10,in_port=p4,ipv6,ipv6_dst=2001:db8::14,actions=mod_vlan_vid:9,mod_nw_tos:64,set_field:200->nw_ttl,mod_tp_dst:99,output:p2
add-flow br0 priority=10,in_port=p4,ip,nw_dst=192.0.2.20,actions=set_field:7->nw_ttl,mod_nw_tos:184,output:p2
add-flow br0 priority=10,in_port=p5,ipv6,ipv6_dst=2001:db8::20,actions=set_field:2001:db8::99->ipv6_src,set_field:2001:db8:1::77->ipv6_dst,set_field:0x12345->ipv6_label,output:p2
add-flow br0 priority=10,in_port=p5,ipv6,ipv6_dst=2001:db8::21,actions=set_field:2001:db8:ffff::1->ipv6_dst,output:p2
add-flow br0 priority=10,in_port=p5,ipv6,ipv6_dst=2001:db8::22,actions=mod_vlan_vid:9,set_field:fe80::1->ipv6_src,mod_tp_src:77,mod_nw_tos:64,output:p2
)";

std::vector<In> frames() {
  Eth eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a")};
  IPv6 ip6{.src = "2001:db8::1", .dst = "2001:db8::2", .tc = 0x20, .flow = 9};
  IPv4 ip4{.src = "192.0.2.1", .dst = "192.0.2.2"};
  IPv4 ip4_20{.src = "192.0.2.1", .dst = "192.0.2.20", .tos = 0x21};
  auto to = [](IPv6 ip, const char* dst) {
    ip.dst = dst, ip.tc = 0x21;
    return ip;
  };
  TCP tcp{.sport = 1234, .dport = 80, .flags = 0x018, .seq = 7};
  UDP udp{.sport = 1234, .dport = 80};
  auto to_udp0 = [](const auto& stack) {  // no checksum (invalid on IPv6; OVS keeps it)
    Bytes b = stack.bytes();
    b[14 + 40 + 6] = b[14 + 40 + 7] = 0;
    return b;
  };
  Bytes udp0 = to_udp0(eth / ip6 / udp / Payload{.n = 9});
  Bytes tagged_udp0 = (eth / Dot1Q{.vid = 7} / ip6 / udp / Payload{.n = 9}).bytes();
  tagged_udp0[18 + 40 + 6] = tagged_udp0[18 + 40 + 7] = 0;
  return {
      {"p1", (eth / ip6 / tcp / Payload{.n = 20}).bytes()},
      {"p1", (eth / ip6 / udp / Payload{.n = 21}).bytes()},
      {"p1", udp0},
      {"p1",
       (eth / ip6 / Ipv6Ext{.type = 0} / Ipv6Ext{.type = 60, .len = 1} / udp / Payload{.n = 5})
           .bytes()},
      {"p1", (eth / ip6 / SCTP{.sport = 1, .dport = 2, .vtag = 3} / Payload{.n = 16}).bytes()},
      {"p1", (eth / ip4 / tcp / Payload{.n = 3}).bytes()},
      {"p3", (eth / Dot1Q{.vid = 7, .pcp = 3} / ip6 / tcp / Payload{.n = 4}).bytes()},
      {"p3", (eth / ip6 / tcp / Payload{.n = 4}).bytes()},
      {"p3", (eth / Dot1Q{.vid = 7} / ip6 / udp / Payload{.n = 30}).bytes()},
      {"p3", tagged_udp0},
      {"p3", (eth / Dot1Q{.vid = 7} / ip4 / udp / Payload{.n = 2}).bytes()},
      // Hop limit and traffic class (tc 0x21: DSCP 8, ECN 1; flow label 9).
      {"p4", (eth / to(ip6, "2001:db8::10") / udp / Payload{.n = 6}).bytes()},
      {"p4", (eth / Dot1Q{.vid = 7} / to(ip6, "2001:db8::10") / tcp / Payload{.n = 1}).bytes()},
      {"p4", (eth / to(ip6, "2001:db8::11") / tcp / Payload{.n = 6}).bytes()},
      {"p4", (eth / to(ip6, "2001:db8::12") / udp / Payload{.n = 6}).bytes()},
      {"p4", (eth / to(ip6, "2001:db8::13") / udp / Payload{.n = 6}).bytes()},
      {"p4", (eth / to(ip6, "2001:db8::14") / Ipv6Ext{.type = 0} / udp / Payload{.n = 6}).bytes()},
      {"p4", (eth / ip4_20 / tcp / Payload{.n = 6}).bytes()},  // IPv4 control
      // Addresses and flow label (a routing header from the builder has
      // segments left: 4).
      {"p5", (eth / to(ip6, "2001:db8::20") / tcp / Payload{.n = 7}).bytes()},
      {"p5", (eth / to(ip6, "2001:db8::20") / udp / Payload{.n = 7}).bytes()},
      {"p5", (eth / to(ip6, "2001:db8::20") / ICMPv6{.body = {0, 1, 0, 2}}).bytes()},
      {"p5",
       (eth / to(ip6, "2001:db8::20") / SCTP{.sport = 1, .dport = 2} / Payload{.n = 4}).bytes()},
      {"p5", to_udp0(eth / to(ip6, "2001:db8::20") / udp / Payload{.n = 3})},
      {"p5", (eth / to(ip6, "2001:db8::21") / tcp / Payload{.n = 7}).bytes()},
      {"p5", (eth / to(ip6, "2001:db8::21") / Ipv6Ext{.type = 43} / udp / Payload{.n = 7}).bytes()},
      {"p5", (eth / to(ip6, "2001:db8::20") / Ipv6Ext{.type = 43} / tcp / Payload{.n = 7}).bytes()},
      {"p5", (eth / to(ip6, "2001:db8::22") / Ipv6Ext{.type = 0} / tcp / Payload{.n = 2}).bytes()},
      {"p5", (eth / Dot1Q{.vid = 7} / to(ip6, "2001:db8::22") / udp / Payload{.n = 2}).bytes()},
  };
}

TEST(SetFieldOvs, RewritesMatchOpenVswitchByteForByte) {
  if (std::string why = difftest::OvsInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::vector<In> in = frames();
  const std::vector<Bytes> ours = flowpath_run(kConf, in).sent;
  const std::vector<Bytes> theirs = ovs_run(kConf, in).sent;
  ASSERT_EQ(theirs.size(), in.size()) << "Open vSwitch forwarded fewer frames";
  ASSERT_EQ(ours.size(), in.size()) << "flowpath forwarded fewer frames";
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE(testing::Message()
                 << "frame " << i << " from " << in[i].port << ": " << hex(in[i].frame));
    EXPECT_NE(theirs[i], in[i].frame) << "the oracle rewrote nothing";
    EXPECT_EQ(hex(ours[i]), hex(theirs[i]));
  }
}

}  // namespace set_field_ovs_test
}  // namespace flowpath
