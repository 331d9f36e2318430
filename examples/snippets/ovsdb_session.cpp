// The OVSDB client without a socket: a Session fed with the bytes an
// ovsdb-server sends, its replica turned into a SwitchConfig, and the
// write-back a switch would transact.  (docs/ovsdb.md; the same Session runs
// inside ovsdb::Client over unix:/tcp: sockets.)
#include <cstdio>
#include <string>

#include "flowpath/ovsdb/ops.hpp"
#include "flowpath/ovsdb/session.hpp"
#include "flowpath/ovsdb/to_config.hpp"

using namespace flowpath::ovsdb;

// What a server would answer to get_schema (id 1) and monitor_cond (id 2):
// br-int with its own port and vm1 on VLAN 1.
static std::string server_bytes() {
  Json tables = Json::object();
  for (const auto& t : monitored_tables())
    for (const auto& c : t.columns)
      tables[std::string(t.name)]["columns"][std::string(c.name)] = Json::object();
  const char *root = "00000000-0000-4000-8000-000000000001",
             *br = "00000000-0000-4000-8000-000000000002",
             *p0 = "00000000-0000-4000-8000-000000000003",
             *i0 = "00000000-0000-4000-8000-000000000004",
             *p1 = "00000000-0000-4000-8000-000000000005",
             *i1 = "00000000-0000-4000-8000-000000000006";
  Json rows = {
      {"Open_vSwitch", {{root, {{"initial", {{"bridges", uuid_atom(br)}, {"next_cfg", 1}}}}}}},
      {"Bridge",
       {{br,
         {{"initial",
           {{"name", "br-int"}, {"ports", make_set({uuid_atom(p0), uuid_atom(p1)})}}}}}}},
      {"Port",
       {{p0, {{"initial", {{"name", "br-int"}, {"interfaces", uuid_atom(i0)}}}}},
        {p1, {{"initial", {{"name", "vm1"}, {"interfaces", uuid_atom(i1)}, {"tag", 1}}}}}}},
      {"Interface",
       {{i0, {{"initial", {{"name", "br-int"}, {"type", "internal"}}}}},
        {i1, {{"initial", {{"name", "vm1"}, {"type", "afxdp"}}}}}}}};
  return encode_reply({{"tables", tables}}, 1) + encode_reply(rows, 2);
}

int main() {
  Session s({.probe_interval_ms = 5000});
  s.on_connected(/*now_ms=*/0);
  for (const Action& a : s.take_actions())
    std::printf("send: %s\n", a.bytes.c_str());  // get_schema

  std::string in = server_bytes();
  s.on_bytes(in.data(), in.size(), /*now_ms=*/1);
  for (const Action& a : s.take_actions()) {
    if (a.kind == Action::Kind::kSend)
      std::printf("send: %.60s...\n", a.bytes.c_str());  // monitor_cond
    if (a.kind == Action::Kind::kReplicaUpdated) std::printf("replica updated\n");
  }
  if (!s.synced()) return 1;

  DbConfig d = to_switch_config(s.replica());
  for (const auto& b : d.config.bridges)
    for (const auto& p : b.ports)
      std::printf("%s: port %s ofport %u%s\n", b.name.c_str(), p.name.c_str(), p.ofport,
                  p.tag ? (" tag " + std::to_string(*p.tag)).c_str() : "");

  // What the switch writes back once the ports are up: ofport and state of
  // each interface, then cur_cfg = next_cfg so that ovs-vsctl returns.
  Json ops = Json::array();
  for (const auto& b : d.bindings) {
    InterfaceState st;
    st.ofport = b.ofport;
    st.link_state = st.admin_state = "up";
    ops.push_back(op_interface_state(b.interface_uuid, st));
  }
  ops.push_back(op_cur_cfg(d.root, d.next_cfg));
  uint64_t id = s.transact(ops);
  auto out = s.take_actions();
  std::printf("transact %llu: %zu operations, %zu bytes\n", (unsigned long long)id, ops.size(),
              out.at(0).bytes.size());
  return d.config.bridges.size() == 1 && d.config.find_port("vm1") ? 0 : 1;
}
