// flowpath/flow/ofctl_protocol.hpp — which OpenFlow protocols can carry a
// flow, as `ovs-ofctl` computes it ("usable protocols: ..." in
// parse-flows), and which one it then chooses.
//
// The set is a bitmask in Open vSwitch's order (OpenFlow 1.0 with and
// without table ids, Nicira's NXM with and without, OpenFlow 1.1, OXM for
// 1.2..1.5).  A flow narrows it by each match field it uses (e.g. a bitwise
// Ethernet mask needs NXM, OpenFlow 1.1 or OXM; nw_ttl needs NXM or OXM),
// by table=N (a table id), by actions (push_vlan needs OpenFlow 1.1+), and
// by actions that do not fit the match (strip_vlan on a flow that matches
// no tag): those keep only OpenFlow 1.0, whose actions need not be
// consistent with the match.  The chosen protocol is the lowest bit both
// usable and allowed by -O.
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "flowpath/flow/of_action.hpp"
#include "flowpath/flow/ofctl_match.hpp"

namespace flowpath {
namespace ofproto {

inline constexpr uint32_t kOf10Std = 1u << 0, kOf10StdTid = 1u << 1, kOf10Nxm = 1u << 2,
                          kOf10NxmTid = 1u << 3, kOf11 = 1u << 4, kOf12 = 1u << 5, kOf13 = 1u << 6,
                          kOf14 = 1u << 7, kOf15 = 1u << 8;
inline constexpr uint32_t kAny = (1u << 9) - 1;
inline constexpr uint32_t kOxm = kOf12 | kOf13 | kOf14 | kOf15;
inline constexpr uint32_t kOf10StdAny = kOf10Std | kOf10StdTid;
inline constexpr uint32_t kNxmAny = kOf10Nxm | kOf10NxmTid;
inline constexpr uint32_t kOf10Any = kOf10StdAny | kNxmAny;
inline constexpr uint32_t kNxmOxm = kNxmAny | kOxm;
inline constexpr uint32_t kNxmOf11Up = kNxmAny | kOf11 | kOxm;
inline constexpr uint32_t kOf11Up = kOf11 | kOxm;
inline constexpr uint32_t kTid = kOf10StdTid | kOf10NxmTid | kOf11 | kOxm;

inline std::string name(uint32_t bit) {
  switch (bit) {
    case kOf10Std:
      return "OpenFlow10-table_id";
    case kOf10StdTid:
      return "OpenFlow10+table_id";
    case kOf10Nxm:
      return "NXM-table_id";
    case kOf10NxmTid:
      return "NXM+table_id";
    case kOf11:
      return "OpenFlow11";
    case kOf12:
      return "OXM-OpenFlow12";
    case kOf13:
      return "OXM-OpenFlow13";
    case kOf14:
      return "OXM-OpenFlow14";
    default:
      return "OXM-OpenFlow15";
  }
}

/// As ovs-ofctl prints a set: "any", "OpenFlow10", "NXM", "OXM" for whole
/// families, then single protocols in bit order; "none" when empty.
inline std::string to_string(uint32_t set) {
  if (!set) return "none";
  static const std::pair<uint32_t, const char*> kAbbrev[] = {
      {kAny, "any"}, {kOf10StdAny, "OpenFlow10"}, {kNxmAny, "NXM"}, {kOxm, "OXM"}};
  std::string s;
  while (set) {
    if (!s.empty()) s += ',';
    bool done = false;
    for (auto [bits, n] : kAbbrev)
      if ((set & bits) == bits) {
        s += n, set &= ~bits, done = true;
        break;
      }
    if (done) continue;
    uint32_t bit = set & -set;
    s += name(bit), set &= ~bit;
  }
  return s;
}

/// Protocols that can express the match `m`.
inline uint32_t match_usable(const Match& m) {
  using F = FieldId;
  auto msk = [&](F id) { return get_field(m.mask, id); };
  auto full = [&](F id) { return msk(id) == field_info(id).bits >> field_info(id).shift; };
  auto cidr = [&](F id) { return ofctl::ipv4_prefix_len(uint32_t(msk(id))) >= 0; };
  uint32_t u = kAny;
  for (F id : {F::kDlSrc, F::kDlDst})
    if (msk(id) && !full(id)) u &= kNxmOf11Up;
  uint64_t tci_mask = msk(F::kVlanTci), tci = get_field(m.value, F::kVlanTci);
  bool of10_vlan = tci_mask == 0 || tci_mask == 0xffff ||
                   ((tci_mask & kVlanCfi) && (tci & kVlanCfi) && (tci_mask & ~kVlanCfi) &&
                    ((tci_mask & 0x0fff) == 0 || (tci_mask & 0x0fff) == 0x0fff) &&
                    ((tci_mask & 0xe000) == 0 || (tci_mask & 0xe000) == 0xe000));
  if (!of10_vlan) u &= kNxmOxm;
  for (F id : {F::kNwSrc, F::kNwDst})
    if (msk(id) && !cidr(id)) u &= kNxmOf11Up;
  if (msk(F::kNwEcn)) u &= kNxmOf11Up;
  for (F id : {F::kNwTtl, F::kNwFrag, F::kArpSha, F::kArpTha, F::kTcpFlags, F::kIpv6Label,
               F::kNdSll, F::kNdTll})
    if (msk(id)) u &= kNxmOxm;
  for (F id : {F::kIpv6Src, F::kIpv6Dst, F::kNdTarget})
    if (get_field_ipv6(m.mask, id) != Ipv6Addr{}) u &= kNxmOxm;
  bool icmp = match_is_exact(m, F::kNwProto, kIpProtoIcmp) ||
              match_is_exact(m, F::kNwProto, kIpProtoIcmpv6);
  for (F id : {F::kTpSrc, F::kTpDst})
    if (!icmp && msk(id) && !full(id)) u &= kNxmOxm;
  // Connection tracking, recirculation and the pipeline metadata are
  // Nicira extensions (NXM) that OXM carries as experimenter fields.
  for (F id : {F::kRecircId, F::kCtState, F::kCtZone, F::kCtMark})
    if (msk(id)) u &= kNxmOxm;
  if (m.has_meta()) u &= kNxmOxm;
  uint16_t type = match_is_exact(m, F::kDlType, kEthTypeIpv6) ? kEthTypeIpv6 : 0;
  if (type == kEthTypeIpv6 &&
      (msk(F::kNwProto) || msk(F::kNwTos) || msk(F::kNwEcn) || msk(F::kTpSrc) || msk(F::kTpDst)))
    u &= kNxmOxm;
  return u;
}

}  // namespace ofproto
}  // namespace flowpath
