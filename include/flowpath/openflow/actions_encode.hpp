// flowpath/openflow/actions_encode.hpp — writing an OfActionList as
// OpenFlow 1.0 or 1.3 actions (the decoder and the mapping rules are in
// openflow/actions.hpp).  `match` is the rule's match: 1.3 needs it to
// pick tcp_src vs udp_src and to know whether a VLAN tag is present.
//
// set_field goes as OVS sends it: NXAST_REG_LOAD in 1.0, and in 1.3 for a
// partial write of a field with an NXM header or an action marked
// `is_load`; else SET_FIELD, or NXAST_REG_LOAD2 for a partial OXM-only one.
//
// Errors: flowpath::Error when an action has no form in the version
// (a port above 0xffff in 1.0, mod_tp_src without a transport protocol).
// Cost: linear in the actions.  Thread-safety: pure functions.
#pragma once

#include "flowpath/flow/ofctl_actions.hpp"
#include "flowpath/openflow/actions.hpp"

namespace flowpath::openflow {
namespace act {

inline void close_action(Writer& w, size_t at) {
  w.pad_to(8, at);
  w.patch16(at + 2, w.size() - at);
}

/// The one-field TLV of a set_field-like action; returns false when the
/// action's mask is not full (then only NXAST_REG_LOAD2 can carry it).
inline bool put_set_field_tlv(Writer& w, FieldId fid, const std::array<uint8_t, 16>& value,
                              const std::array<uint8_t, 16>& mask, TlvDialect d) {
  using F = FieldId;
  const FieldInfo& f = field_info(fid);
  Match m = field_match(f, value, mask);
  F wire = fid == F::kDlVlan                           ? F::kVlanTci
           : fid == F::kTpSrc                          ? F::kTcpSrc
           : fid == F::kTpDst                          ? F::kTcpDst
           : fid == F::kNwTos && d == TlvDialect::kOxm ? F::kIpDscp
                                                       : fid;
  if (fid == F::kVlanTci) d = TlvDialect::kNxm;
  if (fid == F::kDlVlan) put_field(m.mask, F::kVlanTci, 0x1fff);
  Match covered;
  size_t before = w.size();
  nxm::put_entry(w, m, wire, d, covered);
  if (w.size() == before) throw Error("set_field ->" + std::string(f.name) + ": empty mask");
  return !(w.buf()[before + 2] & 1);
}

/// A write of in_port as OVS sends it: NXM_OF_IN_PORT (16 bits; OpenFlow
/// forbids setting OXM_OF_IN_PORT), whole in a 1.3 SET_FIELD, else as
/// NXAST_REG_LOADs of the bits written (the TLV has no masked form).
inline void put_in_port(Writer& w, uint8_t version, const std::array<uint8_t, 16>& value,
                        const std::array<uint8_t, 16>& mask, bool as_load) {
  const FieldInfo& f = field_info(FieldId::kInPort);
  Match m = field_match(f, value, mask);
  uint64_t v = match_value(m, f.id), mk = match_mask(m, f.id);
  if (mk == f.bits >> f.shift) mk = 0xffff;
  if ((v | mk) > 0xffff) throw Error("set_field ->in_port: port or bits above 0xffff");
  uint32_t hdr = nxm::header(*nxm::for_field(f.id, TlvDialect::kNxm), false);
  if (version != kOfp10 && !as_load && mk == 0xffff) {
    w.u16(25), w.u16(16), w.u32(hdr), w.u16(uint16_t(v));
    return w.zeros(6);
  }
  std::array<uint8_t, 16> vb{uint8_t(v >> 8), uint8_t(v)}, mb{uint8_t(mk >> 8), uint8_t(mk)};
  put_reg_loads(w, hdr, 2, vb, mb);
}

inline void put_set_field(Writer& w, uint8_t version, FieldId fid,
                          const std::array<uint8_t, 16>& value, const std::array<uint8_t, 16>& mask,
                          bool as_load = false) {
  if (fid == FieldId::kInPort) return put_in_port(w, version, value, mask, as_load);
  size_t at = w.size();
  std::vector<uint8_t> tlv;
  Writer tw(tlv);
  // OVS: 1.0 always, and 1.3 for a partial write of a field that has an
  // NXM header, use NXAST_REG_LOAD; 1.3 otherwise SET_FIELD or REG_LOAD2.
  const nxm::TlvField* nx = nxm::for_field(fid, TlvDialect::kNxm);
  bool has_nxm = nx && nx->cls != nxm::kOxmBasic;
  if (as_load && has_nxm) version = kOfp10;  // a load stays a load (OVS)
  if (version != kOfp10 && has_nxm) {
    std::vector<uint8_t> probe;
    Writer pw(probe);
    if (!put_set_field_tlv(pw, fid, value, mask, TlvDialect::kOxm)) version = kOfp10;
  }
  if (version == kOfp10) {  // NXAST_REG_LOAD, as ovs-ofctl sends it
    bool full = put_set_field_tlv(tw, fid, value, mask, TlvDialect::kNxm);
    Reader r(tlv);
    uint32_t hdr = r.u32();
    size_t width = full ? (hdr & 0xff) : (hdr & 0xff) / 2;
    std::array<uint8_t, 16> v{}, mk{};
    r.copy(v.data(), width);
    if (full)
      std::fill(mk.begin(), mk.begin() + std::ptrdiff_t(width), 0xff);
    else
      r.copy(mk.data(), width);
    // A load may only touch the field's own bits (NXM_NX_IP_ECN is 2 bits wide).
    const nxm::TlvField* t = nxm::find(uint16_t(hdr >> 16), uint8_t(hdr >> 9 & 0x7f));
    if (t && t->kind == nxm::Kind::kPlain) {
      const FieldInfo& tf = field_info(t->fid);
      uint64_t bits = tf.bits >> tf.shift;
      for (size_t i = width; i-- > 0; bits >>= 8) mk[i] &= uint8_t(bits);
    }
    return put_reg_loads(w, hdr, width, v, mk);
  }
  bool full = put_set_field_tlv(tw, fid, value, mask, TlvDialect::kOxm);
  if (version != kOfp10 && full) {
    w.u16(25);
    w.u16(0);
  } else {
    w.u16(0xffff);
    w.u16(0);
    w.u32(kNiciraVendor);
    w.u16(kNxRegLoad2);
  }
  w.bytes(tlv);
  close_action(w, at);
}

inline std::array<uint8_t, 16> be_bytes(uint64_t v, size_t n) {
  std::array<uint8_t, 16> b{};
  for (size_t i = n; i-- > 0; v >>= 8) b[i] = uint8_t(v);
  return b;
}

inline void put_of13_field(Writer& w, FieldId fid, uint64_t logical) {
  const FieldInfo& f = field_info(fid);
  Match m;
  put_field(m.value, fid, logical);
  put_field(m.mask, fid, ~0ull);
  std::array<uint8_t, 16> v{}, mk{};
  std::memcpy(v.data(), field_bytes(m, f, false), f.n_bytes);
  std::memcpy(mk.data(), field_bytes(m, f, true), f.n_bytes);
  put_set_field(w, kOfp13, fid, v, mk);
}

inline void put_resubmit(Writer& w, uint32_t port, uint8_t table) {
  w.u16(0xffff);
  w.u16(16);
  w.u32(kNiciraVendor);
  w.u16(kNxResubmitTable);  // OVS 3.1 always uses the table form (255 = current)
  w.u16(port);
  w.u8(table);
  w.zeros(3);
}

inline FieldId l4_field(const Match& m, bool src) {
  using F = FieldId;
  auto proto = [&](uint8_t p) { return match_is_exact(m, F::kNwProto, p); };
  if (proto(kIpProtoTcp)) return src ? F::kTcpSrc : F::kTcpDst;
  if (proto(kIpProtoUdp)) return src ? F::kUdpSrc : F::kUdpDst;
  if (proto(kIpProtoSctp)) return src ? F::kSctpSrc : F::kSctpDst;
  throw Error("mod_tp_src/mod_tp_dst: OpenFlow 1.3 needs a tcp, udp or sctp match");
}

inline void encode_of10_action(Writer& w, const OfAction& a) {
  using T = OfActionType;
  auto small = [&](uint16_t type, auto body) {
    w.u16(type);
    w.u16(8);
    body();
  };
  switch (a.type) {
    case T::kOutput:
      if (a.port > 0xffff)
        throw Error("output:" + std::to_string(a.port) + ": port above 0xffff in OpenFlow 1.0");
      return small(0, [&] {
        w.u16(a.port), w.u16(a.port == kOfppController ? (a.u16 ? a.u16 : 0xffff) : 0);
      });
    case T::kSetVlanVid:
      return small(1, [&] { w.u16(a.u16), w.zeros(2); });
    case T::kSetVlanPcp:
      return small(2, [&] { w.u8(a.u16), w.zeros(3); });
    case T::kStripVlan:
      return small(3, [&] { w.zeros(4); });
    case T::kPushVlan:
      return;  // OVS: the following set_vlan_vid pushes
    case T::kSetDlSrc:
    case T::kSetDlDst:
      w.u16(a.type == T::kSetDlSrc ? 4 : 5);
      w.u16(16);
      w.bytes(a.mac.b.data(), 6);
      return w.zeros(6);
    case T::kSetNwSrc:
      return small(6, [&] { w.u32(a.ipv4); });
    case T::kSetNwDst:
      return small(7, [&] { w.u32(a.ipv4); });
    case T::kSetNwTos:
      return small(8, [&] { w.u8(a.u16), w.zeros(3); });
    case T::kSetTpSrc:
      return small(9, [&] { w.u16(a.u16), w.zeros(2); });
    case T::kSetTpDst:
      return small(10, [&] { w.u16(a.u16), w.zeros(2); });
    case T::kSetField:
      return put_set_field(w, kOfp10, a.field, a.value, a.mask);
    case T::kResubmit:
      return put_resubmit(w, a.port, a.table);
    case T::kGotoTable:
      return put_resubmit(w, kOfppInPort, a.table);
    case T::kMove:
      return encode_move(w, a);
    case T::kCt:
      return encode_ct(w, a, [](Writer& o, const OfAction& e) { encode_of10_action(o, e); });
    case T::kCtClear:
      return encode_ct_clear(w);
    case T::kConjunction:
      return encode_conjunction(w, a);
    case T::kDecTtl:
      return encode_nx_dec_ttl(w, a);
    case T::kSetNwTtl:  // no OpenFlow 1.0 action: Nicira's reg_load, as OVS
      return put_set_field(w, kOfp10, FieldId::kNwTtl, be_bytes(a.u16, 1), be_bytes(0xff, 1));
  }
}

/// One 1.3 action; `has_vlan` tracks whether the packet has a tag here.
inline void encode_of13_action(Writer& w, const OfAction& a, const Match& match, bool& has_vlan) {
  using T = OfActionType;
  using F = FieldId;
  auto push = [&](uint16_t tpid) {
    w.u16(17), w.u16(8), w.u16(tpid), w.zeros(2);
    has_vlan = true;
  };
  switch (a.type) {
    case T::kOutput:
      w.u16(0), w.u16(16), w.u32(nxm::port_to_of13(a.port));
      w.u16(a.port == kOfppController ? (a.u16 ? a.u16 : 0xffff) : 0);
      return w.zeros(6);
    case T::kSetVlanVid:
      if (!has_vlan) push(kEthTypeVlan);
      // OXM VLAN_VID = VID | OFPVID_PRESENT (flowpath's tag-present bit).
      return put_set_field(w, kOfp13, F::kDlVlan, be_bytes(a.u16 | kVlanCfi, 2),
                           be_bytes(0x1fff, 2));
    case T::kSetVlanPcp:
      if (!has_vlan) push(kEthTypeVlan);
      return put_of13_field(w, F::kDlVlanPcp, a.u16);
    case T::kStripVlan:
      w.u16(18), w.u16(8), w.zeros(4);
      has_vlan = false;
      return;
    case T::kPushVlan:
      return push(a.u16);
    case T::kSetDlSrc:
      return put_of13_field(w, F::kDlSrc, eth_to_u64(a.mac));
    case T::kSetDlDst:
      return put_of13_field(w, F::kDlDst, eth_to_u64(a.mac));
    case T::kSetNwSrc:
      return put_of13_field(w, F::kNwSrc, a.ipv4);
    case T::kSetNwDst:
      return put_of13_field(w, F::kNwDst, a.ipv4);
    case T::kSetNwTos:
      return put_of13_field(w, F::kIpDscp, a.u16 >> 2);
    case T::kSetTpSrc:
      return put_of13_field(w, l4_field(match, true), a.u16);
    case T::kSetTpDst:
      return put_of13_field(w, l4_field(match, false), a.u16);
    case T::kSetField:
      return put_set_field(w, kOfp13, a.field, a.value, a.mask, a.is_load);
    case T::kResubmit:
      return put_resubmit(w, a.port, a.table);
    case T::kGotoTable:
      throw Error("goto_table is an instruction, not an action");
    case T::kMove:
      return encode_move(w, a);
    case T::kCt:
      return encode_ct(
          w, a, [&](Writer& o, const OfAction& e) { encode_of13_action(o, e, match, has_vlan); });
    case T::kCtClear:
      return encode_ct_clear(w);
    case T::kConjunction:
      return encode_conjunction(w, a);
    case T::kDecTtl:  // OFPAT_DEC_NW_TTL, or Nicira's with controller ids
      if (!a.cnt_ids.empty()) return encode_nx_dec_ttl(w, a);
      return w.u16(24), w.u16(8), w.zeros(4);
    case T::kSetNwTtl:  // OFPAT_SET_NW_TTL
      return w.u16(23), w.u16(8), w.u8(uint8_t(a.u16)), w.zeros(3);
  }
}
}  // namespace act

/// Appends `list` as OpenFlow `version` actions (1.3: goto_table excluded,
/// see openflow/instructions.hpp).
inline void encode_actions(Writer& w, const OfActionList& list, uint8_t version,
                           const Match& match = {}) {
  bool has_vlan = (get_field(match.mask, FieldId::kVlanTci) & kVlanCfi) &&
                  (get_field(match.value, FieldId::kVlanTci) & kVlanCfi);
  for (const auto& a : list) {
    if (version == kOfp10)
      act::encode_of10_action(w, a);
    else if (a.type != OfActionType::kGotoTable)
      act::encode_of13_action(w, a, match, has_vlan);
  }
}

}  // namespace flowpath::openflow
