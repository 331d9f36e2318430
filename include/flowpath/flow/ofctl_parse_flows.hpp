// flowpath/flow/ofctl_parse_flows.hpp — `ovs-ofctl parse-flows` in a
// library: each flow parsed as a flow-mod ADD, the OpenFlow protocols that
// can carry it, and the text ovs-ofctl prints for it.
#pragma once

#include <string>
#include <string_view>

#include "flowpath/flow/ofctl_flow_mod.hpp"

namespace flowpath {

/// The protocols `-O` allows: OpenFlow 1.0 (ovs-ofctl's default: OpenFlow
/// 1.0 with or without Nicira extensions) or OpenFlow 1.3.
enum class OfProtocolSet { kOpenFlow10, kOpenFlow13 };

/// One flow as `ovs-ofctl parse-flows` prints it alone.
struct FlowModText {
  bool ok = false;
  std::string usable;   // "usable protocols: " line, without the prefix
  std::string message;  // "OFPT_FLOW_MOD (xid=0x1): ADD ..."
  std::string error;    // when !ok
};

/// The protocols `allowed` stands for, as an ofproto bit set.
inline uint32_t allowed_protocols(OfProtocolSet allowed) {
  return allowed == OfProtocolSet::kOpenFlow13 ? ofproto::kOf13 : ofproto::kOf10Any;
}

/// Parses one flow as a flow-mod ADD and computes the protocols that can
/// carry it; throws flowpath::Error (OVS's reason, naming the input).
inline OfctlFlow parse_flow_mod(std::string_view text, uint32_t& usable) {
  OfctlFlow f = parse_flow(text);
  std::string err;
  uint32_t acts = ofctl::check_actions(f, err);
  if (!err.empty())
    throw Error(std::string(ofctl::trim(text)) + ": actions are invalid with specified match (" +
                err + ")");
  usable = ofproto::match_usable(f.match) & acts;
  if (f.named[size_t(FieldId::kSctpSrc)] || f.named[size_t(FieldId::kSctpDst)])
    usable &= ofproto::kNxmOf11Up;
  if (f.table_given && f.table != kOfTableAll) usable &= ofproto::kTid;
  if (!usable)
    throw Error(std::string(ofctl::trim(text)) +
                ": actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)");
  return f;
}

/// The flow-mod message ovs-ofctl prints for `f` encoded in `proto`.
inline std::string flow_mod_message(const OfctlFlow& f, uint32_t proto, unsigned xid) {
  char b[64];
  bool nxm = proto & ofproto::kNxmAny, of13 = proto & ofproto::kOf13;
  std::snprintf(b, sizeof b, "%s%s (xid=0x%x): ADD ", nxm ? "NXT_FLOW_MOD" : "OFPT_FLOW_MOD",
                of13 ? " (OF1.3)" : "", xid);
  // What the protocol's match encoding gives back for the VLAN TCI.
  OfctlFlow g = f;
  uint64_t tci = get_field(f.match.value, FieldId::kVlanTci);
  uint64_t tci_mask = get_field(f.match.mask, FieldId::kVlanTci);
  if (proto & ofproto::kOf10StdAny && tci_mask == 0xffff && !(tci & kVlanCfi)) {
    // OpenFlow 1.0 says "no tag" (dl_vlan=0xffff) for an exact TCI without
    // the present bit: it comes back as vlan_tci=0x0000.
    put_field(g.match.value, FieldId::kVlanTci, 0);
  } else if (proto & ofproto::kOxm && !((tci_mask & kVlanCfi) && (tci & kVlanCfi))) {
    // OXM's vlan_pcp exists only with a tag: without one, vlan_vid alone.
    // (A VID without the present bit is then undecodable: OVS prints a
    // decode error for it.)
    put_field(g.match.mask, FieldId::kVlanTci, tci_mask & 0x1fff);
    g.match.normalize();
  } else if (proto & ofproto::kOxm && (tci_mask & 0xe000)) {
    // ... and it cannot be masked: any PCP bit matched matches all three.
    put_field(g.match.mask, FieldId::kVlanTci, tci_mask | 0xe000);
  }
  std::string s = format_flow_mod(g);
  size_t ap = s.rfind("actions=");
  return b + s.substr(0, ap) + "actions=" + ofctl::format_actions_as(f, proto);
}

/// Lowest protocol in both sets, or 0.
inline uint32_t choose_protocol(uint32_t usable, OfProtocolSet allowed) {
  uint32_t both = usable & allowed_protocols(allowed);
  return both & -both;
}

inline FlowModText parse_flow_mod_text(std::string_view text, OfProtocolSet allowed,
                                       unsigned xid = 1) {
  FlowModText r;
  try {
    uint32_t usable = 0;
    OfctlFlow f = parse_flow_mod(text, usable);
    r.usable = ofproto::to_string(usable);
    uint32_t proto = choose_protocol(usable, allowed);
    if (!proto) throw Error(std::string(ofctl::trim(text)) + ": no usable protocol");
    r.ok = true;
    r.message = flow_mod_message(f, proto, xid);
  } catch (const Error& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace flowpath
