// flowpath/openflow/set_field_map.hpp — between a decoded set_field (one
// field's value/mask) and flowpath's actions: the typed action where
// flowpath has one (mod_dl_src, mod_vlan_vid, mod_nw_tos, mod_tp_src, ...),
// else a generic kSetField carrying the field's key bytes; and the
// clean-up after a whole list is decoded (adjacent loads into one field
// merged, full-width generic set_fields typed).
//
// Cost: constant per action.  Thread-safety: pure functions.
#pragma once

#include <cstring>

#include "flowpath/flow/fields.hpp"
#include "flowpath/flow/of_action.hpp"

namespace flowpath::openflow::act {

/// Key fields a set_field or load may not write (OVS: not writable).
inline bool read_only_field(FieldId f) noexcept {
  return f == FieldId::kDlType || f == FieldId::kNwProto || f == FieldId::kNwFrag ||
         f == FieldId::kTcpFlags;
}

/// A set_field on `fid` from a one-field match: the typed action when one
/// exists (mod_dl_src, mod_vlan_vid, ...), else a generic kSetField.
inline OfAction set_field_action(const Match& m, FieldId fid, bool full_mask) {
  using T = OfActionType;
  using F = FieldId;
  auto v = [&](F id) { return get_field(m.value, id); };
  if (full_mask) {
    switch (fid) {
      case F::kVlanTci:
        return OfAction::with_u16(T::kSetVlanVid, uint16_t(v(F::kDlVlan)));
      case F::kDlVlanPcp:
        return OfAction::with_u16(T::kSetVlanPcp, uint16_t(v(fid)));
      case F::kDlSrc:
      case F::kDlDst: {
        OfAction a = OfAction::with_u16(fid == F::kDlSrc ? T::kSetDlSrc : T::kSetDlDst, 0);
        a.mac = u64_to_eth(v(fid));
        return a;
      }
      case F::kNwSrc:
      case F::kNwDst: {
        OfAction a = OfAction::with_u16(fid == F::kNwSrc ? T::kSetNwSrc : T::kSetNwDst, 0);
        a.ipv4 = uint32_t(v(fid));
        return a;
      }
      case F::kIpDscp:
      case F::kNwTos:
        return OfAction::with_u16(T::kSetNwTos, uint16_t(v(F::kNwTos)));
      case F::kTcpSrc:
      case F::kUdpSrc:
      case F::kSctpSrc:
        return OfAction::with_u16(T::kSetTpSrc, uint16_t(v(fid)));
      case F::kTcpDst:
      case F::kUdpDst:
      case F::kSctpDst:
        return OfAction::with_u16(T::kSetTpDst, uint16_t(v(fid)));
      default:
        break;
    }
  }
  const FieldInfo& f = field_info(fid);
  OfAction a;
  a.type = T::kSetField;
  a.field = fid;
  std::memcpy(a.value.data(), field_bytes(m, f, false), f.n_bytes);
  std::memcpy(a.mask.data(), field_bytes(m, f, true), f.n_bytes);
  return a;
}

/// True when a generic set_field writes every bit of its field.
inline bool full_set_field(const OfAction& a) {
  const FieldInfo& f = field_info(a.field);
  Match m;
  std::memcpy(field_bytes(m, f, true), a.mask.data(), f.n_bytes);
  if (f.n_bytes == 16) {
    Ipv6Addr all;
    all.b.fill(0xff);
    return get_field_ipv6(m.mask, a.field) == all;
  }
  return get_field(m.mask, a.field) == f.bits >> f.shift;
}

/// Merges adjacent loads into the same field (disjoint bits, as OVS splits
/// a 128-bit value) and types full-width generic set_fields.
inline void normalize_set_fields(OfActionList& list) {
  OfActionList out;
  for (const auto& a : list) {
    if (a.type == OfActionType::kSetField && !out.empty() &&
        out.back().type == OfActionType::kSetField && out.back().field == a.field &&
        out.back().is_load == a.is_load) {
      OfAction& b = out.back();
      bool disjoint = true;
      for (size_t i = 0; i < 16; ++i) disjoint &= (b.mask[i] & a.mask[i]) == 0;
      if (disjoint) {
        for (size_t i = 0; i < 16; ++i) b.value[i] |= a.value[i], b.mask[i] |= a.mask[i];
        continue;
      }
    }
    out.push_back(a);
  }
  for (auto& a : out) {
    if (a.type != OfActionType::kSetField || a.is_load || a.field == FieldId::kVlanTci ||
        !full_set_field(a))
      continue;
    const FieldInfo& f = field_info(a.field);
    Match m = field_match(f, a.value, a.mask);
    a = set_field_action(m, a.field, true);
  }
  list = std::move(out);
}
}  // namespace flowpath::openflow::act
