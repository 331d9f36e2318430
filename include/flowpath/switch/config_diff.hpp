// flowpath/switch/config_diff.hpp — what changes between two switch
// configurations (bridge/config.hpp), keyed by name: the plan
// Switch::apply carries out.
//
//   ConfigDiff d = diff_config(running, desired);
//   // d.remove_ports, d.remove_bridges, d.add_bridges, d.add_ports,
//   // d.retag_ports, d.del_flows, d.add_flows — in that order
//
// Rules.  A bridge present in one only is added / removed (with all its
// ports, LOCAL included).  A port is kept when it is on the same bridge
// with the same type, options, peer and OpenFlow number; kept with only
// tag / trunks / vlan_mode changed it is retagged in place (its device
// stays open, nothing is lost); any other change — a port moved to
// another bridge, a new type or ifname, a new ofport — removes it and
// adds it again.  Flows of a bridge in both are compared by their text
// (the config's flows: fail_mode's NORMAL flow, `add-flow` lines).
// Cost: O(ports log ports).  Thread-safety: pure function.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/bridge/config.hpp"

namespace flowpath {

struct ConfigDiff {
  std::vector<std::string> remove_ports;    // every removed port (and re-added ones)
  std::vector<std::string> remove_bridges;  // after their ports
  std::vector<std::string> add_bridges;
  std::vector<std::pair<std::string, PortConfig>> add_ports;    // bridge, port
  std::vector<std::pair<std::string, PortConfig>> retag_ports;  // bridge, new VLAN policy
  std::vector<std::pair<std::string, FlowLine>> del_flows, add_flows;

  bool empty() const noexcept {
    return remove_ports.empty() && remove_bridges.empty() && add_bridges.empty() &&
           add_ports.empty() && retag_ports.empty() && del_flows.empty() && add_flows.empty();
  }
};

namespace config_diff_detail {

inline bool same_device(const PortConfig& a, const PortConfig& b) {
  return a.type == b.type && a.system == b.system && a.options == b.options && a.peer == b.peer &&
         a.ofport == b.ofport;
}
inline bool same_vlan(const PortConfig& a, const PortConfig& b) {
  return a.tag == b.tag && a.trunks == b.trunks && a.vlan_mode == b.vlan_mode;
}

struct Where {
  const BridgeConfig* bridge;
  const PortConfig* port;
};
inline std::map<std::string, Where> port_index(const SwitchConfig& c) {
  std::map<std::string, Where> m;
  for (const auto& b : c.bridges)
    for (const auto& p : b.ports) m[p.name] = {&b, &p};
  return m;
}

inline void diff_flows(const BridgeConfig& o, const BridgeConfig& n, ConfigDiff& d) {
  auto has = [](const BridgeConfig& b, const std::string& text) {
    for (const auto& f : b.flows)
      if (f.text == text) return true;
    return false;
  };
  for (const auto& f : o.flows)
    if (!has(n, f.text)) d.del_flows.push_back({o.name, f});
  for (const auto& f : n.flows)
    if (!has(o, f.text)) d.add_flows.push_back({n.name, f});
}

}  // namespace config_diff_detail

inline ConfigDiff diff_config(const SwitchConfig& old_cfg, const SwitchConfig& new_cfg) {
  using namespace config_diff_detail;
  ConfigDiff d;
  auto old_ports = port_index(old_cfg), new_ports = port_index(new_cfg);
  for (const auto& [name, w] : old_ports) {
    auto it = new_ports.find(name);
    if (it == new_ports.end() || it->second.bridge->name != w.bridge->name ||
        !same_device(*w.port, *it->second.port)) {
      d.remove_ports.push_back(name);
      if (it != new_ports.end()) d.add_ports.push_back({it->second.bridge->name, *it->second.port});
    } else if (!same_vlan(*w.port, *it->second.port)) {
      d.retag_ports.push_back({w.bridge->name, *it->second.port});
    }
  }
  for (const auto& b : old_cfg.bridges) {
    const BridgeConfig* nb = nullptr;
    for (const auto& x : new_cfg.bridges)
      if (x.name == b.name) nb = &x;
    if (!nb)
      d.remove_bridges.push_back(b.name);
    else
      diff_flows(b, *nb, d);
  }
  for (const auto& b : new_cfg.bridges) {
    bool known = false;
    for (const auto& x : old_cfg.bridges) known = known || x.name == b.name;
    if (known) continue;
    d.add_bridges.push_back(b.name);
    for (const auto& f : b.flows) d.add_flows.push_back({b.name, f});
  }
  // New ports in configuration order (so a fresh switch numbers its
  // datapath ports 1..N as the configuration lists them).
  for (const auto& b : new_cfg.bridges)
    for (const auto& p : b.ports)
      if (!old_ports.count(p.name)) d.add_ports.push_back({b.name, p});
  return d;
}

}  // namespace flowpath
