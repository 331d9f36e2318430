// Translation on the compute node of DESIGN.md: Ofproto + Xlate, no
// datapath.  Datapath actions are compared in OVS syntax with port names.
#include "flowpath/bridge/ofproto.hpp"

#include <gtest/gtest.h>

#include "flowpath/bridge/trace.hpp"
#include "flowpath/parse/parser.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace xlate_test {

using namespace flowpath::test;

constexpr const char* kVm1 = "52:54:00:00:00:01";
constexpr const char* kVm2 = "52:54:00:00:00:02";
constexpr const char* kVm3 = "52:54:00:00:00:03";
constexpr const char* kRemote = "52:54:00:00:00:64";
constexpr const char* kBcast = "ff:ff:ff:ff:ff:ff";

class ComputeNode : public ::testing::Test {
 protected:
  ComputeNode()
      : of_(SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"),
            Ofproto::Options{&clock_, {}}) {}

  uint32_t dp(std::string_view port) { return of_.find_port(port)->dp_port; }

  FlowKey key_of(const std::vector<uint8_t>& frame, std::string_view port) {
    PacketBuffer b(frame, dp(port));
    FlowKey k;
    parse_packet(b.packet(), k);
    return k;
  }
  /// Datapath actions (names for ports) of a packet, learning as it goes.
  std::string actions(const std::vector<uint8_t>& frame, std::string_view port,
                      XlateResult* out = nullptr) {
    XlateResult x;
    of_.translate(key_of(frame, port), true, x, nullptr);
    if (out) *out = x;
    return format_dp_actions(x.actions, [this](uint32_t n) { return of_.dp_port_name(n); });
  }

  static std::vector<uint8_t> arp_request(const char* src, const char* ip_src, const char* ip_dst) {
    return (Eth{mac(kBcast), mac(src)} /
            ARP{.op = 1, .sha = mac(src), .spa = ipv4(ip_src), .tpa = ipv4(ip_dst)})
        .bytes();
  }

  ManualClock clock_;
  Ofproto of_;
};

TEST_F(ComputeNode, PortsAndDatapathNumbers) {
  EXPECT_EQ(of_.dp_ports().size(), 6u);  // vm1 vm2 vm3 br-int eth2 br-eth2
  EXPECT_EQ(of_.find_port("int-br-eth2")->dp_port, 0u);
  EXPECT_EQ(of_.find_port("int-br-eth2")->peer, of_.find_port("phy-br-eth2"));
  EXPECT_EQ(of_.find_bridge("br-int")->port_by_ofport(kOfppLocal)->name(), "br-int");
}

TEST_F(ComputeNode, ArpFromVm1FloodsVlan1AndLeavesEth2Tagged1000) {
  EXPECT_EQ(actions(arp_request(kVm1, "192.0.2.1", "192.0.2.100"), "vm1"),
            "vm2,push_vlan(vid=1000,pcp=0),eth2,br-eth2,pop_vlan,push_vlan(vid=1,pcp=0),br-int");
}

TEST_F(ComputeNode, ReplyFromRemoteReachesVm1Untagged) {
  actions(arp_request(kVm1, "192.0.2.1", "192.0.2.100"), "vm1");  // learn vm1
  auto reply = (Eth{mac(kVm1), mac(kRemote)} / Dot1Q{.vid = 1000} /
                ARP{.op = 2, .sha = mac(kRemote), .spa = ipv4("192.0.2.100"), .tha = mac(kVm1),
                    .tpa = ipv4("192.0.2.1")})
                   .bytes();
  EXPECT_EQ(actions(reply, "eth2"), "pop_vlan,vm1");
  // And now vm1 -> remote is unicast, tagged 1000 on eth2 only.
  auto to_remote = (Eth{mac(kRemote), mac(kVm1)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.100"} /
                    UDP{.sport = 1000, .dport = 2000})
                       .bytes();
  EXPECT_EQ(actions(to_remote, "vm1"), "push_vlan(vid=1000,pcp=0),eth2");
}

TEST_F(ComputeNode, Vm3LeavesTagged1001AndNeverReachesVlan1) {
  EXPECT_EQ(actions(arp_request(kVm3, "198.51.100.3", "198.51.100.100"), "vm3"),
            "push_vlan(vid=1001,pcp=0),eth2,br-eth2,pop_vlan,push_vlan(vid=2,pcp=0),br-int");
}

TEST_F(ComputeNode, TaggedFrameFromVmIsDropped) {
  auto double_tagged = (Eth{mac(kBcast), mac(kVm1)} / Dot1Q{.vid = 1000} /
                        IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{})
                           .bytes();
  XlateResult x;
  EXPECT_EQ(actions(double_tagged, "vm1", &x), "drop");
  // The decision depends on the tag's presence and VID, not its PCP: OVS's
  // megaflow for this frame says dl_vlan=1000 (mask 0x1fff).
  EXPECT_EQ(x.mask.vlans[0].tci.host(), kVlanVidMask | kVlanCfi);
}

TEST_F(ComputeNode, UnknownProviderVlanIsDroppedByTheFlows) {
  auto frame = (Eth{mac(kBcast), mac(kRemote)} / Dot1Q{.vid = 5} / IPv4{} / UDP{}).bytes();
  // Only br-eth2's own LOCAL port sees it; br-int's priority=2 rule drops it.
  EXPECT_EQ(actions(frame, "eth2"), "br-eth2");
}

TEST_F(ComputeNode, UnicastBetweenVmsStaysLocal) {
  actions(arp_request(kVm2, "192.0.2.2", "192.0.2.1"), "vm2");
  auto frame = (Eth{mac(kVm2), mac(kVm1)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
                UDP{.sport = 1, .dport = 2})
                   .bytes();
  XlateResult x;
  EXPECT_EQ(actions(frame, "vm1", &x), "vm2");
  // NORMAL consulted L2 only: the megaflow wildcards the IP and UDP fields.
  EXPECT_EQ(x.mask.nw_src.raw, 0u);
  EXPECT_EQ(x.mask.tp_src.raw, 0u);
  EXPECT_EQ(x.mask.in_port, 0xffffffffu);
}

TEST_F(ComputeNode, RevalidationWithoutLearningAsksForAnUpcall) {
  auto frame = arp_request(kVm1, "192.0.2.1", "192.0.2.100");
  XlateResult x;
  of_.translate(key_of(frame, "vm1"), false, x, nullptr);
  EXPECT_TRUE(x.needs_upcall);
  EXPECT_FALSE(x.learned);
  of_.translate(key_of(frame, "vm1"), true, x, nullptr);
  XlateResult again;
  of_.translate(key_of(frame, "vm1"), false, again, nullptr);
  EXPECT_FALSE(again.needs_upcall);
}

TEST_F(ComputeNode, GenerationMovesOnLearningAndFlowChanges) {
  uint64_t g0 = of_.generation();
  actions(arp_request(kVm1, "192.0.2.1", "192.0.2.100"), "vm1");
  uint64_t g1 = of_.generation();
  EXPECT_NE(g0, g1);
  of_.add_flow("br-int", "priority=10,in_port=vm1 actions=drop");
  EXPECT_NE(of_.generation(), g1);
  EXPECT_EQ(actions(arp_request(kVm1, "192.0.2.1", "192.0.2.100"), "vm1"), "drop");
}

TEST_F(ComputeNode, TraceExplainsBothBridges) {
  std::string t = trace(of_, "br-int",
                        "in_port=vm1,dl_src=52:54:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp");
  EXPECT_NE(t.find("bridge(\"br-int\")"), std::string::npos) << t;
  EXPECT_NE(t.find("bridge(\"br-eth2\")"), std::string::npos) << t;
  EXPECT_NE(t.find("mod_vlan_vid:1000"), std::string::npos) << t;
  EXPECT_NE(t.find("Datapath actions: vm2,push_vlan(vid=1000,pcp=0),eth2"), std::string::npos) << t;
}

TEST_F(ComputeNode, BadFlowInConfigNamesFileLine) {
  try {
    Ofproto of(SwitchConfig::parse("add-br b\nadd-flow b priority=1,nw_src=1.2.3.4 actions=drop\n",
                                   "x.conf"));
    FAIL() << "accepted a flow with a missing prerequisite";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("x.conf:2: ", 0), 0u) << e.what();
  }
}

}  // namespace xlate_test
}  // namespace flowpath
