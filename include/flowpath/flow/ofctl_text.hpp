// flowpath/flow/ofctl_text.hpp — one flow in ovs-ofctl text syntax
// (ovs-ofctl(8) "Flow Syntax"): parse it into an OfctlFlow and print it
// back, normalized as ovs-ofctl prints it.
//
//   OfctlFlow f = parse_flow("priority=3,in_port=1,dl_vlan=1000 "
//                            "actions=mod_vlan_vid:1,NORMAL");
//   format_flow(f)      // "priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL"
//   format_flow_mod(f)  // as `ovs-ofctl parse-flows` prints after "ADD "
//
// Syntax: comma- or space-separated `field=value[/mask]` and shorthands
// (flow/ofctl_match.hpp), plus priority, cookie (value[/mask] in filters),
// table, idle_timeout, hard_timeout and, in filters, out_port; then
// `actions=...` (flow/ofctl_actions.hpp), which must come last and is
// required when adding, optional in filters (delete/modify selectors).
// Both "match actions=..." and "match,actions=..." are accepted.
//
// Errors: flowpath::Error whose message names the token and the problem.
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include "flowpath/flow/ofctl_action_check.hpp"
#include "flowpath/flow/ofctl_actions.hpp"
#include "flowpath/flow/ofctl_match.hpp"

namespace flowpath {

struct OfctlFlow {
  Match match;
  int32_t priority = kOfDefaultPriority;
  uint64_t cookie = 0;
  uint64_t cookie_mask = 0;  // filters only; 0 = any cookie
  uint8_t table = 0;         // kOfTableAll when unspecified in filters
  bool table_given = false;
  uint16_t idle_timeout = 0;  // seconds, 0 = none
  uint16_t hard_timeout = 0;
  uint32_t out_port = kOfppNone;  // filters only; kOfppNone = any
  OfActionList actions;
  bool has_actions = false;
  // Fields the text named (an alias names its field): OVS's protocol
  // choice depends on the name, e.g. sctp_src needs OpenFlow 1.1+ or NXM
  // where tp_src on the same SCTP flow does not.
  std::array<bool, size_t(FieldId::kCount)> named{};
};

enum class FlowTextMode { kAdd, kFilter };

namespace ofctl {

/// Position of the `actions=` keyword at a token start, or npos.
inline size_t find_actions(std::string_view s) noexcept {
  for (size_t p = s.find("actions="); p != std::string_view::npos; p = s.find("actions=", p + 1))
    if (p == 0 || s[p - 1] == ',' || std::isspace(static_cast<unsigned char>(s[p - 1]))) return p;
  return std::string_view::npos;
}

inline bool parse_flow_keyword(OfctlFlow& f, std::string_view name, std::string_view value,
                               std::string_view tok, FlowTextMode mode,
                               const PortNameResolver& resolver) {
  // OVS's wording: `invalid priority "X"`, `unknown table "X"`.
  auto num = [&](uint64_t max) {
    auto v = parse_uint(value, max);
    if (!v)
      throw Error(std::string(tok) + ": invalid " + std::string(name) + " \"" + std::string(value) +
                  "\" (expected a number 0.." + std::to_string(max) + ")");
    return *v;
  };
  if (name == "priority")
    f.priority = int32_t(num(0xffff));
  else if (name == "table") {
    auto t = parse_uint(value, 255);
    if (!t) throw Error(std::string(tok) + ": unknown table \"" + std::string(value) + "\"");
    // table=255 means "any table", as in OVS: the flow goes to table 0.
    f.table = *t == 255 ? 0 : uint8_t(*t), f.table_given = *t != 255;
  } else if (name == "idle_timeout")
    f.idle_timeout = uint16_t(num(0xffff));
  else if (name == "hard_timeout")
    f.hard_timeout = uint16_t(num(0xffff));
  else if (name == "cookie") {
    auto [v, m] = split_mask(value);
    // OVS reads both with strtoull, which takes "-N" as 2^64 - N: "/-1" is all ones.
    auto u64 = [](std::string_view x) -> std::optional<uint64_t> {
      if (x.size() < 2 || x[0] != '-') return parse_uint(x);
      auto n = parse_uint(x.substr(1));
      return n ? std::optional<uint64_t>(0 - *n) : std::nullopt;
    };
    auto c = u64(v), cm = m.empty() ? std::optional<uint64_t>(~0ull) : u64(m);
    if (!c || !cm)
      throw Error(std::string(tok) + ": invalid numeric format " + std::string(!c ? v : m) +
                  " (expected a 64-bit number[/mask])");
    if (!m.empty() && mode == FlowTextMode::kAdd)
      throw Error(std::string(tok) + ": flow additions cannot use a cookie mask");
    f.cookie = *c & *cm;
    f.cookie_mask = m.empty() && mode == FlowTextMode::kAdd ? 0 : *cm;
  } else if (name == "out_port" && mode == FlowTextMode::kFilter) {
    auto p = parse_port(value, resolver);
    if (!p) bad_value(tok, "not a port");
    f.out_port = *p;
  } else {
    return false;
  }
  return true;
}

}  // namespace ofctl

/// Parses one flow.  Throws flowpath::Error on any problem.
inline OfctlFlow parse_flow(std::string_view text, const PortNameResolver& resolver = {},
                            FlowTextMode mode = FlowTextMode::kAdd) {
  using namespace ofctl;
  OfctlFlow f;
  if (mode == FlowTextMode::kFilter) f.table = kOfTableAll;
  size_t ap = find_actions(text);
  std::string_view match_text = text.substr(0, ap);
  if (ap != std::string_view::npos) {
    f.actions = parse_actions_raw(text.substr(ap + 8), resolver);
    f.has_actions = true;
  } else if (mode == FlowTextMode::kAdd) {
    throw Error(std::string(trim(text)) + ": must specify an action (actions=...)");
  }
  std::array<bool, size_t(FieldId::kCount)> used{};
  size_t i = 0;
  while (i < match_text.size()) {
    size_t end = match_text.find_first_of(", \t\r\n", i);
    if (end == std::string_view::npos) end = match_text.size();
    std::string_view tok = match_text.substr(i, end - i);
    i = end + 1;
    if (tok.empty()) continue;
    size_t eq = tok.find('=');
    std::string_view name = tok.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : tok.substr(eq + 1);
    static constexpr std::string_view kKeywords[] = {"priority",     "table",  "idle_timeout",
                                                     "hard_timeout", "cookie", "out_port"};
    if (value.empty() &&
        std::find(std::begin(kKeywords), std::end(kKeywords), name) != std::end(kKeywords))
      throw Error(std::string(tok) + ": field " + std::string(name) + " missing value");
    if (eq != std::string_view::npos && value.empty())
      throw Error(std::string(tok) +
                  ": missing value (ovs-ofctl reads an empty value as 0/0, a wildcard)");
    if (parse_flow_keyword(f, name, value, tok, mode, resolver)) continue;
    parse_match_token(f.match, name, value, tok, resolver, used);
  }
  check_prereqs(f.match, used);
  f.named = used;
  check_set_field_prereqs(f.match, f.actions);
  if (f.has_actions) {  // OVS's checks of the actions against the match
    std::string err;
    ofctl::check_actions(f.match, f.actions, f.table, err);
    if (!err.empty())
      throw Error(std::string(ofctl::trim(text)) + ": actions are invalid with specified match (" +
                  err + ")");
  }
  legacy_set_fields(f.actions);
  return f;
}

/// Parses a match alone (no priority/actions), e.g. "tcp,tp_dst=80".
inline Match parse_match(std::string_view text, const PortNameResolver& resolver = {}) {
  OfctlFlow f = parse_flow(text, resolver, FlowTextMode::kFilter);
  if (f.has_actions) throw Error(std::string(text) + ": a match cannot contain actions");
  return f.match;
}

/// Re-parseable text: [table=N,][cookie=0xC,][idle_timeout=N,]
/// [hard_timeout=N,]MATCH actions=ACTIONS.
inline std::string format_flow(const OfctlFlow& f, const PortNamer* namer = nullptr) {
  std::string s;
  auto add = [&](const std::string& part) {
    if (part.empty()) return;
    if (!s.empty()) s += ',';
    s += part;
  };
  if (f.table_given && f.table != 0 && f.table != kOfTableAll)
    add("table=" + std::to_string(f.table));
  if (f.cookie) {
    char b[32];
    std::snprintf(b, sizeof b, "cookie=0x%llx", static_cast<unsigned long long>(f.cookie));
    add(b);
  }
  if (f.idle_timeout) add("idle_timeout=" + std::to_string(f.idle_timeout));
  if (f.hard_timeout) add("hard_timeout=" + std::to_string(f.hard_timeout));
  add(format_match(f.match, f.priority, namer));
  return (s.empty() ? "" : s + " ") + "actions=" + format_actions(f.actions, namer);
}

/// What `ovs-ofctl parse-flows` prints after "OFPT_FLOW_MOD (xid=...): ADD ":
/// [table:N ]MATCH[ cookie:0xC][ idle:N][ hard:N] actions=ACTIONS.
inline std::string format_flow_mod(const OfctlFlow& f, const PortNamer* namer = nullptr) {
  std::string s;
  auto add = [&](const std::string& part) {
    if (part.empty()) return;
    s += part;
    s += ' ';
  };
  if (f.table_given && f.table != 0 && f.table != kOfTableAll)
    add("table:" + std::to_string(f.table));
  add(format_match(f.match, f.priority, namer));
  if (f.cookie) {
    char b[32];
    std::snprintf(b, sizeof b, "cookie:0x%llx", static_cast<unsigned long long>(f.cookie));
    add(b);
  }
  if (f.idle_timeout) add("idle:" + std::to_string(f.idle_timeout));
  if (f.hard_timeout) add("hard:" + std::to_string(f.hard_timeout));
  return s + "actions=" + format_actions(f.actions, namer);
}

}  // namespace flowpath
