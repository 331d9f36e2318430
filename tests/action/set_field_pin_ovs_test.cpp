// A rewrite must pin its field in the megaflow, as Open vSwitch does: a
// first packet that already carries the value the action writes makes a
// megaflow whose datapath actions have no rewrite (nothing differs); if the
// megaflow did not match on the field, a second packet of the same flow
// with another value would hit it and leave unrewritten.  Every rewrite gets
// such a pair, sent in order through flowpath's switch and a private
// ovs-vswitchd 3.1: the output frames must be the same byte for byte, and so
// must the megaflows (match with its masks, and datapath actions) of
// `dpctl/dump-flows`.  Also here: IPv4 with nw_proto 0 (OVS: no L3 header,
// no rewrite, the megaflow pins nw_proto), ECN rewrites of IPv4, and IPv6
// address and flow label rewrites (one datapath set(ipv6(...)) as OVS).
// Skips (with the reason) when Open vSwitch is missing; needs no root.
#include <gtest/gtest.h>

#include "action/rewrite_ovs.hpp"

namespace flowpath {
namespace set_field_pin_ovs_test {

using namespace flowpath::test;

constexpr const char* kConf = R"(
add-br br0
add-port br0 p1
add-port br0 p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.10,actions=mod_nw_src:192.0.2.9,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.11,actions=set_field:7->nw_ttl,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.12,actions=mod_nw_tos:32,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.13,actions=set_field:2->nw_ecn,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.14,actions=mod_dl_src:02:00:00:00:00:99,output:p2
add-flow br0 priority=10,in_port=p1,udp,nw_dst=192.0.2.15,actions=mod_tp_dst:53,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.16,actions=mod_vlan_vid:9,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.17,actions=mod_vlan_pcp:5,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.18,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.19,actions=mod_nw_tos:32,set_field:1->nw_ecn,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.20,actions=mod_nw_src:192.0.2.9,output:p2
add-flow br0 priority=10,in_port=p1,ipv6,ipv6_dst=2001:db8::10,actions=set_field:7->nw_ttl,output:p2
add-flow br0 priority=10,in_port=p1,ipv6,ipv6_dst=2001:db8::11,actions=set_field:1->nw_ecn,output:p2
add-flow br0 priority=10,in_port=p1,ipv6,ipv6_dst=2001:db8::12,actions=set_field:2001:db8::1->ipv6_src,output:p2
add-flow br0 priority=10,in_port=p1,ipv6,ipv6_dst=2001:db8::13,actions=set_field:2001:db8::9->ipv6_src,set_field:0x5->ipv6_label,mod_nw_tos:32,output:p2
)";

std::vector<In> frames() {
  const Eth eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a")};
  auto v4 = [](const char* dst, uint8_t tos = 0, uint8_t ttl = 64, const char* src = "192.0.2.1") {
    return IPv4{.src = src, .dst = dst, .ttl = ttl, .tos = tos};
  };
  auto v6 = [](const char* dst, uint8_t tc = 0, uint8_t hlim = 64,
               const char* src = "2001:db8::1") {
    return IPv6{.src = src, .dst = dst, .hlim = hlim, .tc = tc};
  };
  const UDP udp{.sport = 1234, .dport = 80};
  const Payload pl{.n = 6};
  auto f = [&](auto... layers) { return In{"p1", (eth / ... / layers).bytes()}; };
  return {
      // Each pair: the first frame already holds what the action writes.
      f(v4("192.0.2.10", 0, 64, "192.0.2.9"), udp, pl),
      f(v4("192.0.2.10"), udp, pl),
      f(v4("192.0.2.11", 0, 7), udp, pl),
      f(v4("192.0.2.11"), udp, pl),
      f(v4("192.0.2.12", 0x21), udp, pl),
      f(v4("192.0.2.12", 0x01), udp, pl),
      f(v4("192.0.2.13", 0x22), udp, pl),
      f(v4("192.0.2.13", 0x20), udp, pl),
      In{"p1",
         (Eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:99")} / v4("192.0.2.14") / udp / pl)
             .bytes()},
      f(v4("192.0.2.14"), udp, pl),
      f(v4("192.0.2.15"), UDP{.sport = 1234, .dport = 53}, pl),
      f(v4("192.0.2.15"), udp, pl),
      f(Dot1Q{.vid = 9, .pcp = 2}, v4("192.0.2.16"), udp, pl),
      f(Dot1Q{.vid = 7, .pcp = 2}, v4("192.0.2.16"), udp, pl),
      f(Dot1Q{.vid = 7, .pcp = 5}, v4("192.0.2.17"), udp, pl),
      f(Dot1Q{.vid = 7, .pcp = 1}, v4("192.0.2.17"), udp, pl),
      In{"p1",
         (Eth{mac("02:00:00:00:00:0a"), mac("02:00:00:00:00:0a")} / v4("192.0.2.18") / udp / pl)
             .bytes()},
      f(v4("192.0.2.18"), udp, pl),
      f(v4("192.0.2.19", 0x21), udp, pl),
      f(v4("192.0.2.19", 0x22), udp, pl),
      // nw_proto 0: OVS sees no L3 header and rewrites nothing; then UDP.
      f(IPv4{.src = "192.0.2.1", .dst = "192.0.2.20", .proto = 0}, pl),
      f(v4("192.0.2.20"), udp, pl),
      f(v6("2001:db8::10", 0, 7), udp, pl),
      f(v6("2001:db8::10"), udp, pl),
      f(v6("2001:db8::11", 0x21), udp, pl),
      f(v6("2001:db8::11", 0x22), udp, pl),
      f(v6("2001:db8::12"), udp, pl),
      f(v6("2001:db8::12", 0, 64, "2001:db8::2"), udp, pl),
      f(v6("2001:db8::13"), TCP{.sport = 1, .dport = 2}, pl),
  };
}

TEST(SetFieldPinOvs, RewrittenFieldIsInTheMegaflowAsInOpenVswitch) {
  if (std::string why = difftest::OvsInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::vector<In> in = frames();
  const RewriteRun ours = flowpath_run(kConf, in);
  const RewriteRun theirs = ovs_run(kConf, in);
  ASSERT_EQ(theirs.sent.size(), in.size()) << "Open vSwitch forwarded fewer frames";
  ASSERT_EQ(ours.sent.size(), in.size()) << "flowpath forwarded fewer frames";
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "frame " << i << ": " << hex(in[i].frame));
    EXPECT_EQ(hex(ours.sent[i]), hex(theirs.sent[i]));
  }
  // The second frame of each pair is rewritten: its own megaflow, as OVS.
  EXPECT_EQ(ours.flows, theirs.flows);
}

}  // namespace set_field_pin_ovs_test
}  // namespace flowpath
