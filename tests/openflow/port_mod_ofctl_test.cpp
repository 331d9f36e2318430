// `ovs-ofctl mod-port BR PORT no-packet-in` against a private ovs-vswitchd
// (dummy ports) and flowpath (memory ports), watched by a 1.0 `ovs-ofctl
// monitor` (which makes table misses go to the controller): Open vSwitch
// 3.1 keeps the bit (show prints NO_PACKET_IN) but still sends the
// port's packet-ins — implicit misses and CONTROLLER actions alike (its
// no_packet_in_rule is no longer chosen by the port's config) — and so
// does flowpath: both switches print the same packet-in lines.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "support/ofctl_monitor.hpp"
#include "support/ofctl_sides.hpp"

namespace port_mod_ofctl_test {

namespace dt = flowpath::difftest;
using flowpath::test::OfctlSide;

const char* kConfig =
    "add-br br0\nadd-port br0 p1 ofport=1\nadd-port br0 p2 ofport=2\n"
    "add-port br0 p3 ofport=3\nset-fail-mode br0 secure\n";

std::vector<uint8_t> frame() {
  using namespace flowpath::test;
  return (Eth{mac("02:00:00:00:00:bb"), mac("02:00:00:00:00:aa")} /
          IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 1, .dport = 2} /
          Payload{.n = 18})
      .bytes();
}

/// The packet-ins the monitor printed: "in_port=N (via REASON)" each.
std::vector<std::string> packet_ins(const std::string& text) {
  static const std::regex pin(R"(PACKET_IN\S* \(xid=0x[0-9a-f]+\): .*in_port=(\d+) \(via (\w+)\))");
  std::vector<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), pin), end; it != end; ++it)
    out.push_back("in_port=" + (*it)[1].str() + " via " + (*it)[2].str());
  return out;
}

/// The config line of port 1 in ovs-ofctl's printout.
std::string port_config(const std::string& text) {
  size_t at = text.find(" 1(p1):");
  if (at == std::string::npos) return "no port 1";
  size_t c = text.find("config:", at);
  return c == std::string::npos ? "no config" : text.substr(c, text.find('\n', c) - c);
}

std::vector<std::string> script(OfctlSide& s, std::string& shown) {
  const std::string t = s.target();
  auto ofctl = [&](const std::string& args) {
    flowpath::test::shell_output("ovs-ofctl " + args);
    s.settle();
  };
  std::string text = flowpath::test::ofctl_monitored(t, "", 65534, 4, [&] {
    s.inject("p1", frame());  // the control: a miss from p1 goes up
    ofctl("mod-port " + t + " p1 no-packet-in");
    shown += port_config(flowpath::test::shell_output("ovs-ofctl show " + t));
    s.inject("p1", frame());  // OVS 3.1: still sent
    s.inject("p2", frame());
    ofctl("add-flow " + t + " in_port=1,actions=CONTROLLER");
    s.inject("p1", frame());  // an explicit action
    ofctl("del-flows " + t);
    ofctl("-O OpenFlow13 mod-port " + t + " 1 packet-in");
    s.inject("p1", frame());
  });
  return packet_ins(text);
}

TEST(OpenflowPortModOfctl, NoPacketInIsShownAndPacketInsGoOnAsOvs) {
  if (std::string why = dt::OvsInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
  std::vector<std::string> ovs, fp;
  std::string ovs_shown, fp_shown;
  {
    flowpath::test::OvsOfctlSide o(kConfig);
    ovs = script(o, ovs_shown);
  }
  {
    flowpath::test::FlowpathOfctlSide f(kConfig, "fp-ofpmod");
    fp = script(f, fp_shown);
  }
  EXPECT_EQ(ovs_shown, "config:     NO_PACKET_IN");
  EXPECT_EQ(fp_shown, ovs_shown);
  const std::vector<std::string> want = {"in_port=1 via no_match", "in_port=1 via no_match",
                                         "in_port=2 via no_match", "in_port=1 via action",
                                         "in_port=1 via no_match"};
  EXPECT_EQ(ovs, want);  // what OVS 3.1 does
  EXPECT_EQ(fp, ovs);
}

}  // namespace port_mod_ofctl_test
