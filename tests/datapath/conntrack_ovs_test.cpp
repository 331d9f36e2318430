// Differential: Neutron's firewall flows on flowpath's Datapath and on a
// private ovs-vswitchd 3.1 (dummy datapath, netdev-dummy/receive), the same
// frames in the same order.  Compared: the datapath actions of every
// megaflow of both passes (recirc ids normalised, ports by name) and
// dpctl/dump-conntrack.  Skips when Open vSwitch is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include "differential/dp_dump.hpp"
#include "differential/normal_ovs.hpp"
#include "flowpath/conntrack/dpctl.hpp"
#include "support/neutron_firewall.hpp"

namespace flowpath {
namespace conntrack_ovs_test {

using namespace flowpath::test::neutron;

TEST(ConntrackOvs, NeutronFlowsSameDatapathActionsAndConnections) {
  std::string why = difftest::OvsInstance::unavailable();
  if (!why.empty()) GTEST_SKIP() << "Open vSwitch differential test skipped: " << why;
  const SwitchConfig cfg = test::neutron::config();
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> frames = {
      {from_vm("192.0.2.30", 40000, 8080, kSyn, 1, 0), "vm"},
      {to_vm("192.0.2.30", 8080, 40000, kSynAck, 500, 2), "up"},
      {from_vm("192.0.2.30", 40000, 8080, kAck, 2, 501), "vm"},
      {to_vm("198.51.100.7", 50000, 22, kSyn, 1, 0), "up"},
      {to_vm("198.51.100.7", 50001, 8080, kSyn, 1, 0), "up"},
      {to_vm("192.0.2.20", 50002, 80, kSyn, 1, 0), "up"},
      {to_vm("192.0.2.21", 50003, 80, kSyn, 1, 0), "up"},
  };

  // flowpath.
  Switch sw;
  for (const auto& [f, port] : frames) sw.send(f, port);
  const auto ours = difftest::actions_per_pass(
      sw.dp.dpctl_dump_flows([&](uint32_t n) { return sw.of.dp_port_name(n); }));
  const std::string our_ct = ct::dpctl_dump_conntrack(sw.dp.conntrack(), 0, {});

  ASSERT_EQ(ours.size(), 7u);

  // Open vSwitch.
  difftest::OvsInstance ovs;
  ovs.configure(cfg);
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
  const auto theirs = difftest::actions_per_pass(dump);
  const std::string their_ct = ovs.appctl("dpctl/dump-conntrack", {});

  EXPECT_EQ(ours, theirs);
  // OVS prints in hash order; ours sorted.
  auto lines = [](const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(lines(our_ct), lines(their_ct));
}

}  // namespace conntrack_ovs_test
}  // namespace flowpath
