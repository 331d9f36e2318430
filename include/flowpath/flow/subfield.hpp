// flowpath/flow/subfield.hpp — field references of load/move/ct(zone=...):
// `NXM_NX_REG6[0..15]`, `NXM_OF_ETH_SRC[]`, `reg6[5]`, `eth_src[0..23]`.
//
// A Subfield names a field of the registry and a bit range [ofs, ofs+n_bits)
// counted from the field's least significant bit, as Open vSwitch's
// mf_subfield.  Field names are the Nicira/OXM names OVS prints
// (NXM_NX_REG6, NXM_OF_IP_SRC, OXM_OF_PKT_REG1, ...) or the registry's own
// names (reg6, ip_src).  Widths are OVS's (in_port is 16 bits, ct_state 32)
// even where flowpath stores fewer bits (the rest read as zero).
//
// read_subfield/write_subfield move bits between a FlowKey/PipelineMeta
// pair and a 128-bit integer: the translation of load/move/set_field.
//
// Cost: control path (parse) and per-translation (read/write: a few
// shifts).  Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "flowpath/flow/fields.hpp"
#include "flowpath/flow/ofctl_values.hpp"

namespace flowpath {

using U128 = unsigned __int128;

struct Subfield {
  FieldId field{};
  uint8_t ofs = 0;
  uint8_t n_bits = 0;  // 1..128
  friend constexpr bool operator==(const Subfield&, const Subfield&) = default;
};

namespace subfield_detail {
struct NxmName {
  FieldId id;
  std::string_view name;  // as OVS prints it
  uint8_t width;          // OVS's field width in bits
};
using F = FieldId;
// clang-format off
inline constexpr NxmName kNames[] = {
  {F::kInPort, "NXM_OF_IN_PORT", 16},     {F::kDlDst, "NXM_OF_ETH_DST", 48},
  {F::kDlSrc, "NXM_OF_ETH_SRC", 48},      {F::kDlType, "NXM_OF_ETH_TYPE", 16},
  {F::kVlanTci, "NXM_OF_VLAN_TCI", 16},   {F::kNwTos, "NXM_OF_IP_TOS", 8},
  {F::kNwProto, "NXM_OF_IP_PROTO", 8},    {F::kNwSrc, "NXM_OF_IP_SRC", 32},
  {F::kNwDst, "NXM_OF_IP_DST", 32},       {F::kTcpSrc, "NXM_OF_TCP_SRC", 16},
  {F::kTcpDst, "NXM_OF_TCP_DST", 16},     {F::kUdpSrc, "NXM_OF_UDP_SRC", 16},
  {F::kUdpDst, "NXM_OF_UDP_DST", 16},     {F::kSctpSrc, "OXM_OF_SCTP_SRC", 16},
  {F::kSctpDst, "OXM_OF_SCTP_DST", 16},   {F::kIcmpType, "NXM_OF_ICMP_TYPE", 8},
  {F::kIcmpCode, "NXM_OF_ICMP_CODE", 8},  {F::kArpOp, "NXM_OF_ARP_OP", 16},
  {F::kArpSpa, "NXM_OF_ARP_SPA", 32},     {F::kArpTpa, "NXM_OF_ARP_TPA", 32},
  {F::kArpSha, "NXM_NX_ARP_SHA", 48},     {F::kArpTha, "NXM_NX_ARP_THA", 48},
  {F::kIpv6Src, "NXM_NX_IPV6_SRC", 128},  {F::kIpv6Dst, "NXM_NX_IPV6_DST", 128},
  {F::kIpv6Label, "NXM_NX_IPV6_LABEL", 20}, {F::kNdTarget, "NXM_NX_ND_TARGET", 128},
  {F::kNdSll, "NXM_NX_ND_SLL", 48},       {F::kNdTll, "NXM_NX_ND_TLL", 48},
  {F::kIcmpv6Type, "NXM_NX_ICMPV6_TYPE", 8}, {F::kIcmpv6Code, "NXM_NX_ICMPV6_CODE", 8},
  {F::kNwEcn, "NXM_NX_IP_ECN", 2},        {F::kNwTtl, "NXM_NX_IP_TTL", 8},
  {F::kNwFrag, "NXM_NX_IP_FRAG", 2},      {F::kIpDscp, "OXM_OF_IP_DSCP", 6},
  {F::kTcpFlags, "NXM_NX_TCP_FLAGS", 12}, {F::kRecircId, "NXM_NX_RECIRC_ID", 32},
  {F::kConjId, "NXM_NX_CONJ_ID", 32},     {F::kCtState, "NXM_NX_CT_STATE", 32},
  {F::kCtZone, "NXM_NX_CT_ZONE", 16},     {F::kCtMark, "NXM_NX_CT_MARK", 32},
  {F::kCtLabel, "NXM_NX_CT_LABEL", 128},
};
// clang-format on
inline constexpr std::string_view kRegNames[] = {
    "NXM_NX_REG0",  "NXM_NX_REG1",  "NXM_NX_REG2",  "NXM_NX_REG3", "NXM_NX_REG4",  "NXM_NX_REG5",
    "NXM_NX_REG6",  "NXM_NX_REG7",  "NXM_NX_REG8",  "NXM_NX_REG9", "NXM_NX_REG10", "NXM_NX_REG11",
    "NXM_NX_REG12", "NXM_NX_REG13", "NXM_NX_REG14", "NXM_NX_REG15"};
inline constexpr std::string_view kXregNames[] = {
    "OXM_OF_PKT_REG0", "OXM_OF_PKT_REG1", "OXM_OF_PKT_REG2", "OXM_OF_PKT_REG3",
    "OXM_OF_PKT_REG4", "OXM_OF_PKT_REG5", "OXM_OF_PKT_REG6", "OXM_OF_PKT_REG7"};
}  // namespace subfield_detail

/// OVS's width of a field in bits (0: not usable in load/move).
inline constexpr unsigned field_width(FieldId id) noexcept {
  unsigned i = unsigned(id);
  if (i >= unsigned(FieldId::kReg0) && i <= unsigned(FieldId::kReg15)) return 32;
  if (i >= unsigned(FieldId::kXreg0) && i <= unsigned(FieldId::kXreg7)) return 64;
  if (id == FieldId::kTpSrc || id == FieldId::kTpDst) return 16;
  for (const auto& n : subfield_detail::kNames)
    if (n.id == id) return n.width;
  return 0;
}

/// The name OVS prints a field under in load/move.
inline std::string_view nxm_field_name(FieldId id) noexcept {
  unsigned i = unsigned(id);
  if (i >= unsigned(FieldId::kReg0) && i <= unsigned(FieldId::kReg15))
    return subfield_detail::kRegNames[i - unsigned(FieldId::kReg0)];
  if (i >= unsigned(FieldId::kXreg0) && i <= unsigned(FieldId::kXreg7))
    return subfield_detail::kXregNames[i - unsigned(FieldId::kXreg0)];
  if (id == FieldId::kTpSrc) return "NXM_OF_TCP_SRC";
  if (id == FieldId::kTpDst) return "NXM_OF_TCP_DST";
  for (const auto& n : subfield_detail::kNames)
    if (n.id == id) return n.name;
  return field_info(id).name;
}

/// A field by NXM/OXM name or by registry name, or nullopt.
inline std::optional<FieldId> find_nxm_field(std::string_view name) noexcept {
  for (unsigned r = 0; r < kNumRegs; ++r)
    if (name == subfield_detail::kRegNames[r]) return reg_field(r);
  for (unsigned r = 0; r < 8; ++r)
    if (name == subfield_detail::kXregNames[r]) return xreg_field(r);
  for (const auto& n : subfield_detail::kNames)
    if (n.name == name) return n.id;
  if (const FieldInfo* f = find_field(name); f && field_width(f->id)) return f->id;
  return std::nullopt;
}

/// `NAME[]`, `NAME[b]`, `NAME[a..b]`, or a bare NAME (the whole field).
/// Throws flowpath::Error with OVS's wording.
inline Subfield parse_subfield(std::string_view s) {
  std::string_view name = s.substr(0, s.find('['));
  auto id = find_nxm_field(name);
  if (!id) throw Error(std::string(s) + ": unknown field `" + std::string(name) + "'");
  unsigned width = field_width(*id);
  Subfield sf{*id, 0, uint8_t(width)};
  if (name.size() == s.size()) return sf;
  std::string_view r = s.substr(name.size());
  if (r.back() != ']') throw Error(std::string(s) + ": syntax error in subfield");
  r = r.substr(1, r.size() - 2);
  if (r.empty()) return sf;
  size_t dots = r.find("..");
  auto a = ofctl::parse_uint(r.substr(0, dots), 255);
  auto b = dots == std::string_view::npos ? a : ofctl::parse_uint(r.substr(dots + 2), 255);
  if (!a || !b) throw Error(std::string(s) + ": syntax error in subfield");
  if (*a > *b)
    throw Error(std::string(s) + ": starting bit " + std::to_string(*a) + " is after ending bit " +
                std::to_string(*b));
  if (*b >= width)
    throw Error(std::string(s) + ": ending bit " + std::to_string(*b) +
                " is not valid because field is only " + std::to_string(width) + " bits wide");
  sf.ofs = uint8_t(*a);
  sf.n_bits = uint8_t(*b - *a + 1);
  return sf;
}

/// As OVS prints it: `NXM_NX_REG6[0..15]`, `NXM_NX_REG5[]`, `NXM_NX_REG0[5]`.
inline std::string format_subfield(const Subfield& sf) {
  std::string s(nxm_field_name(sf.field));
  if (sf.ofs == 0 && sf.n_bits == field_width(sf.field)) return s + "[]";
  if (sf.n_bits == 1) return s + "[" + std::to_string(sf.ofs) + "]";
  return s + "[" + std::to_string(sf.ofs) + ".." + std::to_string(sf.ofs + sf.n_bits - 1) + "]";
}

inline constexpr U128 low_bits(unsigned n) noexcept {
  return n >= 128 ? ~U128(0) : (U128(1) << n) - 1;
}

/// The field bits a load of `sf` writes: its own, except that a load of all
/// of NXM_OF_IN_PORT's 16 bits writes the whole port (OVS's in_port is 16
/// bits wide; flowpath keeps 32), as `set_field:N->in_port` does.
inline constexpr U128 load_mask(const Subfield& sf) noexcept {
  if (sf.field == FieldId::kInPort && sf.ofs == 0 && sf.n_bits == 16) return 0xffffffffu;
  return low_bits(sf.n_bits) << sf.ofs;
}

/// The whole field's value (logical, as wide as field_width).
inline U128 read_field(const FlowKey& key, const PipelineMeta& meta, FieldId id) noexcept {
  const FieldInfo& f = field_info(id);
  if (f.n_bytes == 16) {
    const uint8_t* p = f.space == FieldSpace::kMeta ? field_bytes(meta, f) : field_bytes(key, f);
    U128 v = 0;
    for (unsigned i = 0; i < 16; ++i) v = v << 8 | p[i];
    return v;
  }
  return f.space == FieldSpace::kMeta ? get_field(meta, id) : get_field(key, id);
}
/// Writes a whole field (bits beyond the stored width are dropped).
inline void write_field(FlowKey& key, PipelineMeta& meta, FieldId id, U128 v) noexcept {
  const FieldInfo& f = field_info(id);
  if (f.n_bytes == 16) {
    uint8_t* p = f.space == FieldSpace::kMeta ? field_bytes(meta, f) : field_bytes(key, f);
    for (unsigned i = 16; i-- > 0; v >>= 8) p[i] = uint8_t(v);
    return;
  }
  if (f.space == FieldSpace::kMeta)
    put_field(meta, id, uint64_t(v));
  else
    put_field(key, id, uint64_t(v));
}
inline U128 read_subfield(const FlowKey& key, const PipelineMeta& meta,
                          const Subfield& sf) noexcept {
  return read_field(key, meta, sf.field) >> sf.ofs & low_bits(sf.n_bits);
}
inline void write_subfield(FlowKey& key, PipelineMeta& meta, const Subfield& sf, U128 v) noexcept {
  U128 mask = low_bits(sf.n_bits) << sf.ofs;
  U128 old = read_field(key, meta, sf.field);
  write_field(key, meta, sf.field, (old & ~mask) | ((v << sf.ofs) & mask));
}

}  // namespace flowpath
