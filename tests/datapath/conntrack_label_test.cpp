// ct_label after recirculation: a flow matching ct_label after ct(table=T)
// sees the connection's label (the key carries its id, flow/ct_label_ids.hpp),
// on the upcall, on megaflow and EMC hits, and through revalidation (which
// translates from the key alone).  Differential: the same flows and frames
// through a private ovs-vswitchd 3.1 (skipped without Open vSwitch).
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include "differential/dp_dump.hpp"
#include "differential/normal_ovs.hpp"
#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace conntrack_label_test {

using namespace flowpath::test;

// p1 commits with label 0x5, p3 with no label, p4 with 0x10 in a masked
// write; table 1 sends label 0x5 to p2, label 0x10/0xf0 to p5, the rest
// (tracked) to p6.
constexpr const char* kConfig = R"(add-br br
add-port br p1 ofport=1
add-port br p2 ofport=2
add-port br p3 ofport=3
add-port br p4 ofport=4
add-port br p5 ofport=5
add-port br p6 ofport=6
add-flow br table=0,priority=10,ip,in_port=1,actions=ct(commit,zone=1,exec(set_field:0x5->ct_label),table=1)
add-flow br table=0,priority=10,ip,in_port=3,actions=ct(commit,zone=1,table=1)
add-flow br table=0,priority=10,ip,in_port=4,actions=ct(commit,zone=2,exec(set_field:0x10/0xf0->ct_label),table=1)
add-flow br table=0,priority=0,actions=drop
add-flow br table=1,priority=30,ct_state=+trk,ct_label=0x5,ip,actions=output:2
add-flow br table=1,priority=20,ct_state=+trk,ct_label=0x10/0xf0,ip,actions=output:5
add-flow br table=1,priority=10,ct_state=+trk,ip,actions=output:6
)";

std::vector<uint8_t> udp(const char* src, uint16_t sport) {
  return (Eth{mac("fa:16:3e:00:00:02"), mac("fa:16:3e:00:00:01")} /
          IPv4{.src = src, .dst = "192.0.2.2"} / UDP{.sport = sport, .dport = 53})
      .bytes();
}

struct PortSink {
  std::vector<uint32_t> outs;
  int drops = 0;
  void output(uint32_t port, Packet&, bool) { outs.push_back(port); }
  void drop(Packet&) { ++drops; }
};

class CtLabel : public ::testing::Test {
 protected:
  explicit CtLabel(Invalidation inv = Invalidation::kIndexed)
      : of_(SwitchConfig::parse(kConfig)), dp_(of_, cfg(inv)) {}
  static DatapathConfig cfg(Invalidation inv) {
    DatapathConfig c;
    c.invalidation = inv;
    return c;
  }
  uint32_t dp(std::string_view port) { return of_.find_port(port)->dp_port; }
  /// The ports one frame in through `port` left by (datapath numbers).
  std::vector<uint32_t> send(const std::vector<uint8_t>& frame, std::string_view port) {
    PacketBuffer buf(frame, dp(port));
    Batch b;
    b.push(&buf.packet());
    PortSink s;
    dp_.process(b, s);
    return s.outs;
  }
  std::vector<uint32_t> at(std::string_view port) { return {dp(port)}; }
  std::string dump_flows() {
    return dp_.dpctl_dump_flows([this](uint32_t n) { return of_.dp_port_name(n); });
  }

  Ofproto of_;
  Datapath<Ofproto> dp_;
};

TEST_F(CtLabel, MatchedAfterRecirculationOnEveryPath) {
  EXPECT_EQ(send(udp("192.0.2.1", 1000), "p1"), at("p2"));  // upcall of pass 2
  EXPECT_EQ(send(udp("192.0.2.1", 1000), "p1"), at("p2"));  // EMC / megaflow hit
  EXPECT_EQ(send(udp("192.0.2.3", 1001), "p3"), at("p6"));  // control: no label
  EXPECT_EQ(send(udp("192.0.2.4", 1002), "p4"), at("p5"));  // masked write, masked match
  EXPECT_EQ(send(udp("192.0.2.1", 1000), "p1"), at("p2"));
  EXPECT_EQ(send(udp("192.0.2.3", 1001), "p3"), at("p6"));
  const std::string d = dump_flows();
  EXPECT_NE(d.find("ct_state(+trk),ct_label(0x5),recirc_id("), std::string::npos) << d;
  EXPECT_NE(d.find("ct_label(0x10),recirc_id("), std::string::npos) << d;
  EXPECT_NE(d.find("ct(commit,zone=1,label=0x5),recirc("), std::string::npos) << d;
  EXPECT_NE(d.find("ct(commit,zone=2,label=0x10/0xf0),recirc("), std::string::npos) << d;
  // The unlabelled connection's pass-2 flow pins the label (id 0): a
  // labelled packet can never hit it.
  EXPECT_NE(d.find("ct_state(+trk),ct_label(0),recirc_id("), std::string::npos) << d;
}

TEST_F(CtLabel, AConnectionsLabelIsReadNotTheActionsOnLaterPackets) {
  // ct(commit) without exec on p3, after the connection got label 0x5 from
  // p1's ct(commit,exec(...)): both directions share the connection.
  EXPECT_EQ(send(udp("192.0.2.1", 2000), "p1"), at("p2"));
  EXPECT_EQ(send(udp("192.0.2.1", 2000), "p3"), at("p2"));  // label read from the connection
  EXPECT_EQ(send(udp("192.0.2.9", 2000), "p3"), at("p6"));  // control: another connection
}

TEST_F(CtLabel, RuleChangesApplyToLabelledMegaflows) {
  EXPECT_EQ(send(udp("192.0.2.1", 3000), "p1"), at("p2"));
  of_.add_flow("br", "table=1,priority=30,ct_state=+trk,ct_label=0x5,ip,actions=output:3");
  EXPECT_EQ(send(udp("192.0.2.1", 3000), "p1"), at("p3"));
}

class CtLabelRevalidate : public CtLabel {
 protected:
  CtLabelRevalidate() : CtLabel(Invalidation::kRevalidate) {}
};

// kRevalidate re-translates each megaflow from its key alone (no packet):
// the label must come back from the id in the key.
TEST_F(CtLabelRevalidate, KeyAloneGivesTheLabel) {
  EXPECT_EQ(send(udp("192.0.2.1", 4000), "p1"), at("p2"));
  EXPECT_EQ(send(udp("192.0.2.4", 4001), "p4"), at("p5"));
  of_.add_flow("br", "table=1,priority=5,ip,actions=drop");  // unrelated change
  dp_.revalidate_if_needed();
  const std::string d = dump_flows();
  EXPECT_NE(d.find("ct_label(0x5)"), std::string::npos) << d;  // kept: same actions
  EXPECT_NE(d.find("ct_label(0x10)"), std::string::npos) << d;
  of_.add_flow("br", "table=1,priority=30,ct_state=+trk,ct_label=0x5,ip,actions=output:3");
  dp_.revalidate_if_needed();
  EXPECT_EQ(dump_flows().find("ct_label(0x5)"), std::string::npos) << dump_flows();
  EXPECT_EQ(send(udp("192.0.2.1", 4000), "p1"), at("p3"));
}

TEST(CtLabelIds, InternedOncePerLabelZeroIsZero) {
  CtLabelIds t;
  CtLabelBytes a{}, b{};
  a[15] = 5, b[0] = 0x80;
  EXPECT_EQ(t.intern(CtLabelBytes{}), 0u);
  const uint32_t ia = t.intern(a), ib = t.intern(b);
  EXPECT_NE(ia, 0u);
  EXPECT_NE(ia, ib);
  EXPECT_EQ(t.intern(a), ia);
  EXPECT_EQ(t.label(ia), a);
  EXPECT_EQ(t.label(ib), b);
  EXPECT_FALSE(t.label(ib + 1).has_value());
  CtLabelCache cache;  // the process table behind it
  const uint32_t ca = cache.id(a);
  EXPECT_EQ(cache.id(a), ca);
  EXPECT_EQ(ct_label_ids().label(ca), a);
}

// The same flows and frames through a private ovs-vswitchd: the distinct
// datapath actions of each pass and the labels the pass-2 megaflows match.
TEST_F(CtLabel, SameAsOpenVswitch) {
  std::string why = difftest::OvsInstance::unavailable();
  if (!why.empty()) GTEST_SKIP() << "Open vSwitch differential test skipped: " << why;
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> frames = {
      {udp("192.0.2.1", 5000), "p1"},
      {udp("192.0.2.3", 5001), "p3"},
      {udp("192.0.2.4", 5002), "p4"},
      {udp("192.0.2.1", 5000), "p1"}};
  for (const auto& [f, port] : frames) send(f, port);
  const auto ours = difftest::actions_per_pass(dump_flows(), true);

  difftest::OvsInstance ovs;
  ovs.configure(SwitchConfig::parse(kConfig));
  for (const auto& [f, port] : frames) {
    ovs.appctl("netdev-dummy/receive", {port, difftest::plain_hex(f)});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string dump = ovs.appctl("dpctl/dump-flows", {});
  for (const auto& [n, name] : ovs.dp_names()) {  // numbers -> names, as ours
    const std::regex port("([:,])" + std::to_string(n) + "(,|\n)");
    std::string prev;
    while (prev != dump) prev = dump, dump = std::regex_replace(dump, port, "$1" + name + "$2");
  }
  const auto theirs = difftest::actions_per_pass(dump, true);
  ASSERT_GE(ours.size(), 4u);  // both passes, labelled and not
  EXPECT_EQ(ours, theirs) << dump << "\n--- ours:\n" << dump_flows();
}

}  // namespace conntrack_label_test
}  // namespace flowpath
