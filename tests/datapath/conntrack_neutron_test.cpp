// Neutron's openvswitch firewall flows (tests/flow/data/neutron_ovsfw.txt,
// 72 flows, VM port 5 in zone 1 behind local VLAN 1 on uplink port 2)
// through Ofproto + Datapath: egress passes and its replies come back,
// ingress SSH is allowed, ingress HTTP only from the remote group's member
// (conjunction), anything else new is dropped before the VM.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/neutron_firewall.hpp"

namespace flowpath {
namespace conntrack_neutron_test {

using namespace flowpath::test::neutron;

class Neutron : public ::testing::Test {
 protected:
  Neutron() { EXPECT_EQ(test::neutron::flows().size(), 72u); }
  uint32_t dp(std::string_view port) { return sw_.dp_port(port); }
  std::vector<uint32_t> send(const std::vector<uint8_t>& frame, std::string_view port) {
    return sw_.send(frame, port);
  }

  ManualClock clock_{1000};
  Switch sw_{&clock_};
  Datapath<Ofproto>& dp_ = sw_.dp;
};

using Ports = std::vector<uint32_t>;

TEST_F(Neutron, EgressConnectionAndItsReplies) {
  EXPECT_EQ(send(from_vm("192.0.2.30", 40000, 8080, kSyn, 1, 0), "vm"), Ports{dp("up")});
  auto conns = dp_.conntrack().dump(clock_.now_ms(), uint16_t{1});  // zone from reg6
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].mark, 0u);
  EXPECT_EQ(send(to_vm("192.0.2.30", 8080, 40000, kSynAck, 500, 2), "up"), Ports{dp("vm")});
  EXPECT_EQ(send(from_vm("192.0.2.30", 40000, 8080, kAck, 2, 501), "vm"), Ports{dp("up")});
  EXPECT_EQ(send(to_vm("192.0.2.30", 8080, 40000, kAck, 501, 2), "up"), Ports{dp("vm")});
  EXPECT_GE(dp_.stats().recirculations, 4u);
}

TEST_F(Neutron, IngressRulesDecideNewConnections) {
  // SSH is allowed from anywhere; the SYN reaches the VM and is committed.
  EXPECT_EQ(send(to_vm("198.51.100.7", 50000, 22, kSyn, 1, 0), "up"), Ports{dp("vm")});
  EXPECT_EQ(dp_.conntrack().dump(clock_.now_ms(), uint16_t{1}).size(), 1u);
  // Port 8080 is not: dropped before the VM, nothing committed.
  EXPECT_EQ(send(to_vm("198.51.100.7", 50001, 8080, kSyn, 1, 0), "up"), Ports{});
  EXPECT_EQ(dp_.conntrack().dump(clock_.now_ms(), uint16_t{1}).size(), 1u);
  // HTTP only from the remote group's member 192.0.2.20 (conjunction).
  EXPECT_EQ(send(to_vm("192.0.2.20", 50002, 80, kSyn, 1, 0), "up"), Ports{dp("vm")});
  EXPECT_EQ(send(to_vm("192.0.2.21", 50003, 80, kSyn, 1, 0), "up"), Ports{});
  // The VM's SSH reply goes out as established.
  EXPECT_EQ(send(from_vm("198.51.100.7", 22, 50000, kSynAck, 900, 2), "vm"), Ports{dp("up")});
}

TEST_F(Neutron, FlushedConnectionsAreNewAgain) {
  EXPECT_EQ(send(from_vm("192.0.2.30", 40001, 8080, kSyn, 1, 0), "vm"), Ports{dp("up")});
  EXPECT_EQ(send(to_vm("192.0.2.30", 8080, 40001, kSynAck, 500, 2), "up"), Ports{dp("vm")});
  dp_.conntrack().flush(uint16_t{1});
  // A mid-stream segment with no state is +new (as OVS): ingress 8080 is
  // not allowed, so the reply no longer reaches the VM.
  EXPECT_EQ(send(to_vm("192.0.2.30", 8080, 40001, kAck, 501, 2), "up"), Ports{});
}

// The datapath actions of both passes, as ovs-vswitchd 3.1 (dummy datapath,
// netdev-dummy/receive) installs them for the same flows and packets.
TEST_F(Neutron, DatapathActionsAsOvs) {
  send(from_vm("192.0.2.30", 40000, 8080, kSyn, 1, 0), "vm");
  send(to_vm("198.51.100.7", 50000, 22, kSyn, 1, 0), "up");
  std::vector<std::string> actions;
  dp_.megaflows().for_each([&](const MegaflowEntry& e) {
    actions.push_back(std::to_string(e.match.value.recirc_id) + " " +
                      format_dp_actions(e.actions, [](uint32_t n) {
                        return n == 1 ? std::string("up") : std::string("vm");
                      }));
  });
  std::sort(actions.begin(), actions.end());
  EXPECT_EQ(actions, (std::vector<std::string>{
                         "0 ct(zone=1),recirc(0x1)",
                         "0 pop_vlan,ct(zone=1),recirc(0x2)",
                         "1 ct(commit,zone=1),push_vlan(vid=1,pcp=0),up",
                         "2 ct(commit,zone=1),vm",
                     }));
}

}  // namespace conntrack_neutron_test
}  // namespace flowpath
