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
// (the driver) and statistics (the device's counters); Bridge datapath_id is 16 hex
// digits.  An empty optional string clears its column.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

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
  int64_t ifindex = 0;      // 0: unknown (cleared)
  int64_t mtu = 0;          // 0: unknown (cleared)
  // `status`: driver_name, driver_version, firmware_version as OVS (empty: cleared)
  std::map<std::string, std::string> status;
};

inline Json op_interface_state(const Uuid& iface, const InterfaceState& s) {
  Json row = {{"ofport", s.ofport},
              {"link_state", optional_string_datum(s.link_state)},
              {"admin_state", optional_string_datum(s.admin_state)},
              {"mac_in_use", optional_string_datum(s.mac_in_use)},
              {"error", optional_string_datum(s.error)},
              {"ifindex", optional_integer_datum(s.ifindex)},
              {"mtu", optional_integer_datum(s.mtu)},
              {"status", string_map_datum(s.status)}};
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

/// Open_vSwitch cur_cfg: "the configuration up to next_cfg is in effect".
inline Json op_cur_cfg(const Uuid& root, int64_t cfg) {
  return op_update_row("Open_vSwitch", root, {{"cur_cfg", cfg}});
}

}  // namespace flowpath::ovsdb
