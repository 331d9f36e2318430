// flowpath/flow/ofctl_flow_mod.hpp — a parsed flow as the flow-mod that
// `ovs-ofctl parse-flows` encodes: the checks OVS makes of the actions
// against the match (ofpacts_check), the protocols that can carry the flow,
// and the actions printed as each protocol decodes them.
//
// The checks themselves are in flow/ofctl_action_check.hpp (parse_flow
// runs them).
//
// Printing: OpenFlow 1.0 (and NXM) prints set_field with an OpenFlow 1.0
// twin as that action and the rest as Nicira `load:VALUE->NXM_FIELD[]`,
// goto_table as `resubmit(,N)`; OpenFlow 1.3 prints every rewrite as
// set_field (mod_vlan_vid on an untagged flow as push_vlan:0x8100 plus
// set_field), strip_vlan as pop_vlan.
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <string>

#include "flowpath/flow/ofctl_action_check.hpp"
#include "flowpath/flow/ofctl_protocol.hpp"
#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath {
namespace ofctl {

/// OVS's name of a field in set_field (meta-flow's canonical name).
inline std::string_view mf_name(FieldId id) {
  switch (id) {
    case FieldId::kDlSrc:
      return "eth_src";
    case FieldId::kDlDst:
      return "eth_dst";
    case FieldId::kNwSrc:
      return "ip_src";
    case FieldId::kNwDst:
      return "ip_dst";
    case FieldId::kTpSrc:
      return "tcp_src";
    case FieldId::kTpDst:
      return "tcp_dst";
    default:
      return field_info(id).name;
  }
}

/// The Nicira/OXM field name in `load:` (OpenFlow 1.0 printing).
inline std::string_view nxm_name(FieldId id) {
  using F = FieldId;
  switch (id) {
    case F::kInPort:
      return "NXM_OF_IN_PORT";
    case F::kNwEcn:
      return "NXM_NX_IP_ECN";
    case F::kNwTtl:
      return "NXM_NX_IP_TTL";
    case F::kSctpSrc:
      return "OXM_OF_SCTP_SRC";
    case F::kSctpDst:
      return "OXM_OF_SCTP_DST";
    case F::kIcmpType:
      return "NXM_OF_ICMP_TYPE";
    case F::kIcmpCode:
      return "NXM_OF_ICMP_CODE";
    case F::kIcmpv6Type:
      return "NXM_NX_ICMPV6_TYPE";
    case F::kIcmpv6Code:
      return "NXM_NX_ICMPV6_CODE";
    case F::kArpOp:
      return "NXM_OF_ARP_OP";
    case F::kArpSpa:
      return "NXM_OF_ARP_SPA";
    case F::kArpTpa:
      return "NXM_OF_ARP_TPA";
    case F::kArpSha:
      return "NXM_NX_ARP_SHA";
    case F::kArpTha:
      return "NXM_NX_ARP_THA";
    case F::kIpv6Src:
      return "NXM_NX_IPV6_SRC";
    case F::kIpv6Dst:
      return "NXM_NX_IPV6_DST";
    case F::kIpv6Label:
      return "NXM_NX_IPV6_LABEL";
    case F::kNdTarget:
      return "NXM_NX_ND_TARGET";
    case F::kNdSll:
      return "NXM_NX_ND_SLL";
    case F::kNdTll:
      return "NXM_NX_ND_TLL";
    case F::kVlanTci:
      return "NXM_OF_VLAN_TCI";
    default:
      return field_info(id).name;
  }
}

inline std::string hex_or_zero(uint64_t v) {
  if (!v) return "0";
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

/// set_field's value as OVS prints it (numbers decimal, ipv6_label and
/// vlan_tci in hex, addresses as addresses).
inline std::string mf_value(const OfAction& a) {
  const FieldInfo& f = field_info(a.field);
  if (f.format == FieldFormat::kHex) {
    Match m;
    std::memcpy(reinterpret_cast<uint8_t*>(&m.value) + f.offset, a.value.data(), f.n_bytes);
    return hex_or_zero(get_field(m.value, f.id));
  }
  return set_field_value(a);
}

/// OpenFlow 1.0's `load:` for a set_field with no OpenFlow 1.0 twin.
inline std::string nxm_load(const OfAction& a) {
  const FieldInfo& f = field_info(a.field);
  std::string n(nxm_name(a.field));
  if (f.n_bytes == 16) {
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i)
      hi = hi << 8 | a.value[size_t(i)], lo = lo << 8 | a.value[size_t(i) + 8];
    return "load:" + hex_or_zero(lo) + "->" + n + "[0..63],load:" + hex_or_zero(hi) + "->" + n +
           "[64..127]";
  }
  Match m;
  std::memcpy(reinterpret_cast<uint8_t*>(&m.value) + f.offset, a.value.data(), f.n_bytes);
  return "load:" + hex_or_zero(get_field(m.value, f.id)) + "->" + n + "[]";
}

/// The actions as protocol `proto` (one ofproto bit) decodes them.
inline std::string format_actions_as(const OfctlFlow& f, uint32_t proto);

}  // namespace ofctl
}  // namespace flowpath

#include "flowpath/flow/ofctl_flow_mod_impl.hpp"
