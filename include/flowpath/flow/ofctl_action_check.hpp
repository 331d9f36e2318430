// flowpath/flow/ofctl_action_check.hpp — Open vSwitch's checks of a flow's
// actions against its match (ofpacts_check), and the OpenFlow protocols the
// actions allow.
//
// The actions are walked with the VLAN tags the flow is known to carry (the
// match's tag, then push/pop/mod_vlan/set_field:->vlan_tci, two deep):
// strip_vlan with no tag, mod_nw_src/dst on a flow that does not match IPv4,
// mod_nw_tos, mod_nw_ttl and dec_ttl on one that matches no IP,
// mod_tp_* without TCP/UDP/SCTP or on a later fragment are "inconsistent"
// and keep only OpenFlow 1.0 (whose actions need not fit the match);
// set_field on a field whose prerequisite the match lacks, or on
// vlan_vid/vlan_pcp with no tag, is OFPBAC_MATCH_INCONSISTENT; a third tag
// OFPBAC_BAD_TAG; goto_table to a table not after the flow's own
// OFPBIC_BAD_TABLE_ID; output to NONE/TABLE OFPBAC_BAD_OUT_PORT.
//
// Cost: one pass over the actions.  Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <string>

#include "flowpath/flow/of_action.hpp"
#include "flowpath/flow/ofctl_protocol.hpp"

namespace flowpath {
namespace ofctl {

namespace action_check {
struct Walk {  // what the actions know of the packet so far
  // Tag-present bits of the outer two tags, as OVS's check tracks them.
  bool tag0 = false, tag1 = false;
  void push() { tag1 = tag0, tag0 = true; }
  void pop() { tag0 = tag1, tag1 = false; }
  bool ip4 = false, ip = false, l4 = false;
  uint8_t proto = 0;
};
inline Walk start(const Match& m) {
  Walk w;
  uint64_t tci_mask = get_field(m.mask, FieldId::kVlanTci);
  w.tag0 = (tci_mask & kVlanCfi) && (get_field(m.value, FieldId::kVlanTci) & kVlanCfi);
  w.ip4 = match_is_exact(m, FieldId::kDlType, kEthTypeIpv4);
  w.ip = w.ip4 || match_is_exact(m, FieldId::kDlType, kEthTypeIpv6);
  if (w.ip && get_field(m.mask, FieldId::kNwProto) == 0xff)
    w.proto = uint8_t(get_field(m.value, FieldId::kNwProto));
  // Later fragments carry no L4 header: rewriting ports does not fit them.
  bool later = get_field(m.value, FieldId::kNwFrag) & kFragLater;
  w.l4 = !later && (w.proto == kIpProtoTcp || w.proto == kIpProtoUdp || w.proto == kIpProtoSctp);
  return w;
}
// Protocols that can carry a set_field of `id` (its exact-match usability).
inline uint32_t set_field_usable(FieldId id) {
  if (id == FieldId::kVlanTci || id == FieldId::kDlVlan || id == FieldId::kDlVlanPcp ||
      id == FieldId::kIpDscp || id == FieldId::kNwTos)
    return ofproto::kAny;
  Match m;
  const FieldInfo& fi = field_info(id);
  if (fi.n_bytes == 16)
    put_field_ipv6(m.mask, id, ipv6_prefix_mask(128));
  else
    put_field(m.mask, id, ~0ull);
  if (id == FieldId::kSctpSrc || id == FieldId::kSctpDst) return ofproto::kNxmOf11Up;
  if (id == FieldId::kIcmpType || id == FieldId::kIcmpCode) return ofproto::kAny;
  if (fi.space == FieldSpace::kMeta) return ofproto::kNxmOxm;
  return ofproto::match_usable(m);
}
}  // namespace action_check

/// The protocols the actions allow, or 0 with the OpenFlow error name in
/// `err` (e.g. "OFPBAC_MATCH_INCONSISTENT").  `table`: the flow's table,
/// kOfTableAll when unknown (a modify without table=).
inline uint32_t check_actions(const Match& match, const OfActionList& actions, uint8_t table,
                              std::string& err) {
  using T = OfActionType;
  auto w = action_check::start(match);
  uint32_t u = ofproto::kAny;
  auto inconsistent = [&] { u &= ofproto::kOf10Any; };
  for (size_t i = 0; i < actions.size() && err.empty(); ++i) {
    const OfAction& a = actions[i];
    switch (a.type) {
      case T::kOutput:
        if (a.port == kOfppNone || a.port == kOfppTable) err = "OFPBAC_BAD_OUT_PORT";
        break;
      case T::kSetVlanVid:
      case T::kSetVlanPcp:
        if (!w.tag0 && !a.push_vlan_if_needed) err = "OFPBAC_MATCH_INCONSISTENT";
        w.tag0 = true;
        break;
      case T::kStripVlan:
        if (!w.tag0) inconsistent();
        w.pop();
        break;
      case T::kPushVlan:
        u &= ofproto::kOf11Up;
        if (w.tag1) err = "OFPBAC_BAD_TAG";
        w.push();
        break;
      case T::kSetNwSrc:
      case T::kSetNwDst:
        if (!w.ip4) inconsistent();
        break;
      case T::kSetNwTos:
      case T::kSetNwTtl:
      case T::kDecTtl:
        if (!w.ip) inconsistent();
        break;
      case T::kSetTpSrc:
      case T::kSetTpDst:
        if (!w.l4) inconsistent();
        break;
      case T::kSetField:
        if (!missing_prereq(match, field_info(a.field).prereq).empty())
          err = "OFPBAC_MATCH_INCONSISTENT";
        // Nicira's reg_load goes in any protocol; set_field only where the
        // field itself can be matched.
        if (!a.is_load) u &= action_check::set_field_usable(a.field);
        if (a.field == FieldId::kVlanTci) w.tag0 = a.value[0] & (kVlanCfi >> 8);
        break;
      case T::kMove:
        if (!missing_prereq(match, field_info(a.src.field).prereq).empty() ||
            !missing_prereq(match, field_info(a.dst.field).prereq).empty())
          err = "OFPBAC_MATCH_INCONSISTENT";
        break;
      case T::kCt: {
        // ct() needs an IP packet, nat's addresses its family, and a commit
        // cannot follow a match on invalid packets (ct_state=+inv).
        bool v6 = match_is_exact(match, FieldId::kDlType, kEthTypeIpv6);
        bool inv = get_field(match.value, FieldId::kCtState) & kCsInvalid;
        if (!w.ip || (inv && a.ct.commit)) err = "OFPBAC_MATCH_INCONSISTENT";
        for (const auto& e : a.exec) {
          if (e.type == T::kCt && e.ct.nat.has_addr && e.ct.nat.v6 != v6)  // each nat
            err = "OFPBAC_MATCH_INCONSISTENT";
          if (e.type == T::kSetField && !e.is_load) u &= action_check::set_field_usable(e.field);
        }
        break;
      }
      case T::kGotoTable:
        // Only forward: a flow without table= is in table 0 (OVS checks
        // this only with table=, then fails to decode its own 1.3 message).
        if (table != kOfTableAll && a.table <= table) err = "OFPBIC_BAD_TABLE_ID";
        break;
      default:
        break;
    }
    if (!err.empty()) return 0;
  }
  return u;
}

}  // namespace ofctl
}  // namespace flowpath
