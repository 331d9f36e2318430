// Replica -> SwitchConfig (ovsdb/to_config.hpp): the rules of the header,
// each with a case that fails only that interface.
#include "flowpath/ovsdb/to_config.hpp"

#include <gtest/gtest.h>

namespace to_config_test {

using namespace flowpath::ovsdb;
using flowpath::PortType;

// Builds a replica through the real update2 path.  Each port has one
// interface of the same name; UUIDs are derived from a counter.
struct Db {
  Json ovs = {{"bridges", make_set({})}, {"next_cfg", 3}, {"cur_cfg", 2}};
  Json tables = Json::object();
  std::vector<Json> bridges;
  int n = 0;
  std::string uuid() {
    char b[40];
    snprintf(b, sizeof b, "00000000-0000-4000-8000-%012d", ++n);
    return b;
  }
  std::string bridge(const std::string& name, Json extra = Json::object()) {
    std::string u = uuid();
    extra["name"] = name;
    tables["Bridge"][u] = {{"initial", extra}};
    bridges.push_back(uuid_atom(u));
    return u;
  }
  std::string port(const std::string& br, const std::string& name, Json iface = Json::object(),
                   Json port = Json::object()) {
    std::string pu = uuid(), iu = uuid();
    iface["name"] = name;
    tables["Interface"][iu] = {{"initial", iface}};
    port["name"] = name;
    if (!port.contains("interfaces")) port["interfaces"] = uuid_atom(iu);
    tables["Port"][pu] = {{"initial", port}};
    Json& b = tables["Bridge"][br]["initial"];
    std::vector<Json> ports = b.contains("ports") ? set_atoms(b["ports"], "") : std::vector<Json>{};
    ports.push_back(uuid_atom(pu));
    b["ports"] = make_set(ports);
    return iu;
  }
  Replica replica() {
    Json t = tables;
    Json root = ovs;
    root["bridges"] = make_set(bridges);
    t["Open_vSwitch"]["11111111-0000-4000-8000-000000000000"] = {{"initial", root}};
    Replica r;
    std::string err = r.apply(t, UpdateFormat::kUpdate2, true);
    EXPECT_EQ(err, "");
    return r;
  }
};

Json opts(std::map<std::string, std::string> m) {
  std::vector<std::pair<Json, Json>> p;
  for (auto& [k, v] : m) p.emplace_back(k, v);
  return make_map(p);
}

TEST(OvsdbToConfig, ComputeNodeAsNeutronBuildsIt) {
  Db db;
  auto bi = db.bridge("br-int");
  auto be = db.bridge("br-eth2", {{"fail_mode", "secure"}});
  db.port(bi, "br-int", {{"type", "internal"}});
  db.port(bi, "qvo1", {{"type", "afxdp"}}, {{"tag", 1}});
  db.port(bi, "int-br-eth2", {{"type", "patch"}, {"options", opts({{"peer", "phy-br-eth2"}})}});
  db.port(be, "phy-br-eth2", {{"type", "patch"}, {"options", opts({{"peer", "int-br-eth2"}})}});
  db.port(be, "eth2", {{"type", ""}, {"options", opts({{"n_rxq", "4"}})}},
          {{"trunks", make_set({1000, 1001})}});
  DbConfig d = to_switch_config(db.replica());
  EXPECT_TRUE(d.errors.empty()) << d.errors[0].message;
  EXPECT_EQ(d.next_cfg, 3);
  ASSERT_EQ(d.config.bridges.size(), 2u);
  const auto& eth = d.config.bridges[0];  // by name: br-eth2 < br-int
  EXPECT_EQ(eth.name, "br-eth2");
  EXPECT_TRUE(eth.flows.empty());  // secure
  ASSERT_EQ(eth.ports.size(), 3u);
  EXPECT_EQ(eth.ports.back().name, "br-eth2");  // LOCAL last, even without a row
  EXPECT_EQ(eth.ports.back().ofport, flowpath::kOfPortLocal);
  const auto& in = d.config.bridges[1];
  ASSERT_EQ(in.flows.size(), 1u);
  EXPECT_EQ(in.flows[0].text, "priority=0 actions=NORMAL");
  auto* qvo = d.config.find_port("qvo1");
  ASSERT_TRUE(qvo);
  EXPECT_EQ(qvo->type, PortType::kAfxdp);
  EXPECT_EQ(qvo->tag, 1);
  EXPECT_FALSE(qvo->system);                        // afxdp: bound at once
  EXPECT_TRUE(d.config.find_port("eth2")->system);  // "": a packet socket first
  EXPECT_EQ(d.config.find_port("eth2")->trunks, (std::vector<uint16_t>{1000, 1001}));
  EXPECT_EQ(d.config.find_port("eth2")->options.at("n_rxq"), "4");
  EXPECT_EQ(d.config.find_port("int-br-eth2")->peer, "phy-br-eth2");
  EXPECT_EQ(d.bindings.size(), 5u);  // 4 ports + br-int's own row
}

TEST(OvsdbToConfig, OfportRequestThenPreviousThenFree) {
  Db db;
  auto b = db.bridge("br0");
  db.port(b, "a");                           // free -> 1
  db.port(b, "b", {{"ofport_request", 2}});  // requested
  db.port(b, "c", {{"ofport", 3}});          // kept from last run
  db.port(b, "d", {{"ofport_request", 2}});  // taken: error
  db.port(b, "e", {{"ofport", 2}});          // previous taken: next free
  DbConfig d = to_switch_config(db.replica());
  EXPECT_EQ(d.config.find_port("a")->ofport, 1u);
  EXPECT_EQ(d.config.find_port("b")->ofport, 2u);
  EXPECT_EQ(d.config.find_port("c")->ofport, 3u);
  EXPECT_EQ(d.config.find_port("d"), nullptr);
  EXPECT_EQ(d.config.find_port("e")->ofport, 4u);
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].message, "Interface d: ofport_request 2 is already in use");
  EXPECT_EQ(d.errors[0].interface, "d");
  EXPECT_FALSE(d.errors[0].interface_uuid.empty());
  for (const auto& bind : d.bindings)
    if (bind.interface == "e") {
      EXPECT_EQ(bind.ofport, 4u);
    }
}

TEST(OvsdbToConfig, BadInterfacesFailAloneWithAMessage) {
  Db db;
  auto b = db.bridge("br0");
  db.port(b, "good");
  db.port(b, "vx", {{"type", "vxlan"}});
  db.port(b, "mode", {{"options", opts({{"xdp-mode", "turbo"}})}});
  db.port(b, "pp", {{"type", "patch"}});
  db.port(b, "px", {{"type", "patch"}, {"options", opts({{"peer", "gone"}})}});
  db.port(b, "pk", {{"type", "patch"}, {"options", opts({{"peer", "x"}, {"color", "red"}})}});
  db.port(b, "q", {}, {{"vlan_mode", "dot1q-tunnel"}});
  db.port(b, "bond", {}, {{"interfaces", make_set({uuid_atom(db.uuid()), uuid_atom(db.uuid())})}});
  db.port(b, "dangling", {}, {{"interfaces", uuid_atom("99999999-0000-4000-8000-000000000000")}});
  DbConfig d = to_switch_config(db.replica());
  std::vector<std::string> msgs;
  for (auto& e : d.errors) msgs.push_back(e.message);
  std::sort(msgs.begin(), msgs.end());
  EXPECT_EQ(msgs,
            (std::vector<std::string>{
                "Interface mode: bad value 'turbo' for options:xdp-mode",
                "Interface pk: patch: unknown option 'color'",
                "Interface pp: patch: missing options:peer",
                "Interface px: patch peer 'gone' does not exist",
                "Interface vx: unknown type 'vxlan' (expected afxdp, system, internal or patch)",
                "Port bond: 2 interfaces (bonds are not supported)",
                "Port dangling: interface 99999999-0000-4000-8000-000000000000 missing",
                "Port q: vlan_mode 'dot1q-tunnel' is not supported",
            }));
  ASSERT_EQ(d.config.bridges.size(), 1u);
  EXPECT_EQ(d.config.bridges[0].ports.size(), 2u);  // good + LOCAL
  EXPECT_TRUE(d.config.find_port("good"));
}

TEST(OvsdbToConfig, HalfAPatchPairIsAnErrorUntilTheOtherHalfArrives) {
  Db db;
  auto b0 = db.bridge("br0"), b1 = db.bridge("br1");
  db.port(b0, "p0", {{"type", "patch"}, {"options", opts({{"peer", "p1"}})}});
  db.port(b1, "p1", {{"type", "patch"}, {"options", opts({{"peer", "p9"}})}});  // not mutual
  DbConfig d = to_switch_config(db.replica());
  EXPECT_EQ(d.errors.size(), 2u);  // p1's peer is missing, then p0's peer is not its partner
  EXPECT_EQ(d.config.find_port("p0"), nullptr);
  EXPECT_EQ(d.config.find_port("p1"), nullptr);
  EXPECT_EQ(d.bindings.size(), 0u);
}

TEST(OvsdbToConfig, EmptyDatabaseIsAnEmptyConfig) {
  Replica r;
  DbConfig d = to_switch_config(r);
  EXPECT_TRUE(d.config.bridges.empty());
  EXPECT_TRUE(d.root.empty());
}

}  // namespace to_config_test
