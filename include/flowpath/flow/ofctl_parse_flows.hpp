// flowpath/flow/ofctl_parse_flows.hpp — `ovs-ofctl parse-flows` as a
// library: each flow parsed as a flow-mod ADD with OVS's checks, the
// OpenFlow protocols that can carry it ("usable protocols"), the protocol
// chosen among those -O allows, and the message text ovs-ofctl prints.
//
//   FlowModText t = parse_flow_mod_text("tcp actions=mod_tp_src:1",
//                                       OfProtocolSet::kOpenFlow13);
//   t.usable   // "any"
//   t.message  // "OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD tcp actions=set_field:1->tcp_src"
//
//   ParseFlowsOutput o = parse_flows_file(lines, ofproto::kOf10Any, "flows.txt");
//   o.out      // "usable protocols: ...\nchosen protocol: ...\nOFPT_FLOW_MOD ..."
//
// A file behaves as in ovs-ofctl: every line is parsed first; the first bad
// one fails the whole file ("FILE:LINE: reason", nothing printed); the
// usable protocols are those of every flow; the chosen one is the lowest
// both usable and allowed ("no usable protocol" when none), and every flow
// is printed as that protocol encodes it.  Checked against ovs-ofctl 3.1
// by tests/differential/flow_text_diff_test.cpp.
//
// Errors: flowpath::Error whose message names the flow and carries OVS's
// reason.  Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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
  uint32_t acts = ofctl::check_actions(f.match, f.actions, f.table, err);
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
namespace ofctl {
/// NXM and OXM bring a match on recirc_id and an Ethernet field (dl_type,
/// dl_src/dst, VLAN) back with packet_type=eth, which OVS prints as `eth`
/// after the conntrack fields.
inline std::string with_eth_packet_type(const std::string& s) {
  size_t p = s.find("recirc_id=");
  if (p == std::string::npos) return s;
  p = s.find_first_of(", ", p);
  while (p != std::string::npos && s[p] == ',') {
    std::string_view next = std::string_view(s).substr(p + 1);
    if (next.substr(0, 8) != "conj_id=" && next.substr(0, 3) != "ct_") break;
    p = s.find_first_of(", ", p + 1);
  }
  if (p == std::string::npos) return s + ",eth";
  return s.substr(0, p) + ",eth" + s.substr(p);
}
}  // namespace ofctl

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
  if (match_has(f.match, FieldId::kRecircId) &&
      (match_has(f.match, FieldId::kDlType) || match_has(f.match, FieldId::kDlSrc) ||
       match_has(f.match, FieldId::kDlDst) || match_has(f.match, FieldId::kVlanTci)))
    s = ofctl::with_eth_packet_type(s);
  // OpenFlow 1.0 with table ids sends 255 ("any table") for a flow without
  // table=, and prints it.
  if (proto & (ofproto::kOf10StdTid | ofproto::kOf10NxmTid) && !f.table_given) s = "table:255 " + s;
  size_t ap = s.rfind("actions=");
  return b + s.substr(0, ap) + "actions=" + ofctl::format_actions_as(f, proto);
}

/// Lowest protocol in both sets, or 0.
inline uint32_t choose_protocol_in(uint32_t usable, uint32_t allowed) {
  uint32_t both = usable & allowed;
  return both & -both;
}

inline FlowModText parse_flow_mod_text(std::string_view text, OfProtocolSet allowed,
                                       unsigned xid = 1) {
  FlowModText r;
  try {
    uint32_t usable = 0;
    OfctlFlow f = parse_flow_mod(text, usable);
    r.usable = ofproto::to_string(usable);
    uint32_t proto = choose_protocol_in(usable, allowed_protocols(allowed));
    if (!proto) throw Error(std::string(ofctl::trim(text)) + ": no usable protocol");
    r.ok = true;
    r.message = flow_mod_message(f, proto, xid);
  } catch (const Error& e) {
    r.error = e.what();
  }
  return r;
}

/// What `ovs-ofctl parse-flows FILE` prints: `out` on stdout, `error`
/// ("FILE:LINE: reason" or "no usable protocol") and status 1 on failure.
struct ParseFlowsOutput {
  std::string out, error;
  int status = 0;
};

/// `lines` as read from the file (comments from '#' and blank lines are
/// skipped, line numbers kept); `allowed` an ofproto bit set (-O).
inline ParseFlowsOutput parse_flows_file(const std::vector<std::string>& lines, uint32_t allowed,
                                         std::string_view file_name) {
  ParseFlowsOutput r;
  std::vector<OfctlFlow> flows;
  uint32_t usable_all = ofproto::kAny;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    line = ofctl::trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    try {
      uint32_t usable = 0;
      flows.push_back(parse_flow_mod(line, usable));
      usable_all &= usable;
    } catch (const Error& e) {
      r.error = std::string(file_name) + ":" + std::to_string(i + 1) + ": " + e.what();
      r.status = 1;
      return r;
    }
  }
  r.out = "usable protocols: " + ofproto::to_string(usable_all) + "\n";
  uint32_t proto = choose_protocol_in(usable_all, allowed);
  if (!proto) {
    r.error = "no usable protocol";
    r.status = 1;
    return r;
  }
  r.out += "chosen protocol: " + ofproto::name(proto) + "\n";
  unsigned xid = 0;
  for (const auto& f : flows) r.out += flow_mod_message(f, proto, ++xid) + "\n";
  return r;
}

/// The protocols of an -O list ("OpenFlow10,OpenFlow13"); 0 when it names
/// a version we do not print (1.1, 1.2, 1.4, 1.5) or no version at all.
inline uint32_t protocols_from_versions(std::string_view list) {
  uint32_t set = 0;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view v = ofctl::trim(list.substr(0, comma));
    if (v == "OpenFlow10")
      set |= ofproto::kOf10Any;
    else if (v == "OpenFlow13")
      set |= ofproto::kOf13;
    else
      return 0;
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return set;
}

}  // namespace flowpath
