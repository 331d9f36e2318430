// The OVSDB client against the REAL ovsdb-server (Debian openvswitch-switch
// 3.1), private to each test: the replica follows ovs-vsctl, survives a
// server restart (full resync), writes what ovs-vswitchd writes (checked
// with ovs-vsctl get), over unix and tcp sockets.
#include "flowpath/ovsdb/client.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <future>

#include "flowpath/ovsdb/ops.hpp"
#include "flowpath/ovsdb/to_config.hpp"
#include "ovsdb/ovsdb_server.hpp"

namespace client_test {

using namespace flowpath::ovsdb;
using flowpath::testing::OvsdbServer;
using K = Action::Kind;

#define NEED_OVSDB()                                              \
  if (std::string why = OvsdbServer::available(); !why.empty()) { \
    GTEST_SKIP() << "no ovsdb-server: " << why;                   \
  }

// Runs the client until `done` holds; every action goes to `log`.
bool run_until(Client& c, const std::function<bool()>& done, std::vector<Action>* log = nullptr,
               int timeout_ms = 10000) {
  int64_t end = Client::now_ms() + timeout_ms;
  while (Client::now_ms() < end) {
    if (done()) return true;
    for (auto& a : c.run_once(50))
      if (log) log->push_back(std::move(a));
  }
  return done();
}

const BridgeRow* bridge(const Replica& r, const std::string& name) {
  for (const auto& [u, b] : r.bridges())
    if (b.name == name) return &b;
  return nullptr;
}
const PortRow* port(const Replica& r, const std::string& name) {
  for (const auto& [u, p] : r.ports())
    if (p.name == name) return &p;
  return nullptr;
}
const InterfaceRow* iface(const Replica& r, const std::string& name) {
  for (const auto& [u, i] : r.interfaces())
    if (i.name == name) return &i;
  return nullptr;
}

Session::Config fast() {
  return {.probe_interval_ms = 2000, .backoff_min_ms = 50, .backoff_max_ms = 400};
}

TEST(OvsdbClient, ReplicaFollowsOvsVsctl) {
  NEED_OVSDB();
  OvsdbServer srv;
  srv.vsctl("init");
  Client c(srv.unix_remote(), fast());
  ASSERT_TRUE(run_until(c, [&] { return c.session().synced(); }));
  EXPECT_FALSE(c.session().using_monitor_v1());  // 3.1 speaks monitor_cond
  ASSERT_TRUE(c.replica().root());
  EXPECT_TRUE(c.replica().bridges().empty());

  srv.vsctl("add-br br-fp0 -- set bridge br-fp0 datapath_type=netdev");
  ASSERT_TRUE(
      run_until(c, [&] { return bridge(c.replica(), "br-fp0") && port(c.replica(), "br-fp0"); }));
  EXPECT_EQ(bridge(c.replica(), "br-fp0")->datapath_type, "netdev");
  EXPECT_EQ(iface(c.replica(), "br-fp0")->type, "internal");

  srv.vsctl("add-port br-fp0 fpvm1 tag=1 -- set interface fpvm1 type=afxdp ofport_request=5");
  ASSERT_TRUE(run_until(c, [&] { return iface(c.replica(), "fpvm1") != nullptr; }));
  EXPECT_EQ(port(c.replica(), "fpvm1")->tag, 1);
  EXPECT_EQ(iface(c.replica(), "fpvm1")->type, "afxdp");
  EXPECT_EQ(iface(c.replica(), "fpvm1")->ofport_request, 5);

  srv.vsctl("set port fpvm1 tag=2 -- set port fpvm1 trunks=10,20");
  ASSERT_TRUE(run_until(c, [&] { return port(c.replica(), "fpvm1")->tag == 2; }));
  EXPECT_EQ(port(c.replica(), "fpvm1")->trunks, (std::vector<int64_t>{10, 20}));
  srv.vsctl("set port fpvm1 trunks=20,30 -- set bridge br-fp0 other_config:k=v fail_mode=secure");
  ASSERT_TRUE(run_until(c, [&] { return bridge(c.replica(), "br-fp0")->fail_mode == "secure"; }));
  auto trunks = port(c.replica(), "fpvm1")->trunks;
  std::sort(trunks.begin(), trunks.end());
  EXPECT_EQ(trunks, (std::vector<int64_t>{20, 30}));
  EXPECT_EQ(bridge(c.replica(), "br-fp0")->other_config.at("k"), "v");

  // Patch pair across two bridges in one transaction, then the config.
  srv.vsctl(
      "add-br br-fp1 -- add-port br-fp0 fp-p0 -- set interface fp-p0 type=patch options:peer=fp-p1"
      " -- add-port br-fp1 fp-p1 -- set interface fp-p1 type=patch options:peer=fp-p0"
      " -- add-port br-fp1 fpvx -- set interface fpvx type=vxlan");
  ASSERT_TRUE(run_until(c, [&] { return iface(c.replica(), "fpvx") != nullptr; }));
  DbConfig d = to_switch_config(c.replica());
  ASSERT_EQ(d.config.bridges.size(), 2u);
  const flowpath::PortConfig* vm1 = d.config.find_port("fpvm1");
  ASSERT_TRUE(vm1);
  EXPECT_EQ(vm1->ofport, 5u);
  EXPECT_EQ(vm1->tag, 2);
  EXPECT_EQ(d.config.find_port("fp-p1")->peer, "fp-p0");
  EXPECT_EQ(d.config.find_port("fpvx"), nullptr);  // unknown type: that interface only
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].message,
            "Interface fpvx: unknown type 'vxlan' (expected afxdp, system, internal or patch)");
  EXPECT_EQ(d.config.bridges[0].name, "br-fp0");
  EXPECT_TRUE(d.config.bridges[0].flows.empty());   // secure: no flows
  EXPECT_EQ(d.config.bridges[1].flows.size(), 1u);  // standalone: NORMAL

  // A port moved between bridges in one transaction; a controller.
  srv.vsctl(
      "del-port br-fp0 fpvm1 -- add-port br-fp1 fpvm1 tag=3 -- set-controller br-fp1 "
      "tcp:127.0.0.1:6653");
  ASSERT_TRUE(run_until(c, [&] {
    const BridgeRow* b1 = bridge(c.replica(), "br-fp1");
    return b1 && !b1->controller.empty() && port(c.replica(), "fpvm1")->tag == 3;
  }));
  d = to_switch_config(c.replica());
  ASSERT_EQ(d.config.bridges.size(), 2u);
  EXPECT_EQ(d.config.bridges[1].name, "br-fp1");
  EXPECT_EQ(d.bridges[1].controllers, std::vector<std::string>{"tcp:127.0.0.1:6653"});
  EXPECT_TRUE(d.config.bridges[1].flows.empty());  // a controller decides: no NORMAL flow
  int found = 0;
  for (const auto& p : d.config.bridges[1].ports) found += p.name == "fpvm1";
  for (const auto& p : d.config.bridges[0].ports) found -= p.name == "fpvm1";
  EXPECT_EQ(found, 1);
  // add-port made a new Interface row: no ofport_request, br-fp1's next free
  // number (fp-p1 has 1).
  EXPECT_EQ(d.config.find_port("fpvm1")->ofport, 2u);
  srv.vsctl("del-port fpvm1");
  ASSERT_TRUE(
      run_until(c, [&] { return !port(c.replica(), "fpvm1") && !iface(c.replica(), "fpvm1"); }));
  srv.vsctl("del-br br-fp1");
  ASSERT_TRUE(run_until(c, [&] { return !bridge(c.replica(), "br-fp1"); }));
  EXPECT_EQ(port(c.replica(), "fp-p1"), nullptr);
  EXPECT_EQ(iface(c.replica(), "fpvx"), nullptr);
  EXPECT_EQ(c.replica().bridges().size(), 1u);
}

TEST(OvsdbClient, ReconnectsAndResynchronisesAfterARestart) {
  NEED_OVSDB();
  OvsdbServer srv;
  srv.vsctl("init -- add-br br-fp2 -- add-br br-fp3");
  Client c(srv.unix_remote(), fast());
  ASSERT_TRUE(run_until(c, [&] { return c.replica().bridges().size() == 2; }));
  srv.stop();
  std::vector<Action> log;
  ASSERT_TRUE(run_until(
      c, [&] { return !c.session().synced(); }, &log));
  // While it is down, the database changes behind our back (offline).
  OvsdbServer::sh("ovsdb-tool transact " + srv.db() +
                  " '[\"Open_vSwitch\",{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],"
                  "\"mutations\":[[\"bridges\",\"delete\",[\"set\",[" +
                  std::string("[\"uuid\",\"") + bridge(c.replica(), "br-fp3")->uuid + "\"]]]]]}]'");
  // A few attempts fail against the missing socket, with growing delays.
  ASSERT_TRUE(run_until(
      c,
      [&] {
        int n = 0;
        for (auto& a : log) n += a.kind == K::kReconnect;
        return n >= 3;
      },
      &log));
  std::vector<int64_t> delays;
  for (auto& a : log)
    if (a.kind == K::kReconnect) delays.push_back(a.delay_ms);
  EXPECT_EQ(delays[0], 50);
  EXPECT_EQ(delays[1], 100);
  EXPECT_EQ(delays[2], 200);
  srv.start();
  ASSERT_TRUE(run_until(c, [&] { return c.session().synced(); }));
  // The fresh monitor reply replaced the replica: br-fp3 is gone.
  EXPECT_TRUE(bridge(c.replica(), "br-fp2"));
  EXPECT_FALSE(bridge(c.replica(), "br-fp3"));
  EXPECT_EQ(c.replica().bridges().size(), 1u);
  srv.vsctl("add-port br-fp2 fpvm9");
  ASSERT_TRUE(run_until(c, [&] { return port(c.replica(), "fpvm9") != nullptr; }));
}

TEST(OvsdbClient, WritesWhatOvsVswitchdWrites) {
  NEED_OVSDB();
  OvsdbServer srv;
  srv.vsctl(
      "init -- add-br br-fp4 -- add-port br-fp4 fpvm4 -- add-port br-fp4 fpbad"
      " -- set interface fpbad type=geneve");
  Client c(srv.unix_remote(), fast());
  ASSERT_TRUE(run_until(c, [&] { return iface(c.replica(), "fpbad") != nullptr; }));
  DbConfig d = to_switch_config(c.replica());
  ASSERT_EQ(d.errors.size(), 1u);
  Json ops = Json::array();
  for (const auto& b : d.bindings) {
    InterfaceState s;
    s.ofport = b.ofport;
    s.link_state = s.admin_state = "up";
    s.mac_in_use = "02:00:00:00:00:0" + std::to_string(b.ofport % 10);
    s.ifindex = 40 + b.ofport % 10;
    s.mtu = 1500;
    s.status = {{"driver_name", "veth"}, {"driver_version", "1.0"}, {"firmware_version", ""}};
    ops.push_back(op_interface_state(b.interface_uuid, s));
    ops.push_back(
        op_interface_statistics(b.interface_uuid, {{"rx_packets", 7}, {"tx_bytes", 900}}));
  }
  InterfaceState failed;  // what ovs-vswitchd writes for an interface it cannot open
  failed.error = d.errors[0].message;
  ops.push_back(op_interface_state(d.errors[0].interface_uuid, failed));
  ops.push_back(op_bridge_datapath_id(d.bridges[0].uuid, format_datapath_id(0x2a)));
  std::vector<Action> log;
  uint64_t id = c.transact(ops);
  auto replied = [&] {
    for (auto& a : log)
      if (a.kind == K::kTransactReply && a.txn_id == id) return true;
    return false;
  };
  ASSERT_TRUE(run_until(c, replied, &log));
  for (auto& a : log)
    if (a.kind == K::kTransactReply && a.txn_id == id) {
      EXPECT_EQ(a.error, "") << a.result.dump();
    }
  EXPECT_EQ(srv.vsctl("get interface fpvm4 ofport"), "1");
  EXPECT_EQ(srv.vsctl("get interface fpvm4 link_state admin_state mac_in_use"),
            "up\nup\n\"02:00:00:00:00:01\"");
  EXPECT_EQ(srv.vsctl("get interface fpvm4 ifindex mtu"), "41\n1500");
  EXPECT_EQ(srv.vsctl("get interface fpvm4 status"),
            "{driver_name=veth, driver_version=\"1.0\", firmware_version=\"\"}");
  EXPECT_EQ(srv.vsctl("get interface fpvm4 statistics"), "{rx_packets=7, tx_bytes=900}");
  EXPECT_EQ(srv.vsctl("get interface br-fp4 ofport"), "65534");
  EXPECT_EQ(srv.vsctl("get interface fpbad ofport"), "-1");
  // A failed interface has no ifindex, mtu or status (cleared, as OVS).
  EXPECT_EQ(srv.vsctl("get interface fpbad ifindex mtu status"), "[]\n[]\n{}");
  EXPECT_EQ(
      srv.vsctl("get interface fpbad error"),
      "\"Interface fpbad: unknown type 'geneve' (expected afxdp, system, internal or patch)\"");
  EXPECT_EQ(srv.vsctl("get bridge br-fp4 datapath_id"), "\"000000000000002a\"");
  // Our own writes come back through the monitor (ofport is monitored):
  // a restart keeps the numbers.
  ASSERT_TRUE(run_until(c, [&] { return iface(c.replica(), "fpvm4")->ofport == 1; }));

  // ovs-vsctl without --no-wait returns once cur_cfg reaches next_cfg.
  auto vsctl = std::async(std::launch::async, [&] { return srv.vsctl("add-br br-fp5", false); });
  ASSERT_TRUE(
      run_until(c, [&] { return c.replica().root()->next_cfg > c.replica().root()->cur_cfg; }));
  int64_t next = c.replica().root()->next_cfg;
  c.transact(Json::array({op_cur_cfg(c.replica().root()->uuid, next)}));
  ASSERT_TRUE(run_until(c, [&] {
    return vsctl.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready;
  }));
  EXPECT_NO_THROW(vsctl.get());
  EXPECT_EQ(srv.vsctl("get open_vswitch . cur_cfg"), std::to_string(next));

  // A transaction the server refuses is a failed reply, not a lost session.
  log.clear();
  id = c.transact(Json::array({op_ofport_request(d.bindings[0].interface_uuid, 70000)}));
  ASSERT_TRUE(run_until(c, replied, &log));
  for (auto& a : log)
    if (a.kind == K::kTransactReply && a.txn_id == id) {
      EXPECT_NE(a.error.find("constraint violation"), std::string::npos) << a.error;
    }
  EXPECT_TRUE(c.session().synced());
}

TEST(OvsdbClient, TcpWorksToo) {
  NEED_OVSDB();
  OvsdbServer srv;
  srv.vsctl("init -- add-br br-fp6 -- add-port br-fp6 fpvm6 tag=6");
  Client c(srv.tcp_remote(), fast());
  ASSERT_TRUE(run_until(c, [&] { return port(c.replica(), "fpvm6") != nullptr; }));
  EXPECT_EQ(port(c.replica(), "fpvm6")->tag, 6);
  srv.vsctl("set port fpvm6 tag=7");
  ASSERT_TRUE(run_until(c, [&] { return port(c.replica(), "fpvm6")->tag == 7; }));
}

TEST(OvsdbClient, TheServerAnswersOurInactivityProbe) {
  NEED_OVSDB();
  OvsdbServer srv;
  srv.vsctl("init");
  Session::Config cfg = fast();
  cfg.probe_interval_ms = 100;
  Client c(srv.unix_remote(), cfg);
  ASSERT_TRUE(run_until(c, [&] { return c.session().synced(); }));
  std::vector<Action> log;
  int64_t end = Client::now_ms() + 800;  // eight idle intervals
  run_until(
      c, [&] { return Client::now_ms() >= end; }, &log);
  for (const auto& a : log) EXPECT_NE(a.kind, K::kReconnect) << a.error;
  EXPECT_TRUE(c.session().synced());
  // Silence (a stopped server: SIGSTOP keeps the socket open) is noticed.
  srv.pause(true);
  ASSERT_TRUE(run_until(
      c, [&] { return !c.session().synced(); }, &log, 3000));
  srv.pause(false);
  bool probe_error = false;
  for (const auto& a : log) probe_error |= a.error.find("inactivity probe") != std::string::npos;
  EXPECT_TRUE(probe_error);
  ASSERT_TRUE(run_until(c, [&] { return c.session().synced(); }));
}

TEST(OvsdbClient, RemotesAreCheckedAndAMissingServerBacksOff) {
  for (const char* bad : {"ssl:1.2.3.4:6640", "tcp:127.0.0.1", "tcp:localhost:6640",
                          "tcp:127.0.0.1:0", "tcp:[::1:6640", "unix:", "punix:/x"})
    EXPECT_THROW(Client c(bad), flowpath::Error) << bad;
  EXPECT_NO_THROW(Client c("tcp:[::1]:6640"));
  {
    Client refused("tcp:127.0.0.1:1", fast());  // nothing listens on port 1
    std::vector<Action> log;
    ASSERT_TRUE(run_until(
        refused, [&] { return !log.empty(); }, &log));
    EXPECT_NE(log[0].error.find("Connection refused"), std::string::npos) << log[0].error;
  }
  Client c("unix:/nonexistent/fp-ovsdb.sock", fast());
  std::vector<Action> log;
  auto attempts = [&] {
    int n = 0;
    for (auto& a : log) n += a.kind == K::kReconnect;
    return n;
  };
  ASSERT_TRUE(run_until(
      c, [&] { return attempts() >= 4; }, &log));
  EXPECT_NE(log[0].error.find("No such file or directory"), std::string::npos) << log[0].error;
  EXPECT_EQ(log[3].delay_ms, 400);
}

}  // namespace client_test
