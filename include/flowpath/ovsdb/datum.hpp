// flowpath/ovsdb/datum.hpp — OVSDB's JSON notation (RFC 7047 §5.1),
// decoded defensively.
//
//   atom   : "string" | 42 | 1.5 | true | ["uuid","<36 chars>"] |
//            ["named-uuid","name"]
//   set    : an atom (a set of one) | ["set", [atom, ...]]
//   map    : ["map", [[key, value], ...]]
//
// Every decoder takes `what` (e.g. "Port 5b1c…: column tag") and throws
// flowpath::Error "what: expected …, got …" on anything else — the caller
// (the replica, inside the session) turns it into an error value; no other
// exception type leaves these functions, whatever the input.
// update2's "modify" carries, for a column whose type holds more than one
// value (a map, or a set with max > 1), the *difference* to apply:
// apply_set_diff toggles each element's membership; apply_map_diff
// deletes a key given with its current value, else inserts or replaces it
// (the rule ovsdb-server follows, checked against it in the tests).
// Cost: linear in the datum (diffs quadratic in the column's size, which
// OVS bounds at 4096 for trunks and a few dozen elsewhere).
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/core/error.hpp"
#include "flowpath/ovsdb/jsonrpc.hpp"

namespace flowpath::ovsdb {

namespace datum_detail {
inline std::string shown(const Json& j) {
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}
[[noreturn]] inline void fail(const std::string& what, std::string_view expected, const Json& j) {
  throw Error(what + ": expected " + std::string(expected) + ", got " + shown(j));
}
/// j is the string s (no temporary Json: `j == "uuid"` allocates one).
inline bool is(const Json& j, std::string_view s) noexcept {
  return j.is_string() && j.get_ref<const std::string&>() == s;
}
/// ["uuid", …] or ["named-uuid", …]: a two-element array tagged as such.
inline bool tagged(const Json& j, std::string_view tag) noexcept {
  return j.is_array() && j.size() == 2 && is(j[0], tag);
}
/// The elements of ["set", [atoms]] after checking each is an atom, or
/// nullptr when j is not a set (a bare atom).
inline const Json* set_elements(const Json& j, const std::string& what) {
  if (!tagged(j, "set")) return nullptr;
  if (!j[1].is_array()) fail(what, "[\"set\", [atoms]]", j);
  for (const auto& a : j[1])
    if (a.is_object() || (a.is_array() && !tagged(a, "uuid") && !tagged(a, "named-uuid")))
      fail(what + " element", "an atom", a);
  return &j[1];
}
inline void check_bare_atom(const Json& j, const std::string& what) {
  if (j.is_object() || j.is_null() || (j.is_array() && !tagged(j, "uuid")))
    fail(what, "an atom or [\"set\", [atoms]]", j);
}
}  // namespace datum_detail

/// 8-4-4-4-12 hexadecimal digits, as OVSDB writes row UUIDs.
inline bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    char c = s[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-'
             : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
      return false;
  }
  return true;
}

inline std::string as_string(const Json& j, const std::string& what) {
  if (!j.is_string()) datum_detail::fail(what, "a string", j);
  return j.get<std::string>();
}

inline int64_t as_integer(const Json& j, const std::string& what) {
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > uint64_t(INT64_MAX)) datum_detail::fail(what, "a 64-bit integer", j);
    return int64_t(j.get<uint64_t>());
  }
  if (!j.is_number_integer()) datum_detail::fail(what, "an integer", j);
  return j.get<int64_t>();
}

inline bool as_boolean(const Json& j, const std::string& what) {
  if (!j.is_boolean()) datum_detail::fail(what, "a boolean", j);
  return j.get<bool>();
}

inline std::string as_uuid(const Json& j, const std::string& what) {
  if (!datum_detail::tagged(j, "uuid") || !j[1].is_string() ||
      !is_uuid(j[1].get_ref<const std::string&>()))
    datum_detail::fail(what, "[\"uuid\", UUID]", j);
  return j[1].get<std::string>();
}

/// The atoms of a set datum (a bare atom is a set of one).
inline std::vector<Json> set_atoms(const Json& j, const std::string& what) {
  if (const Json* e = datum_detail::set_elements(j, what))
    return std::vector<Json>(e->begin(), e->end());
  datum_detail::check_bare_atom(j, what);
  return {j};
}
/// Calls f(atom) for each atom of a set datum, in order, copying nothing.
template <class F>
void for_each_atom(const Json& j, const std::string& what, F&& f) {
  if (const Json* e = datum_detail::set_elements(j, what)) {
    for (const auto& a : *e) f(a);
    return;
  }
  datum_detail::check_bare_atom(j, what);
  f(j);
}

/// The pairs of a map datum.
inline std::vector<std::pair<Json, Json>> map_pairs(const Json& j, const std::string& what) {
  if (!datum_detail::tagged(j, "map") || !j[1].is_array())
    datum_detail::fail(what, "[\"map\", [[key, value], ...]]", j);
  std::vector<std::pair<Json, Json>> out;
  out.reserve(j[1].size());
  for (const auto& kv : j[1]) {
    if (!kv.is_array() || kv.size() != 2) datum_detail::fail(what + " pair", "[key, value]", kv);
    out.emplace_back(kv[0], kv[1]);
  }
  return out;
}

inline std::vector<std::string> uuid_set(const Json& j, const std::string& what) {
  std::vector<std::string> out;
  if (j.is_array() && j.size() == 2 && j[1].is_array()) out.reserve(j[1].size());
  for_each_atom(j, what, [&](const Json& a) { out.push_back(as_uuid(a, what)); });
  return out;
}
inline std::vector<int64_t> integer_set(const Json& j, const std::string& what) {
  std::vector<int64_t> out;
  for_each_atom(j, what, [&](const Json& a) { out.push_back(as_integer(a, what)); });
  return out;
}
/// An optional value (a set of at most one).
inline std::optional<int64_t> optional_integer(const Json& j, const std::string& what) {
  auto v = integer_set(j, what);
  if (v.size() > 1) datum_detail::fail(what, "at most one integer", j);
  return v.empty() ? std::nullopt : std::optional<int64_t>(v[0]);
}
inline std::optional<std::string> optional_string(const Json& j, const std::string& what) {
  auto atoms = set_atoms(j, what);
  if (atoms.size() > 1) datum_detail::fail(what, "at most one string", j);
  if (atoms.empty()) return std::nullopt;
  return as_string(atoms[0], what);
}
inline std::map<std::string, std::string> string_map(const Json& j, const std::string& what) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : map_pairs(j, what)) {
    std::string key = as_string(k, what + " key");
    if (!out.emplace(key, as_string(v, what + "[" + key + "]")).second)
      throw Error(what + ": duplicate key '" + key + "'");
  }
  return out;
}

inline Json make_set(std::vector<Json> atoms) {
  return Json::array({"set", Json(std::move(atoms))});
}
inline Json make_map(const std::vector<std::pair<Json, Json>>& pairs) {
  Json arr = Json::array();
  for (const auto& [k, v] : pairs) arr.push_back(Json::array({k, v}));
  return Json::array({"map", std::move(arr)});
}
inline Json uuid_atom(const std::string& uuid) { return Json::array({"uuid", uuid}); }

/// update2 "modify" of a set column: toggles each element of `diff`.
/// Given `old` as an rvalue (the replica's own column), its atoms are
/// moved, not copied: a one-element diff of an n-element set copies one.
inline Json apply_set_diff(Json&& old, const Json& diff, const std::string& what) {
  Json cur = Json::array();
  if (datum_detail::set_elements(old, what)) {
    cur = std::move(old[1]);
  } else {
    datum_detail::check_bare_atom(old, what);
    cur.push_back(std::move(old));
  }
  auto toggle = [&](const Json& a) {
    auto it = std::find(cur.begin(), cur.end(), a);
    if (it != cur.end())
      cur.erase(it);
    else
      cur.push_back(a);
  };
  try {
    for_each_atom(diff, "(diff)", toggle);
  } catch (const Error& e) {
    throw Error(what + " " + e.what());
  }
  return Json::array({"set", std::move(cur)});
}
inline Json apply_set_diff(const Json& old, const Json& diff, const std::string& what) {
  return apply_set_diff(Json(old), diff, what);
}

/// update2 "modify" of a map column: a pair equal to the current one
/// deletes it; any other pair inserts or replaces its key.
inline Json apply_map_diff(const Json& old, const Json& diff, const std::string& what) {
  auto cur = map_pairs(old, what);
  for (auto& kv : map_pairs(diff, what + " (diff)")) {
    const Json& key = kv.first;  // (clang 15 cannot capture structured bindings)
    auto it = std::find_if(cur.begin(), cur.end(), [&](const auto& p) { return p.first == key; });
    if (it == cur.end())
      cur.push_back(std::move(kv));
    else if (it->second == kv.second)
      cur.erase(it);
    else
      it->second = std::move(kv.second);
  }
  return make_map(cur);
}

}  // namespace flowpath::ovsdb
