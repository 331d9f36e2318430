// dpctl/dump-flows, datapath actions and pmd-stats-show text.
#include "flowpath/datapath/dp_format.hpp"

#include <gtest/gtest.h>

#include "flowpath/datapath/pmd_stats.hpp"

namespace flowpath {
namespace dp_format_test {

TEST(DpFormat, Actions) {
  EXPECT_EQ(format_dp_actions({}), "drop");
  EXPECT_EQ(format_dp_actions({DpAction::push_vlan(0x8100, 1000), DpAction::output(3)}),
            "push_vlan(vid=1000,pcp=0),3");
  EXPECT_EQ(format_dp_actions({DpAction::pop_vlan(), DpAction::output(2)}), "pop_vlan,2");
  DpAction src, dst, ttl;
  src.type = DpActionType::kSetEthSrc;
  src.mac = EthAddr{{2, 0, 0, 0, 0, 1}};
  dst.type = DpActionType::kSetEthDst;
  dst.mac = EthAddr{{2, 0, 0, 0, 0, 2}};
  ttl.type = DpActionType::kSetIpv4Ttl;
  ttl.u8 = 9;
  EXPECT_EQ(format_dp_actions({src, dst, ttl, DpAction::output(1)}),
            "set(eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)),set(ipv4(ttl=9)),1");
  auto name = [](uint32_t p) { return p == 1 ? std::string("eth2") : std::to_string(p); };
  EXPECT_EQ(format_dp_actions({DpAction::output(1)}, name), "eth2");
}

TEST(DpFormat, DumpFlowsLine) {
  MegaflowEntry e;
  FlowKey v;
  FlowMask m;
  v.in_port = 2;
  m.in_port = 0xffffffffu;
  v.dl_src = EthAddr{{0x52, 0x54, 0, 0, 0, 1}};
  m.dl_src.b.fill(0xff);
  v.dl_type = Be16(kEthTypeIpv4);
  m.dl_type = Be16(0xffff);
  v.nw_src = Be32(0xc0000201u);
  m.nw_src = Be32(0xffffff00u);
  v.nw_frag = 0;
  m.nw_frag = 0xff;
  e.match = Match(v, m);
  e.actions = {DpAction::push_vlan(0x8100, 1000), DpAction::output(3)};
  e.packets = 3;
  e.bytes = 180;
  e.used_ms = 1000;
  EXPECT_EQ(format_megaflow(e, 1500),
            "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=52:54:00:00:00:01),"
            "eth_type(0x0800),ipv4(src=192.0.2.0/255.255.255.0,frag=no), packets:3, "
            "bytes:180, used:0.500s, actions:push_vlan(vid=1000,pcp=0),3");
  e.used_ms = 0;
  e.match.value.vlans[0].tci = Be16(kVlanCfi | 1000);
  e.match.mask.vlans[0].tci = Be16(0x1fff);
  e.match.value.vlans[0].tpid = Be16(kEthTypeVlan);
  e.match.value.nw_proto = kIpProtoUdp;
  e.match.mask.nw_proto = 0xff;
  e.match.value.tp_dst = Be16(53);
  e.match.mask.tp_dst = Be16(0xffff);
  e.match.normalize();
  EXPECT_EQ(format_megaflow(e, 1500),
            "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=52:54:00:00:00:01),"
            "eth_type(0x8100),vlan(vid=1000),encap(eth_type(0x0800),"
            "ipv4(src=192.0.2.0/255.255.255.0,proto=17,frag=no),udp(dst=53)), packets:3, "
            "bytes:180, used:never, actions:push_vlan(vid=1000,pcp=0),3");
}

TEST(DpFormat, PmdStatsShowHasOvsShape) {
  PmdStats s;
  s.packets = 100;
  s.emc_hits = 60;
  s.megaflow_hits = 30;
  s.subtable_lookups = 45;
  s.upcall_ok = 9;
  s.lost = 1;
  s.groups = 10;
  s.group_packets = 99;
  s.cycles = 25000;
  EXPECT_EQ(pmd_stats_show(s, 0, 1),
            "pmd thread numa_id 0 core_id 1:\n"
            "  packets received: 100\n"
            "  packet recirculations: 0\n"
            "  avg. datapath passes per packet: 1.00\n"
            "  phwol hits: 0\n"
            "  mfex opt hits: 0\n"
            "  simple match hits: 0\n"
            "  emc hits: 60\n"
            "  smc hits: 0\n"
            "  megaflow hits: 30\n"
            "  avg. subtable lookups per megaflow hit: 1.50\n"
            "  miss with success upcall: 9\n"
            "  miss with failed upcall: 1\n"
            "  avg. packets per output batch: 9.90\n"
            "  idle cycles: 0 (0.00%)\n"
            "  processing cycles: 25000 (100.00%)\n"
            "  avg cycles per packet: 250.00 (25000/100)\n"
            "  avg processing cycles per packet: 250.00 (25000/100)\n");
}

}  // namespace dp_format_test
}  // namespace flowpath
