// bench/ovsdb/change_cost.cpp — the CPU of one add-port on the database
// side of `flowpath switch --db`, without sockets or devices: an
// ovsdb::Session synchronised on a replica of one bridge with N ports, then
// M add-port update2 notifications as ovsdb-server sends them (new
// Interface and Port rows, the Bridge's ports difference, next_cfg) fed as
// bytes; per update the stages of db-trace before the device open:
// *parsed* (framer, nlohmann parse, classify, replica apply) and *config*
// (ovsdb::to_switch_config); then the echo of the switch's write-back
// (the new Interface's ofport, cur_cfg) as ovsdb-server sends it, parsed
// and applied (*echo*: what SwitchDb then skips, switch_db.hpp).  Wall-clock figures on a loaded
// machine are noise; the stable measure is callgrind's instruction count per add, the difference of
// two runs (40 adds minus 20, divided by 20: adds 21..40, without the setup):
//   for m in 20 40; do
//     valgrind --tool=callgrind --callgrind-out-file=cg.$m build/bench/ovsdb_change_cost 20 $m
//   done
//   callgrind_annotate --inclusive=yes cg.$m | grep -E 'Session::on_bytes\(|to_switch_config\('
// (the inclusive counts of Session::on_bytes — framing, parse, replica —
// and to_switch_config; docs/ovsdb.md, "Cost").
// Usage: ovsdb_change_cost [N ports, default 20] [M adds, default 200]
// Prints median / p90 ns per stage over the M adds (wall clock, steady_clock).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "flowpath/ovsdb/session.hpp"
#include "flowpath/ovsdb/to_config.hpp"

namespace change_cost {

using flowpath::ovsdb::Json;

std::string uuid(int table, int n) {
  char b[40];
  std::snprintf(b, sizeof b, "%08x-0000-4000-8000-%012x", table, n);
  return b;
}
Json uuid_set(const std::vector<std::string>& us) {
  Json a = Json::array();
  for (const auto& u : us) a.push_back(Json::array({"uuid", u}));
  return Json::array({"set", a});
}
int64_t now_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}
const std::string kRoot = uuid(1, 1), kBridge = uuid(2, 1);
int base_ports = 0;  // N: the first added port gets ofport N + 1
int64_t n_plus(int k) { return base_ports + k; }

// An add-port of port K (update2, as ovsdb-server sends it to monitor_cond).
std::string add_update(int k, int64_t next_cfg) {
  std::string name = "p" + std::to_string(k);
  Json iface = {{"name", name}};
  Json port = {{"name", name}, {"interfaces", Json::array({"uuid", uuid(4, k)})}, {"tag", 1}};
  Json upd = {{"Interface", {{uuid(4, k), {{"insert", iface}}}}},
              {"Port", {{uuid(3, k), {{"insert", port}}}}},
              {"Bridge", {{kBridge, {{"modify", {{"ports", Json::array({"uuid", uuid(3, k)})}}}}}}},
              {"Open_vSwitch", {{kRoot, {{"modify", {{"next_cfg", next_cfg}}}}}}}};
  Json msg = {{"method", "update2"}, {"params", Json::array({"flowpath", upd})}, {"id", nullptr}};
  return msg.dump();
}

// The echo of the switch's write-back for add K: the new Interface's
// ofport and cur_cfg (what ovsdb-server sends back after the transaction).
std::string echo_update(int k, int64_t cur_cfg) {
  Json upd = {{"Interface", {{uuid(4, k), {{"modify", {{"ofport", n_plus(k)}}}}}}},
              {"Open_vSwitch", {{kRoot, {{"modify", {{"cur_cfg", cur_cfg}}}}}}}};
  Json msg = {{"method", "update2"}, {"params", Json::array({"flowpath", upd})}, {"id", nullptr}};
  return msg.dump();
}

int run(int n, int m) {
  flowpath::ovsdb::Session s;
  s.on_connected(0);
  Json tables = Json::object();
  for (const auto& t : flowpath::ovsdb::monitored_tables()) {
    Json cols = Json::object();
    for (const auto& c : t.columns) cols[std::string(c.name)] = Json::object();
    tables[std::string(t.name)] = {{"columns", cols}};
  }
  std::string schema = Json{{"id", 1}, {"result", {{"tables", tables}}}, {"error", nullptr}}.dump();
  s.on_bytes(schema.data(), schema.size(), 0);
  // The initial rows: br-int with its LOCAL port and n ports.
  std::vector<std::string> ports = {uuid(3, 0)};
  Json ifs = {{uuid(4, 0), {{"initial", {{"name", "br-int"}, {"type", "internal"}}}}}};
  Json ps = {
      {uuid(3, 0),
       {{"initial", {{"name", "br-int"}, {"interfaces", Json::array({"uuid", uuid(4, 0)})}}}}}};
  for (int k = 1; k <= n; ++k) {
    std::string name = "vm" + std::to_string(k);
    ports.push_back(uuid(3, 1000 + k));
    ifs[uuid(4, 1000 + k)] = {{"initial", {{"name", name}, {"ofport", k}}}};
    ps[uuid(3, 1000 + k)] = {
        {"initial",
         {{"name", name}, {"interfaces", Json::array({"uuid", uuid(4, 1000 + k)})}, {"tag", 1}}}};
  }
  Json initial = {
      {"Open_vSwitch",
       {{kRoot,
         {{"initial",
           {{"next_cfg", 1}, {"cur_cfg", 1}, {"bridges", Json::array({"uuid", kBridge})}}}}}}},
      {"Bridge", {{kBridge, {{"initial", {{"name", "br-int"}, {"ports", uuid_set(ports)}}}}}}},
      {"Port", ps},
      {"Interface", ifs}};
  std::string reply = Json{{"id", 2}, {"result", initial}, {"error", nullptr}}.dump();
  s.on_bytes(reply.data(), reply.size(), 0);
  if (!s.synced()) {
    std::fprintf(stderr, "change_cost: the session did not synchronise\n");
    return 1;
  }
  base_ports = n;
  std::vector<int64_t> parsed, config, echo;
  size_t bridges = 0;
  for (int i = 0; i < m; ++i) {
    std::string u = add_update(i + 1, i + 2);
    int64_t t0 = now_ns();
    s.on_bytes(u.data(), u.size(), 0);
    auto acts = s.take_actions();
    int64_t t1 = now_ns();
    flowpath::ovsdb::DbConfig d = flowpath::ovsdb::to_switch_config(s.replica());
    int64_t t2 = now_ns();
    bool updated = std::any_of(acts.begin(), acts.end(), [](const auto& a) {
      return a.kind == flowpath::ovsdb::Action::Kind::kReplicaUpdated;
    });
    if (!updated || d.config.bridges.size() != 1 ||
        d.config.bridges[0].ports.size() != size_t(n + i + 2)) {
      std::fprintf(stderr, "change_cost: add %d was not applied\n", i + 1);
      return 1;
    }
    bridges += d.config.bridges.size();
    parsed.push_back(t1 - t0);
    config.push_back(t2 - t1);
    std::string e = echo_update(i + 1, i + 2);
    int64_t t3 = now_ns();
    s.on_bytes(e.data(), e.size(), 0);
    acts = s.take_actions();
    echo.push_back(now_ns() - t3);
    if (acts.size() != 1 || acts[0].kind != flowpath::ovsdb::Action::Kind::kReplicaUpdated) {
      std::fprintf(stderr, "change_cost: echo %d was not applied\n", i + 1);
      return 1;
    }
  }
  auto show = [](const char* what, std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    std::printf("%-7s median %7.1f us  p90 %7.1f us\n", what, double(v[v.size() / 2]) / 1e3,
                double(v[v.size() * 9 / 10]) / 1e3);
  };
  std::printf("%d ports + %d adds (%zu configs built)\n", n, m, bridges);
  show("parsed", parsed);
  show("config", config);
  show("echo", echo);
  return 0;
}

}  // namespace change_cost

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20;
  int m = argc > 2 ? std::atoi(argv[2]) : 200;
  if (n < 0 || m < 1) {
    std::fprintf(stderr, "usage: ovsdb_change_cost [ports >= 0] [adds >= 1]\n");
    return 2;
  }
  return change_cost::run(n, m);
}
