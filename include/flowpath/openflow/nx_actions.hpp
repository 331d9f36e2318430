// flowpath/openflow/nx_actions.hpp — the small Nicira actions that Open
// vSwitch's pipelines (Neutron's firewall among them) use, both directions:
//
//   NXAST_REG_MOVE (6)     move:SRC[a..b]->DST[c..d]
//                          hdr(10) | n_bits u16 | src_ofs u16 | dst_ofs u16 |
//                          src header u32 | dst header u32 | pad → 24 bytes
//   NXAST_CONJUNCTION (34) conjunction(ID,K/N)
//                          hdr(10) | clause u8 (K-1) | n_clauses u8 | id u32
//   NXAST_CT_CLEAR (43)    ct_clear: hdr(10) | pad(6)
//   NXAST_DEC_TTL (18)     dec_ttl: hdr(10) | pad(6)
//   NXAST_DEC_TTL_CNT_IDS (21) dec_ttl(ID,...): hdr(10) | n u16 | zeros(4) |
//                          n ids u16 | pad to 8
//
// `hdr(10)` is type 0xffff | len | vendor 0x2320 | subtype.  Fields are
// named by NXM headers (OVS writes NXM headers for move in OpenFlow 1.0 and
// 1.3 alike); xregs by OXM_OF_PKT_REG0..7 (class 0x8001).  Also the
// subfield helpers (header <-> field, ofs_nbits) that ct()'s zone uses.
//
// Decoding errors, as OVS 3.1 answers: unknown field header → BAD_FIELD
// (a match error: OVS decodes the header with its match code), bits past a
// field or zero bits → BAD_SET_LEN, a read-only destination →
// BAD_SET_ARGUMENT, a bad clause count/index → BAD_ARGUMENT (OVS sends its
// Nicira NXBAC_BAD_CONJUNCTION there, which flowpath's error table lacks).
//
// Cost: constant per action.  Thread-safety: pure functions.
#pragma once

#include <optional>

#include "flowpath/flow/of_action.hpp"
#include "flowpath/flow/subfield.hpp"
#include "flowpath/openflow/nxm.hpp"

namespace flowpath::openflow::act {

inline constexpr uint16_t kNxRegMove = 6, kNxConjunction = 34, kNxCt = 35, kNxNat = 36,
                          kNxCtClear = 43, kNxDecTtl = 18, kNxDecTtlCntIds = 21;
inline constexpr uint16_t kOxmPacketRegs = 0x8001;

/// The NXM (or, for xregs, OXM packet-register) header naming `fid`.
inline uint32_t subfield_header(FieldId fid) {
  unsigned i = unsigned(fid);
  if (i >= unsigned(FieldId::kXreg0) && i <= unsigned(FieldId::kXreg7))
    return uint32_t(kOxmPacketRegs) << 16 | (i - unsigned(FieldId::kXreg0)) << 9 | 8u;
  const nxm::TlvField* t = nxm::for_field(fid, TlvDialect::kNxm);
  if (!t || t->kind == nxm::Kind::kCookie)
    throw Error(std::string("field ") + std::string(field_info(fid).name) + ": no NXM header");
  return nxm::header(*t, false);
}

/// The field an unmasked header names, or nullopt (unknown, masked, wrong
/// length, or a header whose bits flowpath stores differently).
inline std::optional<FieldId> subfield_field(uint32_t h) {
  uint16_t cls = uint16_t(h >> 16);
  uint8_t field = uint8_t(h >> 9 & 0x7f), len = uint8_t(h);
  if (h >> 8 & 1) return std::nullopt;
  if (cls == kOxmPacketRegs)
    return field < 8 && len == 8 ? std::optional(FieldId(unsigned(FieldId::kXreg0) + field))
                                 : std::nullopt;
  const nxm::TlvField* t = nxm::find(cls, field);
  if (!t || t->len != len || t->kind == nxm::Kind::kCookie || t->kind == nxm::Kind::kVlanVid ||
      t->kind == nxm::Kind::kInPort32 || field_width(t->fid) == 0)
    return std::nullopt;
  return t->fid;
}

/// A subfield from a header and an offset/width; BAD_FIELD / BAD_SET_LEN.
inline Subfield decode_subfield(uint32_t h, unsigned ofs, unsigned n_bits, const char* what) {
  auto fid = subfield_field(h);
  if (!fid)
    throw DecodeError(OfpErrc::kMatchBadField, std::string(what) + ": unknown field header");
  if (n_bits == 0 || ofs + n_bits > field_width(*fid))
    throw DecodeError(OfpErrc::kActionBadSetLen,
                      std::string(what) + ": bits " + std::to_string(ofs) + ".." +
                          std::to_string(ofs + n_bits - 1) + " are outside the field");
  return Subfield{*fid, uint8_t(ofs), uint8_t(n_bits)};
}

inline bool writable(FieldId f) {
  using F = FieldId;
  return f != F::kDlType && f != F::kNwProto && f != F::kNwFrag && f != F::kTcpFlags &&
         f != F::kRecircId && f != F::kConjId && f != F::kCtState && f != F::kCtZone &&
         f != F::kCtMark && f != F::kCtLabel;
}

inline void put_nx_header(Writer& w, uint16_t len, uint16_t subtype) {
  w.u16(0xffff), w.u16(len), w.u32(kNiciraVendor), w.u16(subtype);
}

/// Body of NXAST_REG_MOVE after the subtype (x spans the whole action).
inline OfAction decode_move(Reader& x) {
  if (x.remaining() < 14) throw DecodeError(OfpErrc::kActionBadLen, "move: too short");
  unsigned n = x.u16(), src_ofs = x.u16(), dst_ofs = x.u16();
  uint32_t sh = x.u32(), dh = x.u32();
  OfAction a;
  a.type = OfActionType::kMove;
  a.src = decode_subfield(sh, src_ofs, n, "move source");
  a.dst = decode_subfield(dh, dst_ofs, n, "move destination");
  if (!writable(a.dst.field))
    throw DecodeError(OfpErrc::kActionBadSetArgument, "move: destination is read-only");
  return a;
}

inline void encode_move(Writer& w, const OfAction& a) {
  put_nx_header(w, 24, kNxRegMove);
  w.u16(a.dst.n_bits), w.u16(a.src.ofs), w.u16(a.dst.ofs);
  w.u32(subfield_header(a.src.field)), w.u32(subfield_header(a.dst.field));
}

inline OfAction decode_conjunction(Reader& x, uint16_t len) {
  if (len != 16) throw DecodeError(OfpErrc::kActionBadLen, "conjunction: length must be 16");
  uint8_t clause = x.u8(), n = x.u8();
  uint32_t id = x.u32();
  if (n < 2 || n > 64 || clause >= n)
    throw DecodeError(OfpErrc::kActionBadArgument,
                      "conjunction: clause " + std::to_string(clause) + " of " + std::to_string(n));
  OfAction a;
  a.type = OfActionType::kConjunction;
  a.u32 = id, a.clause = uint8_t(clause + 1), a.n_clauses = n;
  return a;
}

inline void encode_conjunction(Writer& w, const OfAction& a) {
  put_nx_header(w, 16, kNxConjunction);
  w.u8(uint8_t(a.clause - 1)), w.u8(a.n_clauses), w.u32(a.u32);
}

inline OfAction decode_ct_clear(uint16_t len) {
  if (len != 16) throw DecodeError(OfpErrc::kActionBadLen, "ct_clear: length must be 16");
  OfAction a;
  a.type = OfActionType::kCtClear;
  return a;
}

inline void encode_ct_clear(Writer& w) {
  put_nx_header(w, 16, kNxCtClear);
  w.zeros(6);
}

/// NXAST_DEC_TTL (plain dec_ttl: controller 0) or NXAST_DEC_TTL_CNT_IDS.
inline OfAction decode_dec_ttl(Reader& x, uint16_t sub, uint16_t len) {
  OfAction a = OfAction::with_u16(OfActionType::kDecTtl, 0);
  if (sub == kNxDecTtl) {
    if (len != 16) throw DecodeError(OfpErrc::kActionBadLen, "dec_ttl: length must be 16");
    return a;
  }
  const uint16_t n = x.u16();
  if (x.u32() != 0) throw DecodeError(OfpErrc::kActionBadArgument, "dec_ttl_cnt_ids: zeros");
  if (n == 0 || x.remaining() < size_t(n) * 2)
    throw DecodeError(OfpErrc::kActionBadLen,
                      "dec_ttl_cnt_ids: " + std::to_string(n) + " ids do not fit the action");
  for (uint16_t i = 0; i < n; ++i) a.cnt_ids.push_back(x.u16());
  return a;
}

/// dec_ttl as Nicira's action (ids given, or OpenFlow 1.0: no standard one).
inline void encode_nx_dec_ttl(Writer& w, const OfAction& a) {
  if (a.cnt_ids.empty()) {
    put_nx_header(w, 16, kNxDecTtl);
    return w.zeros(6);
  }
  const size_t body = 16 + 2 * a.cnt_ids.size(), len = (body + 7) / 8 * 8;
  put_nx_header(w, uint16_t(len), kNxDecTtlCntIds);
  w.u16(uint16_t(a.cnt_ids.size())), w.zeros(4);
  for (uint16_t id : a.cnt_ids) w.u16(id);
  w.zeros(len - body);
}

}  // namespace flowpath::openflow::act
