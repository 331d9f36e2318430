// flowpath/bridge/trace.hpp — `ofproto/trace`: explains what a switch
// does with a packet, bridge by bridge, table by table, rule by rule, and
// ends with the datapath actions in Open vSwitch's syntax, port names in
// place of datapath port numbers, e.g.
//   Datapath actions: push_vlan(vid=1000,pcp=0),eth2
//
// The flow is written in ovs-ofctl match syntax; `in_port` names a port of
// the traced bridge (by name or OpenFlow number).  Fields not given are
// zero.  `in_port` may be a patch port: the trace then starts
// in that port's bridge, as Open vSwitch's does.  Tracing a flow has no
// side effects (nothing is learned), as ovs-appctl ofproto/trace given a
// flow rather than a packet.
//
// A ct() prints as the datapath runs it (`ct(zone=1),recirc(0x1)`); the
// trace stops there (OVS's continuation into the recirculated pass with
// --ct-next is not done).
//
// Thread-safety: takes the Ofproto's lock.
#pragma once

#include <string>

#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/dp_format.hpp"
#include "flowpath/flow/ofctl_text.hpp"

namespace flowpath {

/// The port a trace of `m` starts at: its in_port (a name or an OpenFlow
/// number of `b`), LOCAL when absent.  Patch ports are fine: as in Open
/// vSwitch, the packet then starts in the patch port's own bridge.
inline BridgePort& trace_port(const Bridge& b, const Match& m) {
  BridgePort* in = b.port_by_ofport(m.value.in_port);
  if (!in && m.mask.in_port)
    throw Error("in_port " + std::to_string(m.value.in_port) + ": no such port on bridge " +
                b.name());
  if (!in) in = b.port_by_ofport(kOfppLocal);
  return *in;
}

/// Parses `flow_text` in `bridge`'s port namespace into a datapath key
/// (in_port = the datapath port).  Throws for a patch port, which has no
/// datapath port; trace() accepts those.
inline FlowKey trace_key(const Ofproto& of, std::string_view bridge, std::string_view flow_text) {
  Bridge& b = of.require_bridge(bridge);
  Match m = parse_match(flow_text, b.resolver());
  BridgePort& in = trace_port(b, m);
  if (in.is_patch())
    throw Error("in_port " + in.name() + " is a patch port: it has no datapath port");
  FlowKey key = m.value;
  key.in_port = in.dp_port;
  return key;
}

/// Explains `flow_text` arriving on its in_port of `bridge`.  Like
/// ovs-appctl ofproto/trace given a flow (not a packet), it has no side
/// effects: nothing is learned.
inline std::string trace(Ofproto& of, std::string_view bridge, std::string_view flow_text) {
  Bridge& b = of.require_bridge(bridge);
  Match m = parse_match(flow_text, b.resolver());
  BridgePort& in = trace_port(b, m);
  DpPortNamer namer = [&of](uint32_t dp) { return of.dp_port_name(dp); };
  XlateResult x;
  std::string body;
  of.translate_at(in, m.value, false, x, &body);
  FlowKey shown = m.value;
  shown.in_port = in.ofport();
  PortNamer ofnamer = b.namer();
  std::string out = "Flow: " + format_key(shown, &ofnamer) + "\n\n" + body;
  Match mega(shown, x.mask);
  out += "\nFinal flow: unchanged\n";
  out += "Megaflow: " + format_match(mega, kOfDefaultPriority, &ofnamer) + "\n";
  out += "Datapath actions: " + format_dp_actions(of.datapath_actions(x), namer) + "\n";
  return out;
}

}  // namespace flowpath
