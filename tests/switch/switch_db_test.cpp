// The switch following a REAL private ovsdb-server (SwitchDb over the
// ovsdb Client), memory ports: ovs-vsctl WITHOUT --no-wait returns only
// once the change is in effect (cur_cfg), the ports forward as configured
// after each command, and ofport / error / datapath_id are written back
// as ovs-vswitchd writes them (read back with ovs-vsctl get); a port
// moved between bridges in one transaction, fail_mode secure/standalone,
// and a server restart (the switch keeps forwarding, then resyncs).
#include "flowpath/switch/switch_db.hpp"

#include <gtest/gtest.h>

#include <future>

#include "flowpath/ovsdb/client.hpp"
#include "ovsdb/ovsdb_server.hpp"
#include "support/packet_builder.hpp"

namespace flowpath {
namespace switch_db_test {

using flowpath::testing::OvsdbServer;
using namespace flowpath::test;
using K = ovsdb::Action::Kind;

#define NEED_OVSDB()                                              \
  if (std::string why = OvsdbServer::available(); !why.empty()) { \
    GTEST_SKIP() << "no ovsdb-server: " << why;                   \
  }

std::vector<uint8_t> bcast(const char* src) {
  return (Eth{mac("ff:ff:ff:ff:ff:ff"), mac(src)} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
          UDP{.sport = 1, .dport = 2} / Payload{.n = 18})
      .bytes();
}

struct Follower {
  OvsdbServer server;
  Switch sw;
  ovsdb::Client client;
  SwitchDb db;
  std::vector<std::string> errors;
  std::vector<ovsdb::Json> transactions;  // every write-back sent, in order

  static Switch::Options memory() {
    Switch::Options o;
    o.memory_ports = true;
    o.pmd_cores = {-1};
    return o;
  }
  Follower()
      : sw(memory()),
        client(server.unix_remote(),
               {.probe_interval_ms = 2000, .backoff_min_ms = 50, .backoff_max_ms = 400}),
        db(sw) {}

  void turn() {
    for (const auto& a : client.run_once(20)) {
      if (a.kind == K::kReplicaUpdated) {
        ovsdb::Json ops = db.on_replica(client.replica());
        if (!ops.empty()) {
          transactions.push_back(ops);
          client.transact(ops);
        }
      } else if (a.kind == K::kTransactReply && !a.error.empty()) {
        errors.push_back(a.error);
        db.forget();
      } else if (a.kind == K::kReconnect) {
        db.forget();
      }
    }
  }
  /// ovs-vsctl without --no-wait: returns once cur_cfg reached next_cfg,
  /// which only our loop (running meanwhile) can write.
  std::string vsctl(const std::string& args) {
    auto f = std::async(std::launch::async, [&] { return server.vsctl(args, false); });
    while (f.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) turn();
    return f.get();
  }
  std::string get(const std::string& what) { return server.vsctl("get " + what); }
  size_t flood_from(const char* from, const char* to) {
    size_t before = sw.port(to)->memory()->sent().size();
    sw.port(from)->memory()->inject(bcast("02:00:00:00:00:01"));
    while (sw.poll_once()) {
    }
    return sw.port(to)->memory()->sent().size() - before;
  }
};

TEST(SwitchDb, FollowsOvsVsctlAndWritesBack) {
  NEED_OVSDB();
  Follower f;
  f.vsctl("add-br br0 -- add-port br0 p1 tag=1 -- add-port br0 p2 tag=1 -- add-port br0 p3 tag=2");
  EXPECT_EQ(f.get("interface p1 ofport"), "1");
  EXPECT_EQ(f.get("interface p3 ofport"), "3");
  EXPECT_EQ(f.get("interface br0 ofport"), "65534");
  EXPECT_EQ(f.get("bridge br0 datapath_id").size(), 18u);  // "0123456789abcdef" quoted
  EXPECT_EQ(f.get("open_vswitch . cur_cfg"), f.get("open_vswitch . next_cfg"));
  ASSERT_NE(f.sw.port("p1"), nullptr);
  EXPECT_EQ(f.flood_from("p1", "p2"), 1u);
  EXPECT_EQ(f.flood_from("p1", "p3"), 0u);  // VLAN 2

  f.vsctl("set port p3 tag=1");  // in place: isolation moves
  EXPECT_EQ(f.flood_from("p1", "p3"), 1u);

  f.vsctl("add-port br0 p4 -- set interface p4 ofport_request=10");
  EXPECT_EQ(f.get("interface p4 ofport"), "10");

  f.vsctl("add-port br0 vx -- set interface vx type=vxlan");
  EXPECT_EQ(f.get("interface vx ofport"), "-1");
  EXPECT_NE(f.get("interface vx error").find("unknown type"), std::string::npos);
  EXPECT_EQ(f.flood_from("p1", "p2"), 1u);  // the rest forwards

  f.vsctl("del-port p2");
  EXPECT_EQ(f.sw.port("p2"), nullptr);
  EXPECT_EQ(f.flood_from("p1", "p3"), 1u);

  // A second bridge and a patch pair, in one transaction.
  f.vsctl(
      "add-br br1 -- add-port br1 q1 tag=1 -- add-port br0 pa -- set interface pa type=patch "
      "options:peer=pb -- add-port br1 pb -- set interface pb type=patch options:peer=pa");
  EXPECT_EQ(f.flood_from("p1", "q1"), 1u);
  f.vsctl("del-br br1");
  EXPECT_EQ(f.sw.port("q1"), nullptr);
  EXPECT_EQ(f.sw.ofproto().find_bridge("br1"), nullptr);
  EXPECT_EQ(f.get("interface pa ofport"), "-1");  // its peer went with br1
  EXPECT_EQ(f.flood_from("p1", "p3"), 1u);
  EXPECT_TRUE(f.errors.empty()) << f.errors[0];
}

TEST(SwitchDb, MovesFailModeAndServerRestart) {
  NEED_OVSDB();
  Follower f;
  f.vsctl(
      "add-br br0 -- add-port br0 p1 tag=1 -- add-port br0 p2 tag=1 -- add-br br1 -- "
      "add-port br1 q1 tag=1");
  EXPECT_EQ(f.flood_from("p1", "p2"), 1u);
  // p2 moves to br1 in one transaction: removed and added, on br1 now.
  f.vsctl("del-port br0 p2 -- add-port br1 p2 tag=1");
  EXPECT_EQ(f.flood_from("p1", "p2"), 0u);
  EXPECT_EQ(f.flood_from("q1", "p2"), 1u);
  EXPECT_EQ(f.get("interface p2 ofport"), "2");  // br1: q1 is 1
  // secure: the bridge's NORMAL flow goes, it drops; standalone: back.
  f.vsctl("set bridge br1 fail_mode=secure");
  EXPECT_EQ(f.flood_from("q1", "p2"), 0u);
  f.vsctl("set bridge br1 fail_mode=standalone");
  EXPECT_EQ(f.flood_from("q1", "p2"), 1u);
  // The server goes away: the switch keeps forwarding with what it has;
  // it comes back (same database file), resyncs, and follows again.
  SwitchPort* p1 = f.sw.port("p1");
  f.server.stop();
  for (int i = 0; i < 20; ++i) f.turn();
  EXPECT_EQ(f.flood_from("q1", "p2"), 1u);
  f.server.start();
  auto deadline = ovsdb::Client::now_ms() + 10000;
  while (f.client.session().state() != ovsdb::Session::State::kSynced &&
         ovsdb::Client::now_ms() < deadline)
    f.turn();
  f.vsctl("set port p2 tag=2");
  EXPECT_EQ(f.flood_from("q1", "p2"), 0u);
  EXPECT_EQ(f.sw.port("p1"), p1);  // untouched by the reconnect
}

// One change touches only its own rows: `add-port` is one transaction
// writing the new Interface row and cur_cfg, reading one device, however
// many ports there are; `del-port` writes cur_cfg alone; the echo of our
// own write writes nothing.  refresh() reads every device again.
TEST(SwitchDb, OneChangeWritesOnlyItsRowsInOneTransaction) {
  NEED_OVSDB();
  Follower f;
  std::string cmd = "add-br br0";
  for (int i = 1; i <= 20; ++i) cmd += " -- add-port br0 p" + std::to_string(i) + " tag=1";
  f.vsctl(cmd);
  ASSERT_EQ(f.get("open_vswitch . cur_cfg"), f.get("open_vswitch . next_cfg"));
  auto count = [](const ovsdb::Json& ops, const std::string& table) {
    size_t n = 0;
    for (const auto& op : ops) n += op["table"] == table;
    return n;
  };
  for (int i = 0; i < 5; ++i) f.turn();  // let the echo of the first write settle
  size_t tx0 = f.transactions.size();
  uint64_t reads0 = f.db.devices_read();
  f.vsctl("add-port br0 p21 tag=1");
  for (int i = 0; i < 5; ++i) f.turn();
  ASSERT_EQ(f.transactions.size(), tx0 + 1);
  const ovsdb::Json& add = f.transactions.back();
  EXPECT_EQ(add.size(), 2u) << add.dump();
  EXPECT_EQ(count(add, "Interface"), 1u);
  EXPECT_EQ(count(add, "Open_vSwitch"), 1u);
  EXPECT_EQ(f.db.devices_read() - reads0, 1u);
  EXPECT_EQ(f.get("interface p21 ofport"), "21");
  EXPECT_EQ(f.flood_from("p1", "p21"), 1u);

  f.vsctl("del-port br0 p5");
  for (int i = 0; i < 5; ++i) f.turn();
  ASSERT_EQ(f.transactions.size(), tx0 + 2);
  EXPECT_EQ(f.transactions.back().size(), 1u) << f.transactions.back().dump();
  EXPECT_EQ(count(f.transactions.back(), "Open_vSwitch"), 1u);
  EXPECT_EQ(f.db.devices_read() - reads0, 1u);

  // A failed interface: its row alone, ofport -1; then the periodic
  // refresh reads every device (22 ports minus p5, the LOCAL port, br0).
  f.vsctl("add-port br0 vx -- set interface vx type=vxlan");
  EXPECT_EQ(count(f.transactions.back(), "Interface"), 1u);
  EXPECT_EQ(f.get("interface vx ofport"), "-1");
  uint64_t reads1 = f.db.devices_read();
  f.db.refresh(f.client.replica());
  EXPECT_EQ(f.db.devices_read() - reads1, 20u + 1 + 1);
  EXPECT_TRUE(f.errors.empty()) << f.errors[0];
}

// The echo of our own write-back (ofport, cur_cfg) is not applied again:
// the running configuration is already what a full rebuild would give.
// Any other change, even right after an echo, is applied in full.
TEST(SwitchDb, OwnWriteBackEchoIsNotAppliedAgain) {
  NEED_OVSDB();
  Follower f;
  f.vsctl("add-br br0 -- add-port br0 p1 tag=1 -- add-port br0 p2 tag=1");
  for (int i = 0; i < 5; ++i) f.turn();  // the echo of the first write
  auto same_as_rebuild = [&] {
    ovsdb::DbConfig d = ovsdb::to_switch_config(f.client.replica());
    ASSERT_EQ(d.config.bridges.size(), f.sw.config().bridges.size());
    for (size_t i = 0; i < d.config.bridges.size(); ++i) {
      const auto& want = d.config.bridges[i].ports;
      const auto& have = f.sw.config().bridges[i].ports;
      ASSERT_EQ(want.size(), have.size());
      for (size_t j = 0; j < want.size(); ++j) {
        EXPECT_EQ(want[j].name, have[j].name);
        EXPECT_EQ(want[j].ofport, have[j].ofport);
        EXPECT_EQ(want[j].tag, have[j].tag);
      }
    }
  };
  for (int k = 3; k <= 6; ++k) {
    uint64_t full0 = f.db.full_applies();
    size_t tx0 = f.transactions.size();
    f.vsctl("add-port br0 p" + std::to_string(k) + " tag=1");
    for (int i = 0; i < 5; ++i) f.turn();
    // One full apply (the add), one write-back; the echo applied nothing.
    EXPECT_EQ(f.db.full_applies() - full0, 1u);
    EXPECT_EQ(f.transactions.size(), tx0 + 1);
    EXPECT_EQ(f.get("interface p" + std::to_string(k) + " ofport"), std::to_string(k));
    same_as_rebuild();
  }
  // A tag change right after the echoes is applied.
  uint64_t full0 = f.db.full_applies();
  f.vsctl("set port p3 tag=7");
  EXPECT_EQ(f.db.full_applies() - full0, 1u);
  EXPECT_EQ(f.sw.config().find_port("p3")->tag, 7);
  // An ofport written by someone else is not an echo: applied in full
  // (to_switch_config numbers by the ofport the database holds).
  full0 = f.db.full_applies();
  f.server.vsctl("set interface p4 ofport=40");
  for (int i = 0; i < 5; ++i) f.turn();
  EXPECT_GE(f.db.full_applies() - full0, 1u);
  same_as_rebuild();
  EXPECT_EQ(f.get("interface p4 ofport"), std::to_string(f.sw.config().find_port("p4")->ofport));
  // A failed interface leaves the switch applying every update in full (so
  // the next one retries it).
  f.vsctl("add-port br0 vx -- set interface vx type=vxlan");
  for (int i = 0; i < 5; ++i) f.turn();
  full0 = f.db.full_applies();
  f.vsctl("add-port br0 p7 tag=1");
  for (int i = 0; i < 5; ++i) f.turn();
  EXPECT_GE(f.db.full_applies() - full0, 2u);  // the add and its echo
  EXPECT_TRUE(f.errors.empty()) << f.errors[0];
}

// A patch port's statistics are the packets that crossed the pair (OVS
// counts them in its patch netdevs): tx on the side they left, rx on the
// side they entered, bytes too, written by the periodic refresh; the
// refresh also writes what the switch supports (Open_vSwitch
// datapath_types / iface_types, Bridge datapath_version), once.
TEST(SwitchDb, PatchStatisticsCountWhatCrossed) {
  NEED_OVSDB();
  Follower f;
  f.vsctl(
      "add-br br0 -- add-port br0 p1 tag=1 -- add-br br1 -- add-port br1 q1 tag=1 -- "
      "add-port br0 pa tag=1 -- set interface pa type=patch options:peer=pb -- "
      "add-port br1 pb tag=1 -- set interface pb type=patch options:peer=pa");
  const size_t frame = bcast("02:00:00:00:00:01").size();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(f.flood_from("p1", "q1"), 1u);
  f.db.stats_interval_ms = 0;  // statistics in every refresh
  ovsdb::Json ops = f.db.refresh(f.client.replica());
  f.client.transact(ops);
  for (int i = 0; i < 10; ++i) f.turn();
  std::string n = std::to_string(3 * frame);
  EXPECT_EQ(f.get("interface pa statistics"),
            "{rx_bytes=0, rx_packets=0, tx_bytes=" + n + ", tx_packets=3}");
  EXPECT_EQ(f.get("interface pb statistics"),
            "{rx_bytes=" + n + ", rx_packets=3, tx_bytes=0, tx_packets=0}");
  EXPECT_EQ(f.get("interface pa admin_state link_state link_resets ifindex"), "up\nup\n0\n0");
  EXPECT_EQ(f.get("open_vswitch . datapath_types"), "[netdev, system]");
  EXPECT_EQ(f.get("open_vswitch . iface_types"), "[afxdp, internal, patch, system]");
  EXPECT_EQ(f.get("bridge br1 datapath_version"), "\"<built-in>\"");
  // Counted by the datapath flow, not by the translation: the cached flow
  // counts the next packets too; the constants are not written again.
  EXPECT_EQ(f.flood_from("p1", "q1"), 1u);
  ops = f.db.refresh(f.client.replica());
  size_t root_ops = 0;
  for (const auto& op : ops) root_ops += op["table"] == "Open_vSwitch" || op["table"] == "Bridge";
  EXPECT_EQ(root_ops, 0u) << ops.dump();
  f.client.transact(ops);
  for (int i = 0; i < 10; ++i) f.turn();
  EXPECT_EQ(f.get("interface pa statistics"),
            "{rx_bytes=0, rx_packets=0, tx_bytes=" + std::to_string(4 * frame) + ", tx_packets=4}");
  EXPECT_TRUE(f.errors.empty()) << f.errors[0];
}

}  // namespace switch_db_test
}  // namespace flowpath
