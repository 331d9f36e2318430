// flowpath/ovsdb/ops.hpp — the transact operations a switch writes back to
// the Open_vSwitch database, as ovs-vswitchd does (RFC 7047 §5.2 "update"
// operations keyed by row UUID).
//
//   Json ops = Json::array();
//   ops.push_back(op_interface_state(iface_uuid, {.ofport = 3, .link_state = "up",
//                                                 .admin_state = "up",
//                                                 .mac_in_use = "02:00:00:00:00:01"}));
//   ops.push_back(op_bridge_datapath_id(bridge_uuid, format_datapath_id(0x2a)));
//   ops.push_back(op_cur_cfg(root_uuid, next_cfg));
//   client.transact(ops);
//
// What each column means to the tools: `ovs-vsctl` without --no-wait
// waits until Open_vSwitch cur_cfg reaches the next_cfg it wrote;
// Interface ofport is the OpenFlow number (-1 with `error` set when the
// switch could not open the interface); link_state/admin_state/mac_in_use
// are what `ovs-vsctl list interface` shows, with ifindex, mtu, status
// (the driver), statistics (the device's counters), link_speed / duplex
// (ethtool) and link_resets (carrier changes); Bridge datapath_id is 16 hex
// digits; the Open_vSwitch row's datapath_types / iface_types say what the
// switch supports.  An empty optional string clears its column.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flowpath/ovsdb/datum.hpp"
#include "flowpath/ovsdb/rows.hpp"

namespace flowpath::ovsdb {

/// An "update" of one row, selected by its UUID.
inline Json op_update_row(std::string_view table, const Uuid& uuid, Json row) {
  return Json{{"op", "update"},
              {"table", table},
              {"where", Json::array({Json::array({"_uuid", "==", uuid_atom(uuid)})})},
              {"row", std::move(row)}};
}

/// An optional string column: "" clears it.
inline Json optional_string_datum(const std::string& s) {
  return s.empty() ? make_set({}) : Json(s);
}

/// An optional integer column: 0 clears it (ifindex and mtu are never 0).
inline Json optional_integer_datum(int64_t v) { return v ? Json(v) : make_set({}); }

/// A string -> string map column.
inline Json string_map_datum(const std::map<std::string, std::string>& m) {
  std::vector<std::pair<Json, Json>> pairs;
  for (const auto& [k, v] : m) pairs.emplace_back(k, v);
  return make_map(pairs);
}

/// What ovs-vswitchd reports for an interface.
struct InterfaceState {
  int64_t ofport = -1;      // -1: could not be opened (set `error`)
  std::string link_state;   // "up" | "down" | "" (unknown)
  std::string admin_state;  // "up" | "down" | ""
  std::string mac_in_use;   // "xx:xx:xx:xx:xx:xx" | ""
  std::string error;        // "" = no error
  int64_t ifindex = -1;     // -1: unknown (cleared); 0 is a patch port's (as OVS)
  int64_t mtu = 0;          // 0: unknown (cleared)
  // `status`: driver_name, driver_version, firmware_version as OVS (empty: cleared)
  std::map<std::string, std::string> status;
  int64_t link_speed = 0;    // bits/s; 0: unknown (cleared, and duplex with it)
  std::string duplex;        // "full" | "half" | "" (cleared)
  int64_t link_resets = -1;  // carrier changes since opened; -1: cleared
};

inline Json op_interface_state(const Uuid& iface, const InterfaceState& s) {
  Json row = {{"ofport", s.ofport},
              {"link_state", optional_string_datum(s.link_state)},
              {"admin_state", optional_string_datum(s.admin_state)},
              {"mac_in_use", optional_string_datum(s.mac_in_use)},
              {"error", optional_string_datum(s.error)},
              {"ifindex", s.ifindex >= 0 ? Json(s.ifindex) : make_set({})},
              {"mtu", optional_integer_datum(s.mtu)},
              {"status", string_map_datum(s.status)},
              {"link_speed", optional_integer_datum(s.link_speed)},
              {"duplex", optional_string_datum(s.link_speed ? s.duplex : "")},
              {"link_resets", s.link_resets >= 0 ? Json(s.link_resets) : make_set({})}};
  return op_update_row("Interface", iface, std::move(row));
}

/// Interface statistics (a string -> integer map: rx_packets, tx_bytes, ...).
inline Json op_interface_statistics(const Uuid& iface, const std::map<std::string, int64_t>& st) {
  std::vector<std::pair<Json, Json>> pairs;
  for (const auto& [k, v] : st) pairs.emplace_back(k, v);
  return op_update_row("Interface", iface, {{"statistics", make_map(pairs)}});
}

/// Sets (or with nullopt clears) Interface ofport_request.
inline Json op_ofport_request(const Uuid& iface, std::optional<int64_t> ofport) {
  return op_update_row("Interface", iface,
                       {{"ofport_request", ofport ? Json(*ofport) : make_set({})}});
}

/// 16 lower-case hex digits, as OVS writes Bridge datapath_id.
inline std::string format_datapath_id(uint64_t dpid) {
  static const char* hex = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, dpid >>= 4) s[size_t(i)] = hex[dpid & 15];
  return s;
}

inline Json op_bridge_datapath_id(const Uuid& bridge, const std::string& dpid) {
  return op_update_row("Bridge", bridge, {{"datapath_id", optional_string_datum(dpid)}});
}

/// Bridge datapath_version (OVS: "<built-in>" for its userspace datapath).
inline Json op_bridge_datapath_version(const Uuid& bridge, const std::string& version) {
  return op_update_row("Bridge", bridge, {{"datapath_version", version}});
}

/// What the switch supports, in the Open_vSwitch row, as ovs-vswitchd
/// writes it once it runs (Neutron's agent reads datapath_types and
/// iface_types): sets of names; DPDK: initialized false, version "none"
/// (ovs-vswitchd built without DPDK writes the same).
struct SwitchCapabilities {
  std::vector<std::string> datapath_types, iface_types;
  std::string dpdk_version = "none";
};

inline Json op_capabilities(const Uuid& root, const SwitchCapabilities& c) {
  auto set_of = [](const std::vector<std::string>& v) {
    std::vector<Json> atoms(v.begin(), v.end());
    return make_set(atoms);
  };
  return op_update_row("Open_vSwitch", root,
                       {{"datapath_types", set_of(c.datapath_types)},
                        {"iface_types", set_of(c.iface_types)},
                        {"dpdk_initialized", false},
                        {"dpdk_version", optional_string_datum(c.dpdk_version)}});
}

/// Open_vSwitch cur_cfg: "the configuration up to next_cfg is in effect".
inline Json op_cur_cfg(const Uuid& root, int64_t cfg) {
  return op_update_row("Open_vSwitch", root, {{"cur_cfg", cfg}});
}

}  // namespace flowpath::ovsdb
