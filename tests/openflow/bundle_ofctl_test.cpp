// `ovs-ofctl --bundle` (real ovs-ofctl 3.1) against a private ovs-vswitchd
// and against flowpath (OpenFlowService on punix:), in OpenFlow 1.3, where
// ovs-ofctl sends OVS's ONF bundle extension: add-flows, replace-flows and
// del-flows in a bundle print the same (nothing) and leave the same
// tables; a bundle with one bad flow (check_overlap against a flow of the
// table) fails on both with the same error text and leaves both tables as
// they were; on flowpath, frames follow each committed bundle and not a
// failed one.  Skips when Open vSwitch is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "differential/normal_ovs.hpp"
#include "support/ofctl_sides.hpp"
#include "support/openflow_switch.hpp"
#include "support/packet_builder.hpp"
#include "support/shell.hpp"

namespace dt = flowpath::difftest;
using flowpath::test::shell;

namespace bundle_ofctl_test {

const char* kConfig =
    "add-br br0\nadd-port br0 p1 ofport=1\nadd-port br0 p2 ofport=2\n"
    "add-port br0 p3 ofport=3\nadd-port br0 p4 ofport=4\nset-fail-mode br0 secure\n";

/// A flows file in a temp dir of its own (removed with it).
struct FlowFile : flowpath::test::OfctlFlowFile {
  explicit FlowFile(const std::string& text) : OfctlFlowFile(text, "fp-ofbundle") {}
};

/// ovs-ofctl's output without what differs between two runs (xids,
/// durations, ages, the target's name), lines sorted.
std::string normalized(std::string text, const std::string& target) {
  for (size_t p; (p = text.find(target)) != std::string::npos;) text.replace(p, target.size(), "T");
  text = std::regex_replace(text, std::regex("xid=0x[0-9a-f]+"), "xid");
  text = std::regex_replace(text, std::regex(" duration=[0-9.]+s,"), "");
  text = std::regex_replace(text, std::regex(" (idle|hard)_age=[0-9]+,"), "");
  // OVS shows a rule's flow-mod flags in 1.3 dumps; flowpath keeps none
  // (docs/openflow.md, Limits)
  text = std::regex_replace(text, std::regex(", check_overlap "), ", ");
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

struct Step {
  std::string out;   // what ovs-ofctl printed (normalized)
  int status = 0;    // its exit status
  std::string dump;  // dump-flows afterwards (normalized)
};

/// Runs `cmds` (ovs-ofctl argument strings with T for the target) in order
/// against `target`, each followed by a dump.
std::vector<Step> run(const std::string& target, const std::vector<std::string>& cmds) {
  std::vector<Step> steps;
  for (const std::string& c : cmds) {
    std::string cmd = std::regex_replace(c, std::regex("\\bT\\b"), target);
    auto r = shell("timeout 20 ovs-ofctl " + cmd);
    auto d = shell("timeout 20 ovs-ofctl -O OpenFlow13 dump-flows " + target);
    steps.push_back({normalized(r.out, target), r.status, normalized(d.out, target)});
  }
  return steps;
}

std::vector<uint8_t> frame_to(const char* dst) {
  using namespace flowpath::test;
  return (Eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a")} /
          IPv4{.src = "192.0.2.1", .dst = dst} / UDP{.sport = 1, .dport = 2} / Payload{.n = 18})
      .bytes();
}

class OpenflowBundleOfctl : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = dt::OvsInstance::unavailable();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

const char* kFlows =
    "priority=10,ip,nw_dst=192.0.2.2 actions=output:2\n"
    "priority=10,ip,nw_dst=192.0.2.3 actions=output:3\n"
    "priority=5,ip actions=drop\n"
    "table=1,priority=7,udp,tp_dst=53 actions=mod_vlan_vid:5,output:1\n";
// replaces: .2 goes to port 3 now, .3 goes, a new .4
const char* kReplacement =
    "priority=10,ip,nw_dst=192.0.2.2 actions=output:3\n"
    "priority=10,ip,nw_dst=192.0.2.4 actions=output:1\n"
    "priority=5,ip actions=drop\n";
// the second flow overlaps the table's priority=5,ip flow: the bundle fails
const char* kBad =
    "priority=20,ip,nw_dst=192.0.2.9 actions=output:1\n"
    "check_overlap,priority=5,ip,nw_src=192.0.2.1 actions=output:2\n"
    "priority=20,ip,nw_dst=192.0.2.8 actions=output:1\n";

// The second flow overlaps the first, added by the same bundle: OVS checks
// against the table as the commit found it, so this one commits.
const char* kOverlapInside =
    "priority=40,tcp actions=output:1\n"
    "check_overlap,priority=40,tcp,tp_dst=80 actions=output:2\n";
// `ovs-ofctl bundle`: a delete, then a check_overlap add against the
// deleted flow: no overlap for OVS (the flow is gone), so it commits.
const char* kDeleteThenOverlap =
    "flow delete_strict priority=5,ip\n"
    "flow add check_overlap,priority=5,ip,nw_src=192.0.2.1 actions=output:2\n";

TEST_F(OpenflowBundleOfctl, SameOutputAndTablesAsOvs) {
  FlowFile flows(kFlows), repl(kReplacement), bad(kBad), inside(kOverlapInside),
      del_overlap(kDeleteThenOverlap);
  const std::vector<std::string> cmds = {
      "-O OpenFlow13 --bundle add-flows T " + flows.path(),
      "-O OpenFlow13 --bundle add-flows T " + bad.path(),       // fails: unchanged
      "-O OpenFlow13 bundle T " + del_overlap.path(),           // commits
      "-O OpenFlow13 --bundle add-flows T " + inside.path(),    // commits
      "-O OpenFlow13 --bundle replace-flows T " + repl.path(),  // delete-strict + add
      "-O OpenFlow13 --bundle add-flow T priority=30,arp,actions=NORMAL",
      "-O OpenFlow13 --bundle mod-flows T priority=30,arp,actions=drop",
      "-O OpenFlow13 --bundle del-flows T --strict priority=30,arp",
      "-O OpenFlow13 --bundle del-flows T ip,nw_dst=192.0.2.4",
      "-O OpenFlow13 --bundle del-flows T",
  };
  std::vector<Step> ovs, fp;
  {
    dt::OvsInstance o;
    o.configure(flowpath::SwitchConfig::parse(kConfig));
    o.vsctl("set bridge br0 fail-mode=secure");
    ovs = run("unix:" + o.dir() + "/br0.mgmt", cmds);
  }
  {
    flowpath::test::OpenFlowSwitch f(kConfig, "fp-ofbundle");
    fp = run(f.target(), cmds);
  }
  ASSERT_EQ(ovs.size(), fp.size());
  for (size_t i = 0; i < ovs.size(); ++i) {
    SCOPED_TRACE(cmds[i]);
    EXPECT_EQ(fp[i].status, ovs[i].status);
    EXPECT_EQ(fp[i].out, ovs[i].out);
    EXPECT_EQ(fp[i].dump, ovs[i].dump);
  }
  // the failing bundle: an error on both, naming the flow and the commit
  EXPECT_NE(ovs[1].status, 0);
  EXPECT_NE(ovs[1].out.find("Error OFPFMFC_OVERLAP for: OFPT_FLOW_MOD"), std::string::npos)
      << ovs[1].out;
  EXPECT_NE(ovs[1].out.find("Error OFPBFC_MSG_FAILED for: ONFT_BUNDLE_CONTROL"), std::string::npos)
      << ovs[1].out;
  EXPECT_EQ(ovs[1].dump, ovs[0].dump);  // unchanged
  EXPECT_EQ(ovs[2].status, 0);
  EXPECT_NE(ovs[2].dump.find("priority=5,ip,nw_src=192.0.2.1 actions=output:2"), std::string::npos)
      << ovs[2].dump;
  EXPECT_EQ(ovs[2].dump.find("priority=5,ip actions=drop"), std::string::npos) << ovs[2].dump;
  EXPECT_EQ(ovs[3].status, 0);
  EXPECT_NE(ovs[3].dump.find("tp_dst=80"), std::string::npos) << ovs[3].dump;
  EXPECT_NE(ovs[0].dump.find("nw_dst=192.0.2.3"), std::string::npos) << ovs[0].dump;
}

// Forwarding follows each commit (the commit reply comes after the
// barrier's guarantee) and not a failed bundle; after the reply of the
// commit, a frame takes the new flows.
TEST_F(OpenflowBundleOfctl, ForwardingFollowsTheCommit) {
  FlowFile flows(kFlows), repl(kReplacement), bad(kBad);
  flowpath::test::OpenFlowSwitch f(kConfig, "fp-ofbundlefw");
  auto where = [&](const char* dst) {
    size_t before[3], after[3];
    const char* names[3] = {"p1", "p2", "p3"};
    for (int i = 0; i < 3; ++i) before[i] = f.sw().port(names[i])->memory()->sent().size();
    f.sw().port("p4")->memory()->inject(frame_to(dst));
    f.sw().poll_once();
    std::string out;
    for (int i = 0; i < 3; ++i) {
      after[i] = f.sw().port(names[i])->memory()->sent().size() - before[i];
      if (after[i]) out += std::string(names[i]) + "x" + std::to_string(after[i]);
    }
    return out.empty() ? std::string("drop") : out;
  };
  auto ofctl = [&](const std::string& args) {
    return shell("timeout 20 ovs-ofctl -O OpenFlow13 --bundle " + args);
  };
  EXPECT_EQ(where("192.0.2.2"), "drop");
  ASSERT_TRUE(ofctl("add-flows " + f.target() + " " + flows.path()).ok());
  EXPECT_EQ(where("192.0.2.2"), "p2x1");
  EXPECT_EQ(where("192.0.2.3"), "p3x1");
  EXPECT_FALSE(ofctl("add-flows " + f.target() + " " + bad.path()).ok());
  EXPECT_EQ(where("192.0.2.9"), "drop");  // its first flow did not stay
  EXPECT_EQ(where("192.0.2.3"), "p3x1");
  ASSERT_TRUE(ofctl("replace-flows " + f.target() + " " + repl.path()).ok());
  EXPECT_EQ(where("192.0.2.2"), "p3x1");
  EXPECT_EQ(where("192.0.2.3"), "drop");
  EXPECT_EQ(where("192.0.2.4"), "p1x1");
  ASSERT_TRUE(ofctl("del-flows " + f.target()).ok());
  EXPECT_EQ(where("192.0.2.4"), "drop");
}

}  // namespace bundle_ofctl_test
