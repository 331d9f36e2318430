// flowpath/openflow/of10_match.hpp — the 40-byte OpenFlow 1.0 `ofp_match`
// (wildcard bits, nw_src/nw_dst as CIDR prefix lengths) to and from a
// flowpath Match.
//
//   wildcards u32 | in_port u16 | dl_src[6] | dl_dst[6] | dl_vlan u16 |
//   dl_vlan_pcp u8 | pad | dl_type u16 | nw_tos u8 | nw_proto u8 | pad[2] |
//   nw_src u32 | nw_dst u32 | tp_src u16 | tp_dst u16
//
// Decoding follows Open vSwitch (ofputil_match_from_ofp10_match followed by
// ofputil_normalize_match): dl_vlan 0xffff means "no tag"; fields whose
// prerequisite the match lacks are silently dropped (OpenFlow 1.0
// controllers routinely send them, and OVS accepts them that way); ICMP
// type/code sit in tp_src/tp_dst, the ARP opcode in nw_proto.
//
// Encoding needs a match that the 1.0 format can express: of10_expressible()
// says whether it can (ovs-ofctl then uses NXM instead, openflow/nxm.hpp).
//
// Cost: constant.  Thread-safety: pure functions.
#pragma once

#include <bit>
#include <initializer_list>

#include "flowpath/flow/fields.hpp"
#include "flowpath/openflow/wire.hpp"

namespace flowpath::openflow {

inline constexpr size_t kOf10MatchLen = 40;

namespace of10 {
inline constexpr uint32_t kFwInPort = 1u << 0, kFwDlVlan = 1u << 1, kFwDlSrc = 1u << 2,
                          kFwDlDst = 1u << 3, kFwDlType = 1u << 4, kFwNwProto = 1u << 5,
                          kFwTpSrc = 1u << 6, kFwTpDst = 1u << 7, kFwDlVlanPcp = 1u << 20,
                          kFwNwTos = 1u << 21, kFwAll = (1u << 22) - 1;
inline constexpr int kFwNwSrcShift = 8, kFwNwDstShift = 14;
inline constexpr uint16_t kVlanNone = 0xffff;

inline bool full(const Match& m, FieldId id) {
  const FieldInfo& f = field_info(id);
  return get_field(m.mask, id) == (f.bits >> f.shift);
}
/// Prefix length of a contiguous IPv4 mask, or -1.
inline int prefix_len(uint32_t mask) {
  int n = std::countl_one(mask);
  return (n == 32 || (mask << n) == 0) ? n : -1;
}
inline void keep_if(Match& m, bool keep, std::initializer_list<FieldId> ids) {
  if (keep) return;
  for (FieldId id : ids) {
    put_field(m.mask, id, 0);
    put_field(m.value, id, 0);
  }
}
/// OVS's ofputil_normalize_match: drop fields whose prerequisite is unmet.
inline void normalize(Match& m) {
  using F = FieldId;
  auto type = [&](uint16_t t) { return match_is_exact(m, F::kDlType, t); };
  auto proto = [&](uint8_t p) { return match_is_exact(m, F::kNwProto, p); };
  bool ip = type(kEthTypeIpv4), arp = type(kEthTypeArp) || type(kEthTypeRarp);
  keep_if(m, ip || arp, {F::kNwSrc, F::kNwDst, F::kNwProto});
  keep_if(m, ip, {F::kNwTos});
  bool l4 = ip && (proto(kIpProtoTcp) || proto(kIpProtoUdp) || proto(kIpProtoSctp));
  bool icmp = ip && proto(kIpProtoIcmp);
  keep_if(m, l4 || icmp, {F::kTpSrc, F::kTpDst});
  if (icmp) {  // ICMP type/code are 8 bits wide
    put_field(m.mask, F::kTpSrc, get_field(m.mask, F::kTpSrc) & 0xff);
    put_field(m.mask, F::kTpDst, get_field(m.mask, F::kTpDst) & 0xff);
  }
  m.normalize();
}
}  // namespace of10

/// Decodes an ofp_match (reads exactly 40 bytes).
inline Match decode_of10_match(Reader& r) {
  using namespace of10;
  using F = FieldId;
  Reader x = r.sub(kOf10MatchLen, OfpErrc::kBadLen, "ofp_match");
  uint32_t wc = x.u32();
  Match m;
  uint16_t in_port = x.u16();
  if (!(wc & kFwInPort)) match_set(m, F::kInPort, in_port);
  EthAddr src, dst;
  x.copy(src.b.data(), 6);
  x.copy(dst.b.data(), 6);
  if (!(wc & kFwDlSrc)) match_set(m, F::kDlSrc, eth_to_u64(src));
  if (!(wc & kFwDlDst)) match_set(m, F::kDlDst, eth_to_u64(dst));
  uint16_t vlan = x.u16();
  uint8_t pcp = x.u8();
  x.skip(1);
  if (!(wc & kFwDlVlan) && vlan == kVlanNone) {
    match_set(m, F::kVlanTci, 0, 0xffff);
  } else {
    uint16_t tci_mask = 0;
    if (!(wc & kFwDlVlan)) tci_mask |= kVlanVidMask | kVlanCfi;
    if (!(wc & kFwDlVlanPcp)) tci_mask |= kVlanPcpMask | kVlanCfi;
    uint16_t tci = uint16_t((vlan & kVlanVidMask) | (pcp & 7) << kVlanPcpShift | kVlanCfi);
    if (tci_mask) match_set(m, F::kVlanTci, tci, tci_mask);
  }
  uint16_t dl_type = x.u16();
  if (!(wc & kFwDlType)) match_set(m, F::kDlType, dl_type);
  uint8_t tos = x.u8(), proto = x.u8();
  x.skip(2);
  if (!(wc & kFwNwTos)) match_set(m, F::kNwTos, tos & 0xfc);
  if (!(wc & kFwNwProto)) match_set(m, F::kNwProto, proto);
  for (int shift : {kFwNwSrcShift, kFwNwDstShift}) {
    uint32_t addr = x.u32();
    unsigned bits = (wc >> shift) & 0x3f;
    if (bits >= 32) continue;
    uint32_t mask = ~0u << bits;
    match_set(m, shift == kFwNwSrcShift ? F::kNwSrc : F::kNwDst, addr & mask, mask);
  }
  uint16_t tp_src = x.u16(), tp_dst = x.u16();
  if (!(wc & kFwTpSrc)) match_set(m, F::kTpSrc, tp_src);
  if (!(wc & kFwTpDst)) match_set(m, F::kTpDst, tp_dst);
  normalize(m);
  return m;
}

/// True when `m` fits the OpenFlow 1.0 match format.
inline bool of10_expressible(const Match& m) {
  using namespace of10;
  using F = FieldId;
  for (F id : {F::kInPort, F::kDlSrc, F::kDlDst, F::kDlType, F::kNwProto, F::kTpSrc, F::kTpDst})
    if (match_has(m, id) && !full(m, id) && !(id == F::kTpSrc || id == F::kTpDst)) return false;
  if (get_field(m.value, F::kInPort) > 0xffff) return false;
  for (F id : {F::kTpSrc, F::kTpDst}) {
    uint64_t mk = get_field(m.mask, id);
    if (mk != 0 && mk != 0xffff && mk != 0xff) return false;
  }
  for (F id : {F::kNwSrc, F::kNwDst})
    if (prefix_len(uint32_t(get_field(m.mask, id))) < 0) return false;
  uint64_t tos = get_field(m.mask, F::kNwTos);
  if (tos != 0 && tos != 0xfc) return false;
  uint16_t tm = uint16_t(get_field(m.mask, F::kVlanTci)),
           tv = uint16_t(get_field(m.value, F::kVlanTci));
  if (tm && !(tm == 0xffff && tv == 0)) {
    if (!(tm & kVlanCfi) || !(tv & kVlanCfi)) return false;
    if (!(tm & (kVlanVidMask | kVlanPcpMask))) return false;  // "any tag" needs NXM
    if ((tm & kVlanVidMask) != 0 && (tm & kVlanVidMask) != kVlanVidMask) return false;
    if ((tm & kVlanPcpMask) != 0 && (tm & kVlanPcpMask) != kVlanPcpMask) return false;
  }
  Match rest = m;  // everything else must be wildcarded
  for (F id : {F::kInPort, F::kDlSrc, F::kDlDst, F::kDlType, F::kVlanTci, F::kNwTos, F::kNwProto,
               F::kNwSrc, F::kNwDst, F::kTpSrc, F::kTpDst})
    put_field(rest.mask, id, 0);
  return is_zero(rest.mask) && !m.has_meta();
}

/// Encodes `m` as an ofp_match; throws flowpath::Error when it does not fit.
inline void encode_of10_match(Writer& w, const Match& m) {
  using namespace of10;
  using F = FieldId;
  if (!of10_expressible(m))
    throw Error("match cannot be expressed as an OpenFlow 1.0 ofp_match (use NXM)");
  uint32_t wc = 0;
  auto flag = [&](F id, uint32_t bit) {
    if (!match_has(m, id)) wc |= bit;
  };
  flag(F::kInPort, kFwInPort);
  flag(F::kDlSrc, kFwDlSrc);
  flag(F::kDlDst, kFwDlDst);
  flag(F::kDlType, kFwDlType);
  flag(F::kNwProto, kFwNwProto);
  flag(F::kTpSrc, kFwTpSrc);
  flag(F::kTpDst, kFwTpDst);
  flag(F::kNwTos, kFwNwTos);
  uint16_t tm = uint16_t(get_field(m.mask, F::kVlanTci)),
           tv = uint16_t(get_field(m.value, F::kVlanTci));
  uint16_t vlan = 0;
  uint8_t pcp = 0;
  if (tm == 0) {
    wc |= kFwDlVlan | kFwDlVlanPcp;
  } else if ((tm & kVlanCfi) && !(tv & kVlanCfi)) {
    vlan = kVlanNone;
  } else {
    if (tm & kVlanVidMask)
      vlan = tv & kVlanVidMask;
    else
      wc |= kFwDlVlan;
    if (tm & kVlanPcpMask)
      pcp = uint8_t(tv >> kVlanPcpShift);
    else
      wc |= kFwDlVlanPcp;
  }
  uint32_t src_mask = uint32_t(get_field(m.mask, F::kNwSrc));
  uint32_t dst_mask = uint32_t(get_field(m.mask, F::kNwDst));
  wc |= uint32_t(32 - prefix_len(src_mask)) << kFwNwSrcShift;
  wc |= uint32_t(32 - prefix_len(dst_mask)) << kFwNwDstShift;
  w.u32(wc);
  w.u16(get_field(m.value, F::kInPort));
  EthAddr src = u64_to_eth(get_field(m.value, F::kDlSrc)),
          dst = u64_to_eth(get_field(m.value, F::kDlDst));
  w.bytes(src.b.data(), 6);
  w.bytes(dst.b.data(), 6);
  w.u16(vlan);
  w.u8(pcp);
  w.zeros(1);
  w.u16(get_field(m.value, F::kDlType));
  w.u8(get_field(m.value, F::kNwTos));
  w.u8(get_field(m.value, F::kNwProto));
  w.zeros(2);
  w.u32(get_field(m.value, F::kNwSrc));
  w.u32(get_field(m.value, F::kNwDst));
  w.u16(get_field(m.value, F::kTpSrc));
  w.u16(get_field(m.value, F::kTpDst));
}

}  // namespace flowpath::openflow
