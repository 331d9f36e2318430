// Packet-outs whose actions contain ct(), or lead to a table with ct():
// as in OVS, the packet goes through the switch's connection tracker, and
// after ct(table=T) it continues in table T with its ct_state (the
// datapath's recirculation), under OfprotoBackend::packet_out.  A
// recirculated pass that sends to the controller makes a packet-in, as in
// OVS: checked over the OpenFlow channel against a private ovs-vswitchd,
// both watched by `ovs-ofctl monitor`.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <thread>

#include "differential/normal_ovs.hpp"
#include "flowpath/switch/openflow_backend.hpp"
#include "flowpath/switch/openflow_service.hpp"
#include "support/packet_builder.hpp"
#include "support/shell.hpp"

namespace flowpath {
namespace packet_out_ct_test {

using namespace flowpath::test;

// Table 1: a new connection is committed in zone 3 and sent to p2; an
// established one goes to p3 (so the two passes are told apart).
constexpr const char* kConf = R"(
add-br br0
add-port br0 p1 ofport=1
add-port br0 p2 ofport=2
add-port br0 p3 ofport=3
add-flow br0 table=0,priority=10,ip,in_port=1 actions=load:3->NXM_NX_REG6[],ct(table=1,zone=NXM_NX_REG6[0..15])
add-flow br0 table=1,priority=10,ct_state=+new+trk,udp actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x7->ct_mark)),output:2
add-flow br0 table=1,priority=10,ct_state=+est+trk,ct_mark=0x7,udp actions=output:3
)";

// A request 192.0.2.1:sport -> 192.0.2.2:53, or its reply.
std::vector<uint8_t> udp(uint16_t sport, bool reply = false) {
  const char* a = "192.0.2.1";
  const char* b = "192.0.2.2";
  return (Eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a")} /
          IPv4{.src = reply ? b : a, .dst = reply ? a : b} /
          UDP{.sport = reply ? uint16_t(53) : sport, .dport = reply ? sport : uint16_t(53)} /
          Payload{.n = 18})
      .bytes();
}

class PacketOutCt : public ::testing::Test {
 protected:
  PacketOutCt() : sw_(SwitchConfig::parse(kConf), opts()), be_(sw_.ofproto(), "br0", &sw_) {}
  static Switch::Options opts() {
    Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    return o;
  }
  void packet_out(const std::string& actions, uint16_t sport, bool reply = false) {
    openflow::PacketOut po;
    po.in_port = 1;
    po.actions = parse_actions(actions);
    po.data = udp(sport, reply);
    EXPECT_EQ(be_.packet_out(po), std::nullopt) << actions;
  }
  size_t sent(const char* port) { return sw_.port(port)->memory()->sent().size(); }
  size_t conns(uint16_t zone) {
    return sw_.conntrack().dump(sw_.ofproto().clock()->now_ms(), zone).size();
  }

  Switch sw_;
  OfprotoBackend be_;
};

TEST_F(PacketOutCt, CtInTheActionsCommits) {
  packet_out("output:2", 1000);  // control: no ct(), no connection
  EXPECT_EQ(sent("p2"), 1u);
  EXPECT_EQ(conns(4), 0u);
  packet_out("ct(commit,zone=4),output:2", 1000);
  EXPECT_EQ(sent("p2"), 2u);
  EXPECT_EQ(conns(4), 1u);
}

TEST_F(PacketOutCt, CtTableContinuesInTheTable) {
  // reg6 (table 1's commit zone) survives the recirculation.
  const std::string acts = "load:3->NXM_NX_REG6[],ct(table=1,zone=3)";
  packet_out(acts, 2000);  // new: committed, to p2
  EXPECT_EQ(sent("p2"), 1u);
  EXPECT_EQ(sent("p3"), 0u);
  ASSERT_EQ(conns(3), 1u);
  EXPECT_EQ(sw_.conntrack().dump(sw_.ofproto().clock()->now_ms(), uint16_t{3})[0].mark, 7u);
  packet_out(acts, 2000, /*reply=*/true);  // established (mark 7): to p3
  EXPECT_EQ(sent("p2"), 1u);
  EXPECT_EQ(sent("p3"), 1u);
}

TEST_F(PacketOutCt, TableActionReachesTheCtFlows) {
  // output:TABLE runs table 0, whose flow does ct(table=1): two passes.
  packet_out("output:TABLE", 3000);  // in_port=1: table 0's ct flow
  EXPECT_EQ(sent("p2"), 1u);
  EXPECT_EQ(conns(3), 1u);
  packet_out("resubmit(,0)", 3000, /*reply=*/true);
  EXPECT_EQ(sent("p3"), 1u);
}

// ---- packet-ins from recirculated passes, against Open vSwitch ----------

// Table 0 (reached by resubmit) and the packet-outs' own ct() recirculate
// into table 1, which sends to the controller: only the passes after the
// recirculation make packet-ins: the SNAT'ed frame (new source address
// and port, checksums updated) in the first, the untouched one in the
// second, the DNAT'ed one (the last of two nats) in the third.
constexpr const char* kChannelConf =
    "add-br br0\nadd-port br0 p1 ofport=1\nadd-port br0 p2 ofport=2\n"
    "set-fail-mode br0 secure\n";
const char* const kChannelFlows[] = {
    "table=0,priority=10,udp,in_port=1,actions=ct(zone=6,table=1)",
    "table=1,priority=10,ct_state=+new+trk,udp,actions=CONTROLLER:128",
    "table=1,priority=5,ct_state=+trk,udp,actions=output:2",
};

std::string hexstr(const std::vector<uint8_t>& b) {
  std::string s = test::hex(b);
  std::erase(s, ' ');
  return s;
}
void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

/// A switch with an OpenFlow endpoint: flowpath's or a private OVS.
struct Endpoint {
  virtual ~Endpoint() = default;
  virtual std::string target() = 0;
};

struct FlowpathEndpoint : Endpoint {
  FlowpathEndpoint() {
    dir = "/tmp/fp-poct-" + std::to_string(getpid());
    mkdir(dir.c_str(), 0700);
    setenv("OVS_RUNDIR", dir.c_str(), 1);  // ovs-ofctl monitor's own control socket
    cfg = SwitchConfig::parse(std::string(kChannelConf) + "set-controller br0 punix:" + dir +
                              "/br0.mgmt\n");
    Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    sw = std::make_unique<Switch>(cfg, o);
    svc = std::make_unique<OpenFlowService>(*sw, cfg);
    thread = std::thread([this] { svc->run(stop, 10); });
  }
  ~FlowpathEndpoint() override {
    stop = true;
    thread.join();
    svc.reset();
    sw.reset();
    unlink((dir + "/br0.mgmt").c_str());
    rmdir(dir.c_str());
  }
  std::string target() override { return "unix:" + dir + "/br0.mgmt"; }
  std::string dir;
  SwitchConfig cfg;
  std::unique_ptr<Switch> sw;
  std::unique_ptr<OpenFlowService> svc;
  std::atomic<bool> stop{false};
  std::thread thread;
};

struct OvsEndpoint : Endpoint {
  OvsEndpoint() {
    ovs.configure(SwitchConfig::parse(kChannelConf));
    ovs.vsctl("set bridge br0 fail-mode=secure");
    test::shell_output("ovs-ofctl del-flows " + target());
  }
  std::string target() override { return "unix:" + ovs.dir() + "/br0.mgmt"; }
  difftest::OvsInstance ovs;
};

/// What `ovs-ofctl -P standard monitor` prints while the flows are added
/// and three packet-outs run (one with ct(table=1,nat) in its actions, one
/// that resubmits to table 0's ct(), one with two nats); the packet-ins
/// only, in order.
std::string packet_ins(Endpoint& e) {
  const std::string t = e.target();
  for (const char* f : kChannelFlows)
    test::shell_output("ovs-ofctl add-flow " + t + " '" + f + "'");
  char tmpl[] = "/tmp/fp-poct-mon-XXXXXX";
  close(mkstemp(tmpl));
  const std::string file = tmpl;
  std::system(
      ("(timeout 3 ovs-ofctl -P standard monitor " + t + " 65534 2>&1; echo END) >" + file + " &")
          .c_str());
  sleep_ms(700);  // connected, miss_send_len set
  const std::string frame = hexstr(udp(4000));
  test::shell_output("ovs-ofctl packet-out " + t +
                     " 1 'ct(commit,zone=5,nat(src=203.0.113.7:6000),table=1)' " + frame);
  test::shell_output("ovs-ofctl packet-out " + t + " 1 'resubmit(,0)' " + hexstr(udp(4001)));
  // Two nats in one ct(): the last one (DNAT) is what runs.
  test::shell_output(
      "ovs-ofctl packet-out " + t +
      " 1 'ct(commit,zone=5,nat(src=203.0.113.8),nat(dst=198.51.100.4:99),table=1)' " +
      hexstr(udp(4002)));
  std::string out;
  for (int i = 0; i < 100 && out.find("END") == std::string::npos; ++i) {
    sleep_ms(50);
    out = test::shell_output("cat " + file);
  }
  unlink(file.c_str());
  std::vector<std::string> lines;
  std::istringstream in(out);
  bool keep = false;
  for (std::string l; std::getline(in, l);) {
    if (l.find("OFPT_") != std::string::npos) keep = l.find("OFPT_PACKET_IN") != std::string::npos;
    if (keep && l != "END" && l.find("|fatal_signal|") == std::string::npos) lines.push_back(l);
  }
  std::string s;
  for (auto& l : lines) s += l + "\n";
  return s;
}

TEST(PacketOutCtChannel, RecirculatedPassesSendPacketInsAsOvs) {
  const std::string why = difftest::OvsInstance::unavailable();
  if (!why.empty()) GTEST_SKIP() << "Open vSwitch differential test skipped: " << why;
  std::string ours, theirs;
  {
    FlowpathEndpoint fp;
    ours = packet_ins(fp);
  }
  {
    OvsEndpoint ovs;
    theirs = packet_ins(ovs);
  }
  // Three packet-ins, the first SNAT'ed, the last DNAT'ed: a control that
  // the test can fail.
  EXPECT_NE(theirs.find("nw_src=203.0.113.7"), std::string::npos) << theirs;
  EXPECT_NE(theirs.find("nw_dst=198.51.100.4"), std::string::npos) << theirs;
  EXPECT_EQ(std::count(theirs.begin(), theirs.end(), '\n'), 6) << theirs;
  EXPECT_EQ(ours, theirs);
}

}  // namespace packet_out_ct_test
}  // namespace flowpath
