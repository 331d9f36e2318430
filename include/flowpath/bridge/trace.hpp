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
// A ct(table=T) continues as OVS's trace does: after the first pass, each
// recirculation it queued is traced in turn under a banner
//   recirc(0x1) - resume conntrack with default ct_state=trk|new (use
//   --ct-next to customize)
// with the flow as it was at the ct(): recirc_id, ct_state (the next of the
// `--ct-next` states given, else trk|new), ct_zone the ct()'s zone,
// ct_mark/ct_label as its exec(...) left them; translation resumes in table
// T with the registers frozen at the ct() (bridge/frozen.hpp), exactly as
// the datapath's next pass would.  Passes that recirculate again queue
// their own (first in, first out, as OVS).  A ct() with nat rewrites the
// resumed flow as OVS's trace simulates it (the range's first address and
// port, "Replacing src/dst IP/ports to simulate NAT:" in the banner).
//
// Thread-safety: takes the Ofproto's lock.
#pragma once

#include <cstdio>
#include <deque>
#include <string>
#include <vector>

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

/// A `--ct-next` argument: ct_state flags by name, separated by `,` or `|`
/// (`trk,est`, `+trk+est` too), as ovs-appctl ofproto/trace takes them.
inline uint8_t parse_ct_next(std::string_view s) {
  uint8_t flags = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find_first_of(",|+", i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view name = s.substr(i, j - i);
    i = j + 1;
    if (name.empty()) continue;
    int bit = -1;
    for (int b = 0; b < 8; ++b)
      if (name == ofctl::kCtStateNames[b]) bit = b;
    if (bit < 0)
      throw Error("--ct-next " + std::string(s) + ": " + std::string(name) +
                  ": unknown ct_state flag");
    flags |= uint8_t(1u << bit);
  }
  if (!flags) throw Error("--ct-next " + std::string(s) + ": no ct_state flags");
  return flags;
}

namespace trace_detail {

/// `key` as OVS's trace prints a flow or megaflow: recirc_id and the ct_*
/// fields first, `eth`, then the rest (the ct_label from its id; the
/// non-zero registers of `regs` when given).
inline std::string format_pass(const FlowKey& key, const FlowMask& mask, const PortNamer& namer,
                               bool with_recirc, const PipelineMeta* regs = nullptr) {
  Match ct;
  ct.value.recirc_id = key.recirc_id, ct.mask.recirc_id = with_recirc ? ~0u : 0;
  ct.value.ct_state = key.ct_state & mask.ct_state, ct.mask.ct_state = mask.ct_state;
  ct.value.ct_zone = key.ct_zone, ct.mask.ct_zone = mask.ct_zone;
  ct.value.ct_mark = key.ct_mark, ct.mask.ct_mark = mask.ct_mark;
  if (mask.ct_label_id) {
    ct.meta_value.ct_label = ct_label_ids().label(key.ct_label_id).value_or(CtLabelBytes{});
    ct.meta_mask.ct_label.fill(0xff);
  }
  ct.normalize();
  FlowKey rest_mask = mask;
  rest_mask.recirc_id = 0, rest_mask.ct_state = 0, rest_mask.ct_zone = Be16{};
  rest_mask.ct_mark = Be32{}, rest_mask.ct_label_id = 0;
  Match rest(key, rest_mask);
  for (size_t r = 0; regs && r < kNumRegs; ++r)
    if (regs->regs[r].host())
      rest.meta_value.regs[r] = regs->regs[r], rest.meta_mask.regs[r] = Be32{~0u};
  std::string a = format_match(ct, kOfDefaultPriority, &namer);
  std::string b = format_match(rest, kOfDefaultPriority, &namer);
  if (a.empty()) return b;
  return a + ",eth" + (b.empty() ? "" : "," + b);
}

/// The flow of a pass as OVS's trace shows it (every present field, the
/// ct_* fields when set).
inline FlowMask flow_mask(const FlowKey& key);
/// A flow line: `key` with `regs`, recirc_id when not 0.
inline std::string format_flow(const FlowKey& key, const PipelineMeta& regs,
                               const PortNamer& namer);
inline FlowMask flow_mask(const FlowKey& key) {
  FlowMask m = key_presence_mask(key);
  put_field(m, FieldId::kVlanTci, ~0ull);  // vlan_tci=0x0000 when untagged, as OVS
  m.ct_state = key.ct_state ? 0xff : 0;
  m.ct_zone = key.ct_zone.host() ? Be16{0xffff} : Be16{};
  m.ct_mark = key.ct_mark.host() ? Be32{0xffffffffu} : Be32{};
  m.ct_label_id = key.ct_label_id ? ~0u : 0;
  return m;
}

inline std::string format_flow(const FlowKey& key, const PipelineMeta& regs,
                               const PortNamer& namer) {
  return format_pass(key, flow_mask(key), namer, key.recirc_id != 0, &regs);
}

struct Fork {
  FlowKey flow;         // in_port: OpenFlow's, for printing
  PipelineMeta regs;    // the registers frozen at the ct()
  uint32_t recirc = 0;  // its id
  NatArgs nat;          // the ct()'s nat (the last nested one), kNone without
};

/// The L3/L4 addresses OVS's trace shows around a simulated NAT, in the
/// nat range's family (nothing for a nat without a range).
inline std::string nat_flow_text(const FlowKey& f, const NatArgs& n) {
  if (!n.has_addr) return "";
  auto port = [](Be16 p) { return std::to_string(p.host()); };
  if (n.v6)
    return "ipv6_src=[" + ofctl::format_ipv6(f.ipv6_src) + "],tp_src=" + port(f.tp_src) +
           ",ipv6_dst=[" + ofctl::format_ipv6(f.ipv6_dst) + "],tp_dst=" + port(f.tp_dst);
  return "nw_src=" + ofctl::format_ipv4(f.nw_src.host()) + ",tp_src=" + port(f.tp_src) +
         ",nw_dst=" + ofctl::format_ipv4(f.nw_dst.host()) + ",tp_dst=" + port(f.tp_dst);
}

/// OVS's trace does not run the tracker: it rewrites the resumed flow as
/// the nat's range would at its start (first address, first port when a
/// port range is given; the port even for ICMP, whose type/code sit in
/// tp_src/tp_dst, as OVS), whatever the --ct-next state.  Returns the
/// banner's lines about it ("" without a nat).
inline std::string simulate_nat(FlowKey& f, const NatArgs& n) {
  if (n.kind == NatArgs::kNone) return "";
  std::string out = "Replacing src/dst IP/ports to simulate NAT:\n Initial flow: ";
  out += nat_flow_text(f, n) + "\n Modified flow: ";
  const bool src = n.kind == NatArgs::kSrc;
  if ((src || n.kind == NatArgs::kDst) && n.has_addr) {
    if (n.v6) {
      (src ? f.ipv6_src : f.ipv6_dst) = n.addr_min;
    } else {
      const auto& b = n.addr_min.b;
      (src ? f.nw_src : f.nw_dst) =
          Be32{uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3]};
    }
    if (n.has_ports) (src ? f.tp_src : f.tp_dst) = Be16{n.port_min};
  }
  return out + nat_flow_text(f, n) + "\n";
}

/// The recirculations of a pass, in order: each ct(table=T)'s flow and
/// registers with the id its recirc() got.
inline void queue_forks(const XlateResult& x, const DpActionList& acts, std::deque<Fork>& q) {
  std::vector<Fork> forks;
  for (size_t k = 0, j = 0; k < x.ct_calls.size() && j < x.trace_forks.size(); ++k)
    if (!x.ct_calls[k].clear && x.ct_calls[k].args.table != 255)
      forks.push_back(Fork{x.trace_forks[j++], x.freezes[k].meta, 0, x.ct_calls[k].args.nat});
  size_t n = 0;
  for (const DpAction& a : acts)
    if (a.type == DpActionType::kRecirc && n < forks.size()) {
      forks[n].recirc = a.port;
      q.push_back(forks[n++]);
    }
}

/// The lines between passes, as OVS's: which recirculation, with what
/// ct_state, and the simulated NAT (`nat`: simulate_nat()'s lines).
inline std::string banner(uint32_t recirc, uint8_t ct_state, bool given, const std::string& nat) {
  char id[32];
  std::snprintf(id, sizeof id, "recirc(%#x)", recirc);
  std::string out = "\n" + std::string(79, '=') + "\n" + id;
  if (given) {
    Match st;
    st.value.ct_state = ct_state, st.mask.ct_state = 0xff;
    out += " - resume conntrack with " + format_match(st);
  } else {
    out += " - resume conntrack with default ct_state=trk|new (use --ct-next to customize)";
  }
  return out + "\n" + nat + std::string(79, '=') + "\n\n";
}

}  // namespace trace_detail

/// Explains `flow_text` arriving on its in_port of `bridge`.  Like
/// ovs-appctl ofproto/trace given a flow (not a packet), it has no side
/// effects: nothing is learned.  A ct(table=T) is followed into the passes
/// the datapath would run after it; `ct_next` are the ct_states their
/// packets come back with, in order (then trk|new), as `--ct-next`.
inline std::string trace(Ofproto& of, std::string_view bridge, std::string_view flow_text,
                         std::vector<uint8_t> ct_next = {}) {
  using namespace trace_detail;
  Bridge& b = of.require_bridge(bridge);
  Match m = parse_match(flow_text, b.resolver());
  BridgePort& in = trace_port(b, m);
  DpPortNamer namer = [&of](uint32_t dp) { return of.dp_port_name(dp); };
  PortNamer ofnamer = b.namer();
  FlowKey first = m.value;
  first.ct_label_id = ct_label_ids().intern(m.meta_value.ct_label);
  std::deque<Fork> queue;  // OVS's recirc_queue
  size_t next_state = 0;
  std::string out;
  for (bool first_pass = true;; first_pass = false) {
    XlateResult x;
    std::string body;
    FlowKey shown;
    PipelineMeta regs{};
    if (first_pass) {
      of.translate_at(in, first, false, x, &body);
      shown = first;
      shown.in_port = in.ofport();
    } else {
      Fork f = queue.front();
      queue.pop_front();
      const bool given = next_state < ct_next.size();
      f.flow.ct_state = given ? ct_next[next_state++] : uint8_t(kCsTracked | kCsNew);
      f.flow.recirc_id = f.recirc;
      const std::string nat = simulate_nat(f.flow, f.nat);
      out += banner(f.recirc, f.flow.ct_state, given, nat);
      FlowKey key = f.flow;
      key.in_port = in.dp_port;
      of.translate(key, false, x, &body);
      shown = f.flow;
      regs = f.regs;
    }
    const DpActionList acts = of.datapath_actions(x);
    queue_forks(x, acts, queue);
    FlowMask mega = x.mask;
    mega.in_port = ~0u;
    const std::string flow = format_flow(shown, regs, ofnamer);
    FlowKey last = x.trace_final.first;
    last.recirc_id = shown.recirc_id;
    const std::string final_flow = format_flow(last, x.trace_final.second, ofnamer);
    out += "Flow: " + flow + "\n\n" + body;
    out += "\nFinal flow: " + (final_flow == flow ? std::string("unchanged") : final_flow) + "\n";
    out += "Megaflow: " + format_pass(shown, mega, ofnamer, true) + "\n";
    out += "Datapath actions: " + format_dp_actions(acts, namer) + "\n";
    if (queue.empty()) return out;
  }
}

/// ofproto/trace's arguments: BRIDGE FLOW... [--ct-next STATES]... (the
/// flow's words joined with commas, as ovs-appctl passes them split).
inline std::string trace_args(Ofproto& of, const std::vector<std::string>& args) {
  std::vector<uint8_t> ct_next;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--ct-next") {
      if (i + 1 == args.size()) throw Error("--ct-next: missing ct_state argument");
      ct_next.push_back(parse_ct_next(args[++i]));
    } else {
      rest.push_back(args[i]);
    }
  }
  if (rest.size() < 2) throw Error("ofproto/trace: expected BRIDGE FLOW");
  std::string flow = rest[1];
  for (size_t i = 2; i < rest.size(); ++i) flow += "," + rest[i];
  return trace(of, rest[0], flow, std::move(ct_next));
}

}  // namespace flowpath
