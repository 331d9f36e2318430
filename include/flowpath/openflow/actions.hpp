// flowpath/openflow/actions.hpp — OpenFlow 1.0 and 1.3 action lists (and
// the Nicira actions ovs-ofctl uses) to and from flowpath's OfActionList.
//
//   OF1.0: OUTPUT, SET_VLAN_VID/PCP, STRIP_VLAN, SET_DL_SRC/DST,
//          SET_NW_SRC/DST, SET_NW_TOS, SET_TP_SRC/DST
//   OF1.3: OUTPUT, PUSH_VLAN, POP_VLAN, SET_FIELD (VLAN_VID with
//          OFPVID_PRESENT, VLAN_PCP, ETH_*, IPV4_*, IP_DSCP, L4 ports, and
//          any other writable field as a generic set_field)
//   both:  NXAST_RESUBMIT, NXAST_RESUBMIT_TABLE, NXAST_REG_LOAD (1.0's
//          set_field), NXAST_REG_LOAD2 (masked set_field), NXAST_REG_MOVE,
//          NXAST_CONJUNCTION, NXAST_CT_CLEAR (openflow/nx_actions.hpp),
//          NXAST_CT with nested NXAST_NAT and set_field of ct_mark/ct_label
//          (openflow/nx_ct.hpp; nesting depth 1, as OVS)
//
// Encoding into 1.3 follows Open vSwitch: mod_vlan_vid becomes
// set_field:VID|0x1000->vlan_vid, preceded by push_vlan when the packet
// has no tag at that point (judged from the match and earlier actions);
// mod_tp_src becomes tcp_src/udp_src/sctp_src by the match's protocol;
// goto_table in 1.0 becomes resubmit(,T).  push_vlan has no 1.0 form (OVS
// drops it too: the following set_vlan_vid pushes).
//
// OUTPUT to CONTROLLER keeps its max_len in OfAction::u16, where 0 stands
// for the default 65535 that the flow-text parser implies (so a wire
// max_len of 0 is re-encoded as 65535; OfAction has no other room).
//
// Decoding errors: OFPET_BAD_ACTION with BAD_TYPE, BAD_LEN, BAD_VENDOR,
// BAD_VENDOR_TYPE, BAD_OUT_PORT, BAD_ARGUMENT, BAD_SET_TYPE/LEN/ARGUMENT.
//
// Cost: linear in the actions.  Thread-safety: pure functions.
#pragma once

#include "flowpath/flow/of_action.hpp"
#include "flowpath/openflow/nx_ct.hpp"
#include "flowpath/openflow/nx_reg_load.hpp"
#include "flowpath/openflow/nxm.hpp"
#include "flowpath/openflow/set_field_map.hpp"

namespace flowpath::openflow {
namespace act {
inline constexpr uint16_t kNxResubmit = 1, kNxResubmitTable = 14, kNxRegLoad2 = 33;

/// Where an action list sits: at the top, or nested inside ct().
enum class Nest : uint8_t { kTop, kCt };
inline OfActionList decode_action_list(Reader r, uint8_t version, Nest nest);

inline bool valid_out_port(uint32_t p) {
  return p < kOfppMax || (p >= kOfppInPort && p <= kOfppLocal);
}

[[noreturn]] inline void fail(OfpErrc e, const std::string& what) {
  throw DecodeError(e, "action: " + what);
}

inline OfAction mac_action(OfActionType t, Reader& x) {
  OfAction a = OfAction::with_u16(t, 0);
  x.copy(a.mac.b.data(), 6);
  return a;
}

/// Reads one OXM TLV of a set_field / reg_load2 into an action.
inline OfAction decode_set_field(Reader& x, bool allow_mask) {
  if (x.remaining() < 4) fail(OfpErrc::kActionBadSetLen, "set_field without a field");
  uint32_t h = x.u32();
  const nxm::TlvField* t = nxm::find(uint16_t(h >> 16), uint8_t(h >> 9 & 0x7f));
  bool hasmask = h >> 8 & 1;
  uint8_t len = uint8_t(h);
  if (!t || t->kind == nxm::Kind::kCookie)
    fail(OfpErrc::kActionBadSetType, "set_field: unknown field");
  if (len != (hasmask ? 2 * t->len : t->len) || len > x.remaining())
    fail(OfpErrc::kActionBadSetLen, "set_field: bad field length");
  if (hasmask && (!allow_mask || !t->maskable))
    fail(OfpErrc::kActionBadSetArgument, "set_field: mask not allowed");
  FieldId fid = t->fid;
  if (read_only_field(fid))
    fail(OfpErrc::kActionBadSetArgument, "set_field: read-only field");
  if (t->kind == nxm::Kind::kInPort32)  // OpenFlow forbids it; in_port is NXM_OF_IN_PORT's
    fail(OfpErrc::kActionBadSetArgument, "set_field: OXM_OF_IN_PORT may not be set");
  if (t->cls == nxm::kOxmBasic && t->field == 6) {  // VLAN_VID needs OFPVID_PRESENT
    if (len != 2 || !(x.cur()[0] & 0x10))
      fail(OfpErrc::kActionBadSetArgument, "vlan_vid without 0x1000");
  }
  Match m;
  Reader v = x.sub(len, OfpErrc::kActionBadSetLen, "set_field");
  try {
    apply_tlv(m, *t, v, hasmask, nullptr);
  } catch (const DecodeError& e) {
    fail(OfpErrc::kActionBadSetArgument, e.what());
  }
  if (t->cls == nxm::kNxmOf && t->field == 4 && !(get_field(m.value, FieldId::kVlanTci) & kVlanCfi))
    fail(OfpErrc::kActionBadSetArgument, "vlan_tci without the present bit");
  // Typed actions only for the fields that have one, unmasked; NXM's
  // vlan_tci (the whole TCI) stays a generic set_field.
  bool typed = !hasmask && !(fid == FieldId::kVlanTci && t->cls != nxm::kOxmBasic);
  return set_field_action(m, fid, typed);
}

/// The Nicira actions of nx_actions.hpp and nx_ct.hpp; nullopt otherwise.
inline std::optional<OfAction> decode_nicira_ext(Reader& x, uint16_t sub, uint16_t len,
                                                 uint8_t version, Nest nest) {
  switch (sub) {
    case kNxRegMove:
      return decode_move(x);
    case kNxConjunction:
      return decode_conjunction(x, len);
    case kNxCtClear:
      return decode_ct_clear(len);
    case kNxDecTtl:
    case kNxDecTtlCntIds:
      return decode_dec_ttl(x, sub, len);
    case kNxCt:
      if (len < 24) fail(OfpErrc::kActionBadLen, "ct: shorter than 24 bytes");
      if (nest != Nest::kTop) fail(OfpErrc::kActionBadArgument, "ct inside ct");
      return decode_ct(x, [&](Reader r) { return decode_action_list(r, version, Nest::kCt); });
    case kNxNat:
      if (nest != Nest::kCt) fail(OfpErrc::kActionBadSetArgument, "nat outside ct");
      return nat_placeholder(x);
    default:
      return std::nullopt;
  }
}

inline OfAction decode_nicira(Reader& x, uint16_t len, uint8_t version, Nest nest) {
  if (len < 16) fail(OfpErrc::kActionBadLen, "Nicira action shorter than 16 bytes");
  uint32_t vendor = x.u32();
  if (vendor != kNiciraVendor) fail(OfpErrc::kActionBadVendor, "vendor " + std::to_string(vendor));
  uint16_t sub = x.u16();
  if (sub == kNxResubmit || sub == kNxResubmitTable) {
    if (len != 16) fail(OfpErrc::kActionBadLen, "resubmit length");
    uint16_t port = x.u16();
    uint8_t table = x.u8();
    if (sub == kNxResubmit) table = kOfTableCurrent;
    if (!valid_out_port(port) && port != kOfppInPort)
      fail(OfpErrc::kActionBadOutPort, "resubmit port");
    return OfAction::resubmit(port, table);
  }
  if (sub == kNxRegLoad) {
    if (len != 24) fail(OfpErrc::kActionBadLen, "load length");
    return decode_reg_load(x);
  }
  if (sub == kNxRegLoad2) {
    OfAction a = decode_set_field(x, true);
    return a;
  }
  if (auto a = decode_nicira_ext(x, sub, len, version, nest)) return *a;
  fail(OfpErrc::kActionBadVendorType, "Nicira subtype " + std::to_string(sub));
}

inline OfAction decode_of10_action(uint16_t type, uint16_t len, Reader& x, Nest nest) {
  using T = OfActionType;
  auto need_len = [&](uint16_t want) {
    if (len != want)
      fail(OfpErrc::kActionBadLen,
           "type " + std::to_string(type) + " length " + std::to_string(len));
  };
  switch (type) {
    case 0: {
      need_len(8);
      uint16_t port = x.u16(), max_len = x.u16();
      if (!valid_out_port(port))
        fail(OfpErrc::kActionBadOutPort, "output port " + std::to_string(port));
      OfAction a = OfAction::output(port);
      if (port == kOfppController) a.u16 = max_len == 0xffff ? 0 : max_len;
      return a;
    }
    case 1: {
      need_len(8);
      uint16_t vid = x.u16();
      if (vid > kVlanVidMask) fail(OfpErrc::kActionBadArgument, "vlan vid " + std::to_string(vid));
      return OfAction::with_u16(T::kSetVlanVid, vid);
    }
    case 2: {
      need_len(8);
      uint8_t pcp = x.u8();
      if (pcp > 7) fail(OfpErrc::kActionBadArgument, "vlan pcp");
      return OfAction::with_u16(T::kSetVlanPcp, pcp);
    }
    case 3:
      need_len(8);
      return OfAction::with_u16(T::kStripVlan, 0);
    case 4:
      need_len(16);
      return mac_action(T::kSetDlSrc, x);
    case 5:
      need_len(16);
      return mac_action(T::kSetDlDst, x);
    case 6:
    case 7: {
      need_len(8);
      OfAction a = OfAction::with_u16(type == 6 ? T::kSetNwSrc : T::kSetNwDst, 0);
      a.ipv4 = x.u32();
      return a;
    }
    case 8: {
      need_len(8);
      uint8_t tos = x.u8();
      if (tos & 3) fail(OfpErrc::kActionBadArgument, "nw_tos with ECN bits");
      return OfAction::with_u16(T::kSetNwTos, tos);
    }
    case 9:
    case 10:
      need_len(8);
      return OfAction::with_u16(type == 9 ? T::kSetTpSrc : T::kSetTpDst, x.u16());
    case 0xffff:
      return decode_nicira(x, len, kOfp10, nest);
    default:
      fail(OfpErrc::kActionBadType, "unknown OpenFlow 1.0 action type " + std::to_string(type));
  }
}

inline OfAction decode_of13_action(uint16_t type, uint16_t len, Reader& x, Nest nest) {
  using T = OfActionType;
  switch (type) {
    case 0: {
      if (len != 16) fail(OfpErrc::kActionBadLen, "output length");
      auto port = nxm::port_from_of13(x.u32());
      uint16_t max_len = x.u16();
      if (!port || !valid_out_port(*port)) fail(OfpErrc::kActionBadOutPort, "output port");
      OfAction a = OfAction::output(*port);
      if (*port == kOfppController) a.u16 = max_len == 0xffff ? 0 : max_len;
      return a;
    }
    case 17: {
      if (len != 8) fail(OfpErrc::kActionBadLen, "push_vlan length");
      uint16_t tpid = x.u16();
      if (tpid != kEthTypeVlan && tpid != kEthTypeQinQ)
        fail(OfpErrc::kActionBadArgument, "push_vlan ethertype");
      return OfAction::with_u16(T::kPushVlan, tpid);
    }
    case 18:
      if (len != 8) fail(OfpErrc::kActionBadLen, "pop_vlan length");
      return OfAction::with_u16(T::kStripVlan, 0);
    case 23:  // OFPAT_SET_NW_TTL
      if (len != 8) fail(OfpErrc::kActionBadLen, "set_nw_ttl length");
      return OfAction::with_u16(T::kSetNwTtl, x.u8());
    case 24:  // OFPAT_DEC_NW_TTL
      if (len != 8) fail(OfpErrc::kActionBadLen, "dec_nw_ttl length");
      return OfAction::with_u16(T::kDecTtl, 0);
    case 25:
      return decode_set_field(x, false);
    case 0xffff:
      return decode_nicira(x, len, kOfp13, nest);
    default:
      fail(OfpErrc::kActionBadType, "unsupported OpenFlow 1.3 action type " + std::to_string(type));
  }
}
}  // namespace act

namespace act {
/// A ct field may only be written inside ct() (OVS: "cannot set CT fields
/// outside of ct action").
inline void check_top_level(const OfAction& a) {
  if (a.type == OfActionType::kSetField &&
      (a.field == FieldId::kCtMark || a.field == FieldId::kCtLabel ||
       a.field == FieldId::kCtState || a.field == FieldId::kCtZone))
    fail(OfpErrc::kActionBadSetArgument,
         "set_field ->" + std::string(field_info(a.field).name) + " outside ct()");
}

inline OfActionList decode_action_list(Reader r, uint8_t version, Nest nest) {
  OfActionList out;
  while (!r.empty()) {
    if (r.remaining() < 8) fail(OfpErrc::kActionBadLen, "trailing bytes after the last action");
    Reader peek(std::span(r.cur(), 4));
    uint16_t type = peek.u16(), len = peek.u16();
    if (len < 8 || len % 8 || len > r.remaining())
      fail(OfpErrc::kActionBadLen, "action length " + std::to_string(len));
    Reader x = r.sub(len, OfpErrc::kActionBadLen, "action");
    x.skip(4);
    out.push_back(version == kOfp10 ? decode_of10_action(type, len, x, nest)
                                    : decode_of13_action(type, len, x, nest));
  }
  normalize_set_fields(out);
  if (nest != Nest::kTop) return out;
  size_t conj = 0;
  for (const auto& a : out) check_top_level(a), conj += a.type == OfActionType::kConjunction;
  if (conj && conj != out.size())  // OVS: NXBAC_BAD_CONJUNCTION, not in flowpath's table
    fail(OfpErrc::kActionBadArgument, "conjunction may not be mixed with other actions");
  return out;
}
}  // namespace act

/// Decodes an action list (all of `r`) in OpenFlow `version`.
inline OfActionList decode_actions(Reader r, uint8_t version) {
  return act::decode_action_list(r, version, act::Nest::kTop);
}

}  // namespace flowpath::openflow

#include "flowpath/openflow/actions_encode.hpp"
