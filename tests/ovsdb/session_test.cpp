// The OVSDB session state machine (ovsdb/session.hpp), driven by bytes that
// ovsdb-server 3.1 really sent (recorded/monitor_cond_session.bin: the
// get_schema and monitor_cond replies for the seed's compute node, then the
// update2 notifications of seven ovs-vsctl commands; recorded with the same
// request ids and monitor requests the session sends).
#include "flowpath/ovsdb/session.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace session_test {

using namespace flowpath::ovsdb;
using K = Action::Kind;

std::string recorded() {
  std::ifstream in(FLOWPATH_SOURCE_DIR "/tests/ovsdb/recorded/monitor_cond_session.bin",
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Json> sent(const std::vector<Action>& acts) {
  std::vector<Json> out;
  for (const auto& a : acts)
    if (a.kind == K::kSend) out.push_back(Json::parse(a.bytes));
  return out;
}
size_t count(const std::vector<Action>& acts, K k) {
  size_t n = 0;
  for (const auto& a : acts) n += a.kind == k;
  return n;
}
const PortRow* port(const Replica& r, const std::string& name) {
  for (const auto& [u, p] : r.ports())
    if (p.name == name) return &p;
  return nullptr;
}

// A schema reply that has exactly the monitored columns.
Json minimal_schema() {
  Json tables = Json::object();
  for (const auto& t : monitored_tables())
    for (const auto& c : t.columns)
      tables[std::string(t.name)]["columns"][std::string(c.name)] = {{"type", "string"}};
  return {{"name", "Open_vSwitch"}, {"tables", tables}};
}
std::string reply(uint64_t id, Json result) { return encode_reply(std::move(result), id); }

TEST(OvsdbSession, ReplaysARealServerAtEveryChunkSize) {
  const std::string bytes = recorded();
  ASSERT_GT(bytes.size(), 10000u);
  for (size_t chunk : {1, 5, 333, 1 << 20}) {
    Session s;
    s.on_connected(0);
    auto first = sent(s.take_actions());
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0], Json::parse(R"({"method":"get_schema","params":["Open_vSwitch"],"id":1})"));
    std::vector<Action> acts;
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      s.on_bytes(bytes.data() + i, std::min(chunk, bytes.size() - i), 1);
      for (auto& a : s.take_actions()) acts.push_back(std::move(a));
    }
    auto out = sent(acts);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0]["method"], "monitor_cond");
    EXPECT_EQ(out[0]["id"], 2);
    EXPECT_EQ(out[0]["params"][2]["Port"][0]["columns"],
              Json::parse(R"(["name","interfaces","tag","trunks","vlan_mode"])"));
    EXPECT_EQ(count(acts, K::kError), 0u);
    EXPECT_EQ(count(acts, K::kReplicaUpdated), 8u);  // the monitor reply + 7 updates
    ASSERT_TRUE(s.synced());
    const Replica& r = s.replica();
    ASSERT_EQ(r.bridges().size(), 1u);  // del-br br-eth2 removed it
    const BridgeRow& b = r.bridges().begin()->second;
    EXPECT_EQ(b.name, "br-int");
    EXPECT_EQ(b.fail_mode, "secure");
    EXPECT_EQ(b.other_config.at("a"), "1");
    EXPECT_EQ(b.ports.size(), 3u);  // br-int, int-br-eth2, vm2 (vm1 deleted)
    EXPECT_EQ(port(r, "vm1"), nullptr);
    const PortRow* vm2 = port(r, "vm2");
    ASSERT_TRUE(vm2);
    EXPECT_TRUE(vm2->trunks.empty());  // 10,20 -> 20,30 -> cleared
    EXPECT_EQ(r.ports().size(), 3u);
    EXPECT_EQ(r.interfaces().size(), 3u);
    const InterfaceRow* i = Replica::find(r.interfaces(), vm2->interfaces.at(0));
    ASSERT_TRUE(i);
    EXPECT_EQ(i->ofport_request, 7);
    EXPECT_EQ(i->options.at("n_rxq"), "2");
    ASSERT_TRUE(r.root());
    EXPECT_EQ(r.root()->bridges, std::vector<Uuid>{b.uuid});
  }
}

TEST(OvsdbSession, FallsBackToMonitorWhenMonitorCondIsRefused) {
  Session s;
  s.on_connected(0);
  s.take_actions();
  std::string b = reply(1, minimal_schema());
  s.on_bytes(b.data(), b.size(), 0);
  s.take_actions();
  b = R"({"id":2,"result":null,"error":{"error":"unknown method"}})";
  s.on_bytes(b.data(), b.size(), 0);
  auto out = sent(s.take_actions());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["method"], "monitor");
  EXPECT_EQ(out[0]["params"][2]["Bridge"]["columns"][0], "name");  // RFC 7047 object form
  const char* u = "11111111-2222-3333-4444-555555555555";
  b = reply(3, {{"Bridge", {{u, {{"new", {{"name", "br0"}}}}}}}});
  s.on_bytes(b.data(), b.size(), 0);
  auto acts = s.take_actions();
  EXPECT_EQ(count(acts, K::kReplicaUpdated), 1u);
  EXPECT_TRUE(s.using_monitor_v1());
  // v1 modify: "new" holds the whole row.
  b = encode_request("update",
                     Json::array({"flowpath",
                                  {{"Bridge",
                                    {{u,
                                      {{"old", {{"name", "br0"}}},
                                       {"new", {{"name", "br1"}, {"fail_mode", "secure"}}}}}}}}}),
                     nullptr);
  s.on_bytes(b.data(), b.size(), 0);
  EXPECT_EQ(count(s.take_actions(), K::kReplicaUpdated), 1u);
  EXPECT_EQ(s.replica().bridges().at(u).name, "br1");
  EXPECT_EQ(s.replica().bridges().at(u).fail_mode, "secure");
  b = encode_request("update",
                     Json::array({"flowpath", {{"Bridge", {{u, {{"old", {{"name", "br1"}}}}}}}}}),
                     nullptr);
  s.on_bytes(b.data(), b.size(), 0);
  EXPECT_TRUE(s.replica().bridges().empty());
  // An update2 on a v1 session is a protocol error.
  b = encode_request("update2", Json::array({"flowpath", Json::object()}), nullptr);
  s.on_bytes(b.data(), b.size(), 0);
  EXPECT_EQ(count(s.take_actions(), K::kReconnect), 1u);
}

// Brings a session to synced over the recorded bytes.
Session synced_session(Session::Config cfg = {}) {
  Session s(cfg);
  s.on_connected(0);
  std::string b = recorded();
  s.on_bytes(b.data(), b.size(), 0);
  s.take_actions();
  return s;
}

TEST(OvsdbSession, AnswersEchoAndProbesWhenIdle) {
  Session s = synced_session({.probe_interval_ms = 1000});
  std::string b = R"({"method":"echo","params":["x",1],"id":"echo"})";
  s.on_bytes(b.data(), b.size(), 100);
  auto out = sent(s.take_actions());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Json::parse(R"({"result":["x",1],"error":null,"id":"echo"})"));
  EXPECT_EQ(s.next_timer_ms(), 1100);
  s.on_timer(1099);
  EXPECT_TRUE(s.take_actions().empty());
  s.on_timer(1100);
  out = sent(s.take_actions());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["method"], "echo");
  // The reply (any bytes) re-arms the probe.
  b = reply(out[0]["id"].get<uint64_t>(), out[0]["params"]);
  s.on_bytes(b.data(), b.size(), 1500);
  EXPECT_TRUE(s.take_actions().empty());
  EXPECT_EQ(s.next_timer_ms(), 2500);
  s.on_timer(2500);  // probe again, then silence: give up
  s.take_actions();
  s.on_timer(3499);
  EXPECT_TRUE(s.take_actions().empty());
  s.on_timer(3500);
  auto acts = s.take_actions();
  ASSERT_EQ(count(acts, K::kReconnect), 1u);
  EXPECT_NE(acts[0].error.find("inactivity probe"), std::string::npos);
  EXPECT_EQ(s.state(), Session::State::kDisconnected);
}

TEST(OvsdbSession, ReconnectBackoffDoublesAndResetsAfterSync) {
  Session s({.backoff_min_ms = 100, .backoff_max_ms = 350});
  std::vector<int64_t> delays;
  for (int i = 0; i < 4; ++i) {
    s.on_disconnected("refused");
    for (auto& a : s.take_actions())
      if (a.kind == K::kReconnect) delays.push_back(a.delay_ms);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 350, 350}));
  // A full resync: the fresh monitor reply replaces the replica.
  s.on_connected(0);
  std::string b = recorded();
  s.on_bytes(b.data(), b.size(), 0);
  s.take_actions();
  EXPECT_TRUE(s.synced());
  s.on_disconnected("server gone");
  auto acts = s.take_actions();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].delay_ms, 100);
  s.on_connected(10);
  b = recorded();
  s.on_bytes(b.data(), b.size(), 10);
  EXPECT_EQ(s.replica().bridges().size(), 1u);  // not duplicated, not stale
}

TEST(OvsdbSession, TransactRepliesAndFailures) {
  Session s;
  uint64_t early = s.transact(Json::array());
  auto acts = s.take_actions();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].txn_id, early);
  EXPECT_NE(acts[0].error.find("not connected"), std::string::npos);
  s = synced_session();
  uint64_t id = s.transact(Json::array({{{"op", "comment"}, {"comment", "hi"}}}));
  auto out = sent(s.take_actions());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["method"], "transact");
  EXPECT_EQ(out[0]["params"][0], "Open_vSwitch");
  EXPECT_EQ(out[0]["params"][1]["op"], "comment");
  std::string b = reply(
      id, Json::array({Json::object(), {{"error", "constraint violation"}, {"details", "no"}}}));
  s.on_bytes(b.data(), b.size(), 0);
  acts = s.take_actions();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].kind, K::kTransactReply);
  EXPECT_EQ(acts[0].error, "transact: constraint violation: no");
  uint64_t lost = s.transact(Json::array());
  s.take_actions();
  s.on_disconnected("gone");
  acts = s.take_actions();
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_EQ(acts[0].txn_id, lost);
  EXPECT_EQ(acts[0].error, "connection lost: gone");
}

TEST(OvsdbSession, HostileInputIsAnErrorAndAResync) {
  const char* cases[] = {
      R"({"id":null,"method":"update2","params":["flowpath",{"Port":{"not-a-uuid":{"insert":{}}}}]})",
      R"({"id":null,"method":"update2","params":["flowpath",{"Port":{"11111111-2222-3333-4444-555555555555":{"modify":{"tag":1}}}}]})",
      R"({"id":null,"method":"update2","params":["flowpath",{"Secret":{}}]})",
      R"({"id":null,"method":"update2","params":["other",{}]})",
      R"({"id":null,"method":"update2","params":["flowpath",{"Port":{"11111111-2222-3333-4444-555555555555":{"insert":{"tag":["set",[1,2]]}}}}]})",
      R"({"result":1})",
      R"("just a string")",
      R"({"id":1,"result":[]}{"id":"x","result":[]}garbage)",
  };
  for (const char* c : cases) {
    Session s = synced_session();
    uint64_t gen = s.replica().generation();
    std::string b = c;
    s.on_bytes(b.data(), b.size(), 0);
    auto acts = s.take_actions();
    ASSERT_GE(count(acts, K::kError), 1u) << c;
    EXPECT_EQ(count(acts, K::kReconnect), 1u) << c;
    EXPECT_EQ(s.replica().generation(), gen) << c;  // nothing half-applied
    EXPECT_EQ(s.replica().bridges().size(), 1u) << c;
  }
  // The error names what is wrong.
  Session s = synced_session();
  std::string b = cases[4];
  s.on_bytes(b.data(), b.size(), 0);
  EXPECT_EQ(s.take_actions()[0].error,
            "ovsdb update: Port 11111111-2222-3333-4444-555555555555: column tag: expected at most "
            "one integer, got [\"set\",[1,2]]");
}

TEST(OvsdbSession, RefusesASchemaWithoutTheMonitoredColumns) {
  Session s;
  s.on_connected(0);
  s.take_actions();
  Json schema = minimal_schema();
  schema["tables"]["Interface"]["columns"].erase("ofport_request");
  std::string b = reply(1, schema);
  s.on_bytes(b.data(), b.size(), 0);
  auto acts = s.take_actions();
  ASSERT_GE(acts.size(), 1u);
  EXPECT_EQ(acts[0].error, "ovsdb: schema table Interface has no column ofport_request");
  EXPECT_EQ(count(acts, K::kReconnect), 1u);
}

}  // namespace session_test
