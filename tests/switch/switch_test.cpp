// The switch runtime without root: every port memory-backed, PMDs polled
// on the test thread.  Checks forwarding, the sink's accounting (every
// received packet is sent once or dropped, counted), run-time flow
// changes, several PMDs (cross-thread outputs), the control commands over
// a real socket, and the configuration errors.
#include "flowpath/switch/switch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "flowpath/control/unixctl_client.hpp"
#include "flowpath/switch/switch_control.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace switch_test {

using namespace flowpath::test;

constexpr const char* kConf = R"(
add-br br0
add-port br0 p1 tag=1
add-port br0 p2 tag=1
add-port br0 p3 tag=2
add-port br0 up
add-flow br0 priority=1 actions=NORMAL
)";

std::vector<uint8_t> frame(const char* dst, const char* src) {
  return (Eth{mac(dst), mac(src)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
          UDP{.sport = 1, .dport = 2} / Payload{.n = 18})
      .bytes();
}
constexpr const char* kA = "02:00:00:00:00:0a";
constexpr const char* kB = "02:00:00:00:00:0b";
constexpr const char* kBcast = "ff:ff:ff:ff:ff:ff";

Switch::Options memory(std::vector<int> cores = {-1}) {
  Switch::Options o;
  o.memory_ports = true;
  o.pmd_cores = std::move(cores);
  return o;
}

size_t sent(Switch& sw, const char* port) { return sw.port(port)->memory()->sent().size(); }

// rx == packets that left (final outputs) + drops, per PMD and in total.
void expect_conservation(Switch& sw) {
  uint64_t rx = 0, rx_dropped = 0, finals = 0, drops = 0;
  for (SwitchPort* p : sw.ports()) rx += p->stats().rx, rx_dropped += p->stats().rx_dropped;
  for (size_t i = 0; i < sw.num_pmds(); ++i)
    finals += sw.pmd(i).sink_stats().finals, drops += sw.pmd(i).sink_stats().drops;
  EXPECT_EQ(rx, finals + drops);
  EXPECT_EQ(rx_dropped, drops);
}

TEST(Switch, ForwardsFloodsLearnsAndCounts) {
  Switch sw(SwitchConfig::parse(kConf), memory());
  ASSERT_EQ(sw.ports().size(), 5u);  // p1 p2 p3 up + LOCAL br0
  sw.port("p1")->memory()->inject(frame(kBcast, kA));
  EXPECT_EQ(sw.poll_once(), 1u);
  // VLAN 1 flood: p2 (access 1), up and br0 (trunks, tagged); not p3.
  EXPECT_EQ(sent(sw, "p2"), 1u);
  EXPECT_EQ(sent(sw, "p3"), 0u);
  EXPECT_EQ(sent(sw, "up"), 1u);
  EXPECT_EQ(sent(sw, "br0"), 1u);
  EXPECT_EQ(sw.port("up")->memory()->sent()[0].bytes[12], 0x81);  // tagged on the trunk
  sw.port("p2")->memory()->inject(frame(kA, kB));                 // to the learned MAC: unicast
  sw.poll_once();
  EXPECT_EQ(sent(sw, "p1"), 1u);
  EXPECT_EQ(sent(sw, "up"), 1u);
  EXPECT_EQ(sw.pmd(0).sink_stats().copies, 2u);
  EXPECT_EQ(sw.port("p1")->stats().tx, 1u);
  expect_conservation(sw);
  std::string stats = sw.pmd_stats_show();
  EXPECT_NE(stats.find("packets received: 2"), std::string::npos) << stats;
  EXPECT_NE(stats.find("avg processing cycles per packet: "), std::string::npos) << stats;
  sw.pmd_stats_clear();
  EXPECT_NE(sw.pmd_stats_show().find("packets received: 0"), std::string::npos);
}

TEST(Switch, RunTimeFlowChangesApplyToTheNextBatch) {
  Switch sw(SwitchConfig::parse(kConf), memory());
  MemoryPort& p1 = *sw.port("p1")->memory();
  auto unicast = frame(kB, kA);
  sw.port("p2")->memory()->inject(frame(kBcast, kB));  // learn kB on p2
  sw.poll_once();
  for (int i = 0; i < 3; ++i) p1.inject(unicast);
  sw.poll_once();  // megaflow installed
  EXPECT_EQ(sent(sw, "p2"), 3u);
  sw.ofproto().add_flow("br0", "priority=10,in_port=p1 actions=drop");
  p1.inject(unicast);
  sw.poll_once();
  EXPECT_EQ(sent(sw, "p2"), 3u);
  EXPECT_EQ(sw.port("p1")->stats().rx_dropped, 1u);
  sw.ofproto().del_flows("br0", "in_port=p1");
  p1.inject(unicast);
  sw.poll_once();
  EXPECT_EQ(sent(sw, "p2"), 4u);
  expect_conservation(sw);
}

TEST(Switch, SeveralPmdsDeliverAcrossThreadsAndConserve) {
  Switch sw(SwitchConfig::parse(kConf), memory({-1, -1}));
  ASSERT_EQ(sw.num_pmds(), 2u);
  EXPECT_NE(sw.port("p1")->pmd(), sw.port("p2")->pmd());
  for (int i = 0; i < 40; ++i) sw.port("p1")->memory()->inject(frame(kBcast, kA));
  sw.port("p2")->memory()->inject(frame(kA, kB));
  while (sw.poll_once()) {
  }
  EXPECT_EQ(sent(sw, "p2"), 40u);  // all foreign (other PMD): staged copies + finals
  EXPECT_EQ(sent(sw, "up"), 40u);
  EXPECT_EQ(sent(sw, "br0"), 40u);
  EXPECT_EQ(sent(sw, "p1"), 1u);
  uint64_t foreign = sw.pmd(0).sink_stats().foreign + sw.pmd(1).sink_stats().foreign;
  EXPECT_GT(foreign, 0u);
  EXPECT_EQ(sw.pmd(0).sink_stats().staging_overflow, 0u);
  expect_conservation(sw);
  // With threads: the same traffic, polled by two PMD threads.
  for (int i = 0; i < 10; ++i) sw.port("p2")->memory()->inject(frame(kA, kB));
  sw.start();
  auto sent_locked = [&] {
    std::lock_guard lock(sw.port("p1")->domain());
    return sent(sw, "p1");
  };
  for (int i = 0; i < 400 && sent_locked() < 11; ++i) usleep(5000);
  sw.stop();
  EXPECT_EQ(sent(sw, "p1"), 11u);
}

TEST(Switch, ControlCommandsOverTheSocket) {
  Switch sw(SwitchConfig::parse(kConf), memory());
  char tmpl[] = "/tmp/fpswXXXXXX";
  std::string dir = mkdtemp(tmpl), sock = dir + "/s.ctl";
  bool exited = false;
  {
    UnixctlServer srv(sock);
    add_switch_commands(srv, sw, [&] { exited = true; });
    srv.start();
    sw.port("p1")->memory()->inject(frame(kBcast, kA));
    sw.poll_once();
    auto call = [&](const std::string& m, std::vector<std::string> a = {}) {
      return unixctl_call(sock, m, a);
    };
    EXPECT_NE(call("show").result.find("    Bridge br0\n"), std::string::npos);
    auto r = call("add-flow", {"br0", "priority=10,in_port=p3", "actions=drop"});
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_NE(call("dump-flows", {"br0"}).result.find("priority=10,in_port=p3 actions=drop"),
              std::string::npos);
    EXPECT_NE(call("bridge/dump-flows", {"br0"}).result.find("priority=10,in_port=p3 actions=drop"),
              std::string::npos);
    EXPECT_TRUE(call("del-flows", {"br0", "in_port=p3"}).ok);
    EXPECT_EQ(call("dump-flows", {"br0"}).result.find("in_port=p3"), std::string::npos);
    EXPECT_FALSE(call("add-flow", {"br0", "priority=x"}).ok);
    EXPECT_EQ(call("dump-flows", {"br9"}).error, "no bridge named br9");
    EXPECT_NE(call("fdb/show", {"br0"}).result.find("02:00:00:00:00:0a"), std::string::npos);
    EXPECT_EQ(call("fdb/flush", {"br0"}).result, "table successfully flushed\n");
    EXPECT_EQ(call("fdb/show", {"br0"}).result.find("02:00:00:00:00:0a"), std::string::npos);
    EXPECT_NE(call("dpctl/dump-flows").result.find("in_port(p1)"), std::string::npos);
    EXPECT_NE(call("dpctl/show").result.find("port 1: p1 (memory, pmd 0)"), std::string::npos);
    EXPECT_NE(call("dpif-netdev/pmd-stats-show").result.find("packets received: 1"),
              std::string::npos);
    EXPECT_TRUE(call("dpif-netdev/pmd-stats-clear").ok);
    EXPECT_NE(call("pmd-stats-show").result.find("packets received: 0"), std::string::npos);
    r = call("ofproto/trace", {"br0", "in_port=p1", "dl_dst=ff:ff:ff:ff:ff:ff"});
    EXPECT_NE(r.result.find("Datapath actions: "), std::string::npos) << r.error;
    EXPECT_TRUE(call("exit").ok);
    EXPECT_TRUE(exited);
  }
  std::filesystem::remove_all(dir);
}

TEST(Switch, ConfigurationErrors) {
  try {
    Switch sw(SwitchConfig::parse("add-br b\nadd-port b x type=pcap\n", "t.conf"), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("port x: type pcap is not supported by `flowpath switch`"),
              std::string::npos)
        << e.what();
  }
  try {
    Switch sw(
        SwitchConfig::parse("add-br b\nadd-flow b priority=1,bogus=3 actions=drop\n", "t.conf"),
        memory());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("t.conf:2: ", 0), 0u) << e.what();
  }
  Switch::Options o;
  o.pmd_cores = {-1};
  try {
    Switch sw(SwitchConfig::parse("add-br b\nadd-port b p options:ifname=fp-no-such0\n"), o);
    FAIL();
  } catch (const Error& e) {
    // Unprivileged: the UMEM fails first; as root: the interface is named.
    std::string m = e.what();
    EXPECT_TRUE(m.find("fp-no-such0: no such interface") != std::string::npos ||
                m.find("umem") != std::string::npos)
        << m;
  }
}

TEST(Switch, CoreLists) {
  EXPECT_EQ(parse_core_list("1"), std::vector<int>{1});
  EXPECT_EQ(parse_core_list("0,2-4"), (std::vector<int>{0, 2, 3, 4}));
  for (const char* bad : {"", "a", "3-1", "1,,2", "-1", "1-"})
    EXPECT_THROW(parse_core_list(bad), Error) << bad;
}

}  // namespace switch_test
}  // namespace flowpath
