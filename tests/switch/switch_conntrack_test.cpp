// The switch's connection tracker: two PMDs share one Conntrack, ct() flows
// track and recirculate on memory ports, and the dpctl conntrack commands
// answer over the control socket (as `ovs-appctl dpctl/dump-conntrack`).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "flowpath/control/unixctl_client.hpp"
#include "flowpath/switch/switch.hpp"
#include "flowpath/switch/switch_control.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace switch_conntrack_test {

using namespace flowpath::test;

// p1 -> p2 is allowed when new (committed in zone 3, from reg6); p2 -> p1
// only when established.
constexpr const char* kConf = R"(
add-br br0
add-port br0 p1 ofport=1
add-port br0 p2 ofport=2
add-flow br0 table=0,priority=10,ip,in_port=1 actions=load:1->NXM_NX_REG5[],load:3->NXM_NX_REG6[],ct(table=1,zone=NXM_NX_REG6[0..15])
add-flow br0 table=0,priority=10,ip,in_port=2 actions=load:2->NXM_NX_REG5[],load:3->NXM_NX_REG6[],ct(table=1,zone=NXM_NX_REG6[0..15])
add-flow br0 table=1,priority=10,ct_state=+new+trk,reg5=1,udp actions=ct(commit,zone=NXM_NX_REG6[0..15]),output:2
add-flow br0 table=1,priority=10,ct_state=+est+trk,reg5=1 actions=output:2
add-flow br0 table=1,priority=10,ct_state=+est+trk,reg5=2 actions=output:1
)";

std::vector<uint8_t> udp(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  return (Eth{mac("02:00:00:00:00:0b"), mac("02:00:00:00:00:0a")} / IPv4{.src = src, .dst = dst} /
          UDP{.sport = sport, .dport = dport} / Payload{.n = 18})
      .bytes();
}

size_t sent(Switch& sw, const char* port) { return sw.port(port)->memory()->sent().size(); }

TEST(SwitchConntrack, PmdsShareOneTrackerAndDpctlShowsIt) {
  Switch::Options o;
  o.memory_ports = true;
  o.pmd_cores = {-1, -1};  // p1 on PMD 0, p2 on PMD 1: one tracker for both
  Switch sw(SwitchConfig::parse(kConf), o);
  // Control: a reply before any request is new from p2: dropped.
  sw.port("p2")->memory()->inject(udp("192.0.2.2", "192.0.2.1", 53, 4000));
  while (sw.poll_once()) {
  }
  EXPECT_EQ(sent(sw, "p1"), 0u);
  sw.port("p1")->memory()->inject(udp("192.0.2.1", "192.0.2.2", 4000, 53));
  while (sw.poll_once()) {
  }
  EXPECT_EQ(sent(sw, "p2"), 1u);
  sw.port("p2")->memory()->inject(udp("192.0.2.2", "192.0.2.1", 53, 4000));
  while (sw.poll_once()) {
  }
  EXPECT_EQ(sent(sw, "p1"), 1u);  // the reply, tracked by the other PMD's datapath

  char tmpl[] = "/tmp/fpswctXXXXXX";
  std::string dir = mkdtemp(tmpl), sock = dir + "/s.ctl";
  {
    UnixctlServer srv(sock);
    add_switch_commands(srv, sw, nullptr);
    srv.start();
    auto call = [&](const std::string& m, std::vector<std::string> a = {}) {
      return unixctl_call(sock, m, a);
    };
    auto r = call("dpctl/dump-conntrack", {"zone=3"});
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.result,
              "udp,orig=(src=192.0.2.1,dst=192.0.2.2,sport=4000,dport=53),"
              "reply=(src=192.0.2.2,dst=192.0.2.1,sport=53,dport=4000),zone=3\n");
    EXPECT_NE(call("dpctl/dump-flows").result.find("actions:ct(zone=3),recirc(0x"),
              std::string::npos);
    std::string stats = call("pmd-stats-show").result;
    EXPECT_NE(stats.find("packet recirculations: 1"), std::string::npos) << stats;
    EXPECT_TRUE(call("dpctl/flush-conntrack", {"zone=3"}).ok);
    EXPECT_EQ(call("dpctl/dump-conntrack").result, "");
  }
  std::filesystem::remove_all(dir);
  // Flushed: the next reply is new again and dropped.
  sw.port("p2")->memory()->inject(udp("192.0.2.2", "192.0.2.1", 53, 4000));
  while (sw.poll_once()) {
  }
  EXPECT_EQ(sent(sw, "p1"), 1u);
}

}  // namespace switch_conntrack_test
}  // namespace flowpath
