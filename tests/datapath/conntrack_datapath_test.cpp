// ct() in the datapath: Ofproto + Datapath with Neutron-style flows in
// ovs-ofctl syntax; the tracker runs, packets recirculate, registers survive
// the recirculation, and the second pass has its own megaflows.
#include <gtest/gtest.h>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/bridge/trace.hpp"
#include "flowpath/conntrack/dpctl_commands.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace conntrack_datapath_test {

using namespace flowpath::test;

// a (ofport 1) and b (ofport 2) are two VMs; zone from reg6 (5), direction
// in reg5, as Neutron's openvswitch firewall does.  c (3) and d (4) are for
// the fork and the recirculation loop.
constexpr const char* kConfig = R"(add-br br
add-port br a ofport=1 type=memory
add-port br b ofport=2 type=memory
add-port br c ofport=3 type=memory
add-port br d ofport=4 type=memory
add-port br e ofport=5 type=memory
add-port br f ofport=6 type=memory
add-port br g ofport=7 type=memory
add-flow br table=0,priority=10,ip,in_port=1 actions=load:1->NXM_NX_REG5[],load:5->NXM_NX_REG6[],goto_table:10
add-flow br table=0,priority=10,ip,in_port=2 actions=load:2->NXM_NX_REG5[],load:5->NXM_NX_REG6[],goto_table:10
add-flow br table=0,priority=10,ip,in_port=3 actions=ct(table=30,zone=7),output:5
add-flow br table=0,priority=10,ip,in_port=4 actions=ct(table=40)
add-flow br table=0,priority=10,ip,in_port=5 actions=ct(commit,zone=9,table=50)
add-flow br table=0,priority=10,ip,in_port=6 actions=ct(commit,zone=9),ct_clear,output:1
add-flow br table=0,priority=10,ip,in_port=7 actions=output:1,ct(commit,zone=11)
add-flow br table=10,priority=10,ct_state=-trk,ip actions=ct(table=20,zone=NXM_NX_REG6[0..15])
add-flow br table=20,priority=30,ct_state=+inv+trk actions=drop
add-flow br table=20,priority=20,ct_state=+new-est+trk,tcp,reg5=1,tp_dst=80 actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x2a->ct_mark)),output:2
add-flow br table=20,priority=20,ct_state=-new+est-rel+trk,ct_mark=0x2a,reg5=1 actions=output:2
add-flow br table=20,priority=20,ct_state=-new+est-rel+trk,ct_mark=0x2a,reg5=2 actions=output:1
add-flow br table=30,priority=10,ct_state=+new+trk,ct_zone=7 actions=output:2
add-flow br table=40,priority=10,ip actions=ct(table=40)
add-flow br table=50,priority=10,ct_state=+trk,ip actions=ct_clear,resubmit(,51)
add-flow br table=51,priority=10,ct_state=-trk,ip actions=output:1
)";

constexpr const char* kA = "192.0.2.1";
constexpr const char* kB = "192.0.2.2";

struct Out {
  uint32_t port;
  bool last;
  uint8_t ct_state;
  uint32_t recirc_id;
};

// Records outputs and drops of the packets the test owns; a datapath's own
// copies (recirculation forks) arrive here only as last=false outputs.
struct Sink {
  std::vector<Out> outs;
  int drops = 0;
  void output(uint32_t port, Packet& p, bool last) {
    outs.push_back({port, last, p.meta.ct_state, p.meta.recirc_id});
  }
  void drop(Packet&) { ++drops; }
  std::vector<uint32_t> ports() const {
    std::vector<uint32_t> v;
    for (const Out& o : outs) v.push_back(o.port);
    return v;
  }
};

class CtDatapath : public ::testing::Test {
 protected:
  CtDatapath()
      : of_(SwitchConfig::parse(kConfig), Ofproto::Options{&clock_, {}}), dp_(of_, cfg()) {}
  DatapathConfig cfg() {
    DatapathConfig c;
    c.clock = &clock_;
    return c;
  }
  uint32_t dp(std::string_view port) { return of_.find_port(port)->dp_port; }

  static std::vector<uint8_t> tcp(const char* src, const char* dst, uint16_t sport, uint16_t dport,
                                  uint16_t flags, uint32_t seq, uint32_t ack) {
    return (Eth{mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")} / IPv4{.src = src, .dst = dst} /
            TCP{.sport = sport, .dport = dport, .flags = flags, .seq = seq, .ack = ack})
        .bytes();
  }
  /// Sends one frame in through `port`; returns what the sink saw.
  Sink send(const std::vector<uint8_t>& frame, std::string_view port) {
    PacketBuffer buf(frame, dp(port));
    Batch b;
    b.push(&buf.packet());
    Sink s;
    dp_.process(b, s);
    return s;
  }
  std::string dump_flows() {
    return dp_.dpctl_dump_flows([](uint32_t n) { return std::to_string(n); });
  }

  ManualClock clock_{1000};
  Ofproto of_;
  Datapath<Ofproto> dp_;
};

constexpr uint16_t kSyn = 0x002, kSynAck = 0x012, kAck = 0x010;

TEST_F(CtDatapath, HandshakeNewThenEstablishedRepliesPass) {
  Sink s1 = send(tcp(kA, kB, 1000, 80, kSyn, 100, 0), "a");
  ASSERT_EQ(s1.outs.size(), 1u);
  EXPECT_EQ(s1.outs[0].port, dp("b"));
  EXPECT_TRUE(s1.outs[0].last);
  EXPECT_EQ(s1.outs[0].ct_state, kCsNew | kCsTracked);  // the ct(commit) ran again before output
  EXPECT_EQ(s1.outs[0].recirc_id, 1u);
  EXPECT_EQ(dp_.stats().recirculations, 1u);

  // The commit in zone 5 (from reg6, which survived the recirculation) with
  // exec's mark.
  auto conns = dp_.conntrack().dump(clock_.now_ms(), uint16_t{5});
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].mark, 0x2au);

  Sink s2 = send(tcp(kB, kA, 80, 1000, kSynAck, 500, 101), "b");
  ASSERT_EQ(s2.ports(), std::vector<uint32_t>{dp("a")});
  EXPECT_EQ(s2.outs[0].ct_state, kCsEstablished | kCsReplyDir | kCsTracked);

  Sink s3 = send(tcp(kA, kB, 1000, 80, kAck, 101, 501), "a");
  ASSERT_EQ(s3.ports(), std::vector<uint32_t>{dp("b")});
  EXPECT_EQ(s3.outs[0].ct_state, kCsEstablished | kCsTracked);
  EXPECT_EQ(s3.drops, 0);
}

TEST_F(CtDatapath, NewConnectionFromTheOtherSideIsDropped) {
  // Control: the same shape from a passes.
  EXPECT_EQ(send(tcp(kA, kB, 1001, 80, kSyn, 1, 0), "a").ports(), std::vector<uint32_t>{dp("b")});
  Sink s = send(tcp(kB, kA, 2000, 80, kSyn, 1, 0), "b");
  EXPECT_TRUE(s.outs.empty());  // nothing reaches a
  EXPECT_EQ(s.drops, 1);
  EXPECT_TRUE(dp_.conntrack().dump(clock_.now_ms(), uint16_t{5}).size() == 1u);  // not committed
}

TEST_F(CtDatapath, SecondPassHitsTheMegaflowCache) {
  send(tcp(kA, kB, 1000, 80, kSyn, 100, 0), "a");
  send(tcp(kB, kA, 80, 1000, kSynAck, 500, 101), "b");
  send(tcp(kA, kB, 1000, 80, kAck, 101, 501), "a");
  const uint64_t upcalls = dp_.stats().upcall_ok;
  const uint64_t hits = dp_.stats().emc_hits + dp_.stats().megaflow_hits;
  for (uint32_t i = 0; i < 3; ++i) {
    Sink s = send(tcp(kA, kB, 1000, 80, kAck, 101 + i, 501), "a");
    ASSERT_EQ(s.ports(), std::vector<uint32_t>{dp("b")});
  }
  EXPECT_EQ(dp_.stats().upcall_ok, upcalls);                              // no new translation
  EXPECT_EQ(dp_.stats().emc_hits + dp_.stats().megaflow_hits, hits + 6);  // both passes cached
  EXPECT_EQ(dp_.stats().recirculations, 6u);

  const std::string flows = dump_flows();
  SCOPED_TRACE(flows);
  EXPECT_NE(flows.find("actions:ct(zone=5),recirc(0x1)"), std::string::npos);
  EXPECT_NE(flows.find("ct_state(+new-est-inv+trk),recirc_id(0x1)"), std::string::npos);
  EXPECT_NE(flows.find("ct_state(-new+est-rel-inv+trk),ct_mark(0x2a),recirc_id(0x1)"),
            std::string::npos);
  EXPECT_NE(flows.find("actions:ct(commit,zone=5,mark=0x2a/0xffffffff),2"), std::string::npos);
  EXPECT_NE(dp_.pmd_stats_show().find("packet recirculations: 6"), std::string::npos);
  EXPECT_NE(dp_.pmd_stats_show().find("avg. datapath passes per packet: 2.00"), std::string::npos);
}

// process(batch, sink, now_ms): every pass of the batch runs at the time the
// caller read (a PMD reads the clock once per pass), not at the clock's.
TEST_F(CtDatapath, ABatchRunsAtTheTimeItIsGiven) {
  PacketBuffer buf(tcp(kA, kB, 1000, 80, kSyn, 100, 0), dp("a"));
  Batch b;
  b.push(&buf.packet());
  Sink s;
  dp_.process(b, s, 31'000);  // the clock still says 1,000
  ASSERT_EQ(s.ports(), std::vector<uint32_t>{dp("b")});
  ASSERT_EQ(dp_.stats().recirculations, 1u);

  clock_.set_ms(31'000);
  const std::string flows = dump_flows();
  SCOPED_TRACE(flows);
  // Both passes' megaflows were used at 31,000 (at 1,000 they would say 30.000s).
  size_t lines = 0, fresh = 0;
  for (size_t at = 0; (at = flows.find("used:", at)) != std::string::npos; ++at, ++lines)
    fresh += flows.compare(at, 11, "used:0.000s") == 0;
  EXPECT_EQ(lines, 2u);
  EXPECT_EQ(fresh, 2u);
  // The commit's expiry counts from 31,000: its whole timeout is left.
  Sink control = send(tcp(kA, kB, 1001, 80, kSyn, 100, 0), "a");  // at the clock's 31,000
  ASSERT_EQ(control.ports(), std::vector<uint32_t>{dp("b")});
  auto conns = dp_.conntrack().dump(clock_.now_ms(), uint16_t{5});
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[0].timeout_s, conns[1].timeout_s);
  EXPECT_GT(conns[0].timeout_s, 0u);
}

TEST_F(CtDatapath, ForkOutputsTheOriginalAndRecirculatesACopy) {
  Sink s = send(tcp(kA, kB, 3000, 80, kSyn, 1, 0), "c");
  // ct(table=30,zone=7),output:5 — the original goes to e, the copy
  // recirculates and table 30 (ct_zone=7, +new) sends it to b as a copy.
  ASSERT_EQ(s.outs.size(), 2u);
  EXPECT_EQ(s.outs[0].port, dp("e"));
  EXPECT_TRUE(s.outs[0].last);
  EXPECT_EQ(s.outs[1].port, dp("b"));
  EXPECT_FALSE(s.outs[1].last);
  EXPECT_EQ(s.outs[1].ct_state, kCsNew | kCsTracked);
  EXPECT_EQ(dp_.recirc().clones_in_use(), 0u);
}

TEST_F(CtDatapath, RecirculationLoopStopsAfterSixPasses) {
  Sink s = send(tcp(kA, kB, 4000, 80, kSyn, 1, 0), "d");
  EXPECT_TRUE(s.outs.empty());
  EXPECT_EQ(s.drops, 1);
  EXPECT_EQ(dp_.stats().recirculations, 6u);
  EXPECT_EQ(dp_.stats().recirc_depth_drops, 1u);
}

TEST_F(CtDatapath, CtClearForgetsTheConnection) {
  Sink s = send(tcp(kA, kB, 5000, 80, kSyn, 1, 0), "e");
  ASSERT_EQ(s.ports(), std::vector<uint32_t>{dp("a")});
  EXPECT_EQ(s.outs[0].ct_state, 0);
  EXPECT_EQ(dp_.conntrack().dump(clock_.now_ms(), uint16_t{9}).size(), 1u);  // the commit ran
  // In the recirculated pass the packet is tracked: ct_clear is a datapath
  // action.  In the pass of a ct() without table= there is nothing to clear
  // and OVS emits none (checked against ovs-vswitchd 3.1, docs/conntrack.md).
  send(tcp(kA, kB, 6000, 80, kSyn, 1, 0), "f");
  const std::string flows = dump_flows();
  EXPECT_NE(flows.find("ct_state(+trk),recirc_id(0x1),in_port(5),packet_type(ns=0,id=0),eth_type("
                       "0x0800), packets:1, bytes:54, used:0.000s, actions:ct_clear,1"),
            std::string::npos)
      << flows;
  EXPECT_NE(flows.find("actions:ct(commit,zone=9),recirc(0x1)"), std::string::npos) << flows;
  EXPECT_NE(flows.find("in_port(6),packet_type(ns=0,id=0),eth_type(0x0800), packets:1, bytes:54, "
                       "used:0.000s, actions:ct(commit,zone=9),1"),
            std::string::npos)
      << flows;
}

TEST_F(CtDatapath, DpctlCommandsSeeTheDatapathsConnections) {
  send(tcp(kA, kB, 1000, 80, kSyn, 100, 0), "a");
  std::string dump = ct::dpctl_dump_conntrack(dp_.conntrack(), clock_.now_ms(), {});
  EXPECT_NE(dump.find("tcp,orig=(src=192.0.2.1,dst=192.0.2.2,sport=1000,dport=80)"),
            std::string::npos)
      << dump;
  EXPECT_NE(dump.find("zone=5"), std::string::npos) << dump;
  EXPECT_NE(dump.find("mark=42"), std::string::npos) << dump;
}

TEST_F(CtDatapath, CtAfterTheLastOutputStillCommits) {
  Sink s = send(tcp(kA, kB, 7000, 80, kSyn, 1, 0), "g");
  ASSERT_EQ(s.outs.size(), 1u);
  EXPECT_FALSE(s.outs[0].last);  // a copy: the packet is needed by the ct()
  EXPECT_EQ(s.drops, 1);         // ... and ends after it
  EXPECT_EQ(dp_.conntrack().dump(clock_.now_ms(), uint16_t{11}).size(), 1u);
  EXPECT_NE(dump_flows().find("actions:1,ct(commit,zone=11)"), std::string::npos) << dump_flows();
}

TEST_F(CtDatapath, TraceEndsWithTheCtAndRecirc) {
  std::string t = trace(of_, "br", "in_port=1,tcp,nw_src=192.0.2.1,tp_dst=80");
  EXPECT_NE(t.find("Datapath actions: ct(zone=5),recirc(0x1)\n"), std::string::npos) << t;
  // The same frozen state as the datapath's first pass: the same id.
  send(tcp(kA, kB, 1000, 80, kSyn, 100, 0), "a");
  EXPECT_NE(dump_flows().find("actions:ct(zone=5),recirc(0x1)"), std::string::npos);
}

}  // namespace conntrack_datapath_test
}  // namespace flowpath
