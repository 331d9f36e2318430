// flowpath/flow/fields.hpp — the field registry over FlowKey and a Match
// builder.
//
// Every matchable field has a FieldInfo: its canonical name (as ovs-ofctl
// prints it), the aliases ovs-ofctl also accepts, where it lives in the key
// (byte offset, bytes spanned, and which bits of that big-endian span are
// the field), and its prerequisite, as in Open vSwitch's meta-flow: a field
// may only be matched when the match also pins the protocol that makes the
// field meaningful (tp_src needs ip/ipv6 plus tcp/udp/sctp, nw_src needs
// dl_type=0x0800, nd_target needs icmp6 with type 135 or 136, ...).
//
// Several fields share key bytes: ARP's spa/tpa live in nw_src/nw_dst, its
// opcode in nw_proto, ICMP type/code in tp_src/tp_dst, ND's sll/tll in
// arp_sha/arp_tha; dl_vlan, dl_vlan_pcp and vlan_tci are views of the outer
// tag's TCI, where bit 0x1000 (kVlanCfi) means "a tag is present".
//
// Values: fields up to 64 bits take a host-order "logical" value (a VID, a
// port, a MAC as a 48-bit integer); IPv6 addresses take Ipv6Addr.  Setting
// dl_vlan or dl_vlan_pcp also requires the tag-present bit, as OVS does.
//
// Cost: table lookups, control path only.  Thread-safety: immutable data.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "flowpath/core/error.hpp"
#include "flowpath/flow/match.hpp"

namespace flowpath {

enum class FieldId : uint8_t {
  kInPort,
  kDlSrc,
  kDlDst,
  kDlType,
  kVlanTci,
  kDlVlan,
  kDlVlanPcp,
  kNwSrc,
  kNwDst,
  kNwProto,
  kNwTos,
  kIpDscp,
  kNwEcn,
  kNwTtl,
  kNwFrag,
  kTpSrc,
  kTpDst,
  kTcpSrc,
  kTcpDst,
  kUdpSrc,
  kUdpDst,
  kSctpSrc,
  kSctpDst,
  kTcpFlags,
  kIcmpType,
  kIcmpCode,
  kIcmpv6Type,
  kIcmpv6Code,
  kArpOp,
  kArpSpa,
  kArpTpa,
  kArpSha,
  kArpTha,
  kIpv6Src,
  kIpv6Dst,
  kIpv6Label,
  kNdTarget,
  kNdSll,
  kNdTll,
  // Datapath metadata in FlowKey (kept across recirculation).
  kRecircId,
  kCtState,
  kCtZone,
  kCtMark,
  // Pipeline metadata (PipelineMeta): OpenFlow translation only.
  kCtLabel,
  kConjId,
  kReg0,
  kReg15 = kReg0 + 15,
  kXreg0,
  kXreg7 = kXreg0 + 7,
  kCount
};

enum class FieldPrereq : uint8_t {
  kNone,
  kIpv4,
  kIpv6,
  kIpAny,
  kArp,
  kL4,
  kTcp,
  kUdp,
  kSctp,
  kIcmpv4,
  kIcmpv6,
  kNd,
  kNdSolicit,
  kNdAdvert
};

enum class FieldFormat : uint8_t {
  kDec,
  kHex,
  kEth,
  kIpv4,
  kIpv6,
  kPort,
  kFrag,
  kTcpFlags,
  kCtState,  // new|trk (exact) or +new-inv+trk (masked)
  kLabel,    // 128-bit hex (ct_label)
};

/// Which struct a field's bytes live in: FlowKey (the datapath's key) or
/// PipelineMeta (registers, conj_id, ct_label: translation only).
enum class FieldSpace : uint8_t { kKey, kMeta };

struct FieldInfo {
  FieldId id;
  std::string_view name;                    // canonical, as printed
  std::array<std::string_view, 2> aliases;  // also accepted when parsing
  uint8_t offset;                           // byte offset in FlowKey
  uint8_t n_bytes;                          // bytes spanned in the key
  uint64_t bits;                            // field bits in the span (<= 8 bytes)
  uint8_t shift;                            // logical value = (span & bits) >> shift
  FieldPrereq prereq;
  FieldFormat format;
  bool maskable;
  bool host_order;  // in_port, recirc_id: stored in host order
  FieldSpace space = FieldSpace::kKey;
};

namespace fields_detail {
using F = FieldId;
using P = FieldPrereq;
using X = FieldFormat;
using S = FieldSpace;
inline constexpr uint64_t k48 = 0xffffffffffffull;
// clang-format off
inline constexpr std::array<FieldInfo, size_t(FieldId::kCount)> kFields{{
  {F::kInPort,     "in_port",     {},                   0, 4, 0xffffffff, 0, P::kNone,     X::kPort, false, true},
  {F::kDlSrc,      "dl_src",      {"eth_src"},         14, 6, k48,        0, P::kNone,     X::kEth,  true,  false},
  {F::kDlDst,      "dl_dst",      {"eth_dst"},          8, 6, k48,        0, P::kNone,     X::kEth,  true,  false},
  {F::kDlType,     "dl_type",     {"eth_type"},        20, 2, 0xffff,     0, P::kNone,     X::kHex,  false, false},
  {F::kVlanTci,    "vlan_tci",    {},                  26, 2, 0xffff,     0, P::kNone,     X::kHex,  true,  false},
  {F::kDlVlan,     "dl_vlan",     {"vlan_vid"},        26, 2, 0x0fff,     0, P::kNone,     X::kDec,  false, false},
  {F::kDlVlanPcp,  "dl_vlan_pcp", {"vlan_pcp"},        26, 2, 0xe000,    13, P::kNone,     X::kDec,  false, false},
  {F::kNwSrc,      "nw_src",      {"ip_src"},          32, 4, 0xffffffff, 0, P::kIpv4,     X::kIpv4, true,  false},
  {F::kNwDst,      "nw_dst",      {"ip_dst"},          36, 4, 0xffffffff, 0, P::kIpv4,     X::kIpv4, true,  false},
  {F::kNwProto,    "nw_proto",    {"ip_proto"},        76, 1, 0xff,       0, P::kIpAny,    X::kDec,  false, false},
  {F::kNwTos,      "nw_tos",      {},                  77, 1, 0xfc,       0, P::kIpAny,    X::kDec,  false, false},
  {F::kIpDscp,     "ip_dscp",     {},                  77, 1, 0xfc,       2, P::kIpAny,    X::kDec,  false, false},
  {F::kNwEcn,      "nw_ecn",      {"ip_ecn"},          77, 1, 0x03,       0, P::kIpAny,    X::kDec,  false, false},
  {F::kNwTtl,      "nw_ttl",      {},                  78, 1, 0xff,       0, P::kIpAny,    X::kDec,  false, false},
  {F::kNwFrag,     "nw_frag",     {"ip_frag"},         79, 1, 0x03,       0, P::kIpAny,    X::kFrag, true,  false},
  {F::kTpSrc,      "tp_src",      {},                 112, 2, 0xffff,     0, P::kL4,       X::kDec,  true,  false},
  {F::kTpDst,      "tp_dst",      {},                 114, 2, 0xffff,     0, P::kL4,       X::kDec,  true,  false},
  {F::kTcpSrc,     "tcp_src",     {},                 112, 2, 0xffff,     0, P::kTcp,      X::kDec,  true,  false},
  {F::kTcpDst,     "tcp_dst",     {},                 114, 2, 0xffff,     0, P::kTcp,      X::kDec,  true,  false},
  {F::kUdpSrc,     "udp_src",     {},                 112, 2, 0xffff,     0, P::kUdp,      X::kDec,  true,  false},
  {F::kUdpDst,     "udp_dst",     {},                 114, 2, 0xffff,     0, P::kUdp,      X::kDec,  true,  false},
  {F::kSctpSrc,    "sctp_src",    {},                 112, 2, 0xffff,     0, P::kSctp,     X::kDec,  true,  false},
  {F::kSctpDst,    "sctp_dst",    {},                 114, 2, 0xffff,     0, P::kSctp,     X::kDec,  true,  false},
  {F::kTcpFlags,   "tcp_flags",   {},                 116, 2, 0x0fff,     0, P::kTcp,      X::kTcpFlags, true, false},
  {F::kIcmpType,   "icmp_type",   {},                 112, 2, 0x00ff,     0, P::kIcmpv4,   X::kDec,  false, false},
  {F::kIcmpCode,   "icmp_code",   {},                 114, 2, 0x00ff,     0, P::kIcmpv4,   X::kDec,  false, false},
  {F::kIcmpv6Type, "icmpv6_type", {},                 112, 2, 0x00ff,     0, P::kIcmpv6,   X::kDec,  false, false},
  {F::kIcmpv6Code, "icmpv6_code", {},                 114, 2, 0x00ff,     0, P::kIcmpv6,   X::kDec,  false, false},
  {F::kArpOp,      "arp_op",      {},                  76, 1, 0xff,       0, P::kArp,      X::kDec,  false, false},
  {F::kArpSpa,     "arp_spa",     {},                  32, 4, 0xffffffff, 0, P::kArp,      X::kIpv4, true,  false},
  {F::kArpTpa,     "arp_tpa",     {},                  36, 4, 0xffffffff, 0, P::kArp,      X::kIpv4, true,  false},
  {F::kArpSha,     "arp_sha",     {},                  96, 6, k48,        0, P::kArp,      X::kEth,  true,  false},
  {F::kArpTha,     "arp_tha",     {},                 102, 6, k48,        0, P::kArp,      X::kEth,  true,  false},
  {F::kIpv6Src,    "ipv6_src",    {},                  40, 16, 0,         0, P::kIpv6,     X::kIpv6, true,  false},
  {F::kIpv6Dst,    "ipv6_dst",    {},                  56, 16, 0,         0, P::kIpv6,     X::kIpv6, true,  false},
  {F::kIpv6Label,  "ipv6_label",  {},                  72, 4, 0x000fffff, 0, P::kIpv6,     X::kHex,  true,  false},
  {F::kNdTarget,   "nd_target",   {},                  80, 16, 0,         0, P::kNd,       X::kIpv6, true,  false},
  {F::kNdSll,      "nd_sll",      {},                  96, 6, k48,        0, P::kNdSolicit, X::kEth, true,  false},
  {F::kNdTll,      "nd_tll",      {},                 102, 6, k48,        0, P::kNdAdvert, X::kEth,  true,  false},
  {F::kRecircId,   "recirc_id",   {},                   4, 4, 0xffffffff, 0, P::kNone,     X::kHex,  false, true},
  {F::kCtState,    "ct_state",    {},                 120, 1, 0xff,       0, P::kNone,     X::kCtState, true, false},
  {F::kCtZone,     "ct_zone",     {},                 122, 2, 0xffff,     0, P::kNone,     X::kDec,  false, false},
  {F::kCtMark,     "ct_mark",     {},                 124, 4, 0xffffffff, 0, P::kNone,     X::kHex,  true,  false},
  {F::kCtLabel,    "ct_label",    {},                  64, 16, 0,         0, P::kNone,     X::kLabel, true, false, S::kMeta},
  {F::kConjId,     "conj_id",     {},                  80, 4, 0xffffffff, 0, P::kNone,     X::kDec,  false, false, S::kMeta},
  {F(int(F::kReg0) + 0), "reg0", {}, 0, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 1), "reg1", {}, 4, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 2), "reg2", {}, 8, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 3), "reg3", {}, 12, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 4), "reg4", {}, 16, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 5), "reg5", {}, 20, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 6), "reg6", {}, 24, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 7), "reg7", {}, 28, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 8), "reg8", {}, 32, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 9), "reg9", {}, 36, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 10), "reg10", {}, 40, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 11), "reg11", {}, 44, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 12), "reg12", {}, 48, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 13), "reg13", {}, 52, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 14), "reg14", {}, 56, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kReg0) + 15), "reg15", {}, 60, 4, 0xffffffff, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kXreg0) + 0), "xreg0", {}, 0, 8, ~0ull, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kXreg0) + 1), "xreg1", {}, 8, 8, ~0ull, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kXreg0) + 2), "xreg2", {}, 16, 8, ~0ull, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kXreg0) + 3), "xreg3", {}, 24, 8, ~0ull, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kXreg0) + 4), "xreg4", {}, 32, 8, ~0ull, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kXreg0) + 5), "xreg5", {}, 40, 8, ~0ull, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kXreg0) + 6), "xreg6", {}, 48, 8, ~0ull, 0, P::kNone, X::kHex, true, false, S::kMeta},
  {F(int(F::kXreg0) + 7), "xreg7", {}, 56, 8, ~0ull, 0, P::kNone, X::kHex, true, false, S::kMeta},
}};
// clang-format on
constexpr bool ids_in_order() {
  for (size_t i = 0; i < kFields.size(); ++i)
    if (size_t(kFields[i].id) != i) return false;
  return true;
}
static_assert(ids_in_order(), "kFields rows must follow FieldId order");
}  // namespace fields_detail

/// reg<n> / xreg<n> as a FieldId.
inline constexpr FieldId reg_field(unsigned n) noexcept {
  return FieldId(unsigned(FieldId::kReg0) + n);
}
inline constexpr FieldId xreg_field(unsigned n) noexcept {
  return FieldId(unsigned(FieldId::kXreg0) + n);
}

inline constexpr const FieldInfo& field_info(FieldId id) noexcept {
  return fields_detail::kFields[size_t(id)];
}
inline constexpr const auto& all_fields() noexcept { return fields_detail::kFields; }

/// The field named `name` (canonical or alias), or nullptr.
inline const FieldInfo* find_field(std::string_view name) noexcept {
  for (const auto& f : fields_detail::kFields) {
    if (f.name == name) return &f;
    for (auto a : f.aliases)
      if (!a.empty() && a == name) return &f;
  }
  return nullptr;
}

namespace fields_detail {
inline uint64_t load_span(const uint8_t* p, const FieldInfo& f) noexcept {
  if (f.host_order) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  uint64_t v = 0;
  for (unsigned i = 0; i < f.n_bytes; ++i) v = v << 8 | p[i];
  return v;
}
inline void store_span(uint8_t* p, const FieldInfo& f, uint64_t v) noexcept {
  if (f.host_order) {
    uint32_t w = uint32_t(v);
    std::memcpy(p, &w, 4);
    return;
  }
  for (unsigned i = f.n_bytes; i-- > 0; v >>= 8) p[i] = uint8_t(v);
}
}  // namespace fields_detail

/// The bytes of field `f` in a key or in pipeline metadata; nullptr when
/// the field lives in the other struct (FieldInfo::space).
inline uint8_t* field_bytes(FlowKey& k, const FieldInfo& f) noexcept {
  return f.space == FieldSpace::kKey ? reinterpret_cast<uint8_t*>(&k) + f.offset : nullptr;
}
inline const uint8_t* field_bytes(const FlowKey& k, const FieldInfo& f) noexcept {
  return f.space == FieldSpace::kKey ? reinterpret_cast<const uint8_t*>(&k) + f.offset : nullptr;
}
inline uint8_t* field_bytes(PipelineMeta& k, const FieldInfo& f) noexcept {
  return f.space == FieldSpace::kMeta ? reinterpret_cast<uint8_t*>(&k) + f.offset : nullptr;
}
inline const uint8_t* field_bytes(const PipelineMeta& k, const FieldInfo& f) noexcept {
  return f.space == FieldSpace::kMeta ? reinterpret_cast<const uint8_t*>(&k) + f.offset : nullptr;
}
/// The value (mask = false) or mask bytes of field `f` in a match.
inline uint8_t* field_bytes(Match& m, const FieldInfo& f, bool mask) noexcept {
  if (f.space == FieldSpace::kMeta) return field_bytes(mask ? m.meta_mask : m.meta_value, f);
  return field_bytes(mask ? m.mask : m.value, f);
}
inline const uint8_t* field_bytes(const Match& m, const FieldInfo& f, bool mask) noexcept {
  if (f.space == FieldSpace::kMeta) return field_bytes(mask ? m.meta_mask : m.meta_value, f);
  return field_bytes(mask ? m.mask : m.value, f);
}
/// A match on field `f` alone, from its value and mask bytes as a
/// set_field action holds them (f.n_bytes of each, big-endian).
inline Match field_match(const FieldInfo& f, const std::array<uint8_t, 16>& value,
                         const std::array<uint8_t, 16>& mask) noexcept {
  Match m;
  std::memcpy(field_bytes(m, f, false), value.data(), f.n_bytes);
  std::memcpy(field_bytes(m, f, true), mask.data(), f.n_bytes);
  return m;
}

/// Logical value of a (<= 64-bit) field in a key, metadata or mask of the
/// same; 0 for a field of the other struct.
template <class K>
inline uint64_t get_field(const K& k, FieldId id) noexcept {
  const FieldInfo& f = field_info(id);
  const uint8_t* p = field_bytes(k, f);
  return p ? (fields_detail::load_span(p, f) & f.bits) >> f.shift : 0;
}
/// A 16-byte field (IPv6 address, ND target, ct_label).
template <class K>
inline Ipv6Addr get_field_ipv6(const K& k, FieldId id) noexcept {
  Ipv6Addr a;
  if (const uint8_t* p = field_bytes(k, field_info(id))) std::memcpy(a.b.data(), p, 16);
  return a;
}
/// Writes the logical value into the field's bits (other bits kept).
template <class K>
inline void put_field(K& k, FieldId id, uint64_t v) noexcept {
  const FieldInfo& f = field_info(id);
  uint8_t* p = field_bytes(k, f);
  if (!p) return;
  uint64_t span = fields_detail::load_span(p, f) & ~f.bits;
  fields_detail::store_span(p, f, span | ((v << f.shift) & f.bits));
}
template <class K>
inline void put_field_ipv6(K& k, FieldId id, const Ipv6Addr& a) noexcept {
  if (uint8_t* p = field_bytes(k, field_info(id))) std::memcpy(p, a.b.data(), 16);
}
/// A match's value / mask of a field, from whichever struct holds it.
inline uint64_t match_value(const Match& m, FieldId id) noexcept {
  return field_info(id).space == FieldSpace::kMeta ? get_field(m.meta_value, id)
                                                   : get_field(m.value, id);
}
inline uint64_t match_mask(const Match& m, FieldId id) noexcept {
  return field_info(id).space == FieldSpace::kMeta ? get_field(m.meta_mask, id)
                                                   : get_field(m.mask, id);
}

inline constexpr uint64_t eth_to_u64(const EthAddr& e) noexcept {
  uint64_t v = 0;
  for (uint8_t b : e.b) v = v << 8 | b;
  return v;
}
inline constexpr EthAddr u64_to_eth(uint64_t v) noexcept {
  EthAddr e;
  for (int i = 5; i >= 0; --i, v >>= 8) e.b[size_t(i)] = uint8_t(v);
  return e;
}

/// Sets `id` in a match to value/mask (logical, host order).  Replaces any
/// earlier setting of the same bits.  dl_vlan/dl_vlan_pcp also pin the
/// tag-present bit; dl_vlan=0xffff means "no tag" (TCI == 0), as in OVS.
inline void match_set(Match& m, FieldId id, uint64_t value, uint64_t mask = ~0ull) noexcept {
  if (id == FieldId::kDlVlan && (value & 0xffff) == 0xffff) {
    put_field(m.mask, FieldId::kVlanTci, 0xffff);
    put_field(m.value, FieldId::kVlanTci, 0);
    return;
  }
  if (id == FieldId::kDlVlan || id == FieldId::kDlVlanPcp) {
    put_field(m.mask, FieldId::kVlanTci, get_field(m.mask, FieldId::kVlanTci) | kVlanCfi);
    put_field(m.value, FieldId::kVlanTci, get_field(m.value, FieldId::kVlanTci) | kVlanCfi);
  }
  if (field_info(id).space == FieldSpace::kMeta) {
    put_field(m.meta_mask, id, mask);
    put_field(m.meta_value, id, value & mask);
    return;
  }
  put_field(m.mask, id, mask);
  put_field(m.value, id, value & mask);
}
/// A 16-byte field (IPv6 address, ND target, ct_label) to value/mask.
inline void match_set_ipv6(Match& m, FieldId id, const Ipv6Addr& value,
                           const Ipv6Addr& mask) noexcept {
  const FieldInfo& f = field_info(id);
  for (size_t i = 0; i < 16; ++i) {
    field_bytes(m, f, true)[i] = mask.b[i];
    field_bytes(m, f, false)[i] = value.b[i] & mask.b[i];
  }
}
/// True when the match constrains any bit of the field.
inline bool match_has(const Match& m, FieldId id) noexcept {
  const FieldInfo& f = field_info(id);
  if (f.n_bytes == 16) {
    const uint8_t* p = field_bytes(m, f, true);
    for (unsigned i = 0; i < 16; ++i)
      if (p[i]) return true;
    return false;
  }
  return match_mask(m, id) != 0;
}
/// True when the match pins the field exactly to `v`.
inline bool match_is_exact(const Match& m, FieldId id, uint64_t v) noexcept {
  const FieldInfo& f = field_info(id);
  return match_mask(m, id) == (f.bits >> f.shift) && match_value(m, id) == v;
}

/// Empty string when the match satisfies the field's prerequisite, else a
/// description of what is missing (e.g. "ip or ipv6 with tcp, udp or sctp").
inline std::string_view missing_prereq(const Match& m, FieldPrereq p) noexcept {
  auto type = [&](uint16_t t) { return match_is_exact(m, FieldId::kDlType, t); };
  auto proto = [&](uint8_t n) { return match_is_exact(m, FieldId::kNwProto, n); };
  bool ip4 = type(kEthTypeIpv4), ip6 = type(kEthTypeIpv6), ip = ip4 || ip6;
  bool later = get_field(m.value, FieldId::kNwFrag) & kFragLater;
  constexpr std::string_view kNotLater = "no later fragment (nw_frag=later has no L4 header)";
  // ND: ICMPv6 type 135/136 with code 0 (an unmatched code counts as 0).
  auto icmp6_type = [&](uint64_t t) {
    return ip6 && proto(kIpProtoIcmpv6) && match_is_exact(m, FieldId::kIcmpv6Type, t) &&
           get_field(m.value, FieldId::kIcmpv6Code) == 0;
  };
  switch (p) {
    case FieldPrereq::kNone:
      return {};
    case FieldPrereq::kIpv4:
      return ip4 ? "" : "ip (dl_type=0x0800)";
    case FieldPrereq::kIpv6:
      return ip6 ? "" : "ipv6 (dl_type=0x86dd)";
    case FieldPrereq::kIpAny:
      return ip ? "" : "ip or ipv6";
    case FieldPrereq::kArp:
      return type(kEthTypeArp) || type(kEthTypeRarp) ? "" : "arp or rarp";
    // L4 fields: not in later fragments, which carry no L4 header (OVS's
    // prerequisite too; its decoder rejects such a match as BAD_PREREQ).
    case FieldPrereq::kL4:
      if (!(ip && (proto(kIpProtoTcp) || proto(kIpProtoUdp) || proto(kIpProtoSctp))))
        return "ip or ipv6 with tcp, udp or sctp";
      return later ? kNotLater : "";
    case FieldPrereq::kTcp:
      return !(ip && proto(kIpProtoTcp)) ? "tcp or tcp6" : later ? kNotLater : "";
    case FieldPrereq::kUdp:
      return !(ip && proto(kIpProtoUdp)) ? "udp or udp6" : later ? kNotLater : "";
    case FieldPrereq::kSctp:
      return !(ip && proto(kIpProtoSctp)) ? "sctp or sctp6" : later ? kNotLater : "";
    case FieldPrereq::kIcmpv4:
      return ip4 && proto(kIpProtoIcmp) ? "" : "icmp";
    case FieldPrereq::kIcmpv6:
      return ip6 && proto(kIpProtoIcmpv6) ? "" : "icmp6";
    case FieldPrereq::kNd:
      return icmp6_type(135) || icmp6_type(136) ? ""
                                                : "icmp6 with icmp_type=135 or 136 and icmp_code=0";
    case FieldPrereq::kNdSolicit:
      return icmp6_type(135) ? "" : "icmp6 with icmp_type=135 and icmp_code=0";
    case FieldPrereq::kNdAdvert:
      return icmp6_type(136) ? "" : "icmp6 with icmp_type=136 and icmp_code=0";
  }
  return {};
}

/// Fluent construction of a Match; build() checks every prerequisite and
/// throws flowpath::Error naming the first field whose one is missing.
class MatchBuilder {
 public:
  MatchBuilder& set(FieldId id, uint64_t value) { return set(id, value, ~0ull); }
  MatchBuilder& set(FieldId id, uint64_t value, uint64_t mask) {
    match_set(m_, id, value, mask);
    used_[size_t(id)] = true;
    return *this;
  }
  MatchBuilder& set(FieldId id, const EthAddr& v, const EthAddr& mask = u64_to_eth(~0ull)) {
    return set(id, eth_to_u64(v), eth_to_u64(mask));
  }
  MatchBuilder& set(FieldId id, const Ipv6Addr& v, const Ipv6Addr& mask = all_ones()) {
    match_set_ipv6(m_, id, v, mask);
    used_[size_t(id)] = true;
    return *this;
  }
  /// dl_type (and nw_proto when nonzero) in one call: ip/tcp/arp shorthands.
  MatchBuilder& proto(uint16_t dl_type, uint8_t nw_proto = 0) {
    set(FieldId::kDlType, dl_type);
    if (nw_proto) set(FieldId::kNwProto, nw_proto);
    return *this;
  }
  Match build() const {
    for (const auto& f : all_fields()) {
      if (!used_[size_t(f.id)]) continue;
      auto need = missing_prereq(m_, f.prereq);
      if (!need.empty())
        throw Error("field " + std::string(f.name) + " requires " + std::string(need));
    }
    return m_;
  }
  const Match& peek() const noexcept { return m_; }

 private:
  static Ipv6Addr all_ones() noexcept {
    Ipv6Addr a;
    a.b.fill(0xff);
    return a;
  }
  Match m_;
  std::array<bool, size_t(FieldId::kCount)> used_{};
};

}  // namespace flowpath
