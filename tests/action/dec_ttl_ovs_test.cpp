// dec_ttl and mod_nw_ttl against a private ovs-vswitchd 3.1, as
// set_field_pin_ovs_test: the same frames through both switches, the output
// frames compared byte for byte (the IPv4 checksum after the decrement, the
// IPv6 hop limit), and the megaflows of `dpctl/dump-flows` (the TTL pinned,
// so a TTL of 1 gets its own megaflow).  A TTL of 0 or 1 stops the rule's
// actions: OVS's datapath action is then a controller call with
// nothing sent (no controller asked for invalid_ttl packet-ins), so the
// frame goes nowhere; flowpath's megaflow drops it and counts the drop.
// Skips (with the reason) when Open vSwitch is missing; needs no root.
#include <gtest/gtest.h>

#include "action/rewrite_ovs.hpp"

namespace flowpath {
namespace dec_ttl_ovs_test {

using namespace flowpath::test;

constexpr const char* kConf = R"(
add-br br0
add-port br0 p1
add-port br0 p2
add-port br0 p3
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.10,actions=dec_ttl,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.11,actions=dec_ttl(1,2),dec_ttl,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.12,actions=mod_nw_ttl:9,output:p2
add-flow br0 priority=10,in_port=p1,ip,nw_dst=192.0.2.13,actions=output:p3,dec_ttl,output:p2
add-flow br0 priority=10,in_port=p1,ipv6,ipv6_dst=2001:db8::10,actions=dec_ttl,output:p2
add-flow br0 priority=10,in_port=p1,ipv6,ipv6_dst=2001:db8::11,actions=mod_nw_ttl:9,dec_ttl,output:p2
add-flow br0 priority=10,in_port=p1,arp,actions=dec_ttl,output:p2
)";

std::vector<In> frames() {
  const Eth eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a")};
  auto v4 = [](const char* dst, uint8_t ttl) {
    return IPv4{.src = "192.0.2.1", .dst = dst, .ttl = ttl};
  };
  auto v6 = [](const char* dst, uint8_t hlim) {
    return IPv6{.src = "2001:db8::1", .dst = dst, .hlim = hlim};
  };
  const UDP udp{.sport = 1234, .dport = 80};
  const Payload pl{.n = 6};
  auto f = [&](auto... layers) { return In{"p1", (eth / ... / layers).bytes()}; };
  return {
      f(v4("192.0.2.10", 64), udp, pl),
      f(v4("192.0.2.10", 2), udp, pl),
      f(v4("192.0.2.10", 1), udp, pl),  // dropped
      f(v4("192.0.2.10", 0), udp, pl),  // dropped
      f(v4("192.0.2.10", 255), udp, pl),
      f(v4("192.0.2.11", 3), udp, pl),  // 3 -> 2 -> 1, out
      f(v4("192.0.2.11", 2), udp, pl),  // 2 -> 1, then dropped
      f(v4("192.0.2.12", 1), udp, pl),
      f(v4("192.0.2.13", 1), udp, pl),  // out on p3 only
      f(v6("2001:db8::10", 64), udp, pl),
      f(v6("2001:db8::10", 1), udp, pl),  // dropped
      f(v6("2001:db8::11", 0), udp, pl),  // 9 -> 8
      f(ARP{}),                           // not IP: dec_ttl does nothing
  };
}

// OVS's datapath action for the exception is a controller call that sends
// nothing (no controller asked for invalid_ttl): with it, what OVS committed
// before it for the packet-in's sake is dead, so "set(...),userspace(...)"
// means drop, as flowpath's megaflow says.  The ARP megaflow is left out:
// the two classifiers wildcard an ARP packet that misses IP rules
// differently (OVS pins arp op, flowpath a bit of the target address),
// which no TTL action touches; its frame is compared above.
std::vector<std::string> comparable(std::vector<std::string> flows) {
  static const std::regex ctl(R"(,?userspace\(pid=0,controller\(reason=2,[^)]*\)\))");
  static const std::regex dead(R"(actions:(set\([a-z0-9]+\([^)]*\)\),?)+$)");
  std::vector<std::string> out;
  for (auto f : flows) {
    if (f.find("eth_type(0x0806)") != std::string::npos) continue;
    f = std::regex_replace(f, ctl, "");
    f = std::regex_replace(f, dead, "actions:drop");
    if (f.size() >= 8 && f.compare(f.size() - 8, 8, "actions:") == 0) f += "drop";
    out.push_back(f);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DecTtlOvs, TtlActionsMatchOpenVswitch) {
  if (std::string why = difftest::OvsInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::vector<In> in = frames();
  const RewriteRun ours = flowpath_run(kConf, in);
  const RewriteRun theirs = ovs_run(kConf, in);
  ASSERT_EQ(theirs.sent.size(), 8u) << "Open vSwitch: 8 of the frames leave on p2";
  ASSERT_EQ(ours.sent.size(), theirs.sent.size());
  for (size_t i = 0; i < ours.sent.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "output " << i);
    EXPECT_EQ(hex(ours.sent[i]), hex(theirs.sent[i]));
  }
  EXPECT_EQ(comparable(ours.flows), comparable(theirs.flows));
}

}  // namespace dec_ttl_ovs_test
}  // namespace flowpath
