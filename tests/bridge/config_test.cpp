#include "flowpath/bridge/config.hpp"

#include <gtest/gtest.h>

namespace flowpath {
namespace config_test {

std::string error_of(std::string_view text) {
  try {
    SwitchConfig::parse(text, "t.conf");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ComputeNodeFile) {
  auto cfg = SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf");
  ASSERT_EQ(cfg.bridges.size(), 2u);
  const auto& br_int = cfg.bridges[0];
  EXPECT_EQ(br_int.name, "br-int");
  ASSERT_EQ(br_int.ports.size(), 5u);  // vm1 vm2 vm3 int-br-eth2 + LOCAL
  EXPECT_EQ(br_int.ports[0].name, "vm1");
  EXPECT_EQ(br_int.ports[0].ofport, 1u);
  EXPECT_EQ(br_int.ports[0].type, PortType::kAfxdp);
  EXPECT_EQ(br_int.ports[0].mode(), VlanMode::kAccess);
  EXPECT_EQ(br_int.ports[2].tag, 2);
  EXPECT_EQ(br_int.ports[3].type, PortType::kPatch);
  EXPECT_EQ(br_int.ports[3].peer, "phy-br-eth2");
  EXPECT_EQ(br_int.ports[4].name, "br-int");
  EXPECT_EQ(br_int.ports[4].ofport, kOfPortLocal);
  EXPECT_EQ(br_int.ports[4].type, PortType::kInternal);
  EXPECT_EQ(br_int.flows.size(), 4u);
  EXPECT_EQ(br_int.flows[0].text,
            "priority=3,in_port=int-br-eth2,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL");
  EXPECT_NE(br_int.flows[0].where.find("compute-node.conf:"), std::string::npos);
}

TEST(Config, NumbersPortsAroundExplicitOfports) {
  auto cfg = SwitchConfig::parse(
      "add-br b\nadd-port b p1 ofport=2 type=memory\nadd-port b p2 type=memory\n"
      "add-port b p3 type=pcap\n");
  const auto& ports = cfg.bridges[0].ports;
  EXPECT_EQ(ports[0].ofport, 2u);
  EXPECT_EQ(ports[1].ofport, 1u);
  EXPECT_EQ(ports[2].ofport, 3u);
}

TEST(Config, PortSettings) {
  auto cfg = SwitchConfig::parse(
      "add-br b  # comment\n\n"
      "add-port b t trunks=10,20 vlan_mode=native-untagged tag=5 options:queues=2\n"
      "add-flow b priority=1,actions=NORMAL\n");
  const auto& p = cfg.bridges[0].ports[0];
  EXPECT_EQ(p.mode(), VlanMode::kNativeUntagged);
  EXPECT_EQ(p.trunks, (std::vector<uint16_t>{10, 20}));
  EXPECT_EQ(p.options.at("queues"), "2");
  EXPECT_EQ(cfg.bridges[0].flows[0].text, "priority=1,actions=NORMAL");
  EXPECT_FALSE(p.system);
}

TEST(Config, SystemPortsAreAfxdpOpenedAsSystemInterfaces) {
  auto cfg = SwitchConfig::parse("add-br b\nadd-port b s type=system\nadd-port b x type=afxdp\n");
  const auto& s = cfg.bridges[0].ports[0];
  const auto& x = cfg.bridges[0].ports[1];
  EXPECT_EQ(s.type, PortType::kAfxdp);
  EXPECT_TRUE(s.system);
  EXPECT_TRUE(s.options.empty());
  EXPECT_EQ(x.type, PortType::kAfxdp);
  EXPECT_FALSE(x.system);
}

TEST(Config, ErrorsNameFileLineAndProblem) {
  EXPECT_EQ(error_of("add-port nope p"), "t.conf:1: unknown bridge 'nope'");
  EXPECT_EQ(error_of("add-br b\nadd-port b p\nadd-port b p"), "t.conf:3: duplicate port 'p'");
  EXPECT_EQ(error_of("add-br b\nadd-br b"), "t.conf:2: duplicate bridge 'b'");
  EXPECT_EQ(error_of("add-br b\nadd-port b p tag=5000"),
            "t.conf:2: bad tag '5000' (expected 0..4095)");
  EXPECT_EQ(error_of("add-br b\nadd-port b p type=tap"),
            "t.conf:2: unknown port type 'tap' (expected afxdp, system, pcap, memory, internal or "
            "patch)");
  EXPECT_EQ(error_of("frobnicate"),
            "t.conf:1: unknown command 'frobnicate' (expected add-br, add-port or add-flow)");
  EXPECT_EQ(error_of("add-br b\nadd-port b p type=patch"),
            "t.conf:2: patch port 'p' needs peer=PORT");
  EXPECT_EQ(error_of("add-br b\nadd-port b p type=patch peer=q"),
            "t.conf: patch port 'p': peer 'q' missing");
  EXPECT_EQ(error_of("add-br b\nadd-port b p ofport=3\nadd-port b q ofport=3"),
            "t.conf:3: ofport 3 already used by 'p' on bridge 'b'");
  EXPECT_EQ(error_of("add-br b\nadd-flow b"), "t.conf:2: usage: add-flow BRIDGE FLOW");
  EXPECT_NE(error_of("add-br b\nadd-port b p colour=red").find("unknown port setting 'colour'"),
            std::string::npos);
}

TEST(PortVlanPolicy, AccessTrunkNative) {
  PortConfig access;
  access.tag = 1;
  EXPECT_EQ(access.input_vlan(false, 0), 1);
  EXPECT_EQ(access.input_vlan(true, 1), std::nullopt);  // double-tagging defence
  EXPECT_EQ(access.input_vlan(true, 0), 1);             // priority-tagged: fine (as OVS)
  EXPECT_EQ(access.output_tag(1), PortConfig::OutputTag::kUntagged);
  EXPECT_EQ(access.output_tag(2), PortConfig::OutputTag::kNone);

  PortConfig trunk;
  EXPECT_EQ(trunk.input_vlan(true, 1000), 1000);
  EXPECT_EQ(trunk.input_vlan(false, 0), 0);
  EXPECT_EQ(trunk.output_tag(1000), PortConfig::OutputTag::kTagged);
  trunk.trunks = {10};
  EXPECT_EQ(trunk.input_vlan(true, 11), std::nullopt);
  EXPECT_EQ(trunk.output_tag(11), PortConfig::OutputTag::kNone);

  PortConfig native;
  native.tag = 5;
  native.trunks = {7};
  native.vlan_mode = VlanMode::kNativeUntagged;
  EXPECT_EQ(native.input_vlan(false, 0), 5);
  EXPECT_EQ(native.input_vlan(true, 7), 7);
  EXPECT_EQ(native.output_tag(5), PortConfig::OutputTag::kUntagged);
  EXPECT_EQ(native.output_tag(7), PortConfig::OutputTag::kTagged);
  EXPECT_EQ(native.input_vlan(true, 0), 5);  // VID 0 is the native VLAN
  EXPECT_FALSE(native.includes_vlan(0));     // native modes never trunk VLAN 0 (as OVS)
  native.vlan_mode = VlanMode::kNativeTagged;
  EXPECT_EQ(native.output_tag(5), PortConfig::OutputTag::kTagged);
  native.trunks.clear();
  EXPECT_TRUE(native.includes_vlan(4094));
  EXPECT_FALSE(native.includes_vlan(0));
}

}  // namespace config_test
}  // namespace flowpath
