// dec_ttl, dec_ttl(IDS) and mod_nw_ttl in ovs-ofctl flow text, against the
// live `ovs-ofctl parse-flows` of Open vSwitch 3.1 (plain and -O
// OpenFlow13): each flow is accepted or refused alike and, when accepted,
// gets the same usable protocols and the same printed message (NXM turns
// mod_nw_ttl into a reg_load; OVS reads controller ids as C's atoi does).
// Also the nw_tos / nw_ecn / nw_proto=0 matches next to them.  Skips when
// ovs-ofctl is missing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "differential/flow_text_oracle.hpp"
#include "flowpath/flow/ofctl_parse_flows.hpp"

namespace flowpath {
namespace ofctl_ttl_diff_test {

const char* const kFlows[] = {
    "ip,actions=dec_ttl,output:1",
    "ip,actions=dec_ttl()",
    "ip,actions=dec_ttl(1,2)",
    "ip,actions=dec_ttl(0)",
    "ipv6,actions=dec_ttl(3),output:2",
    "ip,actions=dec_ttl:5",
    "ip,actions=dec_ttl(1,)",
    "ip,actions=dec_ttl(x)",
    "ip,actions=dec_ttl(65535,65536)",
    "ip,actions=dec_ttl(,)",
    "actions=dec_ttl",
    "arp,actions=dec_ttl",
    "ip,actions=mod_nw_ttl:9",
    "ip,actions=mod_nw_ttl:0",
    "ipv6,actions=mod_nw_ttl:9,dec_ttl(3)",
    "ip,actions=mod_nw_ttl:256",
    "ip,actions=mod_nw_ttl:x",
    "ip,actions=dec_ttl(1,2),mod_nw_ttl:9,set_field:9->nw_ttl",
    "ip,nw_tos=32,actions=drop",  // nw_tos=33: refused on purpose (docs/flow-syntax.md)
    "ip,nw_ecn=3,nw_tos=32,actions=drop",
    "ip,nw_proto=0,actions=drop",
    "ip,actions=set_field:2->nw_ecn,mod_nw_tos:4",
};

TEST(OfctlTtlDiff, ParseFlowsAgreesWithOvsOfctl) {
  if (!difftest::OvsOfctl::available()) GTEST_SKIP() << "ovs-ofctl not found";
  char tmpl[] = "/tmp/flowpath-ttl-diff-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  for (auto [flag, allowed] : {std::pair{"", OfProtocolSet::kOpenFlow10},
                               std::pair{"-O OpenFlow13", OfProtocolSet::kOpenFlow13}}) {
    difftest::OvsOfctl ovs(dir, flag);
    for (const char* flow : kFlows) {
      SCOPED_TRACE(std::string(flag) + " " + flow);
      const difftest::OvsAnswer theirs = ovs.run({flow});
      const FlowModText ours = parse_flow_mod_text(flow, allowed);
      EXPECT_EQ(ours.ok, theirs.ok) << "ours: " << ours.error << "\ntheirs: " << theirs.reason;
      if (!ours.ok || !theirs.ok) {
        if (!theirs.reason.empty() && theirs.reason.find("no usable") == std::string::npos) {
          EXPECT_NE(ours.error.find(theirs.reason), std::string::npos) << ours.error;
        }
        continue;
      }
      EXPECT_EQ(ours.usable, theirs.usable);
      ASSERT_EQ(theirs.flows.size(), 1u) << theirs.raw_out;
      EXPECT_EQ(difftest::strip_xid(ours.message), theirs.flows[0]);
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace ofctl_ttl_diff_test
}  // namespace flowpath
