// OpenFlow 1.4 against a private ovs-vswitchd (real ovs-ofctl 3.1 as the
// client of both): negotiation for several offered version lists; with
// `-O OpenFlow14` show / dump-ports / dump-ports-desc / dump-flows /
// dump-aggregate / dump-tables / add-flow / del-flows print the same
// (after normalising durations, datapath ids, MACs); `--bundle` without
// `-O` (ovs-ofctl then offers 1.4 only and sends the standard
// OFPT_BUNDLE_CONTROL / OFPT_BUNDLE_ADD_MESSAGE) gives the same status,
// output and table, also for a bundle with one bad flow; `monitor` over
// 1.4 prints the same port-status, flow-removed and packet-ins.  Skips
// when Open vSwitch is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "differential/normal_ovs.hpp"
#include "support/ofctl_monitor.hpp"
#include "support/ofctl_sides.hpp"
#include "support/openflow_switch.hpp"
#include "support/packet_builder.hpp"
#include "support/shell.hpp"

namespace of14_ofctl_test {

namespace dt = flowpath::difftest;
using flowpath::test::hexstr;
using flowpath::test::shell;
using flowpath::test::shell_output;

const char* kConfig =
    "add-br br0\nadd-port br0 p1 ofport=1\nadd-port br0 p2 ofport=2\n"
    "add-port br0 p3 ofport=3\nset-fail-mode br0 secure\n";

std::vector<uint8_t> udp_frame() {
  using namespace flowpath::test;
  return (Eth{mac("02:00:00:00:00:bb"), mac("02:00:00:00:00:aa")} /
          IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 1, .dport = 2} /
          Payload{.n = 18})
      .bytes();
}

using Side = flowpath::test::OfctlSide;
struct FlowpathSide : flowpath::test::FlowpathOfctlSide {
  FlowpathSide() : FlowpathOfctlSide(kConfig, "fp-of14") {}
};
struct OvsSide : flowpath::test::OvsOfctlSide {
  OvsSide() : OvsOfctlSide(kConfig) {}
};

/// ovs-ofctl's output without what differs between two switches or runs:
/// the target's name, xids, durations and ages, datapath ids, MACs; lines
/// sorted (same-time messages may come in either order).  And what differs
/// by the switches' ports and features, not by the protocol (docs/openflow.md,
/// OpenFlow 1.4): OVS's dummy ports are LIVE, report "?" (all-ones) for the
/// counters they lack and add custom statistics (their state lines are
/// dropped: port state is tested on real devices in
/// port_state_ofctl_test.cpp); flowpath has no group or queue stats.
std::string normalized(std::string text, const std::string& target) {
  for (size_t p; (p = text.find(target)) != std::string::npos;) text.replace(p, target.size(), "T");
  text = std::regex_replace(text, std::regex("xid=0x[0-9a-f]+"), "xid");
  text = std::regex_replace(text, std::regex(" ?duration=?[0-9.]+s,?"), "");
  text = std::regex_replace(text, std::regex(" (idle|hard)_age=[0-9]+,"), "");
  text = std::regex_replace(text, std::regex("dpid:[0-9a-f]+"), "dpid:*");
  text = std::regex_replace(text, std::regex("addr:[0-9a-f:]+"), "addr:*");
  text = std::regex_replace(text, std::regex(", check_overlap "), ", ");
  text = std::regex_replace(text, std::regex(" GROUP_STATS QUEUE_STATS"), "");
  text = std::regex_replace(text, std::regex("=\\?"), "=0");
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (l.find("|fatal_signal|") != std::string::npos || l == "END") continue;
    if (l.rfind("     state:", 0) == 0 || l.find("CUSTOM Statistics") != std::string::npos ||
        l.rfind("                      ", 0) == 0)
      continue;  // port state; OVS's custom counters
    lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

struct Step {
  std::string out;
  int status = 0;
};

/// Runs each ovs-ofctl argument string (T = the target) against `s`.
std::vector<Step> run(Side& s, const std::vector<std::string>& cmds) {
  std::vector<Step> steps;
  for (const std::string& c : cmds) {
    std::string cmd = std::regex_replace(c, std::regex("\\bT\\b"), s.target());
    auto r = shell("timeout 20 ovs-ofctl " + cmd + " 2>&1");
    steps.push_back({normalized(r.out, s.target()), r.status});
  }
  return steps;
}

/// A flows file in a temp dir of its own (removed with it).
struct FlowFile : flowpath::test::OfctlFlowFile {
  explicit FlowFile(const std::string& text) : OfctlFlowFile(text, "fp-of14flows") {}
};

void compare(const std::vector<std::string>& cmds) {
  std::vector<Step> ovs, fp;
  {
    OvsSide o;
    ovs = run(o, cmds);
  }
  {
    FlowpathSide f;
    fp = run(f, cmds);
  }
  ASSERT_EQ(ovs.size(), fp.size());
  for (size_t i = 0; i < ovs.size(); ++i) {
    SCOPED_TRACE(cmds[i]);
    EXPECT_EQ(fp[i].status, ovs[i].status);
    EXPECT_EQ(fp[i].out, ovs[i].out) << "flowpath:\n" << fp[i].out << "OVS:\n" << ovs[i].out;
  }
}

class OpenflowOf14 : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = dt::OvsInstance::unavailable();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(OpenflowOf14, NegotiationAsOvs) {
  // `show` prints the negotiated version in "OFPT_FEATURES_REPLY (OF1.x)"
  const std::vector<std::string> cmds = {
      "-O OpenFlow10,OpenFlow13,OpenFlow14 show T | grep FEATURES_REPLY",
      "-O OpenFlow13,OpenFlow14 show T | grep FEATURES_REPLY",
      "-O OpenFlow14 show T | grep FEATURES_REPLY",
      "-O OpenFlow10,OpenFlow13 show T | grep FEATURES_REPLY",
      "-O OpenFlow10,OpenFlow14 show T | grep FEATURES_REPLY",
  };
  compare(cmds);
}

TEST_F(OpenflowOf14, CommandsPrintAsOvs) {
  const std::vector<std::string> cmds = {
      "-O OpenFlow14 show T",
      "-O OpenFlow14 dump-ports-desc T",
      "-O OpenFlow14 dump-ports T",
      "-O OpenFlow14 dump-ports T 2",
      "-O OpenFlow14 add-flow T 'priority=10,ip,nw_dst=192.0.2.2,actions=output:2'",
      "-O OpenFlow14 add-flow T "
      "'table=1,priority=7,cookie=0x12,udp,tp_dst=53,idle_timeout=60,actions=mod_vlan_vid:5,"
      "output:1'",
      "-O OpenFlow14 add-flow T 'priority=3,in_port=2,actions=goto_table:1'",
      "-O OpenFlow14 add-flow T 'check_overlap,priority=10,ip,nw_dst=192.0.2.2,actions=drop'",
      // an overlap: the error in 1.4 ("OFPT_ERROR (OF1.4)")
      "-O OpenFlow14 add-flow T 'check_overlap,priority=10,ip,actions=drop'",
      "-O OpenFlow14 add-flow T 'priority=4,reg3=0x5,actions=load:0x7->NXM_NX_REG4[]'",
      "-O OpenFlow14 dump-flows T",
      "-O OpenFlow14 dump-flows T table=1",
      "-O OpenFlow14 dump-aggregate T",
      "-O OpenFlow14 dump-aggregate T ip",
      "-O OpenFlow14 dump-tables T | head -40",
      "-O OpenFlow14 mod-flows T 'ip,actions=output:3'",
      "-O OpenFlow14 del-flows T --strict 'priority=3,in_port=2'",
      "-O OpenFlow14 dump-flows T",
      "-O OpenFlow14 del-flows T udp",
      "-O OpenFlow14 dump-flows T",
      "-O OpenFlow14 del-flows T",
      "-O OpenFlow14 dump-flows T",
      "-O OpenFlow14 get-frags T",
      "-O OpenFlow14 probe T",
  };
  compare(cmds);
}

const char* kFlows =
    "priority=10,ip,nw_dst=192.0.2.2 actions=output:2\n"
    "priority=10,ip,nw_dst=192.0.2.3 actions=output:3\n"
    "priority=5,ip actions=drop\n"
    "table=1,priority=7,udp,tp_dst=53 actions=mod_vlan_vid:5,output:1\n";
const char* kReplacement =
    "priority=10,ip,nw_dst=192.0.2.2 actions=output:3\n"
    "priority=10,ip,nw_dst=192.0.2.4 actions=output:1\n"
    "priority=5,ip actions=drop\n";
const char* kBad =
    "priority=20,ip,nw_dst=192.0.2.9 actions=output:1\n"
    "check_overlap,priority=5,ip,nw_src=192.0.2.1 actions=output:2\n"
    "priority=20,ip,nw_dst=192.0.2.8 actions=output:1\n";

// importance (1.4 flow-mods): kept on the rule, `importance=N` in 1.4
// dumps, not in 1.3's; a modify keeps it (OVS too).
TEST_F(OpenflowOf14, ImportanceKeptAndDumpedAsOvs) {
  const std::vector<std::string> cmds = {
      "-O OpenFlow14 add-flow T priority=5,importance=7,udp,actions=drop",
      "-O OpenFlow14 add-flow T priority=6,tcp,actions=drop",
      "-O OpenFlow14 --bundle add-flow T priority=8,importance=3,icmp,actions=drop",
      "-O OpenFlow14 dump-flows T",
      "-O OpenFlow13 dump-flows T",
      "-O OpenFlow14 mod-flows T udp,actions=output:2",
      "-O OpenFlow14 dump-flows T"};
  std::vector<Step> ovs, fp;
  {
    OvsSide o;
    ovs = run(o, cmds);
  }
  {
    FlowpathSide f;
    fp = run(f, cmds);
  }
  // the control: what OVS prints
  EXPECT_NE(ovs[3].out.find("importance=7"), std::string::npos) << ovs[3].out;
  EXPECT_NE(ovs[3].out.find("importance=3"), std::string::npos) << ovs[3].out;
  EXPECT_EQ(ovs[4].out.find("importance"), std::string::npos) << ovs[4].out;
  EXPECT_NE(ovs[6].out.find("importance=7"), std::string::npos) << ovs[6].out;
  for (size_t i = 0; i < cmds.size(); ++i) {
    SCOPED_TRACE(cmds[i]);
    EXPECT_EQ(fp[i].status, ovs[i].status);
    EXPECT_EQ(fp[i].out, ovs[i].out) << "flowpath:\n" << fp[i].out << "OVS:\n" << ovs[i].out;
  }
}

TEST_F(OpenflowOf14, BundlesWithoutDashOAsOvs) {
  FlowFile flows(kFlows), repl(kReplacement), bad(kBad);
  const std::string dump = "-O OpenFlow14 dump-flows T";
  const std::vector<std::string> cmds = {
      "--bundle add-flows T " + flows.path(),
      dump,
      "--bundle add-flows T " + bad.path(),  // fails: unchanged
      dump,
      "--bundle replace-flows T " + repl.path(),
      dump,
      "--bundle add-flow T priority=30,arp,actions=NORMAL",
      "--bundle del-flows T --strict priority=30,arp",
      dump,
      "--bundle del-flows T",
      dump,
  };
  compare(cmds);
}

std::string monitor_script(Side& s) {
  std::string t = s.target();
  const std::string ofctl = "ovs-ofctl -O OpenFlow14 ";
  return flowpath::test::ofctl_monitored(t, "-O OpenFlow14 -P standard", 65534, 5, [&] {
    s.inject("p1", udp_frame());  // no flows: no packet-in from 1.3 on
    shell_output(ofctl + "add-flow " + t + " 'priority=0,cookie=0x5 actions=CONTROLLER:40'");
    s.settle();
    s.inject("p1", udp_frame());  // the table-miss flow
    shell_output(ofctl + "add-flow " + t +
                 " 'table=0,priority=7,udp,in_port=2,cookie=0x6 actions=goto_table:3'");
    shell_output(ofctl + "add-flow " + t + " 'table=3,priority=1,cookie=0x7 actions=CONTROLLER'");
    s.settle();
    s.inject("p2", udp_frame());  // via action, from table 3
    shell_output(ofctl + "packet-out " + t + " 2 CONTROLLER:64 " + hexstr(udp_frame()));
    s.add_port("p4", 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    s.del_port("p4");
    shell_output(ofctl + "add-flow " + t +
                 " 'priority=12,arp,hard_timeout=1,cookie=0x9,send_flow_rem actions=drop'");
    shell_output(ofctl + "add-flow " + t +
                 " 'priority=11,icmp,cookie=0x9,send_flow_rem actions=drop'");
    shell_output(ofctl + "del-flows " + t + " icmp");
  });
}

/// The monitor's printout: port feature lines (MACs, speeds of dummy vs
/// memory ports) dropped, durations normalised, sorted.  OVS's dummy port
/// turns LIVE after it is added (ADD, then a MOD for the state bit);
/// flowpath's memory port is LIVE from its ADD on, so MOD lines are
/// dropped.
std::string monitor_normalized(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("     ", 0) == 0 || l == "END" || l.find("|fatal_signal|") != std::string::npos)
      continue;
    if (l.find("OFPT_PORT_STATUS (OF1.4) (xid=0x0): MOD:") != std::string::npos) continue;
    l = std::regex_replace(l, std::regex("duration[0-9.]+s"), "duration*");
    l = std::regex_replace(l, std::regex("addr:[0-9a-f:]+"), "addr:*");
    lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

TEST_F(OpenflowOf14, MonitorPrintsAsOvs) {
  std::string ovs, fp;
  {
    OvsSide o;
    ovs = monitor_script(o);
  }
  {
    FlowpathSide f;
    fp = monitor_script(f);
  }
  EXPECT_NE(ovs.find("OFPT_PORT_STATUS (OF1.4)"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("reason=hard"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("reason=delete"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("OFPT_PACKET_IN (OF1.4)"), std::string::npos) << ovs;
  EXPECT_EQ(monitor_normalized(fp), monitor_normalized(ovs)) << "flowpath:\n"
                                                             << fp << "\nOVS:\n"
                                                             << ovs;
}

}  // namespace of14_ofctl_test
