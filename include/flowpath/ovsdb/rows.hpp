// flowpath/ovsdb/rows.hpp — the typed rows of the Open_vSwitch tables that
// ovs-vswitchd reads, and the columns the client monitors.
//
// kTables lists each table with its columns and their kind; the kind says
// how an omitted column defaults (OVSDB leaves out columns that hold their
// default in "initial"/"insert") and whether update2's "modify" carries a
// new value (scalars and optional values: max 1) or a difference (maps and
// sets with max > 1).  decode_*() turn one row's raw columns (column name
// -> datum) into the typed struct, throwing flowpath::Error naming the
// table, row and column on a bad datum.  check_schema() and
// monitor_requests() are what the session asks the server with them.
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowpath/ovsdb/datum.hpp"

namespace flowpath::ovsdb {

using Uuid = std::string;  // 36 characters, lower case as the server writes it

struct OpenVSwitchRow {
  Uuid uuid;
  int64_t next_cfg = 0;
  int64_t cur_cfg = 0;
  std::vector<Uuid> bridges;
  bool operator==(const OpenVSwitchRow&) const = default;
};
struct BridgeRow {
  Uuid uuid;
  std::string name;
  std::vector<Uuid> ports;
  std::optional<std::string> fail_mode;  // "standalone" | "secure"; unset = standalone
  std::string datapath_type;
  std::vector<Uuid> controller;
  std::map<std::string, std::string> other_config;
  bool operator==(const BridgeRow&) const = default;
};
struct PortRow {
  Uuid uuid;
  std::string name;
  std::vector<Uuid> interfaces;
  std::optional<int64_t> tag;
  std::vector<int64_t> trunks;
  std::optional<std::string> vlan_mode;
  bool operator==(const PortRow&) const = default;
};
struct InterfaceRow {
  Uuid uuid;
  std::string name;
  std::string type;  // "" = system
  std::map<std::string, std::string> options;
  std::optional<int64_t> ofport_request;
  std::optional<int64_t> ofport;
  bool operator==(const InterfaceRow&) const = default;
};
struct ControllerRow {
  Uuid uuid;
  std::string target;
  bool operator==(const ControllerRow&) const = default;
};

enum class ColumnKind {
  kInteger,
  kString,
  kOptInteger,
  kOptString,
  kUuidSet,
  kIntegerSet,
  kStringMap
};

/// Whether update2 sends a difference (true) or the new value for a kind.
constexpr bool is_composite(ColumnKind k) noexcept {
  return k == ColumnKind::kUuidSet || k == ColumnKind::kIntegerSet || k == ColumnKind::kStringMap;
}
inline Json default_datum(ColumnKind k) {
  switch (k) {
    case ColumnKind::kInteger:
      return 0;
    case ColumnKind::kString:
      return "";
    case ColumnKind::kStringMap:
      return make_map({});
    default:
      return make_set({});
  }
}

struct ColumnSpec {
  std::string_view name;
  ColumnKind kind;
};
struct TableSpec {
  std::string_view name;
  std::vector<ColumnSpec> columns;
  const ColumnSpec* find(std::string_view col) const noexcept {
    for (const auto& c : columns)
      if (c.name == col) return &c;
    return nullptr;
  }
};

/// The monitored tables, in the order a reader resolves references.
inline const std::vector<TableSpec>& monitored_tables() {
  using K = ColumnKind;
  static const std::vector<TableSpec> t = {
      {"Open_vSwitch",
       {{"next_cfg", K::kInteger}, {"cur_cfg", K::kInteger}, {"bridges", K::kUuidSet}}},
      {"Bridge",
       {{"name", K::kString},
        {"ports", K::kUuidSet},
        {"fail_mode", K::kOptString},
        {"datapath_type", K::kString},
        {"controller", K::kUuidSet},
        {"other_config", K::kStringMap}}},
      {"Port",
       {{"name", K::kString},
        {"interfaces", K::kUuidSet},
        {"tag", K::kOptInteger},
        {"trunks", K::kIntegerSet},
        {"vlan_mode", K::kOptString}}},
      {"Interface",
       {{"name", K::kString},
        {"type", K::kString},
        {"options", K::kStringMap},
        {"ofport_request", K::kOptInteger},
        {"ofport", K::kOptInteger}}},
      {"Controller", {{"target", K::kString}}},
  };
  return t;
}
inline const TableSpec* find_table(std::string_view name) {
  for (const auto& t : monitored_tables())
    if (t.name == name) return &t;
  return nullptr;
}

/// "" when a get_schema reply has every monitored table and column, else
/// the first one missing.
inline std::string check_schema(const Json& schema) {
  auto tables = schema.is_object() ? schema.find("tables") : schema.end();
  if (!schema.is_object() || tables == schema.end() || !tables->is_object())
    return "ovsdb: get_schema reply has no \"tables\" object";
  for (const auto& t : monitored_tables()) {
    std::string name(t.name);
    auto ti = tables->find(name);
    if (ti == tables->end()) return "ovsdb: schema has no table " + name;
    auto cols = ti->is_object() ? ti->find("columns") : ti->end();
    if (!ti->is_object() || cols == ti->end() || !cols->is_object())
      return "ovsdb: schema table " + name + " has no columns";
    for (const auto& c : t.columns)
      if (!cols->contains(std::string(c.name)))
        return "ovsdb: schema table " + name + " has no column " + std::string(c.name);
  }
  return {};
}

/// The monitor requests for every monitored column: RFC 7047's object form
/// for "monitor" (v1), an array of requests for "monitor_cond".
inline Json monitor_requests(bool v1) {
  Json reqs = Json::object();
  for (const auto& t : monitored_tables()) {
    Json cols = Json::array();
    for (const auto& c : t.columns) cols.push_back(c.name);
    Json req = {{"columns", cols}};
    reqs[std::string(t.name)] = v1 ? req : Json::array({req});
  }
  return reqs;
}

/// A row as the server sent it: column -> datum, every monitored column
/// present (defaults filled in).
using RawRow = std::map<std::string, Json, std::less<>>;

namespace rows_detail {
// A row's columns, looked up by name.  The messages a decoder throws start
// with the column's name ("ports: expected …", "tag missing"); decode()
// prefixes the row ("Bridge 5b1c…: column ports: expected …") only when
// one is thrown, so a good row builds no message text.
struct Col {
  const RawRow& raw;
  /// Column c decoded by decode(json, what), its name naming it in errors
  /// (column names are at most 15 characters: no allocation).
  template <class D>
  auto operator()(std::string_view c, D decode) const {
    auto it = raw.find(c);
    if (it == raw.end()) throw Error(std::string(c) + " missing");
    return decode(it->second, std::string(c));
  }
};
template <class F>
auto decode(const char* table, const Uuid& u, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(std::string(table) + " " + u + ": column " + e.what());
  }
}
}  // namespace rows_detail

inline OpenVSwitchRow decode_open_vswitch(const Uuid& u, const RawRow& raw) {
  return rows_detail::decode("Open_vSwitch", u, [&] {
    rows_detail::Col c{raw};
    OpenVSwitchRow r;
    r.uuid = u;
    r.next_cfg = c("next_cfg", as_integer);
    r.cur_cfg = c("cur_cfg", as_integer);
    r.bridges = c("bridges", uuid_set);
    return r;
  });
}
inline BridgeRow decode_bridge(const Uuid& u, const RawRow& raw) {
  return rows_detail::decode("Bridge", u, [&] {
    rows_detail::Col c{raw};
    BridgeRow r;
    r.uuid = u;
    r.name = c("name", as_string);
    r.ports = c("ports", uuid_set);
    r.fail_mode = c("fail_mode", optional_string);
    r.datapath_type = c("datapath_type", as_string);
    r.controller = c("controller", uuid_set);
    r.other_config = c("other_config", string_map);
    return r;
  });
}
inline PortRow decode_port(const Uuid& u, const RawRow& raw) {
  return rows_detail::decode("Port", u, [&] {
    rows_detail::Col c{raw};
    PortRow r;
    r.uuid = u;
    r.name = c("name", as_string);
    r.interfaces = c("interfaces", uuid_set);
    r.tag = c("tag", optional_integer);
    r.trunks = c("trunks", integer_set);
    r.vlan_mode = c("vlan_mode", optional_string);
    return r;
  });
}
inline InterfaceRow decode_interface(const Uuid& u, const RawRow& raw) {
  return rows_detail::decode("Interface", u, [&] {
    rows_detail::Col c{raw};
    InterfaceRow r;
    r.uuid = u;
    r.name = c("name", as_string);
    r.type = c("type", as_string);
    r.options = c("options", string_map);
    r.ofport_request = c("ofport_request", optional_integer);
    r.ofport = c("ofport", optional_integer);
    return r;
  });
}
inline ControllerRow decode_controller(const Uuid& u, const RawRow& raw) {
  return rows_detail::decode("Controller", u, [&] {
    rows_detail::Col c{raw};
    return ControllerRow{u, c("target", as_string)};
  });
}

}  // namespace flowpath::ovsdb
