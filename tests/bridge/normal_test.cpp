// NORMAL's rules that Open vSwitch taught us (tests/differential found each
// one; the expectations below are what OVS 3.1 answers for the same frames
// on the same configuration): priority tags, PCP kept, VLAN 0 on native
// ports, reserved destinations, multicast sources, partial and inner tags,
// and traces that start on a patch port.
#include <gtest/gtest.h>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/bridge/trace.hpp"
#include "flowpath/l2/reserved_mac.hpp"
#include "flowpath/parse/parser.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace normal_test {

using namespace flowpath::test;

constexpr const char* kConf = R"(
add-br br0
add-port br0 acc tag=10
add-port br0 trk trunks=10,20
add-port br0 nat vlan_mode=native-untagged tag=20
add-port br0 p0 type=patch peer=p1
add-flow br0 priority=0 actions=NORMAL
add-br br1
add-port br1 up
add-port br1 p1 type=patch peer=p0
add-flow br1 priority=0 actions=NORMAL
)";
constexpr const char* kA = "02:00:00:00:00:0a";
constexpr const char* kB = "02:00:00:00:00:0b";
constexpr const char* kBcast = "ff:ff:ff:ff:ff:ff";

class Normal : public ::testing::Test {
 protected:
  Normal() : of_(SwitchConfig::parse(kConf, "normal.conf")) {}

  std::string actions(const std::vector<uint8_t>& frame, std::string_view port) {
    PacketBuffer b(frame);
    FlowKey k;
    parse_packet(b.packet(), k);
    XlateResult x;
    of_.translate_at(*of_.find_port(port), k, true, x, nullptr);
    return format_dp_actions(x.actions, [this](uint32_t n) { return of_.dp_port_name(n); });
  }
  static std::vector<uint8_t> arp(const char* dst, const char* src) {
    return (Eth{mac(dst), mac(src)} / ARP{.sha = mac(src)}).bytes();
  }
  static std::vector<uint8_t> arp(const char* dst, const char* src, Dot1Q tag) {
    return (Eth{mac(dst), mac(src)} / tag / ARP{.sha = mac(src)}).bytes();
  }

  Ofproto of_;
};

TEST_F(Normal, PriorityTaggedFrameOnAccessPortJoinsItsVlanAndKeepsItsPcp) {
  EXPECT_EQ(actions(arp(kBcast, kA, Dot1Q{.vid = 0, .pcp = 5}), "acc"),
            "pop_vlan,push_vlan(vid=10,pcp=5),trk,nat,up,br1,br0");
  EXPECT_EQ(actions(arp(kBcast, kA, Dot1Q{.vid = 10}), "acc"), "drop");  // a real VID: dropped
}

TEST_F(Normal, Vlan0LeavesTrunksPriorityTaggedOnlyWithAPcp) {
  EXPECT_EQ(actions(arp(kBcast, kA), "br0"), "up,br1");  // native ports never carry VLAN 0
  EXPECT_EQ(actions(arp(kBcast, kA, Dot1Q{.vid = 0, .pcp = 3}), "br0"), "up,br1");
  EXPECT_EQ(actions(arp(kBcast, kA, Dot1Q{.vid = 0, .pcp = 0}), "br0"), "pop_vlan,up,br1");
}

TEST_F(Normal, NativePortTakesVid0AsItsNativeVlan) {
  EXPECT_EQ(actions(arp(kBcast, kA, Dot1Q{.vid = 0, .pcp = 2}), "nat"),
            "pop_vlan,push_vlan(vid=20,pcp=2),trk,up,br1,br0");
}

TEST_F(Normal, ReservedDestinationsAreDroppedAndNotLearned) {
  for (const char* d : {"01:80:c2:00:00:00", "01:80:c2:00:00:0e", "01:00:0c:cc:cc:cc",
                        "01:00:0c:cc:cc:cd", "01:00:0c:cd:cd:cd"})
    EXPECT_EQ(actions(arp(d, kA), "acc"), "drop") << d;
  EXPECT_EQ(actions(arp(kA, kB), "acc"), "push_vlan(vid=10,pcp=0),trk,nat,up,br1,br0");
  EXPECT_NE(actions(arp("01:80:c2:00:00:10", kA), "acc"), "drop");  // not reserved
  EXPECT_TRUE(is_reserved_mac(mac("01:80:c2:00:00:03")));
  EXPECT_FALSE(is_reserved_mac(mac("01:00:0c:cc:cc:c8")));
}

TEST_F(Normal, MulticastSourceIsForwardedButNeverLearned) {
  EXPECT_EQ(actions(arp(kBcast, "01:00:5e:00:00:01"), "trk"), "drop");  // untagged: not in trunks
  EXPECT_EQ(actions(arp(kBcast, "01:00:5e:00:00:01", Dot1Q{.vid = 20}), "trk"),
            "pop_vlan,nat,push_vlan(vid=20,pcp=0),up,br1,br0");
  EXPECT_TRUE(of_.find_bridge("br0")->macs().size() == 0);
}

TEST_F(Normal, PartialTagIsDroppedAndAnInnerTagIsPayload) {
  std::vector<uint8_t> bare = arp(kBcast, kA);
  bare.resize(14);
  bare[12] = 0x81, bare[13] = 0x00;
  EXPECT_EQ(actions(bare, "br0"), "drop");
  // Double-tagged: NORMAL sees the outer tag only and leaves the inner one.
  auto dbl = (Eth{mac(kBcast), mac(kA)} / Dot1Q{.vid = 10} / Dot1Q{.vid = 99} / ARP{}).bytes();
  EXPECT_EQ(actions(dbl, "trk"), "pop_vlan,acc,push_vlan(vid=10,pcp=0),nat,up,br1,br0");
}

TEST_F(Normal, TraceStartsOnAPatchPortAndLearnsNothing) {
  std::string t = trace(
      of_, "br1", std::string("in_port=p1,dl_vlan=10,dl_src=") + kA + ",dl_dst=" + kBcast + ",arp");
  EXPECT_NE(t.find("Datapath actions: up,br1\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("bridge(\"br0\")"), std::string::npos) << t;  // not back through the patch
  EXPECT_EQ(of_.find_bridge("br1")->macs().size(), 0u);
  EXPECT_THROW(trace_key(of_, "br1", "in_port=p1"), Error);  // no datapath port
}

}  // namespace normal_test
}  // namespace flowpath
