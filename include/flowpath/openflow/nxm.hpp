// flowpath/openflow/nxm.hpp — OXM (OpenFlow 1.3) and NXM (Nicira) match
// TLVs to and from a flowpath Match.
//
// Both formats are a sequence of `header(32) | value | [mask]` entries,
// header = class(16) | field(7) | hasmask(1) | length(8); NXM is OXM's
// ancestor with classes 0x0000 (NXM_OF) and 0x0001 (NXM_NX), OXM uses
// 0x8000 (OPENFLOW_BASIC).  As in Open vSwitch, either kind of header is
// accepted in either dialect; the encoder writes the dialect's own header
// where it has one (SCTP ports travel as OXM headers inside NXM, IP TTL and
// fragment bits as NXM headers inside OXM).
//
// Mapping: OXM VLAN_VID carries OFPVID_PRESENT (0x1000), which is exactly
// flowpath's tag-present bit in the TCI; VLAN_PCP sets the PCP bits;
// IP_DSCP is TOS >> 2 (NXM_OF_IP_TOS is the TOS byte); ICMP type/code,
// ARP opcode and ND link-layer addresses share key bytes with tp_*,
// nw_proto and arp_sha/tha, and the encoder picks the header from the
// match's protocol.  NXM_NX_COOKIE (flow-mod and stats filters) is
// returned through `cookie`.  Registers (NXM_NX_REG0..15), recirc_id,
// conj_id and ct_state/zone/mark/label are Nicira headers in both
// dialects (xregs travel as their two registers; OXM_OF_PKT_REG0..7, class
// 0x8001, decode too and name xregs in load/move/set_field).
//
// Decoding errors (OVS's codes): unknown header → BAD_FIELD, mask on an
// unmaskable field → BAD_MASK, wrong length → BAD_LEN, value out of the
// field's range → BAD_VALUE, a field twice → DUP_FIELD, unmet prerequisite
// (checked once the whole match is read) → BAD_PREREQ.
//
// Cost: linear in the entries.  Thread-safety: pure functions.
#pragma once

#include <array>
#include <optional>

#include "flowpath/flow/fields.hpp"
#include "flowpath/openflow/wire.hpp"

namespace flowpath::openflow {

enum class TlvDialect : uint8_t { kNxm, kOxm };

namespace nxm {
inline constexpr uint16_t kNxmOf = 0x0000, kNxmNx = 0x0001, kOxmBasic = 0x8000;

enum class Kind : uint8_t { kPlain, kInPort16, kInPort32, kVlanVid, kIpv6, kCookie };

struct TlvField {
  uint16_t cls;
  uint8_t field;
  uint8_t len;  // value bytes
  FieldId fid;
  bool maskable;
  Kind kind = Kind::kPlain;
};

using F = FieldId;
using K = Kind;
// clang-format off
inline constexpr TlvField kTlvFields[] = {
  {kOxmBasic, 0, 4, F::kInPort, false, K::kInPort32},
  {kOxmBasic, 3, 6, F::kDlDst, true},   {kOxmBasic, 4, 6, F::kDlSrc, true},
  {kOxmBasic, 5, 2, F::kDlType, false},
  {kOxmBasic, 6, 2, F::kVlanTci, true, K::kVlanVid},
  {kOxmBasic, 7, 1, F::kDlVlanPcp, false},
  {kOxmBasic, 8, 1, F::kIpDscp, false}, {kOxmBasic, 9, 1, F::kNwEcn, false},
  {kOxmBasic, 10, 1, F::kNwProto, false},
  {kOxmBasic, 11, 4, F::kNwSrc, true},  {kOxmBasic, 12, 4, F::kNwDst, true},
  {kOxmBasic, 13, 2, F::kTcpSrc, true}, {kOxmBasic, 14, 2, F::kTcpDst, true},
  {kOxmBasic, 15, 2, F::kUdpSrc, true}, {kOxmBasic, 16, 2, F::kUdpDst, true},
  {kOxmBasic, 17, 2, F::kSctpSrc, true}, {kOxmBasic, 18, 2, F::kSctpDst, true},
  {kOxmBasic, 19, 1, F::kIcmpType, false}, {kOxmBasic, 20, 1, F::kIcmpCode, false},
  {kOxmBasic, 21, 2, F::kArpOp, false},
  {kOxmBasic, 22, 4, F::kArpSpa, true}, {kOxmBasic, 23, 4, F::kArpTpa, true},
  {kOxmBasic, 24, 6, F::kArpSha, true}, {kOxmBasic, 25, 6, F::kArpTha, true},
  {kOxmBasic, 26, 16, F::kIpv6Src, true, K::kIpv6}, {kOxmBasic, 27, 16, F::kIpv6Dst, true, K::kIpv6},
  {kOxmBasic, 28, 4, F::kIpv6Label, true},
  {kOxmBasic, 29, 1, F::kIcmpv6Type, false}, {kOxmBasic, 30, 1, F::kIcmpv6Code, false},
  {kOxmBasic, 31, 16, F::kNdTarget, true, K::kIpv6},
  {kOxmBasic, 32, 6, F::kNdSll, true},  {kOxmBasic, 33, 6, F::kNdTll, true},
  {kNxmOf, 0, 2, F::kInPort, false, K::kInPort16},
  {kNxmOf, 1, 6, F::kDlDst, true},      {kNxmOf, 2, 6, F::kDlSrc, true},
  {kNxmOf, 3, 2, F::kDlType, false},    {kNxmOf, 4, 2, F::kVlanTci, true},
  {kNxmOf, 5, 1, F::kNwTos, false},     {kNxmOf, 6, 1, F::kNwProto, false},
  {kNxmOf, 7, 4, F::kNwSrc, true},      {kNxmOf, 8, 4, F::kNwDst, true},
  {kNxmOf, 9, 2, F::kTcpSrc, true},     {kNxmOf, 10, 2, F::kTcpDst, true},
  {kNxmOf, 11, 2, F::kUdpSrc, true},    {kNxmOf, 12, 2, F::kUdpDst, true},
  {kNxmOf, 13, 1, F::kIcmpType, false}, {kNxmOf, 14, 1, F::kIcmpCode, false},
  {kNxmOf, 15, 2, F::kArpOp, false},
  {kNxmOf, 16, 4, F::kArpSpa, true},    {kNxmOf, 17, 4, F::kArpTpa, true},
  {kNxmNx, 17, 6, F::kArpSha, true},    {kNxmNx, 18, 6, F::kArpTha, true},
  {kNxmNx, 19, 16, F::kIpv6Src, true, K::kIpv6}, {kNxmNx, 20, 16, F::kIpv6Dst, true, K::kIpv6},
  {kNxmNx, 21, 1, F::kIcmpv6Type, false}, {kNxmNx, 22, 1, F::kIcmpv6Code, false},
  {kNxmNx, 23, 16, F::kNdTarget, true, K::kIpv6},
  {kNxmNx, 24, 6, F::kNdSll, true},     {kNxmNx, 25, 6, F::kNdTll, true},
  {kNxmNx, 26, 1, F::kNwFrag, true},    {kNxmNx, 27, 4, F::kIpv6Label, true},
  {kNxmNx, 28, 1, F::kNwEcn, false},    {kNxmNx, 29, 1, F::kNwTtl, false},
  {kNxmNx, 30, 8, F::kCount, true, K::kCookie},
  {kNxmNx, 34, 2, F::kTcpFlags, true},
  // Pipeline and connection-tracking fields (Nicira's; OXM carries them as
  // NXM headers too, as OVS does).
  {kNxmNx, 0, 4, FieldId(unsigned(F::kReg0) + 0), true},
  {kNxmNx, 1, 4, FieldId(unsigned(F::kReg0) + 1), true},
  {kNxmNx, 2, 4, FieldId(unsigned(F::kReg0) + 2), true},
  {kNxmNx, 3, 4, FieldId(unsigned(F::kReg0) + 3), true},
  {kNxmNx, 4, 4, FieldId(unsigned(F::kReg0) + 4), true},
  {kNxmNx, 5, 4, FieldId(unsigned(F::kReg0) + 5), true},
  {kNxmNx, 6, 4, FieldId(unsigned(F::kReg0) + 6), true},
  {kNxmNx, 7, 4, FieldId(unsigned(F::kReg0) + 7), true},
  {kNxmNx, 8, 4, FieldId(unsigned(F::kReg0) + 8), true},
  {kNxmNx, 9, 4, FieldId(unsigned(F::kReg0) + 9), true},
  {kNxmNx, 10, 4, FieldId(unsigned(F::kReg0) + 10), true},
  {kNxmNx, 11, 4, FieldId(unsigned(F::kReg0) + 11), true},
  {kNxmNx, 12, 4, FieldId(unsigned(F::kReg0) + 12), true},
  {kNxmNx, 13, 4, FieldId(unsigned(F::kReg0) + 13), true},
  {kNxmNx, 14, 4, FieldId(unsigned(F::kReg0) + 14), true},
  {kNxmNx, 15, 4, FieldId(unsigned(F::kReg0) + 15), true},
  {kNxmNx, 36, 4, F::kRecircId, false}, {kNxmNx, 37, 4, F::kConjId, false},
  {kNxmNx, 105, 4, F::kCtState, true},  {kNxmNx, 106, 2, F::kCtZone, false},
  {kNxmNx, 107, 4, F::kCtMark, true},
  {kNxmNx, 108, 16, F::kCtLabel, true, K::kIpv6},
  // OXM_OF_PKT_REG0..7 (xreg0..7, 64 bits over two registers): OVS names
  // them in load/move/set_field; its matches carry the registers instead.
  {0x8001, 0, 8, FieldId(unsigned(F::kXreg0) + 0), true},
  {0x8001, 1, 8, FieldId(unsigned(F::kXreg0) + 1), true},
  {0x8001, 2, 8, FieldId(unsigned(F::kXreg0) + 2), true},
  {0x8001, 3, 8, FieldId(unsigned(F::kXreg0) + 3), true},
  {0x8001, 4, 8, FieldId(unsigned(F::kXreg0) + 4), true},
  {0x8001, 5, 8, FieldId(unsigned(F::kXreg0) + 5), true},
  {0x8001, 6, 8, FieldId(unsigned(F::kXreg0) + 6), true},
  {0x8001, 7, 8, FieldId(unsigned(F::kXreg0) + 7), true},
};
// clang-format on

inline const TlvField* find(uint16_t cls, uint8_t field) {
  for (const auto& t : kTlvFields)
    if (t.cls == cls && t.field == field) return &t;
  return nullptr;
}
/// The entry for flowpath field `fid` in `dialect` (falls back to the other).
inline const TlvField* for_field(FieldId fid, TlvDialect d) {
  const TlvField* other = nullptr;
  for (const auto& t : kTlvFields) {
    if (t.fid != fid || t.kind == Kind::kCookie) continue;
    bool own = (t.cls == kOxmBasic) == (d == TlvDialect::kOxm);
    if (own) return &t;
    if (!other) other = &t;
  }
  return other;
}
inline uint32_t header(const TlvField& t, bool hasmask) {
  return uint32_t(t.cls) << 16 | uint32_t(t.field) << 9 | uint32_t(hasmask) << 8 |
         uint32_t(hasmask ? 2 * t.len : t.len);
}
inline uint64_t read_uint(Reader& r, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v << 8 | r.u8();
  return v;
}
/// Port number from OpenFlow 1.1+ (32-bit) to flowpath's 1.0 numbering.
inline std::optional<uint32_t> port_from_of13(uint32_t p) {
  if (p < 0xff00) return p;
  if (p >= 0xffffff00) return p - 0xffff0000u;
  return std::nullopt;
}
inline uint32_t port_to_of13(uint32_t p) { return p < 0xff00 ? p : p + 0xffff0000u; }
}  // namespace nxm

struct TlvCookie {
  uint64_t value = 0, mask = 0;
};

/// Applies one decoded TLV to `m` (bits outside the mask are dropped).
inline void apply_tlv(Match& m, const nxm::TlvField& t, Reader& x, bool hasmask,
                      TlvCookie* cookie) {
  using K = nxm::Kind;
  auto bad = [&](OfpErrc e, const char* what) {
    throw DecodeError(
        e, std::string("match field ") + std::string(field_info(t.fid).name) + ": " + what);
  };
  if (t.kind == K::kIpv6) {
    Ipv6Addr v, mk;
    x.copy(v.b.data(), 16);
    if (hasmask)
      x.copy(mk.b.data(), 16);
    else
      mk.b.fill(0xff);
    match_set_ipv6(m, t.fid, v, mk);
    return;
  }
  uint64_t v = nxm::read_uint(x, t.len);
  uint64_t mk = hasmask ? nxm::read_uint(x, t.len) : ~0ull >> (64 - 8 * t.len);
  if (t.kind == K::kCookie) {
    if (!cookie) throw DecodeError(OfpErrc::kMatchBadField, "NXM_NX_COOKIE: not allowed here");
    *cookie = {v & mk, mk};
    return;
  }
  if (t.kind == K::kInPort32 || t.kind == K::kInPort16) {
    auto p = t.kind == K::kInPort32 ? nxm::port_from_of13(uint32_t(v)) : std::optional<uint32_t>(v);
    if (!p) bad(OfpErrc::kMatchBadValue, "port out of range");
    match_set(m, FieldId::kInPort, *p);
    return;
  }
  const FieldInfo& f = field_info(t.fid);
  uint64_t width = t.kind == K::kVlanVid ? 0x1fff : f.bits >> f.shift;
  if (v & ~width) bad(OfpErrc::kMatchBadValue, "value out of range");
  mk &= width;
  if (t.kind == K::kVlanVid) {  // OXM VLAN_VID: VID | OFPVID_PRESENT
    uint64_t om = get_field(m.mask, FieldId::kVlanTci), ov = get_field(m.value, FieldId::kVlanTci);
    put_field(m.mask, FieldId::kVlanTci, (om & ~0x1fffull) | mk);
    put_field(m.value, FieldId::kVlanTci, (ov & ~0x1fffull) | (v & mk));
    return;
  }
  match_set(m, t.fid, v & mk, mk);  // key or pipeline metadata
}

/// Decodes `r` (all of it) as OXM/NXM entries into a Match.
inline Match decode_tlvs(Reader r, TlvCookie* cookie = nullptr) {
  Match m;
  std::array<bool, std::size(nxm::kTlvFields)> seen{};
  std::array<bool, size_t(FieldId::kCount)> used{};
  while (!r.empty()) {
    uint32_t h = r.u32();
    uint16_t cls = uint16_t(h >> 16);
    uint8_t field = uint8_t(h >> 9 & 0x7f), len = uint8_t(h);
    bool hasmask = h >> 8 & 1;
    Reader x = r.sub(len, OfpErrc::kMatchBadLen, "match field");
    const nxm::TlvField* t = nxm::find(cls, field);
    if (!t)
      throw DecodeError(OfpErrc::kMatchBadField,
                        "match: unknown field header 0x" + std::to_string(h));
    if (hasmask && !t->maskable)
      throw DecodeError(OfpErrc::kMatchBadMask, "match: field takes no mask");
    if (len != (hasmask ? 2 * t->len : t->len))
      throw DecodeError(OfpErrc::kMatchBadLen,
                        "match: field length " + std::to_string(len) + " is wrong");
    size_t idx = size_t(t - nxm::kTlvFields);
    if (seen[idx]) throw DecodeError(OfpErrc::kMatchDupField, "match: field given twice");
    seen[idx] = true;
    if (t->fid != FieldId::kCount) used[size_t(t->fid)] = true;
    apply_tlv(m, *t, x, hasmask, cookie);
  }
  // OXM's "no tag" (VLAN_VID 0) is TCI 0x0000/0x1fff, as in OVS (which
  // then prints it so in any version; `dl_vlan=0xffff`'s mask 0xffff does
  // not survive OXM there either).
  for (const auto& f : all_fields()) {
    if (!used[size_t(f.id)]) continue;
    auto need =
        f.id == FieldId::kDlVlanPcp
            ? std::string_view(get_field(m.value, FieldId::kVlanTci) & kVlanCfi ? "" : "vlan_vid")
            : missing_prereq(m, f.prereq);
    if (!need.empty())
      throw DecodeError(OfpErrc::kMatchBadPrereq,
                        "match field " + std::string(f.name) + " requires " + std::string(need));
  }
  return m;
}

}  // namespace flowpath::openflow

#include "flowpath/openflow/nxm_encode.hpp"
