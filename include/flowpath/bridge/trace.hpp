// flowpath/bridge/trace.hpp — `ofproto/trace`: explains what a switch
// does with a packet, bridge by bridge, table by table, rule by rule, and
// ends with the datapath actions in Open vSwitch's syntax, port names in
// place of datapath port numbers, e.g.
//   Datapath actions: push_vlan(vid=1000,pcp=0),eth2
//
// The flow is written in ovs-ofctl match syntax; `in_port` names a port of
// the traced bridge (by name or OpenFlow number).  Fields not given are
// zero.  Tracing learns MAC addresses like a real packet would (as
// ovs-appctl ofproto/trace does).
//
// Thread-safety: takes the Ofproto's lock.
#pragma once

#include <string>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/dp_format.hpp"
#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath {

/// Parses `flow_text` in `bridge`'s port namespace into a datapath key.
inline FlowKey trace_key(const Ofproto& of, std::string_view bridge, std::string_view flow_text) {
  Bridge& b = of.require_bridge(bridge);
  Match m = parse_match(flow_text, b.resolver());
  FlowKey key = m.value;
  BridgePort* in = b.port_by_ofport(key.in_port);
  if (!in) in = b.port_by_ofport(kOfppLocal);
  if (in->is_patch())
    throw Error("in_port " + in->name() + " is a patch port; trace from the bridge it leads to");
  key.in_port = in->dp_port;
  return key;
}

inline std::string trace(Ofproto& of, std::string_view bridge, std::string_view flow_text) {
  FlowKey key = trace_key(of, bridge, flow_text);
  DpPortNamer namer = [&of](uint32_t dp) { return of.dp_port_name(dp); };
  XlateResult x;
  std::string body;
  of.translate(key, true, x, &body);
  FlowKey shown = key;
  shown.in_port = of.dp_port(key.in_port)->ofport();
  Bridge& b = *of.dp_port(key.in_port)->bridge;
  PortNamer ofnamer = b.namer();
  std::string out = "Flow: " + format_key(shown, &ofnamer) + "\n\n" + body;
  Match mega(shown, x.mask);
  out += "\nFinal flow: unchanged\n";
  out += "Megaflow: " + format_match(mega, kOfDefaultPriority, &ofnamer) + "\n";
  out += "Datapath actions: " + format_dp_actions(x.actions, namer) + "\n";
  return out;
}

}  // namespace flowpath
