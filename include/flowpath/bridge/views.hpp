// flowpath/bridge/views.hpp — the ovs-style views of a switch's
// configuration: `show` shaped like `ovs-vsctl show`.
//
// (dump-flows is OpenFlowTables::dump_flows, fdb/show is MacTable::show,
// ofproto/trace is trace.hpp, dpctl/dump-flows and pmd-stats-show live in
// datapath/.)
//
// Thread-safety: takes the Ofproto's lock.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>

#include "flowpath/bridge/ofproto.hpp"

namespace flowpath {

inline constexpr const char* kFlowpathVersion = "0.1.0";

/// `ovs-vsctl show`: bridges in configuration order, ports by name.
inline std::string show(const Ofproto& of) {
  std::lock_guard lock(of.mutex());
  // A stable identifier in UUID shape, derived from the bridge names.
  uint64_t h = 1469598103934665603ull;
  for (const auto& b : of.bridges())
    for (char c : b->name()) h = (h ^ uint8_t(c)) * 1099511628211ull;
  char id[40];
  std::snprintf(id, sizeof id, "%08x-%04x-%04x-%04x-%012llx", unsigned(h >> 32),
                unsigned(h >> 16) & 0xffff, unsigned(h & 0xfff) | 0x4000,
                unsigned((h >> 48) & 0x3fff) | 0x8000,
                static_cast<unsigned long long>(h & 0xffffffffffffull));
  std::string out = std::string(id) + "\n";
  for (const auto& b : of.bridges()) {
    out += "    Bridge " + b->name() + "\n";
    out += "        datapath_type: netdev\n";
    std::vector<BridgePort*> ports = b->ports();
    std::sort(ports.begin(), ports.end(), [](auto* x, auto* y) { return x->name() < y->name(); });
    for (const BridgePort* p : ports) {
      const PortConfig& c = p->cfg;
      out += "        Port " + c.name + "\n";
      if (c.tag) out += "            tag: " + std::to_string(*c.tag) + "\n";
      if (!c.trunks.empty()) {
        out += "            trunks: [";
        for (size_t i = 0; i < c.trunks.size(); ++i)
          out += (i ? ", " : "") + std::to_string(c.trunks[i]);
        out += "]\n";
      }
      if (c.vlan_mode)
        out += "            vlan_mode: " + std::string(to_string(*c.vlan_mode)) + "\n";
      out += "            Interface " + c.name + "\n";
      out += "                type: " + std::string(to_string(c.type)) + "\n";
      std::string opts;
      if (!c.peer.empty()) opts += "peer=" + c.peer;
      for (const auto& [k, v] : c.options) opts += (opts.empty() ? "" : ", ") + k + "=" + v;
      if (!opts.empty()) out += "                options: {" + opts + "}\n";
    }
  }
  out += std::string("    ovs_version: \"flowpath ") + kFlowpathVersion + "\"\n";
  return out;
}

/// `ovs-ofctl dump-flows BRIDGE`, port names shown as names.
inline std::string dump_flows(const Ofproto& of, std::string_view bridge) {
  std::lock_guard lock(of.mutex());
  const Bridge& b = of.require_bridge(bridge);
  PortNamer namer = b.namer();
  return b.tables().dump_flows(kOfTableAll, &namer);
}

/// `ovs-appctl fdb/show BRIDGE`.
inline std::string fdb_show(const Ofproto& of, std::string_view bridge) {
  std::lock_guard lock(of.mutex());
  const Bridge& b = of.require_bridge(bridge);
  return b.macs().show([&b](uint32_t ofport) { return b.port_name(ofport); });
}

}  // namespace flowpath
