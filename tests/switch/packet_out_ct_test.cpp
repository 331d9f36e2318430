// Packet-outs whose actions contain ct(), or lead to a table with ct():
// as in OVS, the packet goes through the switch's connection tracker, and
// after ct(table=T) it continues in table T with its ct_state (the
// datapath's recirculation), under OfprotoBackend::packet_out.
#include <gtest/gtest.h>

#include "flowpath/switch/openflow_backend.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace {

using namespace flowpath::test;

// Table 1: a new connection is committed in zone 3 and sent to p2; an
// established one goes to p3 (so the two passes are told apart).
constexpr const char* kConf = R"(
add-br br0
add-port br0 p1 ofport=1
add-port br0 p2 ofport=2
add-port br0 p3 ofport=3
add-flow br0 table=0,priority=10,ip,in_port=1 actions=load:3->NXM_NX_REG6[],ct(table=1,zone=NXM_NX_REG6[0..15])
add-flow br0 table=1,priority=10,ct_state=+new+trk,udp actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x7->ct_mark)),output:2
add-flow br0 table=1,priority=10,ct_state=+est+trk,ct_mark=0x7,udp actions=output:3
)";

// A request 192.0.2.1:sport -> 192.0.2.2:53, or its reply.
std::vector<uint8_t> udp(uint16_t sport, bool reply = false) {
  const char* a = "192.0.2.1";
  const char* b = "192.0.2.2";
  return (Eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a")} /
          IPv4{.src = reply ? b : a, .dst = reply ? a : b} /
          UDP{.sport = reply ? uint16_t(53) : sport, .dport = reply ? sport : uint16_t(53)} /
          Payload{.n = 18})
      .bytes();
}

class PacketOutCt : public ::testing::Test {
 protected:
  PacketOutCt() : sw_(SwitchConfig::parse(kConf), opts()), be_(sw_.ofproto(), "br0", &sw_) {}
  static Switch::Options opts() {
    Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    return o;
  }
  void packet_out(const std::string& actions, uint16_t sport, bool reply = false) {
    openflow::PacketOut po;
    po.in_port = 1;
    po.actions = parse_actions(actions);
    po.data = udp(sport, reply);
    EXPECT_EQ(be_.packet_out(po), std::nullopt) << actions;
  }
  size_t sent(const char* port) { return sw_.port(port)->memory()->sent().size(); }
  size_t conns(uint16_t zone) {
    return sw_.conntrack().dump(sw_.ofproto().clock()->now_ms(), zone).size();
  }

  Switch sw_;
  OfprotoBackend be_;
};

TEST_F(PacketOutCt, CtInTheActionsCommits) {
  packet_out("output:2", 1000);  // control: no ct(), no connection
  EXPECT_EQ(sent("p2"), 1u);
  EXPECT_EQ(conns(4), 0u);
  packet_out("ct(commit,zone=4),output:2", 1000);
  EXPECT_EQ(sent("p2"), 2u);
  EXPECT_EQ(conns(4), 1u);
}

TEST_F(PacketOutCt, CtTableContinuesInTheTable) {
  // reg6 (table 1's commit zone) survives the recirculation.
  const std::string acts = "load:3->NXM_NX_REG6[],ct(table=1,zone=3)";
  packet_out(acts, 2000);  // new: committed, to p2
  EXPECT_EQ(sent("p2"), 1u);
  EXPECT_EQ(sent("p3"), 0u);
  ASSERT_EQ(conns(3), 1u);
  EXPECT_EQ(sw_.conntrack().dump(sw_.ofproto().clock()->now_ms(), uint16_t{3})[0].mark, 7u);
  packet_out(acts, 2000, /*reply=*/true);  // established (mark 7): to p3
  EXPECT_EQ(sent("p2"), 1u);
  EXPECT_EQ(sent("p3"), 1u);
}

TEST_F(PacketOutCt, TableActionReachesTheCtFlows) {
  // output:TABLE runs table 0, whose flow does ct(table=1): two passes.
  packet_out("output:TABLE", 3000);  // in_port=1: table 0's ct flow
  EXPECT_EQ(sent("p2"), 1u);
  EXPECT_EQ(conns(3), 1u);
  packet_out("resubmit(,0)", 3000, /*reply=*/true);
  EXPECT_EQ(sent("p3"), 1u);
}

}  // namespace
}  // namespace flowpath
