// flowpath/flow/ofctl_actions.hpp — the `actions=` half of ovs-ofctl flow
// text: parse into an OfActionList (flow/of_action.hpp) and print back as
// Open vSwitch 3.1 prints it (`output:2`, `NORMAL`, `mod_vlan_vid:1`,
// `strip_vlan`, `resubmit(,2)`, `goto_table:1`, `drop`, ...).
//
// Accepted: output:PORT and a bare PORT, drop (alone), NORMAL, FLOOD, ALL,
// IN_PORT, LOCAL, CONTROLLER (case-insensitive), mod_vlan_vid:VID,
// mod_vlan_pcp:PCP, strip_vlan, pop_vlan, push_vlan:ETHERTYPE,
// mod_dl_src/dst:MAC, mod_nw_src/dst:IP, mod_nw_tos:TOS, mod_tp_src/dst:N,
// mod_nw_ttl:TTL, dec_ttl, dec_ttl(ID,...),
// set_field:VALUE[/MASK]->FIELD, resubmit:PORT, resubmit([PORT],[TABLE]),
// goto_table:N (last, once: OVS's instruction rule).  Anything else throws
// flowpath::Error naming the action, with Open vSwitch's reason text; the
// rewrite actions live in flow/ofctl_rewrite_actions.hpp.
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "flowpath/flow/of_action.hpp"
#include "flowpath/flow/ofctl_match.hpp"
#include "flowpath/flow/ofctl_nx_actions.hpp"
#include "flowpath/flow/ofctl_rewrite_actions.hpp"

namespace flowpath {
namespace ofctl {

struct ReservedPort {
  std::string_view name;
  uint32_t port;
};
inline constexpr ReservedPort kReservedPorts[] = {
    {"IN_PORT", kOfppInPort}, {"TABLE", kOfppTable}, {"NORMAL", kOfppNormal},
    {"FLOOD", kOfppFlood},    {"ALL", kOfppAll},     {"CONTROLLER", kOfppController},
    {"LOCAL", kOfppLocal},    {"NONE", kOfppNone},
};

inline uint32_t parse_action_port(std::string_view s, std::string_view tok,
                                  const PortNameResolver& resolver) {
  for (const auto& r : kReservedPorts)
    if (iequals(s, r.name)) return r.port;
  if (auto p = parse_port(s, resolver);
      p && (*p < kOfppMax || (*p >= kOfppInPort && *p <= kOfppNone)))
    return *p;
  throw Error(std::string(tok) + ": " + std::string(s) + ": output to unknown port");
}

inline uint64_t action_uint(std::string_view s, uint64_t max, std::string_view tok) {
  auto v = parse_uint(s, max);
  if (!v)
    throw Error(std::string(tok) + ": bad value, expected a number 0.." + std::to_string(max));
  return *v;
}

inline OfAction parse_resubmit(std::string_view arg, std::string_view tok,
                               const PortNameResolver& resolver) {
  OfAction a = OfAction::resubmit(kOfppInPort);
  auto port_of = [&](std::string_view p) {
    try {
      return parse_action_port(p, tok, resolver);
    } catch (const Error&) {
      throw Error(std::string(tok) + ": " + std::string(p) + ": resubmit to unknown port");
    }
  };
  if (arg.size() >= 2 && arg.front() == '(' && arg.back() == ')') {
    auto inner = arg.substr(1, arg.size() - 2);
    size_t comma = inner.find(',');
    if (comma == std::string_view::npos) throw Error(std::string(tok) + ": expected (PORT,TABLE)");
    auto port = trim(inner.substr(0, comma)), table = trim(inner.substr(comma + 1));
    if (!port.empty()) a.port = port_of(port);
    if (!table.empty()) {
      auto t = parse_uint(table, 255);  // 255: "the current table", as if left out
      if (!t)
        throw Error(std::string(tok) + ": " + std::string(table) + ": resubmit to unknown table");
      a.table = uint8_t(*t);
    }
  } else if (arg.size() > 1 && arg[0] == ':') {
    a.port = port_of(arg.substr(1));
  } else if (arg != ":") {
    throw Error(std::string(tok) + ": expected resubmit:PORT or resubmit(PORT,TABLE)");
  }
  if (a.port == kOfppInPort && a.table == kOfTableCurrent)
    throw Error(std::string(tok) +
                ": at least one \"in_port\" or \"table\" must be specified on resubmit");
  return a;
}

inline OfActionList parse_actions_raw(std::string_view text, const PortNameResolver& resolver);

/// OVS's name of an action kind, for its conjunction message.
inline std::string_view ovs_action_name(const OfAction& a) {
  using T = OfActionType;
  switch (a.type) {
    case T::kOutput:
      return a.port == kOfppController ? "controller" : "output";
    case T::kSetVlanVid:
      return "set_vlan_vid";
    case T::kSetVlanPcp:
      return "set_vlan_pcp";
    case T::kStripVlan:
      return "strip_vlan";
    case T::kPushVlan:
      return "push_vlan";
    case T::kSetDlSrc:
      return "set_eth_src";
    case T::kSetDlDst:
      return "set_eth_dst";
    case T::kSetNwSrc:
      return "set_ipv4_src";
    case T::kSetNwDst:
      return "set_ipv4_dst";
    case T::kSetNwTos:
      return "set_ip_dscp";
    case T::kSetTpSrc:
      return "set_l4_src_port";
    case T::kSetTpDst:
      return "set_l4_dst_port";
    case T::kSetField:
      return "set_field";
    case T::kResubmit:
      return "resubmit";
    case T::kGotoTable:
      return "goto_table";
    case T::kMove:
      return "move";
    case T::kCt:
      return "ct";
    case T::kCtClear:
      return "ct_clear";
    case T::kConjunction:
      return "conjunction";
    case T::kDecTtl:
      return "dec_ttl";
    case T::kSetNwTtl:
      return "set_ip_ttl";
  }
  return "output";
}

inline bool is_ct_field(FieldId id) { return id == FieldId::kCtMark || id == FieldId::kCtLabel; }

/// exec(...) of ct(): only writes to ct_mark and ct_label (OVS's texts),
/// and a nat, returned as a kCt action holding it (parse_ct places it).
inline OfActionList parse_ct_exec(std::string_view text, const PortNameResolver& resolver) {
  OfActionList ex;
  auto toks = split_actions(trim(text));
  for (auto t : toks) {
    if (t.empty()) continue;
    if (t == "nat" || t.substr(0, 4) == "nat(") {
      OfAction n;
      n.type = OfActionType::kCt;
      n.ct.nat = parse_nat(t);
      ex.push_back(n);
      continue;
    }
    size_t colon = t.find(':');
    std::string_view name = t.substr(0, colon);
    OfAction e;
    if (name == "set_field" || name == "load" || name == "move") {
      e = name == "set_field" ? parse_set_field(t.substr(colon + 1), t)
          : name == "load"    ? parse_load(t.substr(colon + 1), t)
                              : parse_move(t.substr(colon + 1), t);
    } else {
      OfActionList other = parse_actions_raw(t, resolver);  // its own errors first
      throw Error(std::string(t) + ": ct action doesn't support nested action " +
                  std::string(other.empty() ? "drop" : ovs_action_name(other[0])));
    }
    FieldId dst = e.type == OfActionType::kMove ? e.dst.field : e.field;
    if (!is_ct_field(dst))
      throw Error(std::string(t) + ": ct action doesn't support nested modification of " +
                  std::string(field_info(dst).name));
    ex.push_back(e);
  }
  return ex;
}

inline OfAction parse_one_action(std::string_view tok, const PortNameResolver& resolver) {
  using T = OfActionType;
  if (tok == "ct" || tok.substr(0, 3) == "ct(")
    return parse_ct(tok, [&](std::string_view x) { return parse_ct_exec(x, resolver); });
  if (tok == "ct_clear") return OfAction::with_u16(T::kCtClear, 0);
  if (tok.substr(0, 11) == "conjunction") return parse_conjunction(tok.substr(11), tok);
  if (tok.substr(0, 5) == "load:") return parse_load(tok.substr(5), tok);
  if (tok.substr(0, 5) == "move:") return parse_move(tok.substr(5), tok);
  size_t colon = tok.find_first_of(":(");
  std::string_view name = tok.substr(0, colon);
  std::string_view arg = colon == std::string_view::npos ? "" : tok.substr(colon + 1);
  auto need_arg = [&] {
    if (colon == std::string_view::npos || tok[colon] != ':' || arg.empty())
      throw Error(std::string(tok) + ": action needs an argument (name:value)");
  };
  if (name == "resubmit") return parse_resubmit(tok.substr(name.size()), tok, resolver);
  if (name == "dec_ttl") {  // dec_ttl, dec_ttl(), dec_ttl(IDS), dec_ttl:IDS
    if (colon != std::string_view::npos && tok[colon] == '(') {
      if (tok.back() != ')') throw Error(std::string(tok) + ": unbalanced parentheses");
      arg = tok.substr(colon + 1, tok.size() - colon - 2);
    }
    if (ofctl::trim(arg).empty()) return OfAction::with_u16(T::kDecTtl, 0);
    return parse_dec_ttl_ids(arg, tok);
  }
  if (colon == std::string_view::npos) {
    if (name == "strip_vlan" || name == "pop_vlan") return OfAction::with_u16(T::kStripVlan, 0);
    for (const auto& r : kReservedPorts)
      if (iequals(name, r.name) && r.port != kOfppNone && r.port != kOfppTable)
        return OfAction::output(r.port);
    if (auto p = parse_uint(name, 0xffffffffull))
      return OfAction::output(parse_action_port(name, tok, resolver));
    throw Error(std::string(tok) + ": unknown action " + std::string(name));
  }
  need_arg();
  if (iequals(name, "controller")) {  // CONTROLLER:MAX_LEN (the length is not kept)
    action_uint(arg, 0xffff, tok);
    return OfAction::output(kOfppController);
  }
  if (name == "output") return OfAction::output(parse_action_port(arg, tok, resolver));
  if (name == "goto_table") {
    auto t = parse_uint(arg, 255);
    if (!t) throw Error(std::string(tok) + ": unknown table \"" + std::string(arg) + "\"");
    // OVS takes 255 too and prints it back as "resubmit(,)": we refuse it.
    if (*t == 255) throw Error(std::string(tok) + ": bad value, expected a table 0..254");
    return OfAction::goto_table(uint8_t(*t));
  }
  if (auto a = parse_rewrite_action(name, arg, tok)) return *a;
  throw Error(std::string(tok) + ": unknown action " + std::string(name));
}

/// Parses the text after `actions=` without normalizing set_field.
inline OfActionList parse_actions_raw(std::string_view text, const PortNameResolver& resolver) {
  text = trim(text);
  OfActionList out;
  if (text.empty()) return out;
  auto toks = split_actions(text);
  for (auto tok : toks) {
    if (tok == "drop") {
      if (toks.size() != 1)
        throw Error("actions=" + std::string(text) +
                    ": \"drop\" must not be accompanied by any other action or instruction");
      return out;
    }
    if (tok.empty()) throw Error("actions=" + std::string(text) + ": empty action");
    out.push_back(parse_one_action(tok, resolver));
  }
  for (const auto& a : out) {
    FieldId dst = a.type == OfActionType::kMove ? a.dst.field : a.field;
    if ((a.type == OfActionType::kSetField || a.type == OfActionType::kMove) && is_ct_field(dst))
      throw Error("actions=" + std::string(text) + ": cannot set CT fields outside of ct action");
  }
  bool conj = std::any_of(out.begin(), out.end(),
                          [](const OfAction& a) { return a.type == OfActionType::kConjunction; });
  for (const auto& a : out)
    if (conj && a.type != OfActionType::kConjunction)
      throw Error("actions=" + std::string(text) +
                  ": \"conjunction\" actions may be used along with \"note\" but not any other "
                  "kind of action (such as the \"" +
                  std::string(ovs_action_name(a)) + "\" action used here)");
  // goto_table is an instruction: it must come last, once (checked after
  // every action parsed, as OVS does, so a bad action is reported first).
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i - 1].type == OfActionType::kGotoTable)
      throw Error("actions=" + std::string(text) +
                  (out[i].type == OfActionType::kGotoTable
                       ? ": duplicate goto_table instruction not allowed"
                       : ": invalid instruction ordering: apply_actions must appear before "
                         "goto_table") +
                  ", for OpenFlow 1.1+ compatibility");
  return out;
}

}  // namespace ofctl

/// Parses the text after `actions=`.  "" and "drop" give an empty list.
inline OfActionList parse_actions(std::string_view text, const PortNameResolver& resolver = {}) {
  OfActionList out = ofctl::parse_actions_raw(text, resolver);
  ofctl::legacy_set_fields(out);
  return out;
}

inline std::string format_action_port(uint32_t p, const PortNamer* namer = nullptr) {
  for (const auto& r : ofctl::kReservedPorts)
    if (r.port == p) return std::string(r.name);
  if (namer && *namer)
    if (auto n = (*namer)(p)) return *n;
  return std::to_string(p);
}

}  // namespace flowpath

#include "flowpath/flow/ofctl_actions_format.hpp"
