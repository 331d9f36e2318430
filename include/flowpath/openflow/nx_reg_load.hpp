// flowpath/openflow/nx_reg_load.hpp — the Nicira NXAST_REG_LOAD action
// (`load:VALUE->FIELD[OFS..END]`), which ovs-ofctl sends for set_field in
// its default OpenFlow 1.0 mode.
//
//   type 0xffff | len 24 | vendor 0x2320 | subtype 7 |
//   ofs_nbits (ofs << 6 | nbits - 1) | dst (NXM header) | value u64
//
// A load writes `value` into bits [ofs, ofs + nbits) of the field (bit 0 =
// its least significant bit).  Decoded loads become generic set_field
// actions (value/mask over the field's key bytes) marked `is_load`, as OVS
// keeps a load's raw form (a load added in 1.0 dumps as `load:` in 1.3
// too); decode_actions() then merges adjacent loads into one field (OVS
// writes a 128-bit value as two loads).  Encoding splits the set bits of a
// set_field's mask into contiguous runs of at most 64 bits, low bits first,
// one load per run — the bytes ovs-ofctl sends.
//
// Errors: unknown destination → BAD_SET_TYPE, bits past the field →
// BAD_SET_LEN, value wider than nbits or a read-only field →
// BAD_SET_ARGUMENT.  NXM_OF_IN_PORT is writable, whole or in part (OVS's
// `load:0->NXM_OF_IN_PORT[]` lets a packet go back out its own port); the
// 32-bit OXM_OF_IN_PORT is refused, as flowpath's flow text does not name
// it.  Cost: constant per load.  Thread-safety: pure.
#pragma once

#include "flowpath/flow/of_action.hpp"
#include "flowpath/openflow/nxm.hpp"
#include "flowpath/openflow/set_field_map.hpp"

namespace flowpath::openflow::act {

inline constexpr uint16_t kNxRegLoad = 7;

inline void set_bit(std::array<uint8_t, 16>& b, size_t width_bytes, unsigned bit) {
  b[width_bytes - 1 - bit / 8] |= uint8_t(1u << (bit % 8));
}
inline bool get_bit(const std::array<uint8_t, 16>& b, size_t width_bytes, unsigned bit) {
  return b[width_bytes - 1 - bit / 8] >> (bit % 8) & 1;
}

/// Reads the body of a load (after the subtype) into a generic set_field.
inline OfAction decode_reg_load(Reader& x) {
  uint16_t ofs_nbits = x.u16();
  uint32_t dst = x.u32();
  uint64_t value = x.u64();
  unsigned ofs = ofs_nbits >> 6, nbits = (ofs_nbits & 0x3f) + 1u;
  const nxm::TlvField* t = nxm::find(uint16_t(dst >> 16), uint8_t(dst >> 9 & 0x7f));
  if (!t || t->kind == nxm::Kind::kCookie || (dst >> 8 & 1))
    throw DecodeError(OfpErrc::kActionBadSetType, "load: unknown destination field");
  if (ofs + nbits > 8u * t->len)
    throw DecodeError(OfpErrc::kActionBadSetLen, "load: past the field");
  if (nbits < 64 && value >> nbits)
    throw DecodeError(OfpErrc::kActionBadSetArgument, "load: value too wide");
  FieldId fid = t->fid;
  if (read_only_field(fid) || t->kind == nxm::Kind::kInPort32)
    throw DecodeError(OfpErrc::kActionBadSetArgument, "load: read-only or unsupported field");
  if (t->kind == nxm::Kind::kInPort16) {  // `load:V->NXM_OF_IN_PORT[a..b]`, as the flow text
    Match m;
    Subfield sf{fid, uint8_t(ofs), uint8_t(nbits)};
    match_set(m, fid, value << ofs, uint64_t(load_mask(sf)));
    OfAction a = set_field_action(m, fid, false);
    a.is_load = true;
    return a;
  }
  std::array<uint8_t, 16> v{}, mk{};
  for (unsigned i = 0; i < nbits; ++i) {
    set_bit(mk, t->len, ofs + i);
    if (value >> i & 1) set_bit(v, t->len, ofs + i);
  }
  std::vector<uint8_t> tlv(v.begin(), v.begin() + t->len);
  tlv.insert(tlv.end(), mk.begin(), mk.begin() + t->len);
  Reader r(tlv, OfpErrc::kActionBadSetLen, "load");
  Match m;
  try {
    apply_tlv(m, *t, r, true, nullptr);
  } catch (const DecodeError& e) {
    throw DecodeError(OfpErrc::kActionBadSetArgument, e.what());
  }
  OfAction a = set_field_action(m, fid, false);
  a.is_load = true;  // OVS keeps the raw form: a load dumps as a load in any version
  return a;
}

/// Writes one load per contiguous run (<= 64 bits) of `mask` over the
/// TLV value/mask bytes `val`/`msk` of field header `hdr` (width bytes).
inline void put_reg_loads(Writer& w, uint32_t hdr, size_t width, const std::array<uint8_t, 16>& val,
                          const std::array<uint8_t, 16>& msk) {
  unsigned bits = unsigned(width * 8);
  for (unsigned i = 0; i < bits;) {
    if (!get_bit(msk, width, i)) {
      ++i;
      continue;
    }
    unsigned n = 0;
    uint64_t v = 0;
    while (i + n < bits && n < 64 && get_bit(msk, width, i + n)) {
      if (get_bit(val, width, i + n)) v |= uint64_t(1) << n;
      ++n;
    }
    w.u16(0xffff), w.u16(24), w.u32(kNiciraVendor), w.u16(kNxRegLoad);
    w.u16(i << 6 | (n - 1)), w.u32((hdr & 0xfffffe00u) | uint32_t(width)), w.u64(v);
    i += n;
  }
}

}  // namespace flowpath::openflow::act
