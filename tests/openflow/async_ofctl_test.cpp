// The asynchronous half of the OpenFlow channel against the real Open
// vSwitch: the same script — frames injected on ports, flows added with
// send_flow_rem and timeouts, a port added and deleted — runs once on a
// private ovs-vswitchd (dummy ports, tests/differential/normal_ovs.hpp)
// and once on flowpath (memory ports, OpenFlowService on a thread), each
// watched by `ovs-ofctl -P standard monitor TARGET 65534`, and the two
// printouts must be the same (durations and port MACs left out).
// Then `ovs-ofctl packet-out` forwards through the bridge.
// Skips when Open vSwitch is not installed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <sstream>
#include <thread>

#include "differential/normal_ovs.hpp"
#include "flowpath/switch/openflow_service.hpp"
#include "support/ofctl_monitor.hpp"
#include "support/ofctl_sides.hpp"
#include "support/openflow_switch.hpp"
#include "support/packet_builder.hpp"
#include "support/shell.hpp"

using namespace flowpath::test;
namespace dt = flowpath::difftest;

namespace async_ofctl_test {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::vector<uint8_t> udp_frame() {
  return (Eth{mac("02:00:00:00:00:bb"), mac("02:00:00:00:00:aa")} /
          IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 1, .dport = 2} /
          Payload{.n = 18})
      .bytes();
}

const char* kConfig =
    "add-br br0\nadd-port br0 p1 ofport=1\nadd-port br0 p2 ofport=2\n"
    "add-port br0 p3 ofport=3\nset-fail-mode br0 secure\n";

using Side = OfctlSide;
struct FlowpathSide : FlowpathOfctlSide {
  FlowpathSide() : FlowpathOfctlSide(kConfig, "fp-ofasync") {}
};
struct OvsSide : OvsOfctlSide {
  OvsSide() : OvsOfctlSide(kConfig) {}
};

/// `ovs-ofctl OPTS monitor TARGET 65534` while `script` runs; its printout.
template <class F>
std::string monitored(Side& s, const std::string& opts, int seconds, F script) {
  return flowpath::test::ofctl_monitored(s.target(), opts, 65534, seconds, script);
}

/// The printout without what legitimately differs: durations, port
/// MACs and port property lines, and the order of same-time messages.
std::string normalized(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("     ", 0) == 0 || l == "END" || l.find("|fatal_signal|") != std::string::npos)
      continue;  // port config/state/speed, ovs-ofctl's own exit
    l = std::regex_replace(l, std::regex("duration[0-9.]+s"), "duration*");
    l = std::regex_replace(l, std::regex("addr:[0-9a-f:]+"), "addr:*");
    lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

std::string script_of10(Side& s) {
  std::string t = s.target();
  return monitored(s, "-P standard", 5, [&] {
    s.inject("p1", udp_frame());  // no flows: an implicit miss goes to an OF1.0 monitor
    flowpath::test::shell_output(
        "ovs-ofctl add-flow " + t +
        " 'priority=5,udp,tp_dst=2 actions=mod_dl_src:02:00:00:00:00:cc,CONTROLLER:40'");
    s.settle();
    s.inject("p2", udp_frame());  // via action, with the rewrite
    s.add_port("p4", 4);
    sleep_ms(200);
    s.del_port("p4");
    flowpath::test::shell_output(
        "ovs-ofctl add-flow " + t +
        " 'priority=10,tcp,in_port=1,idle_timeout=1,cookie=0x8,send_flow_rem actions=drop'");
    flowpath::test::shell_output("ovs-ofctl add-flow " + t +
                                 " 'priority=11,icmp,cookie=0x9,send_flow_rem actions=drop'");
    flowpath::test::shell_output(
        "ovs-ofctl add-flow " + t +
        " 'priority=12,arp,hard_timeout=2,cookie=0x9,send_flow_rem actions=drop'");
    flowpath::test::shell_output("ovs-ofctl add-flow " + t +
                                 " 'priority=13,arp,in_port=3 actions=drop'");  // no flag
    flowpath::test::shell_output("ovs-ofctl del-flows " + t + " icmp");
    flowpath::test::shell_output("ovs-ofctl del-flows " + t + " arp,in_port=3");
  });
}

std::string script_of13(Side& s) {
  std::string t = s.target();
  return monitored(s, "-O OpenFlow13 -P standard", 4, [&] {
    s.inject("p1", udp_frame());  // no flows: OpenFlow 1.3 gets no packet-in
    flowpath::test::shell_output("ovs-ofctl -O OpenFlow13 add-flow " + t +
                                 " 'priority=0,cookie=0x5 actions=CONTROLLER:40'");
    s.settle();
    s.inject("p1", udp_frame());  // the table-miss flow: "no_match"
    flowpath::test::shell_output(
        "ovs-ofctl -O OpenFlow13 add-flow " + t +
        " 'table=0,priority=7,udp,in_port=2,cookie=0x6 actions=goto_table:3'");
    flowpath::test::shell_output("ovs-ofctl -O OpenFlow13 add-flow " + t +
                                 " 'table=3,priority=1,cookie=0x7 actions=CONTROLLER'");
    s.settle();
    s.inject("p2", udp_frame());  // via action, from table 3
    // packet-out with CONTROLLER (in both versions): a packet-in "via action".
    flowpath::test::shell_output("ovs-ofctl packet-out " + t +
                                 " 1 'mod_dl_src:02:00:00:00:00:dd,CONTROLLER' " +
                                 hexstr(udp_frame()));
    flowpath::test::shell_output("ovs-ofctl -O OpenFlow13 packet-out " + t + " 2 CONTROLLER:64 " +
                                 hexstr(udp_frame()));
  });
}

bool have_ovs(std::string& why) {
  why = dt::OvsInstance::unavailable();
  return why.empty();
}

TEST(OpenflowAsync, MonitorOpenFlow10PrintsWhatOvsPrints) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  std::string ovs, fp;
  {
    OvsSide o;
    ovs = script_of10(o);
  }
  {
    FlowpathSide f;
    fp = script_of10(f);
  }
  EXPECT_NE(ovs.find("(via no_match)"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("reason=hard"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("ADD: 4(p4)"), std::string::npos) << ovs;
  EXPECT_EQ(normalized(fp), normalized(ovs)) << "flowpath:\n" << fp << "\nOVS:\n" << ovs;
}

TEST(OpenflowAsync, MonitorOpenFlow13PrintsWhatOvsPrints) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  std::string ovs, fp;
  {
    OvsSide o;
    ovs = script_of13(o);
  }
  {
    FlowpathSide f;
    fp = script_of13(f);
  }
  EXPECT_NE(ovs.find("cookie=0x5"), std::string::npos) << ovs;
  EXPECT_NE(ovs.find("dl_src=02:00:00:00:00:dd"), std::string::npos) << ovs;
  EXPECT_EQ(normalized(fp), normalized(ovs)) << "flowpath:\n" << fp << "\nOVS:\n" << ovs;
}

TEST(OpenflowAsync, PassiveConnectionWithoutMissSendLenGetsNothing) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  FlowpathSide f;
  flowpath::test::shell_output("ovs-ofctl add-flow " + f.target() + " 'actions=CONTROLLER'");
  // `monitor TARGET 0` keeps miss_send_len at 0: a service connection then
  // gets no packet-in and no port-status (as OVS).
  char tmpl[] = "/tmp/fp-ofmon0-XXXXXX";
  close(mkstemp(tmpl));
  std::system(("(timeout 2 ovs-ofctl -P standard monitor " + f.target() +
               " 0 2>/dev/null; echo END) >" + tmpl + " &")
                  .c_str());
  sleep_ms(700);
  f.inject("p1", udp_frame());
  f.add_port("p4", 4);
  sleep_ms(1800);
  std::string out = flowpath::test::shell_output(std::string("cat ") + tmpl);
  unlink(tmpl);
  EXPECT_EQ(out.find("PACKET_IN"), std::string::npos) << out;
  EXPECT_EQ(out.find("PORT_STATUS"), std::string::npos) << out;
}

TEST(OpenflowAsync, PacketOutForwardsThroughTheBridge) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  FlowpathSide f;
  const std::vector<const char*> names = {"p1", "p2", "p3", "br0"};
  auto sent = [&] {
    std::array<size_t, 4> n{};
    for (size_t i = 0; i < 4; ++i) n[i] = f.sw().port(names[i])->memory()->sent().size();
    return n;
  };
  auto packet_out = [&](const std::string& in, const std::string& actions) {
    auto before = sent();
    std::string out =
        flowpath::test::shell_output("ovs-ofctl packet-out " + f.target() + " " + in + " '" +
                                     actions + "' " + hexstr(udp_frame()) + "; echo rc=$?");
    EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
    auto after = sent();
    std::array<size_t, 4> d{};
    for (size_t i = 0; i < 4; ++i) d[i] = after[i] - before[i];
    return d;
  };
  using C = std::array<size_t, 4>;
  EXPECT_EQ(packet_out("1", "output:2"), (C{0, 1, 0, 0}));
  EXPECT_EQ(packet_out("1", "output:2,output:3"), (C{0, 1, 1, 0}));
  EXPECT_EQ(packet_out("1", "FLOOD"), (C{0, 1, 1, 1}));
  EXPECT_EQ(packet_out("2", "in_port"), (C{0, 1, 0, 0}));
  EXPECT_EQ(packet_out("none", "output:3"), (C{0, 0, 1, 0}));
  // NORMAL floods an unknown destination and learns the source (02:..:aa on p1)...
  EXPECT_EQ(packet_out("1", "NORMAL"), (C{0, 1, 1, 1}));
  // ...so a frame to it from p2 goes to p1 only.
  auto reply = (Eth{mac("02:00:00:00:00:aa"), mac("02:00:00:00:00:bb")} /
                IPv4{.src = "192.0.2.2", .dst = "192.0.2.1"} / UDP{.sport = 2, .dport = 1} /
                Payload{.n = 18})
                   .bytes();
  auto before = sent();
  flowpath::test::shell_output("ovs-ofctl packet-out " + f.target() + " 2 NORMAL " + hexstr(reply));
  auto after = sent();
  EXPECT_EQ(after[0] - before[0], 1u);
  EXPECT_EQ(after[2] - before[2], 0u);
  // TABLE runs the flow table from the packet's in_port.
  flowpath::test::shell_output("ovs-ofctl add-flow " + f.target() +
                               " 'in_port=3 actions=output:1'");
  EXPECT_EQ(packet_out("3", "TABLE"), (C{1, 0, 0, 0}));
  EXPECT_EQ(packet_out("2", "TABLE"), (C{0, 0, 0, 0}));  // no flow for in_port=2
}

TEST(OpenflowAsync, SlowConsumerDropsPacketInsNeverThePmd) {
  flowpath::PacketInQueue q(4);
  for (int i = 0; i < 10; ++i) q.packet_in(flowpath::PacketInEvent{{}, {1, 2, 3}});
  EXPECT_EQ(q.dropped(), 6u);
  std::vector<flowpath::PacketInEvent> got;
  q.take(got);
  EXPECT_EQ(got.size(), 4u);
  q.take(got);
  EXPECT_TRUE(got.empty());
}

TEST(OpenflowAsync, MonitorWithWatchStillShowsPacketInsAndPortStatus) {
  std::string why;
  if (!have_ovs(why)) GTEST_SKIP() << why;
  // `monitor TARGET 65534 watch:` also asks for a flow monitor, which we
  // answer with an error; ovs-ofctl prints it and goes on monitoring.
  FlowpathSide f;
  flowpath::test::shell_output("ovs-ofctl add-flow " + f.target() + " 'actions=CONTROLLER'");
  char tmpl[] = "/tmp/fp-ofmonw-XXXXXX";
  close(mkstemp(tmpl));
  std::system(("(timeout 2 ovs-ofctl -P standard monitor " + f.target() +
               " 65534 watch: 2>&1; echo END) >" + tmpl + " &")
                  .c_str());
  sleep_ms(700);
  f.inject("p1", udp_frame());
  f.add_port("p4", 4);
  sleep_ms(1800);
  std::string out = flowpath::test::shell_output(std::string("cat ") + tmpl);
  unlink(tmpl);
  EXPECT_NE(out.find("OFPT_PACKET_IN (xid=0x0): total_len=60 in_port=1 (via action)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("OFPT_PORT_STATUS (xid=0x0): ADD: 4(p4)"), std::string::npos) << out;
}

// A flow that turns into a CONTROLLER flow reaches the controller for every
// packet, in each invalidation mode: the cached drop flow goes (its
// translation is no longer cacheable) and nothing with CONTROLLER is cached.
TEST(OpenflowAsync, PacketInsAreNeverCachedInAnyInvalidationMode) {
  for (auto mode : {flowpath::Invalidation::kIndexed, flowpath::Invalidation::kRevalidate,
                    flowpath::Invalidation::kFlush}) {
    flowpath::Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    o.datapath.invalidation = mode;
    flowpath::Switch sw(flowpath::SwitchConfig::parse(std::string(kConfig) +
                                                      "add-flow br0 priority=5,udp actions=drop\n"),
                        o);
    flowpath::PacketInQueue q;
    {
      std::lock_guard lock(sw.ofproto().mutex());
      sw.ofproto().require_bridge("br0").set_controller_sink(&q);
    }
    auto send = [&] {
      sw.port("p1")->memory()->inject(udp_frame());
      sw.poll_once();
    };
    send();
    send();  // the drop flow is cached now
    std::vector<flowpath::PacketInEvent> got;
    q.take(got);
    EXPECT_TRUE(got.empty());
    sw.ofproto().mod_flows("br0", "priority=5,udp actions=CONTROLLER", true);
    for (int i = 0; i < 3; ++i) send();
    q.take(got);
    EXPECT_EQ(got.size(), 3u) << "mode " << int(mode);
    if (got.size() == 3) {
      EXPECT_EQ(got[0].data, udp_frame());
      EXPECT_EQ(got[0].out.in_port, 1u);
      EXPECT_EQ(got[0].out.reason, flowpath::PacketInReason::kAction);
    }
    std::lock_guard lock(sw.ofproto().mutex());
    sw.ofproto().require_bridge("br0").set_controller_sink(nullptr);
  }
}

}  // namespace async_ofctl_test
