// flowpath/ovsdb/to_config.hpp — turns the replica of the Open_vSwitch
// database into flowpath's SwitchConfig (bridge/config.hpp), as
// ovs-vswitchd's bridge_reconfigure() reads it.
//
//   DbConfig d = to_switch_config(client.replica());
//   for (auto& e : d.errors) log(e.message);     // per interface, not fatal
//   Ofproto of(d.config);
//
// Rules (Open vSwitch's, where flowpath has the feature):
// - Bridges are those the Open_vSwitch row references; ports are taken in
//   name order.  A Port with one Interface becomes a PortConfig; bonds
//   (several interfaces) are an error for that port.
// - Interface type "" / "system" / "afxdp" -> afxdp (on this switch every
//   system interface is an AF_XDP port; options ifname, n_rxq, xdp-mode,
//   use-need-wakeup are checked); "internal" -> internal (TAP); "patch" ->
//   patch with options:peer (the only option), which must name a patch
//   interface whose peer is this one.  Any other type, a bad option or a
//   dangling reference is a ConfigError for that interface only: the port
//   is left out and every other port stays.
// - The port named after its bridge is the bridge's LOCAL port (65534);
//   each bridge gets one even if the database has none.
// - OpenFlow numbers: ofport_request, else the ofport the database already
//   holds (so numbers survive a restart, as in OVS), else the next free;
//   a requested number that is taken is an error for the later interface.
// - Flows: a bridge in fail_mode standalone (the default) without a
//   controller gets `priority=0 actions=NORMAL`; secure gets none.
// bindings map each configured interface to its rows and final ofport: the
// switch writes its state back through them (ovsdb/ops.hpp).
// Cost: O(rows log rows).  Thread-safety: pure function of the replica.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "flowpath/bridge/config.hpp"
#include "flowpath/ovsdb/port_rules.hpp"
#include "flowpath/ovsdb/replica.hpp"

namespace flowpath::ovsdb {

struct ConfigError {
  std::string bridge, port, interface;  // what is affected ("" when unknown)
  Uuid interface_uuid;                  // "" when no interface row is at fault
  std::string message;                  // "Interface vm1: unknown type 'vxlan'"
};
struct InterfaceBinding {
  std::string bridge, port, interface;
  Uuid bridge_uuid, port_uuid, interface_uuid;
  uint32_t ofport = 0;  // as configured (65534 for LOCAL)
};
struct BridgeInfo {
  std::string name;
  Uuid uuid;
  std::string fail_mode;      // "standalone" or "secure"
  std::string datapath_type;  // as written ("" = system)
  std::vector<std::string> controllers;
  std::map<std::string, std::string> other_config;
};
struct DbConfig {
  SwitchConfig config;
  std::vector<BridgeInfo> bridges;  // parallel to config.bridges
  std::vector<InterfaceBinding> bindings;
  std::vector<ConfigError> errors;
  Uuid root;  // the Open_vSwitch row ("" when the database has none)
  int64_t next_cfg = 0, cur_cfg = 0;
};

namespace to_config_detail {

struct Candidate {
  PortConfig cfg;
  InterfaceBinding bind;
  uint32_t requested = 0, previous = 0;
};

/// One Port row -> a Candidate, or an error recorded in `out`.
inline bool port_candidate(const Replica& r, const BridgeRow& b, const PortRow& pr, DbConfig& out,
                           Candidate& c) {
  auto fail = [&](const std::string& iface, const Uuid& iu, const std::string& msg) {
    out.errors.push_back({b.name, pr.name, iface, iu, msg});
    return false;
  };
  if (pr.interfaces.size() != 1)
    return fail("", "",
                "Port " + pr.name + ": " + std::to_string(pr.interfaces.size()) +
                    " interfaces (bonds are not supported)");
  const InterfaceRow* ir = Replica::find(r.interfaces(), pr.interfaces[0]);
  if (!ir) return fail("", "", "Port " + pr.name + ": interface " + pr.interfaces[0] + " missing");
  c.cfg.name = pr.name;
  if (std::string e = port_vlans(pr, c.cfg); !e.empty())
    return fail(ir->name, ir->uuid, "Port " + pr.name + ": " + e);
  if (std::string e = interface_kind(*ir, c.cfg); !e.empty())
    return fail(ir->name, ir->uuid, "Interface " + ir->name + ": " + e);
  if (ir->name != pr.name && c.cfg.type == PortType::kAfxdp && !c.cfg.options.count("ifname"))
    c.cfg.options["ifname"] = ir->name;  // the device is the interface's
  if (ir->ofport_request) {
    if (*ir->ofport_request < 1 || *ir->ofport_request > 0xfeff)
      return fail(ir->name, ir->uuid,
                  "Interface " + ir->name + ": ofport_request " +
                      std::to_string(*ir->ofport_request) + " is not 1..65279");
    c.requested = uint32_t(*ir->ofport_request);
  }
  if (ir->ofport && *ir->ofport >= 1 && *ir->ofport <= 0xfeff) c.previous = uint32_t(*ir->ofport);
  c.bind = {b.name, pr.name, ir->name, b.uuid, pr.uuid, ir->uuid, 0};
  return true;
}

/// Numbers a bridge's candidates: requested, then previous, then free.
inline void number(std::vector<Candidate>& cs, DbConfig& out) {
  std::set<uint32_t> taken;
  std::vector<Candidate> kept;
  kept.reserve(cs.size());
  for (auto& c : cs) {
    if (!c.requested) continue;
    if (!taken.insert(c.requested).second) {
      out.errors.push_back({c.bind.bridge, c.bind.port, c.bind.interface, c.bind.interface_uuid,
                            "Interface " + c.bind.interface + ": ofport_request " +
                                std::to_string(c.requested) + " is already in use"});
      c.bind.interface.clear();  // mark dropped
      continue;
    }
    c.cfg.ofport = c.requested;
  }
  for (auto& c : cs)
    if (!c.bind.interface.empty() && !c.cfg.ofport && c.previous && taken.insert(c.previous).second)
      c.cfg.ofport = c.previous;
  uint32_t next = 1;
  for (auto& c : cs) {
    if (c.bind.interface.empty()) continue;
    if (!c.cfg.ofport) {
      while (taken.count(next)) ++next;
      c.cfg.ofport = next;
      taken.insert(next);
    }
    kept.push_back(std::move(c));
  }
  cs = std::move(kept);
}

/// Drops patch ports whose peer is missing or not mutual, until none is
/// left (dropping one can orphan its partner).
inline void check_patches(DbConfig& out) {
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& b : out.config.bridges)
      for (size_t i = 0; i < b.ports.size(); ++i) {
        const PortConfig& p = b.ports[i];
        if (p.type != PortType::kPatch) continue;
        const PortConfig* q = out.config.find_port(p.peer);
        if (q && q->type == PortType::kPatch && q->peer == p.name) continue;
        auto bind = std::find_if(out.bindings.begin(), out.bindings.end(),
                                 [&](const auto& x) { return x.port == p.name; });
        std::string iface = bind != out.bindings.end() ? bind->interface : p.name;
        out.errors.push_back({b.name, p.name, iface,
                              bind != out.bindings.end() ? bind->interface_uuid : Uuid(),
                              "Interface " + iface + ": patch peer '" + p.peer +
                                  (q ? "' is not a patch interface whose peer is '" + iface + "'"
                                     : "' does not exist")});
        if (bind != out.bindings.end()) out.bindings.erase(bind);
        b.ports.erase(b.ports.begin() + long(i));
        changed = true;
        break;
      }
  }
}

/// One bridge: its ports (LOCAL last), bindings, flows.
inline void add_bridge(const Replica& r, const BridgeRow& b, std::set<std::string>& names,
                       DbConfig& out) {
  std::vector<const PortRow*> prs;
  for (const auto& u : b.ports) {
    if (const PortRow* p = Replica::find(r.ports(), u))
      prs.push_back(p);
    else
      out.errors.push_back({b.name, "", "", "", "Bridge " + b.name + ": port " + u + " missing"});
  }
  std::sort(prs.begin(), prs.end(), [](auto* x, auto* y) { return x->name < y->name; });
  std::vector<Candidate> cs;
  cs.reserve(prs.size());
  std::optional<Candidate> local;
  for (const PortRow* pr : prs) {
    Candidate c;
    if (!port_candidate(r, b, *pr, out, c)) continue;
    if (pr->name == b.name) {
      local = std::move(c);
    } else if (!names.insert(pr->name).second) {
      out.errors.push_back({b.name, pr->name, c.bind.interface, c.bind.interface_uuid,
                            "Port " + pr->name + ": name already used by another port or bridge"});
    } else {
      cs.push_back(std::move(c));
    }
  }
  number(cs, out);
  BridgeConfig bc{b.name, {}, {}, {}, b.fail_mode.value_or("")};
  bc.ports.reserve(cs.size() + 1);
  for (auto& c : cs) {
    c.bind.ofport = c.cfg.ofport;
    out.bindings.push_back(std::move(c.bind));
    bc.ports.push_back(std::move(c.cfg));
  }
  PortConfig l = local ? local->cfg : PortConfig{};
  l.name = b.name;
  l.type = PortType::kInternal;
  l.ofport = kOfPortLocal;
  l.options.clear();
  l.peer.clear();
  bc.ports.push_back(std::move(l));
  if (local) {
    local->bind.ofport = kOfPortLocal;
    out.bindings.push_back(local->bind);
  }
  BridgeInfo info{b.name,          b.uuid, b.fail_mode.value_or("standalone"),
                  b.datapath_type, {},     b.other_config};
  for (const auto& u : b.controller)
    if (const ControllerRow* c = Replica::find(r.controllers(), u))
      info.controllers.push_back(c->target);
  bc.controllers = info.controllers;  // the OpenFlow targets (openflow/target.hpp syntax)
  // OVS: standalone with no controller behaves as a learning switch, with a
  // flow that dump-flows shows.
  if (info.fail_mode != "secure" && b.controller.empty())
    bc.flows.push_back({"priority=0 actions=NORMAL", "ovsdb:Bridge " + b.name});
  out.config.bridges.push_back(std::move(bc));
  out.bridges.push_back(std::move(info));
}

}  // namespace to_config_detail

inline DbConfig to_switch_config(const Replica& r) {
  using namespace to_config_detail;
  DbConfig out;
  const OpenVSwitchRow* root = r.root();
  if (!root) return out;
  out.root = root->uuid;
  out.next_cfg = root->next_cfg;
  out.cur_cfg = root->cur_cfg;
  if (r.open_vswitch().size() > 1)
    out.errors.push_back({"", "", "", "",
                          "Open_vSwitch: " + std::to_string(r.open_vswitch().size()) +
                              " rows, using " + root->uuid});
  std::vector<const BridgeRow*> brs;
  for (const auto& u : root->bridges) {
    if (const BridgeRow* b = Replica::find(r.bridges(), u))
      brs.push_back(b);
    else
      out.errors.push_back({"", "", "", "", "Open_vSwitch: bridge " + u + " missing"});
  }
  std::sort(brs.begin(), brs.end(), [](auto* x, auto* y) { return x->name < y->name; });
  std::set<std::string> names;
  for (const BridgeRow* b : brs)
    if (!names.insert(b->name).second)
      out.errors.push_back({b->name, "", "", "", "Bridge " + b->name + ": duplicate name"});
  std::set<std::string> seen;
  for (const BridgeRow* b : brs)
    if (seen.insert(b->name).second) add_bridge(r, *b, names, out);
  check_patches(out);
  return out;
}

}  // namespace flowpath::ovsdb
