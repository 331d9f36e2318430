// Translation semantics of the pipeline metadata on the compute node of
// DESIGN.md (br-int: vm1, vm2, vm3, patch to br-eth2): registers written by
// set_field/load/move and matched by later tables, registers zeroed in the
// bridge a patch port enters, conjunctive matches (all clauses needed),
// ct_state matched from the key, and the ct() hand-off point
// (XlateCtCall).  Every "must not" check has a control that does.
#include <gtest/gtest.h>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/dp_format.hpp"
#include "flowpath/parse/parser.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace xlate_pipeline_test {

using namespace flowpath::test;

constexpr const char* kVm1 = "52:54:00:00:00:01";
constexpr const char* kVm2 = "52:54:00:00:00:02";

class Pipeline : public ::testing::Test {
 protected:
  Pipeline()
      : of_(SwitchConfig::load(FLOWPATH_SOURCE_DIR "/examples/compute_node/compute-node.conf"),
            Ofproto::Options{&clock_, {}}) {
    of_.del_flows("br-int");
  }
  uint32_t dp(std::string_view port) { return of_.find_port(port)->dp_port; }
  FlowKey key(std::string_view port, const char* src_ip = "192.0.2.1", uint16_t dport = 53) {
    auto frame = (Eth{mac(kVm2), mac(kVm1)} / IPv4{.src = src_ip, .dst = "192.0.2.2"} /
                  UDP{.sport = 1000, .dport = dport})
                     .bytes();
    PacketBuffer b(frame, dp(port));
    FlowKey k;
    parse_packet(b.packet(), k);
    return k;
  }
  std::string run(const FlowKey& k, XlateResult* out = nullptr) {
    XlateResult x;
    of_.translate(k, false, x, nullptr);
    if (out) *out = x;
    return format_dp_actions(x.actions, [this](uint32_t n) { return of_.dp_port_name(n); });
  }
  void flows(std::initializer_list<const char*> texts) {
    for (const char* t : texts) of_.add_flow("br-int", t);
  }

  ManualClock clock_;
  Ofproto of_;
};

TEST_F(Pipeline, RegistersSetInOneTableAreMatchedInTheNext) {
  flows({"priority=100,in_port=vm1 actions=set_field:5->reg5,set_field:1->reg6,resubmit(,71)",
         "priority=100,in_port=vm3 actions=resubmit(,71)",
         "table=71,priority=10,reg5=0x5,reg6=0x1 actions=output:vm2",
         "table=71,priority=1 actions=drop"});
  EXPECT_EQ(run(key("vm1")), "vm2");
  EXPECT_EQ(run(key("vm3")), "drop");  // registers start at zero: no match
}

TEST_F(Pipeline, RulesDifferingOnlyInRegistersCoexist) {
  flows({"priority=100,in_port=vm1 actions=load:0x5->NXM_NX_REG5[],resubmit(,1)",
         "priority=100,in_port=vm3 actions=load:0x6->NXM_NX_REG5[],resubmit(,1)",
         "table=1,priority=10,reg5=0x5 actions=output:vm2",
         "table=1,priority=10,reg5=0x6 actions=output:vm1"});
  EXPECT_EQ(run(key("vm1")), "vm2");
  EXPECT_EQ(run(key("vm3")), "vm1");
  of_.del_flows("br-int", "table=1,reg5=0x5", /*strict=*/false);
  EXPECT_EQ(run(key("vm1")), "drop");
  EXPECT_EQ(run(key("vm3")), "vm1");
}

TEST_F(Pipeline, LoadAndMoveOnSubfieldsAndHeaderFields) {
  // reg1[16..31] <- tp_dst, then reg1 bits 16..31 matched; a move into
  // eth_dst rewrites the frame.
  flows(
      {"priority=10,in_port=vm1,udp actions=move:NXM_OF_UDP_DST[]->NXM_NX_REG1[16..31],"
       "load:0x7->NXM_NX_REG1[0..3],resubmit(,1)",
       "table=1,priority=10,reg1=0x350007 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
       "output:vm2",
       "table=1,priority=1 actions=drop"});
  XlateResult x;
  std::string a = run(key("vm1", "192.0.2.1", 53), &x);
  EXPECT_NE(a.find("vm2"), std::string::npos) << a;
  EXPECT_NE(a.find(kVm1), std::string::npos) << a;  // eth dst := eth src
  // The megaflow pins what the moves read: tp_dst and dl_src.
  EXPECT_EQ(x.mask.tp_dst.host(), 0xffff);
  EXPECT_EQ(x.mask.dl_src, (EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}));
  EXPECT_EQ(run(key("vm1", "192.0.2.1", 54)), "drop");  // reg1 = 0x360007
}

TEST_F(Pipeline, RegistersStartAtZeroBehindAPatchPort) {
  // (br-eth2's own flows take VLAN 1 from the patch port to eth2 as 1000.)
  flows({"priority=10,in_port=vm1 actions=set_field:1->reg0,mod_vlan_vid:1,output:int-br-eth2"});
  of_.add_flow("br-eth2", "priority=100,reg0=0x1 actions=drop");
  XlateResult x;
  std::string a = run(key("vm1"), &x);
  EXPECT_NE(a.find("vid=1000"), std::string::npos) << a;        // NORMAL ran: reg0 was 0
  of_.add_flow("br-eth2", "priority=200,reg0=0 actions=drop");  // control
  EXPECT_EQ(run(key("vm1")), "drop");
}

TEST_F(Pipeline, ConjunctionNeedsEveryClause) {
  flows({"priority=10,ip,nw_src=192.0.2.1 actions=conjunction(7,1/2)",
         "priority=10,udp,tp_dst=53 actions=conjunction(7,2/2)",
         "priority=5,conj_id=7,ip actions=output:vm2", "priority=1 actions=drop"});
  EXPECT_EQ(run(key("vm1", "192.0.2.1", 53)), "vm2");   // both clauses
  EXPECT_EQ(run(key("vm1", "192.0.2.1", 54)), "drop");  // clause 2 missing
  EXPECT_EQ(run(key("vm1", "192.0.2.9", 53)), "drop");  // clause 1 missing
}

TEST_F(Pipeline, ConjunctionLosesToAHigherOrdinaryRule) {
  flows({"priority=10,ip,nw_src=192.0.2.1 actions=conjunction(7,1/2)",
         "priority=10,udp,tp_dst=53 actions=conjunction(7,2/2)",
         "priority=5,conj_id=7,ip actions=output:vm2",
         "priority=20,udp,tp_dst=53,nw_src=192.0.2.1 actions=output:vm3"});
  EXPECT_EQ(run(key("vm1", "192.0.2.1", 53)), "vm3");
}

TEST_F(Pipeline, CtStateIsMatchedFromTheKeyAndPinnedInTheMegaflow) {
  flows({"priority=10,ct_state=+est+trk,ip actions=output:vm2",
         "priority=5,ct_state=-trk,ip actions=output:vm3"});
  FlowKey k = key("vm1");
  XlateResult x;
  EXPECT_EQ(run(k, &x), "vm3");
  EXPECT_EQ(x.mask.ct_state & (kCsTracked | kCsEstablished), kCsTracked | kCsEstablished);
  k.ct_state = kCsTracked | kCsEstablished;
  EXPECT_EQ(run(k), "vm2");
}

TEST_F(Pipeline, CtIsHandedOffWithItsZoneFromARegister) {
  flows(
      {"priority=10,ip,in_port=vm1 actions=set_field:3->reg6,"
       "ct(commit,table=5,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark)),output:vm2"});
  XlateResult x;
  EXPECT_EQ(run(key("vm1"), &x), "vm2");  // the pipeline goes on after ct()
  ASSERT_EQ(x.ct_calls.size(), 1u);
  const XlateCtCall& c = x.ct_calls[0];
  EXPECT_EQ(c.at, 0u);  // before output:vm2
  EXPECT_EQ(c.zone, 3u);
  EXPECT_TRUE(c.args.commit);
  EXPECT_EQ(c.args.table, 5u);
  EXPECT_EQ(format_dp_ct(c, 0x2a), "ct(commit,zone=3,mark=0x1/0xffffffff),recirc(0x2a)");
}

TEST_F(Pipeline, CtClearForgetsTheConnection) {
  flows({"priority=10,ip actions=ct_clear,resubmit(,1)",
         "table=1,priority=10,ct_state=+trk,ip actions=output:vm2",
         "table=1,priority=5,ip actions=output:vm3"});
  FlowKey k = key("vm1");
  k.ct_state = kCsTracked | kCsNew;
  XlateResult x;
  EXPECT_EQ(run(k, &x), "vm3");
  ASSERT_EQ(x.ct_calls.size(), 1u);
  EXPECT_TRUE(x.ct_calls[0].clear);
  EXPECT_EQ(format_dp_ct(x.ct_calls[0]), "ct_clear");
}

TEST_F(Pipeline, NatPrintsAsDpctl) {
  flows({"priority=10,ip actions=ct(commit,nat(src=192.0.2.1-192.0.2.5:100-200))"});
  XlateResult x;
  run(key("vm1"), &x);
  ASSERT_EQ(x.ct_calls.size(), 1u);
  EXPECT_EQ(format_dp_ct(x.ct_calls[0]), "ct(commit,nat(src=192.0.2.1-192.0.2.5:100-200))");
}

}  // namespace xlate_pipeline_test
}  // namespace flowpath
