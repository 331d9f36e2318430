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
  if (f.format == FieldFormat::kHex) return hex_or_zero(uint64_t(set_field_logical(a, false)));
  return set_field_value(a);
}

/// OpenFlow 1.0's `load:` for a set_field with no OpenFlow 1.0 twin.
inline std::string nxm_load(const OfAction& a) { return format_load(a); }

/// The actions as protocol `proto` (one ofproto bit) decodes them.
inline std::string format_actions_as(const OfctlFlow& f, uint32_t proto);

}  // namespace ofctl
}  // namespace flowpath

#include "flowpath/flow/ofctl_flow_mod_impl.hpp"
