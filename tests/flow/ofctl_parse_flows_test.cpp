// parse-flows framing: usable protocols, the chosen protocol and how each
// one prints a flow.  The expectations are what `ovs-ofctl [-O OpenFlow13]
// parse-flows` of Open vSwitch 3.1 printed for the same flows (the
// differential test, tests/differential/flow_text_diff_test.cpp, checks
// thousands more against the live ovs-ofctl).
#include "flowpath/flow/ofctl_parse_flows.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flowpath {
namespace ofctl_parse_flows_test {

struct Case {
  const char* text;
  const char* usable;
  const char* of10;  // message after "(xid=0x1): ADD ", prefixed by the message type
  const char* of13;  // nullptr: "no usable protocol"
};

TEST(OfctlParseFlows, MatchesOvsOfctlPerProtocol) {
  const Case cases[] = {
      {"tcp actions=mod_tp_src:1", "any", "OFPT_FLOW_MOD|tcp actions=mod_tp_src:1",
       "tcp actions=set_field:1->tcp_src"},
      {"actions=pop_vlan", "OpenFlow10,NXM", "OFPT_FLOW_MOD|actions=strip_vlan", nullptr},
      {"dl_vlan=5 actions=strip_vlan,mod_nw_tos:8", "OpenFlow10,NXM",
       "OFPT_FLOW_MOD|dl_vlan=5 actions=strip_vlan,mod_nw_tos:8", nullptr},
      {"ip actions=set_field:5->nw_ttl,set_field:1->ip_dscp", "NXM,OXM",
       "NXT_FLOW_MOD|ip actions=load:0x5->NXM_NX_IP_TTL[],mod_nw_tos:4",
       "ip actions=set_field:5->nw_ttl,set_field:1->ip_dscp"},
      {"ipv6 actions=set_field:::1->ipv6_src", "NXM,OXM",
       "NXT_FLOW_MOD|ipv6 "
       "actions=load:0x1->NXM_NX_IPV6_SRC[0..63],load:0->NXM_NX_IPV6_SRC[64..127]",
       "ipv6 actions=set_field:::1->ipv6_src"},
      {"actions=mod_vlan_vid:5,mod_vlan_pcp:3", "any",
       "OFPT_FLOW_MOD|actions=mod_vlan_vid:5,mod_vlan_pcp:3",
       "actions=push_vlan:0x8100,set_field:4101->vlan_vid,set_field:3->vlan_pcp"},
      {"vlan_tci=0 actions=goto_table:1", "any",
       "OFPT_FLOW_MOD|vlan_tci=0x0000 actions=resubmit(,1)",
       "vlan_tci=0x0000/0x1fff actions=goto_table:1"},
      {"sctp,sctp_src=1 actions=drop", "NXM,OXM,OpenFlow11",
       "NXT_FLOW_MOD|sctp,tp_src=1 actions=drop", "sctp,tp_src=1 actions=drop"},
  };
  for (const auto& c : cases) {
    FlowModText t10 = parse_flow_mod_text(c.text, OfProtocolSet::kOpenFlow10);
    ASSERT_TRUE(t10.ok) << c.text << ": " << t10.error;
    EXPECT_EQ(t10.usable, c.usable) << c.text;
    std::string of10 = c.of10;
    std::string type = of10.substr(0, of10.find('|'));
    EXPECT_EQ(t10.message, type + " (xid=0x1): ADD " + of10.substr(of10.find('|') + 1)) << c.text;
    FlowModText t13 = parse_flow_mod_text(c.text, OfProtocolSet::kOpenFlow13);
    if (!c.of13) {
      EXPECT_FALSE(t13.ok) << c.text;
      EXPECT_NE(t13.error.find("no usable protocol"), std::string::npos) << t13.error;
      continue;
    }
    ASSERT_TRUE(t13.ok) << c.text << ": " << t13.error;
    EXPECT_EQ(t13.message, std::string("OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD ") + c.of13);
  }
}

TEST(OfctlParseFlows, ProtocolSetsPrintAsOvsDoes) {
  using namespace ofproto;
  EXPECT_EQ(to_string(kAny), "any");
  EXPECT_EQ(to_string(0), "none");
  EXPECT_EQ(to_string(kNxmOf11Up), "NXM,OXM,OpenFlow11");
  EXPECT_EQ(to_string(kTid), "OXM,OpenFlow10+table_id,NXM+table_id,OpenFlow11");
  EXPECT_EQ(to_string(kOf10Any), "OpenFlow10,NXM");
}

TEST(OfctlParseFlows, AFileFailsAtItsFirstBadLine) {
  std::vector<std::string> lines = {"# comment", "ip actions=drop", "", "foo=1 actions=drop",
                                    "bar=2 actions=drop"};
  auto r = parse_flows_file(lines, ofproto::kOf10Any, "f.txt");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.error.rfind("f.txt:4: ", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("unknown keyword foo"), std::string::npos) << r.error;
}

TEST(OfctlParseFlows, AFileUsesOneProtocolForAllFlows) {
  // table=1 needs a table id, nw_ttl needs NXM: NXM+table_id for both, and
  // the flow without table= goes to "table 255" (any).
  auto r = parse_flows_file({"table=1,ip actions=drop", "ip,nw_ttl=3 actions=drop"},
                            ofproto::kOf10Any, "f.txt");
  ASSERT_EQ(r.status, 0) << r.error;
  EXPECT_EQ(r.out,
            "usable protocols: OXM,NXM+table_id\n"
            "chosen protocol: NXM+table_id\n"
            "NXT_FLOW_MOD (xid=0x1): ADD table:1 ip actions=drop\n"
            "NXT_FLOW_MOD (xid=0x2): ADD table:255 ip,nw_ttl=3 actions=drop\n");
  auto none = parse_flows_file({"actions=push_vlan:0x8100"}, ofproto::kOf10Any, "f.txt");
  EXPECT_EQ(none.status, 1);
  EXPECT_EQ(none.out, "usable protocols: OXM,OpenFlow11\n");
  EXPECT_EQ(none.error, "no usable protocol");
}

}  // namespace ofctl_parse_flows_test
}  // namespace flowpath
