// flowpath/flow/ofctl_rewrite_actions.hpp — the header-rewriting actions of
// ovs-ofctl flow text (mod_vlan_vid, mod_vlan_pcp, push_vlan, mod_nw_tos,
// mod_tp_*, mod_dl_*, mod_nw_*, mod_nw_ttl, set_field/load) with Open vSwitch's wording
// for bad arguments, dec_ttl's controller ids, the set_field prerequisite check, and the rewrite of
// unmasked set_field into its OpenFlow 1.0 twin.  Used by
// flow/ofctl_actions.hpp.
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "flowpath/flow/of_action.hpp"
#include "flowpath/flow/ofctl_match.hpp"

namespace flowpath {
namespace ofctl {

inline OfAction parse_set_field(std::string_view arg, std::string_view tok) {
  size_t arrow = arg.find("->");
  if (arrow == std::string_view::npos) throw Error(std::string(tok) + ": expected VALUE->FIELD");
  auto name = trim(arg.substr(arrow + 2));
  const FieldInfo* f = find_field(name);
  if (!f)
    throw Error(std::string(tok) + ": " + std::string(name) + " is not a valid OXM field name");
  auto value = trim(arg.substr(0, arrow));
  if (f->id == FieldId::kDlVlan || f->id == FieldId::kDlVlanPcp) {
    // OXM's vlan_vid carries the tag-present bit 0x1000 with the VID
    // (dl_vlan: the VID alone); all rewrite an existing tag and, unlike
    // mod_vlan_vid, never push one.
    bool vid = f->id == FieldId::kDlVlan;
    uint64_t max = name == "vlan_vid" ? 0x1fff : vid ? 0x0fff : 7;
    auto v = parse_uint(value, max);
    if (!v)
      throw Error(std::string(tok) + ": " + std::string(value) +
                  " is not a valid value for field " + std::string(name));
    OfAction a = OfAction::with_u16(vid ? OfActionType::kSetVlanVid : OfActionType::kSetVlanPcp,
                                    uint16_t(*v & (vid ? 0x0fff : 7)));
    a.push_vlan_if_needed = false;
    return a;
  }
  if (f->id == FieldId::kDlType || f->id == FieldId::kNwFrag || f->id == FieldId::kTcpFlags ||
      f->id == FieldId::kNwProto || f->id == FieldId::kRecircId || f->id == FieldId::kConjId ||
      f->id == FieldId::kCtState || f->id == FieldId::kCtZone)
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
  std::memcpy(a.value.data(), field_bytes(m, *f, false), f->n_bytes);
  std::memcpy(a.mask.data(), field_bytes(m, *f, true), f->n_bytes);
  return a;
}

inline bool get_bytes_mask_full(const OfAction& a, const FieldInfo& f) {
  for (unsigned i = 0; i < f.n_bytes; ++i)
    if (a.mask[i] != 0xff) return false;
  return true;
}

/// A rewrite action `name:arg`, or nullopt when `name` is not one.
inline std::optional<OfAction> parse_rewrite_action(std::string_view name, std::string_view arg,
                                                    std::string_view tok) {
  using T = OfActionType;
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
  if (name == "mod_nw_ttl") return OfAction::with_u16(T::kSetNwTtl, uint16_t(typed(0xff, "TTL")));
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
  if (name == "set_field") return parse_set_field(arg, tok);
  return std::nullopt;
}

/// dec_ttl's controller ids, `1,2` of `dec_ttl(1,2)` or `dec_ttl:1,2`: as
/// OVS, each comma- or space-separated token read as C's atoi (digits after
/// an optional sign; "x" is 0) and truncated to 16 bits; no token at all is
/// an error.
inline OfAction parse_dec_ttl_ids(std::string_view arg, std::string_view tok) {
  OfAction a = OfAction::with_u16(OfActionType::kDecTtl, 0);
  size_t i = 0;
  while (i < arg.size()) {
    while (i < arg.size() && (arg[i] == ',' || arg[i] == ' ')) ++i;
    if (i == arg.size()) break;
    size_t end = arg.find_first_of(", ", i);
    std::string_view t = arg.substr(i, end == std::string_view::npos ? arg.size() - i : end - i);
    size_t k = 0;
    bool neg = false;
    if (k < t.size() && (t[k] == '-' || t[k] == '+')) neg = t[k++] == '-';
    uint64_t v = 0;
    for (; k < t.size() && t[k] >= '0' && t[k] <= '9' && v < (1ull << 40); ++k)
      v = v * 10 + uint64_t(t[k] - '0');
    a.cnt_ids.push_back(uint16_t(neg ? 0 - v : v));
    i += t.size();
  }
  if (a.cnt_ids.empty())
    throw Error(std::string(tok) + ": dec_ttl_cnt_ids: expected at least one controller id.");
  return a;
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
    if (a.type != T::kSetField || a.is_load) continue;
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
}  // namespace flowpath
