// flowpath/flow/ofctl_actions.hpp — the `actions=` half of ovs-ofctl flow
// text: parse into an OfActionList (flow/of_action.hpp) and print back as
// Open vSwitch 3.1 prints it (`output:2`, `NORMAL`, `mod_vlan_vid:1`,
// `strip_vlan`, `resubmit(,2)`, `goto_table:1`, `drop`, ...).
//
// Accepted: output:PORT and a bare PORT, drop (alone), NORMAL, FLOOD, ALL,
// IN_PORT, LOCAL, CONTROLLER (case-insensitive), mod_vlan_vid:VID,
// mod_vlan_pcp:PCP, strip_vlan, pop_vlan, push_vlan:ETHERTYPE,
// mod_dl_src/dst:MAC, mod_nw_src/dst:IP, mod_nw_tos:TOS, mod_tp_src/dst:N,
// set_field:VALUE[/MASK]->FIELD, resubmit:PORT, resubmit([PORT],[TABLE]),
// goto_table:N.  Anything else throws flowpath::Error naming the action.
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "flowpath/flow/of_action.hpp"
#include "flowpath/flow/ofctl_match.hpp"

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

/// Splits at top-level commas (not inside parentheses).
inline std::vector<std::string_view> split_actions(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '(') ++depth;
    if (i < s.size() && s[i] == ')') --depth;
    if (i == s.size() || (s[i] == ',' && depth == 0)) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

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

inline OfAction parse_set_field(std::string_view arg, std::string_view tok) {
  size_t arrow = arg.find("->");
  if (arrow == std::string_view::npos) throw Error(std::string(tok) + ": expected VALUE->FIELD");
  auto name = trim(arg.substr(arrow + 2));
  const FieldInfo* f = find_field(name);
  if (!f)
    throw Error(std::string(tok) + ": " + std::string(name) + " is not a valid OXM field name");
  auto value = trim(arg.substr(0, arrow));
  if (name == "vlan_vid" || f->id == FieldId::kDlVlanPcp) {
    // OXM's vlan_vid carries the tag-present bit 0x1000 with the VID; both
    // rewrite an existing tag and, unlike mod_vlan_vid, never push one.
    uint64_t max = name == "vlan_vid" ? 0x1fff : 7;
    auto v = parse_uint(value, max);
    if (!v)
      throw Error(std::string(tok) + ": " + std::string(value) +
                  " is not a valid value for field " + std::string(name));
    OfAction a = OfAction::with_u16(
        name == "vlan_vid" ? OfActionType::kSetVlanVid : OfActionType::kSetVlanPcp,
        uint16_t(*v & (name == "vlan_vid" ? 0x0fff : 7)));
    a.push_vlan_if_needed = false;
    return a;
  }
  if (f->id == FieldId::kDlType || f->id == FieldId::kNwFrag || f->id == FieldId::kTcpFlags ||
      f->id == FieldId::kNwProto)
    throw Error(std::string(tok) + ": " +
                std::string(f->id == FieldId::kDlType   ? "eth_type"
                            : f->id == FieldId::kNwFrag ? "nw_frag"
                                                        : f->name) +
                " is read-only");
  Match m;
  std::array<bool, size_t(FieldId::kCount)> used{};
  parse_match_token(m, f->name, value, tok, nullptr, used);
  OfAction a;
  a.type = OfActionType::kSetField;
  a.field = f->id;
  std::memcpy(a.value.data(), reinterpret_cast<const uint8_t*>(&m.value) + f->offset, f->n_bytes);
  std::memcpy(a.mask.data(), reinterpret_cast<const uint8_t*>(&m.mask) + f->offset, f->n_bytes);
  return a;
}

inline bool get_bytes_mask_full(const OfAction& a, const FieldInfo& f) {
  for (unsigned i = 0; i < f.n_bytes; ++i)
    if (a.mask[i] != 0xff) return false;
  return true;
}

inline OfAction parse_one_action(std::string_view tok, const PortNameResolver& resolver) {
  using T = OfActionType;
  size_t colon = tok.find_first_of(":(");
  std::string_view name = tok.substr(0, colon);
  std::string_view arg = colon == std::string_view::npos ? "" : tok.substr(colon + 1);
  auto need_arg = [&] {
    if (colon == std::string_view::npos || tok[colon] != ':' || arg.empty())
      throw Error(std::string(tok) + ": action needs an argument (name:value)");
  };
  if (name == "resubmit") return parse_resubmit(tok.substr(name.size()), tok, resolver);
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
  // OVS's wording: `invalid WHAT "ARG"` when not a number of the C type,
  // `ARG: not a valid WHAT` when out of the action's range.
  auto typed = [&](uint64_t type_max, const char* what) {
    auto v = parse_uint(arg, type_max);
    if (!v) throw Error(std::string(tok) + ": invalid " + what + " \"" + std::string(arg) + "\"");
    return *v;
  };
  auto not_valid = [&](const char* what) {
    throw Error(std::string(tok) + ": " + std::string(arg) + ": not a valid " + what);
  };
  if (name == "mod_vlan_vid") {
    uint64_t v = typed(0xffff, "VLAN VID");
    if (v > 4095) not_valid("VLAN VID");
    return OfAction::with_u16(T::kSetVlanVid, uint16_t(v));
  }
  if (name == "mod_vlan_pcp") {
    uint64_t v = typed(0xff, "VLAN PCP");
    if (v > 7) not_valid("VLAN PCP");
    return OfAction::with_u16(T::kSetVlanPcp, uint16_t(v));
  }
  if (name == "push_vlan") {
    uint64_t t = typed(0xffff, "ethertype");
    if (t != kEthTypeVlan && t != kEthTypeQinQ) not_valid("VLAN ethertype");
    return OfAction::with_u16(T::kPushVlan, uint16_t(t));
  }
  if (name == "mod_nw_tos") {
    uint64_t t = typed(0xff, "TOS");
    if (t & 3) not_valid("TOS");
    return OfAction::with_u16(T::kSetNwTos, uint16_t(t));
  }
  if (name == "mod_tp_src" || name == "mod_tp_dst")
    return OfAction::with_u16(
        name == "mod_tp_src" ? T::kSetTpSrc : T::kSetTpDst,
        uint16_t(typed(0xffff, name == "mod_tp_src" ? "source port" : "destination port")));
  if (name == "mod_dl_src" || name == "mod_dl_dst") {
    auto e = parse_eth(arg);
    if (!e) throw Error(std::string(tok) + ": invalid mac address " + std::string(arg));
    OfAction a = OfAction::with_u16(name == "mod_dl_src" ? T::kSetDlSrc : T::kSetDlDst, 0);
    a.mac = *e;
    return a;
  }
  if (name == "mod_nw_src" || name == "mod_nw_dst") {
    auto ip = parse_ipv4(arg);
    if (!ip)
      throw Error(std::string(tok) + ": " + std::string(arg) + ": could not convert to IP address");
    OfAction a = OfAction::with_u16(name == "mod_nw_src" ? T::kSetNwSrc : T::kSetNwDst, 0);
    a.ipv4 = *ip;
    return a;
  }
  if (name == "set_field" || name == "load") return parse_set_field(arg, tok);
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

/// Throws when a set_field's field lacks its prerequisite in `m`.
inline void check_set_field_prereqs(const Match& m, const OfActionList& list) {
  for (const auto& a : list) {
    if (a.type != OfActionType::kSetField) continue;
    const FieldInfo& f = field_info(a.field);
    if (auto need = missing_prereq(m, f.prereq); !need.empty())
      throw Error("set_field ->" + std::string(f.name) +
                  ": actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): "
                  "the match lacks " +
                  std::string(need));
  }
}

/// Rewrites unmasked set_field actions that have an OpenFlow 1.0 twin
/// (mod_dl_src, mod_nw_dst, mod_tp_src, ...) into it, as ovs-ofctl does.
inline void legacy_set_fields(OfActionList& list) {
  using T = OfActionType;
  for (auto& a : list) {
    if (a.type != T::kSetField) continue;
    const FieldInfo& f = field_info(a.field);
    if (f.n_bytes == 16 || get_bytes_mask_full(a, f) == false) continue;
    uint64_t v = 0;
    for (unsigned i = 0; i < f.n_bytes; ++i) v = v << 8 | a.value[i];
    OfAction b;
    switch (f.id) {
      case FieldId::kDlSrc:
      case FieldId::kDlDst:
        b = OfAction::with_u16(f.id == FieldId::kDlSrc ? T::kSetDlSrc : T::kSetDlDst, 0);
        b.mac = u64_to_eth(v);
        break;
      case FieldId::kNwSrc:
      case FieldId::kNwDst:
        b = OfAction::with_u16(f.id == FieldId::kNwSrc ? T::kSetNwSrc : T::kSetNwDst, 0);
        b.ipv4 = uint32_t(v);
        break;
      case FieldId::kTpSrc:
      case FieldId::kTcpSrc:
      case FieldId::kUdpSrc:
        b = OfAction::with_u16(T::kSetTpSrc, uint16_t(v));
        break;
      case FieldId::kTpDst:
      case FieldId::kTcpDst:
      case FieldId::kUdpDst:
        b = OfAction::with_u16(T::kSetTpDst, uint16_t(v));
        break;
      default:
        continue;
    }
    a = b;
  }
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
