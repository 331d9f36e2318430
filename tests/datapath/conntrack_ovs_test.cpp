// Differential: Neutron's firewall flows on flowpath's Datapath and on a
// private ovs-vswitchd 3.1 (dummy datapath, netdev-dummy/receive), the same
// frames in the same order.  Compared: the datapath actions of every
// megaflow of both passes (recirc ids normalised, ports by name) and
// dpctl/dump-conntrack.  Skips when Open vSwitch is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "differential/normal_ovs.hpp"
#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/conntrack/dpctl.hpp"
#include "flowpath/datapath/datapath.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace {

using namespace flowpath::test;

constexpr const char* kVmMac = "fa:16:3e:11:22:33";
constexpr const char* kPeerMac = "fa:16:3e:44:55:66";
constexpr const char* kVm = "192.0.2.10";

SwitchConfig neutron_config() {
  std::string text =
      "add-br br-int\nadd-port br-int up ofport=2\nadd-port br-int vm ofport=5\n"
      "add-flow br-int table=0,priority=0,actions=resubmit(,60)\n"
      "add-flow br-int table=60,priority=0,actions=NORMAL\n";
  std::ifstream in(FLOWPATH_SOURCE_DIR "/tests/flow/data/neutron_ovsfw.txt");
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') text += "add-flow br-int " + line + "\n";
  return SwitchConfig::parse(text);
}

std::vector<uint8_t> from_vm(const char* dst, uint16_t sport, uint16_t dport, uint16_t flags,
                             uint32_t seq, uint32_t ack) {
  return (Eth{mac(kPeerMac), mac(kVmMac)} / IPv4{.src = kVm, .dst = dst} /
          TCP{.sport = sport, .dport = dport, .flags = flags, .seq = seq, .ack = ack})
      .bytes();
}
std::vector<uint8_t> to_vm(const char* src, uint16_t sport, uint16_t dport, uint16_t flags,
                           uint32_t seq, uint32_t ack) {
  return (Eth{mac(kVmMac), mac(kPeerMac)} / Dot1Q{.vid = 1} / IPv4{.src = src, .dst = kVm} /
          TCP{.sport = sport, .dport = dport, .flags = flags, .seq = seq, .ack = ack})
      .bytes();
}

// The distinct "actions:..." of the dump-flows lines per pass, recirc ids
// as X, sorted.  Distinct: flowpath's megaflow masks can be narrower than
// OVS's for the same rules (more flows with the same actions: 13 against 9
// here), a cache-efficiency difference, not a behavioural one.
std::vector<std::string> actions_of(const std::string& dump) {
  std::vector<std::string> out;
  std::istringstream in(dump);
  std::string line;
  const std::regex recirc("recirc\\(0x[0-9a-f]+\\)");
  while (std::getline(in, line)) {
    auto a = line.find("actions:");
    if (a == std::string::npos) continue;
    std::string first = line.find("recirc_id(0)") != std::string::npos ? "pass1 " : "pass2 ";
    out.push_back(first + std::regex_replace(line.substr(a + 8), recirc, "recirc(X)"));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string plain_hex(const std::vector<uint8_t>& v) {
  std::string s;
  for (uint8_t b : v) s += "0123456789abcdef"[b >> 4], s += "0123456789abcdef"[b & 15];
  return s;
}

struct NullSink {
  void output(uint32_t, Packet&, bool) {}
  void drop(Packet&) {}
};

TEST(ConntrackOvs, NeutronFlowsSameDatapathActionsAndConnections) {
  std::string why = difftest::OvsInstance::unavailable();
  if (!why.empty()) GTEST_SKIP() << "Open vSwitch differential test skipped: " << why;
  const SwitchConfig cfg = neutron_config();
  constexpr uint16_t kSyn = 0x002, kSynAck = 0x012, kAck = 0x010;
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
  Ofproto of(cfg);
  Datapath<Ofproto> dp(of);
  NullSink sink;
  for (const auto& [f, port] : frames) {
    PacketBuffer buf(f, of.find_port(port)->dp_port);
    Batch b;
    b.push(&buf.packet());
    dp.process(b, sink);
  }
  const auto ours = actions_of(dp.dpctl_dump_flows([&](uint32_t n) { return of.dp_port_name(n); }));
  const std::string our_ct = ct::dpctl_dump_conntrack(dp.conntrack(), 0, {});

  ASSERT_EQ(ours.size(), 7u);

  // Open vSwitch.
  difftest::OvsInstance ovs;
  ovs.configure(cfg);
  for (const auto& [f, port] : frames) {
    ovs.appctl("netdev-dummy/receive", {port, plain_hex(f)});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string dump = ovs.appctl("dpctl/dump-flows", {});
  for (const auto& [n, name] : ovs.dp_names()) {  // numbers -> names, as ours
    const std::regex port("([:,])" + std::to_string(n) + "(,|\n)");
    std::string prev;
    while (prev != dump) prev = dump, dump = std::regex_replace(dump, port, "$1" + name + "$2");
  }
  const auto theirs = actions_of(dump);
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

}  // namespace
}  // namespace flowpath
