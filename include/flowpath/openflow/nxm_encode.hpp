// flowpath/openflow/nxm_encode.hpp — writing a Match as OXM or NXM TLVs
// (the decoder and the field table are in openflow/nxm.hpp).
//
// Entries are written in Open vSwitch's order (nx_put_raw: in_port,
// eth_src, eth_dst, eth_type, VLAN, IP addresses, frag, DSCP, ECN, TTL,
// label, ip_proto, L4, ND; ARP), so a match re-encodes to the very bytes
// ovs-ofctl sends; prerequisites thus precede the fields that need them,
// as OVS's own decoder insists.  Shared key bytes get the header of the match's protocol
// (tcp → TCP_SRC, icmp → ICMP_TYPE, arp → ARP_SPA, ...).  A match bit
// that no header can carry (e.g. tp_src without a transport protocol)
// makes the encoder throw flowpath::Error naming the field: such a match
// would be refused by any switch.
//
// Cost: linear in the fields.  Thread-safety: pure functions.
#pragma once

#include <vector>

#include "flowpath/openflow/nxm.hpp"

namespace flowpath::openflow {
namespace nxm {

inline void put_value(Writer& w, uint64_t v, size_t n) { w.uint(v, n); }

/// One entry encode_tlvs wrote, as a TlvPlanCache replays it for the next
/// match of the same shape (openflow/tlv_plan.hpp): the header is fixed by
/// the mask, the value (and mask) bytes are read from the match.
struct TlvStep {
  const FieldInfo* f;
  uint32_t header;
  uint8_t len;  // value bytes
  Kind kind;
  bool masked;
  bool vlan_none;  // OXM VLAN_VID = OFPVID_NONE: a zero value, no field read
};
using TlvSteps = std::vector<TlvStep>;

/// Writes one entry for field `fid` if the match constrains it; marks the
/// key bits it carried in `covered`; appends what it wrote to *rec if given.
inline void put_entry(Writer& w, const Match& m, FieldId fid, TlvDialect d, Match& covered,
                      TlvSteps* rec = nullptr) {
  const FieldInfo& f = field_info(fid);
  if (f.n_bytes <= 8 && match_mask(m, fid) == 0) return;  // most calls: no entry, no search
  const TlvField* t = for_field(fid, d);
  if (!t) throw Error(std::string("match field ") + std::string(f.name) + ": no OXM/NXM header");
  if (t->kind == Kind::kIpv6) {
    const uint8_t* pv = field_bytes(m, f, false);
    const uint8_t* pm = field_bytes(m, f, true);
    Ipv6Addr v, mk, all;
    std::memcpy(v.b.data(), pv, 16), std::memcpy(mk.b.data(), pm, 16);
    all.b.fill(0xff);
    if (mk == Ipv6Addr{}) return;
    bool masked = mk != all;
    w.u32(header(*t, masked));
    if (rec) rec->push_back({&f, header(*t, masked), t->len, t->kind, masked, false});
    w.bytes(v.b.data(), 16);
    if (masked) w.bytes(mk.b.data(), 16);
    std::memcpy(field_bytes(covered, f, true), mk.b.data(), 16);
    return;
  }
  uint64_t mk = match_mask(m, fid), v = match_value(m, fid);
  uint64_t width = f.bits >> f.shift;
  if (t->kind == Kind::kVlanVid) mk &= 0x1fff, v &= 0x1fff, width = 0x1fff;
  if (mk == 0) return;
  if (t->kind == Kind::kInPort32) v = port_to_of13(uint32_t(v));
  bool masked = mk != width;
  if (masked && !t->maskable)
    throw Error(std::string("match field ") + std::string(f.name) +
                ": cannot be matched with a mask");
  w.u32(header(*t, masked));
  if (rec) rec->push_back({&f, header(*t, masked), t->len, t->kind, masked, false});
  put_value(w, v, t->len);
  if (masked) put_value(w, mk, t->len);
  if (t->kind == Kind::kVlanVid)
    put_field(covered.mask, FieldId::kVlanTci, get_field(covered.mask, FieldId::kVlanTci) | mk);
  else
    match_set(covered, fid, 0, mk);
}

inline void put_vlan(Writer& w, const Match& m, TlvDialect d, Match& covered, TlvSteps* rec) {
  using F = FieldId;
  uint64_t tm = get_field(m.mask, F::kVlanTci), tv = get_field(m.value, F::kVlanTci);
  if (tm == 0) return;
  if (d == TlvDialect::kNxm) return put_entry(w, m, F::kVlanTci, d, covered, rec);
  if ((tm & kVlanCfi) && !(tv & kVlanCfi)) {  // no tag: VLAN_VID = OFPVID_NONE
    const uint32_t h = header(*for_field(F::kVlanTci, d), false);
    w.u32(h);
    w.u16(0);
    if (rec) rec->push_back({nullptr, h, 2, Kind::kVlanVid, false, true});
    put_field(covered.mask, F::kVlanTci, tm);
    return;
  }
  put_entry(w, m, F::kVlanTci, d, covered, rec);
  if (tm & kVlanPcpMask) {
    if ((tm & kVlanPcpMask) != kVlanPcpMask)
      throw Error("match field dl_vlan_pcp: OXM cannot carry a partial PCP mask");
    put_entry(w, m, F::kDlVlanPcp, d, covered, rec);
  }
}

}  // namespace nxm

/// Appends the TLVs of `m` (no padding); returns their length in bytes.
/// `cookie` (NXM only) adds NXM_NX_COOKIE when its mask is nonzero; `rec`
/// receives the entries written but the cookie (TlvPlanCache's plan).
inline size_t encode_tlvs(Writer& w, const Match& m, TlvDialect d,
                          const TlvCookie* cookie = nullptr, nxm::TlvSteps* rec = nullptr) {
  using F = FieldId;
  size_t start = w.size();
  Match covered;
  auto put = [&](F fid) { nxm::put_entry(w, m, fid, d, covered, rec); };
  auto type = [&](uint16_t t) { return match_is_exact(m, F::kDlType, t); };
  auto proto = [&](uint8_t p) { return match_is_exact(m, F::kNwProto, p); };
  bool ip4 = type(kEthTypeIpv4), ip6 = type(kEthTypeIpv6),
       arp = type(kEthTypeArp) || type(kEthTypeRarp);
  bool ip = ip4 || ip6, icmp6 = ip6 && proto(kIpProtoIcmpv6);
  put(F::kRecircId);  // OVS's order: metadata first, then in_port
  put(F::kConjId);
  put(F::kInPort);
  put(F::kDlSrc);
  put(F::kDlDst);
  put(F::kDlType);
  nxm::put_vlan(w, m, d, covered, rec);
  if (ip) {
    if (ip4) put(F::kNwSrc), put(F::kNwDst);
    if (ip6) put(F::kIpv6Src), put(F::kIpv6Dst);
    put(F::kNwFrag);
    put(d == TlvDialect::kOxm ? F::kIpDscp : F::kNwTos);
    put(F::kNwEcn);
    put(F::kNwTtl);
    if (ip6) put(F::kIpv6Label);
    put(F::kNwProto);
  }
  if (ip && proto(kIpProtoTcp)) put(F::kTcpSrc), put(F::kTcpDst), put(F::kTcpFlags);
  if (ip && proto(kIpProtoUdp)) put(F::kUdpSrc), put(F::kUdpDst);
  if (ip && proto(kIpProtoSctp)) put(F::kSctpSrc), put(F::kSctpDst);
  if (ip4 && proto(kIpProtoIcmp)) put(F::kIcmpType), put(F::kIcmpCode);
  if (icmp6) {
    put(F::kIcmpv6Type);
    put(F::kIcmpv6Code);
    bool ns = match_is_exact(m, F::kIcmpv6Type, 135), na = match_is_exact(m, F::kIcmpv6Type, 136);
    if (ns || na) put(F::kNdTarget);
    if (ns) put(F::kNdSll);
    if (na) put(F::kNdTll);
  }
  if (arp) {
    for (F fid : {F::kArpOp, F::kArpSpa, F::kArpTpa, F::kArpSha, F::kArpTha}) put(fid);
  }
  for (unsigned r = 0; r < kNumRegs; ++r) put(reg_field(r));
  for (F fid : {F::kCtState, F::kCtZone, F::kCtMark, F::kCtLabel}) put(fid);
  for (size_t i = 0; i < PipelineMeta::kWords; ++i)
    if (m.meta_mask.words()[i] & ~covered.meta_mask.words()[i])
      throw Error("match has pipeline bits that no OXM/NXM field carries");
  for (size_t i = 0; i < FlowKey::kWords; ++i) {
    if (!(m.mask.word(i) & ~covered.mask.word(i))) continue;
    for (const auto& f : all_fields())
      if (match_has(m, f.id) && missing_prereq(m, f.prereq).size())
        throw Error("match field " + std::string(f.name) + " lacks its prerequisite");
    throw Error("match has bits that no OXM/NXM field carries (word " + std::to_string(i) + ")");
  }
  if (cookie && cookie->mask) {
    const nxm::TlvField& t = *nxm::find(nxm::kNxmNx, 30);
    bool masked = cookie->mask != ~0ull;
    w.u32(nxm::header(t, masked));
    w.u64(cookie->value);
    if (masked) w.u64(cookie->mask);
  }
  return w.size() - start;
}

/// An OpenFlow 1.1+ `ofp_match` (type OXM): header, TLVs, padding to 8.
inline void encode_oxm_match(Writer& w, const Match& m) {
  size_t at = w.size();
  w.u16(1);  // OFPMT_OXM
  w.u16(0);
  size_t n = encode_tlvs(w, m, TlvDialect::kOxm);
  w.patch16(at + 2, 4 + n);
  w.pad_to(8, at);
}

/// Reads an OpenFlow 1.1+ `ofp_match` (with its padding).
inline Match decode_oxm_match(Reader& r) {
  Reader hdr = Reader(std::span(r.cur(), r.remaining() < 4 ? r.remaining() : 4), OfpErrc::kBadLen,
                      "ofp_match");
  uint16_t type = hdr.u16(), len = hdr.u16();
  if (type != 1) throw DecodeError(OfpErrc::kMatchBadType, "ofp_match: type is not OXM");
  if (len < 4) throw DecodeError(OfpErrc::kMatchBadLen, "ofp_match: length below 4");
  size_t padded = (size_t(len) + 7) / 8 * 8;
  Reader all = r.sub(padded, OfpErrc::kBadLen, "ofp_match");
  all.skip(4);
  return decode_tlvs(all.sub(len - 4u, OfpErrc::kMatchBadLen, "ofp_match"));
}

}  // namespace flowpath::openflow
