// Neutron's openvswitch firewall flows (tests/flow/data/neutron_ovsfw.txt:
// 72 flows with registers, ct_state/ct_zone/ct_mark matches, ct() with a
// zone from NXM_NX_REG6 and nested set_field:->ct_mark, ct_clear,
// conjunction and conj_id) loaded with the real `ovs-ofctl add-flows`
// into a private ovs-vswitchd and into flowpath (OpenFlowService on a
// thread), each over its punix: target, in ovs-ofctl's default mode and
// with -O OpenFlow13; `ovs-ofctl dump-flows` must print the same lines on
// both (durations and ages left out, lines sorted as the table order of a
// dump is each switch's own).  Skips when Open vSwitch is not installed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "differential/normal_ovs.hpp"
#include "flowpath/switch/openflow_service.hpp"
#include "support/openflow_switch.hpp"
#include "support/shell.hpp"

namespace dt = flowpath::difftest;

namespace neutron_dump_test {

const char* kConfig =
    "add-br br0\nadd-port br0 p2 ofport=2\nadd-port br0 p5 ofport=5\nset-fail-mode br0 secure\n";

std::string flows_file() {
  return std::string(FLOWPATH_SOURCE_DIR) + "/tests/flow/data/neutron_ovsfw.txt";
}

/// `ovs-ofctl OPTS add-flows` of the Neutron flows, then `dump-flows`
/// (with DUMP_OPTS when given).
std::string load_and_dump(const std::string& target, const std::string& opts,
                          const std::string& dump_opts) {
  using flowpath::test::shell;
  auto del = shell("timeout 20 ovs-ofctl " + opts + " del-flows " + target);
  EXPECT_EQ(del.status, 0) << del.out;
  auto add = shell("timeout 20 ovs-ofctl " + opts + " add-flows " + target + " " + flows_file());
  EXPECT_EQ(add.status, 0) << add.out;
  return shell("timeout 20 ovs-ofctl " + dump_opts + " dump-flows " + target).out;
}

/// The dump without what legitimately differs (durations, ages, the xid
/// of the reply), its lines sorted.
std::vector<std::string> normalized(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    l = std::regex_replace(l, std::regex(" duration=[0-9.]+s,"), "");
    l = std::regex_replace(l, std::regex(" (idle|hard)_age=[0-9]+,"), "");
    l = std::regex_replace(l, std::regex("\\(xid=0x[0-9a-f]+\\)"), "(xid)");
    lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

/// Flows in the file (lines that are not comments).
size_t flows_in_file() {
  std::ifstream in(flows_file());
  size_t n = 0;
  for (std::string l; std::getline(in, l);) n += !l.empty() && l[0] != '#';
  return n;
}

size_t count_flows(const std::vector<std::string>& lines) {
  return size_t(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("actions=") != std::string::npos;
  }));
}

void compare(const std::string& opts, const std::string& dump_opts,
             bool drop_reset_counts = false) {
  std::string why = dt::OvsInstance::unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  std::vector<std::string> ovs, fp;
  {
    dt::OvsInstance o;
    o.configure(flowpath::SwitchConfig::parse(kConfig));
    o.vsctl("set bridge br0 fail-mode=secure");
    ovs = normalized(load_and_dump("unix:" + o.dir() + "/br0.mgmt", opts, dump_opts));
  }
  {
    flowpath::test::OpenFlowSwitch f(kConfig, "fp-ofneutron");
    fp = normalized(load_and_dump(f.target(), opts, dump_opts));
  }
  if (drop_reset_counts) {
    for (auto& l : ovs) l = std::regex_replace(l, std::regex(" reset_counts"), "");
    std::sort(ovs.begin(), ovs.end());
  }
  EXPECT_EQ(count_flows(ovs), flows_in_file());  // every flow of the file loaded into OVS
  EXPECT_GT(flows_in_file(), 70u);
  ASSERT_EQ(fp.size(), ovs.size());
  for (size_t i = 0; i < ovs.size(); ++i) EXPECT_EQ(fp[i], ovs[i]);
}


TEST(OpenflowNeutronDump, DefaultModeDumpsAsOvs) { compare("", ""); }

TEST(OpenflowNeutronDump, OpenFlow13DumpsAsOvs) { compare("-O OpenFlow13", "-O OpenFlow13"); }

// Added in one version, dumped in the other: a set_field that went as
// NXAST_REG_LOAD in 1.0 dumps as `load:` in 1.3 too (OVS keeps the raw
// form).  Known gap, left out here: OVS marks a flow added over 1.0 with
// `reset_counts` (shown in 1.3 dumps); flowpath's switch backend keeps no
// per-rule flow-mod flags (switch/openflow_backend.hpp, not this codec).
TEST(OpenflowNeutronDump, CrossVersionDumpsAsOvs) {
  compare("", "-O OpenFlow13", /*drop_reset_counts=*/true);
  compare("-O OpenFlow13", "");
}

}  // namespace neutron_dump_test
