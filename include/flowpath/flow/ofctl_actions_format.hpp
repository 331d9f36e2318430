// flowpath/flow/ofctl_actions_format.hpp — printing an OfActionList as
// Open vSwitch 3.1 prints it: `drop` for an empty list, reserved ports by
// name (NORMAL, FLOOD, ALL, IN_PORT, LOCAL, CONTROLLER:65535), `output:N`
// for a numbered port, `resubmit:P`, `resubmit(,T)`, `resubmit(P,T)`, and
// set_field with the OXM field name (`set_field:10.0.0.1->ip_src`).
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <string>

#include "flowpath/flow/ofctl_actions.hpp"

namespace flowpath {
namespace ofctl {

/// The name OVS uses for a field in set_field (its OXM name).
inline std::string_view set_field_name(FieldId id) {
  switch (id) {
    case FieldId::kDlSrc:
      return "eth_src";
    case FieldId::kDlDst:
      return "eth_dst";
    case FieldId::kNwSrc:
      return "ip_src";
    case FieldId::kNwDst:
      return "ip_dst";
    case FieldId::kNwProto:
      return "ip_proto";
    case FieldId::kDlVlan:
      return "vlan_vid";
    case FieldId::kDlVlanPcp:
      return "vlan_pcp";
    case FieldId::kNwEcn:
      return "ip_ecn";
    case FieldId::kTpSrc:
      return "tcp_src";
    case FieldId::kTpDst:
      return "tcp_dst";
    default:
      return field_info(id).name;
  }
}

/// The VALUE[/MASK] of a set_field action, printed with the match printer.
inline std::string set_field_value(const OfAction& a) {
  const FieldInfo& f = field_info(a.field);
  Match m = field_match(f, a.value, a.mask);
  if (f.format == FieldFormat::kLabel) {
    U128 v = set_field_logical(a, false), mk = set_field_logical(a, true);
    return mk == ~U128(0) ? hex_u128(v) : hex_u128(v) + "/" + hex_u128(mk);
  }
  if (f.n_bytes == 16) {
    Ipv6Addr v = get_field_ipv6(m.value, f.id), mk = get_field_ipv6(m.mask, f.id);
    int len = ipv6_prefix_len(mk);
    std::string s = format_ipv6(v);
    return len == 128 ? s : s + "/" + (len >= 0 ? std::to_string(len) : format_ipv6(mk));
  }
  uint64_t v = match_value(m, f.id), mk = match_mask(m, f.id);
  uint64_t full = f.bits >> f.shift;
  auto num = [&](uint64_t x) {
    return f.format == FieldFormat::kHex
               ? "0x" +
                     [&] {
                       char b[24];
                       std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(x));
                       return std::string(b);
                     }()
               : std::to_string(x);
  };
  std::string s, ms;
  switch (f.format) {
    case FieldFormat::kEth:
      s = format_eth(u64_to_eth(v)), ms = format_eth(u64_to_eth(mk));
      break;
    case FieldFormat::kIpv4:
      s = format_ipv4(uint32_t(v)), ms = format_ipv4(uint32_t(mk));
      break;
    default:
      s = num(v), ms = num(mk);
      break;
  }
  return mk == full ? s : s + "/" + ms;
}

inline std::string format_one_action(const OfAction& a, const PortNamer* namer) {
  using T = OfActionType;
  auto n = [](auto v) { return std::to_string(v); };
  switch (a.type) {
    case T::kOutput:
      if (a.port == kOfppController) return "CONTROLLER:65535";
      if (a.port >= kOfppInPort && a.port <= kOfppNone) return format_action_port(a.port);
      return "output:" + format_action_port(a.port, namer);
    case T::kSetVlanVid:
      return "mod_vlan_vid:" + n(a.u16);
    case T::kSetVlanPcp:
      return "mod_vlan_pcp:" + n(a.u16);
    case T::kStripVlan:
      return "strip_vlan";
    case T::kPushVlan: {
      char b[24];
      std::snprintf(b, sizeof b, "push_vlan:0x%04x", a.u16);
      return b;
    }
    case T::kSetDlSrc:
      return "mod_dl_src:" + format_eth(a.mac);
    case T::kSetDlDst:
      return "mod_dl_dst:" + format_eth(a.mac);
    case T::kSetNwSrc:
      return "mod_nw_src:" + format_ipv4(a.ipv4);
    case T::kSetNwDst:
      return "mod_nw_dst:" + format_ipv4(a.ipv4);
    case T::kSetNwTos:
      return "mod_nw_tos:" + n(a.u16);
    case T::kSetTpSrc:
      return "mod_tp_src:" + n(a.u16);
    case T::kSetTpDst:
      return "mod_tp_dst:" + n(a.u16);
    case T::kSetField:
      if (a.is_load) return format_load(a);
      return "set_field:" + set_field_value(a) + "->" + std::string(set_field_name(a.field));
    case T::kMove:
      return "move:" + format_subfield(a.src) + "->" + format_subfield(a.dst);
    case T::kCt:
      return format_ct(a, [&](const OfAction& x) { return format_one_action(x, namer); });
    case T::kCtClear:
      return "ct_clear";
    case T::kConjunction:
      return "conjunction(" + n(a.u32) + "," + n(unsigned(a.clause)) + "/" +
             n(unsigned(a.n_clauses)) + ")";
    case T::kResubmit: {
      std::string port = a.port == kOfppInPort ? "" : format_action_port(a.port, namer);
      if (a.table == kOfTableCurrent) return "resubmit:" + port;
      return "resubmit(" + port + "," + n(a.table) + ")";
    }
    case T::kGotoTable:
      return "goto_table:" + n(a.table);
    case T::kDecTtl: {
      if (a.cnt_ids.empty()) return "dec_ttl";
      std::string s = "dec_ttl(";
      for (size_t i = 0; i < a.cnt_ids.size(); ++i) s += (i ? "," : "") + n(a.cnt_ids[i]);
      return s + ")";
    }
    case T::kSetNwTtl:
      return "mod_nw_ttl:" + n(a.u16);
  }
  return "<unknown>";
}

}  // namespace ofctl

/// `list` as ovs-ofctl prints it after `actions=`.
inline std::string format_actions(const OfActionList& list, const PortNamer* namer = nullptr) {
  if (list.empty()) return "drop";
  std::string s;
  for (const auto& a : list) {
    if (!s.empty()) s += ',';
    s += ofctl::format_one_action(a, namer);
  }
  return s;
}

}  // namespace flowpath
