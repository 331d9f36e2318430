// flowpath/bridge/xlate_actions.hpp — the OpenFlow actions and NORMAL of
// translation (the member functions declared in xlate.hpp).
//
// NORMAL, as Open vSwitch's (checked against it by tests/differential): a
// frame whose VLAN TPID has no tag after it is dropped; the ingress port's
// VLAN mode decides the packet's VLAN (an access port drops frames with a
// VID; priority-tagged ones are fine); frames to reserved MACs (STP, LLDP,
// pause, 802.1X, Cisco's: l2/reserved_mac.hpp) are dropped; a unicast
// source is learned (a multicast one is not, but the frame is forwarded);
// a known destination is output to its port (dropped if that is the
// ingress port); anything else floods to every port of the VLAN except the
// ingress; each output is tagged or untagged by the output port's mode and
// keeps the frame's TPID and PCP.
#pragma once

#include "flowpath/bridge/xlate.hpp"
#include "flowpath/flow/fields.hpp"
#include "flowpath/l2/reserved_mac.hpp"

namespace flowpath {

inline bool Xlate::do_action(const OfAction& a, uint8_t table_id) {
  if (trace_) {
    PortNamer namer = port_namer();
    line(ofctl::format_one_action(a, &namer));
  }
  auto& v0 = flow_.vlans[0];
  auto set_vid_pcp = [&](uint16_t clear, uint16_t bits) {
    if (!(v0.tci.host() & kVlanCfi)) {  // no tag: push one, as OVS does
      flow_.vlans[1] = v0;
      v0.tpid = Be16{kEthTypeVlan};
      v0.tci = Be16{kVlanCfi};
    }
    v0.tci = Be16{uint16_t((v0.tci.host() & ~clear) | bits | kVlanCfi)};
  };
  switch (a.type) {
    case OfActionType::kOutput:
      if (a.port == kOfppController) {
        const bool miss_flow = rule_ && rule_->priority == 0 && rule_->match == Match{};
        to_controller(miss_flow ? PacketInReason::kExplicitMiss : PacketInReason::kAction, table_id,
                      rule_ ? rule_->cookie : ~0ull, a.u16);
      } else {
        output_ofport(a.port);
      }
      break;
    case OfActionType::kSetVlanVid:
      pin([](FlowMask& w) { w.vlans[0].tci = Be16{uint16_t(kVlanVidMask | kVlanCfi)}; });
      set_vid_pcp(kVlanVidMask, uint16_t(a.u16 & kVlanVidMask));
      break;
    case OfActionType::kSetVlanPcp:
      pin([](FlowMask& w) { w.vlans[0].tci = Be16{uint16_t(kVlanPcpMask | kVlanCfi)}; });
      set_vid_pcp(kVlanPcpMask, uint16_t((a.u16 & 7) << kVlanPcpShift));
      break;
    case OfActionType::kStripVlan:
      out_.mask.vlans[0].tci = Be16::from_raw(0xffff);
      flow_.vlans[0] = flow_.vlans[1];
      flow_.vlans[1] = VlanHeader{};
      break;
    case OfActionType::kPushVlan:
      // The new tag is VID 0, PCP 0 (Open vSwitch's push_vlan; it does not
      // copy the outer tag's fields): mod_vlan_vid/pcp that follow set it.
      flow_.vlans[1] = v0;
      v0.tpid = Be16{a.u16};
      v0.tci = Be16{kVlanCfi};
      break;
    case OfActionType::kSetDlSrc:
      pin([](FlowMask& w) { w.dl_src.b.fill(0xff); });
      flow_.dl_src = a.mac;
      break;
    case OfActionType::kSetDlDst:
      pin([](FlowMask& w) { w.dl_dst.b.fill(0xff); });
      flow_.dl_dst = a.mac;
      break;
    case OfActionType::kSetNwSrc:
    case OfActionType::kSetNwDst:
      if (!is_ip(true)) break;  // OVS: IPv4 only (not ARP)
      pin([&](FlowMask& w) {
        (a.type == OfActionType::kSetNwSrc ? w.nw_src : w.nw_dst) = Be32::from_raw(~0u);
      });
      (a.type == OfActionType::kSetNwSrc ? flow_.nw_src : flow_.nw_dst) = Be32{a.ipv4};
      break;
    case OfActionType::kSetNwTos:
      if (!is_ip()) break;
      pin([](FlowMask& w) { w.nw_tos = 0xfc; });
      flow_.nw_tos = uint8_t((flow_.nw_tos & 3) | (a.u16 & 0xfc));
      break;
    case OfActionType::kSetTpSrc:
    case OfActionType::kSetTpDst:
      if (!is_ip()) break;
      out_.mask.nw_frag |= kFragAny | kFragLater;  // read just below
      if (flow_.nw_frag & kFragLater) break;       // OVS: no ports to set
      pin([&](FlowMask& w) {
        (a.type == OfActionType::kSetTpSrc ? w.tp_src : w.tp_dst) = Be16::from_raw(0xffff);
      });
      (a.type == OfActionType::kSetTpSrc ? flow_.tp_src : flow_.tp_dst) = Be16{a.u16};
      break;
    case OfActionType::kSetNwTtl:
      if (!is_ip()) break;
      pin([](FlowMask& w) { w.nw_ttl = 0xff; });
      flow_.nw_ttl = uint8_t(a.u16);
      break;
    case OfActionType::kDecTtl:
      return dec_ttl(a);
    case OfActionType::kSetField:
      if (field_info(a.field).space == FieldSpace::kKey)
        pin([&](FlowMask& w) { apply_set_field_mask(a, w); });
      apply_set_field(a, flow_, meta_);
      break;
    case OfActionType::kMove:
      move(a);
      break;
    case OfActionType::kCt:
      conntrack(a);
      break;
    case OfActionType::kCtClear:
      ct_clear();
      break;
    case OfActionType::kConjunction:
      break;  // a clause never wins a lookup itself
    case OfActionType::kResubmit: {
      uint32_t saved = flow_.in_port;
      const bool saved_miss = honor_miss_;
      if (a.port != kOfppInPort) flow_.in_port = a.port;
      const int nest = last_action_ ? -4 : 4;  // OVS: a last resubmit is a tail call
      indent_ += nest;
      honor_miss_ = false;
      run_table(a.table == kOfTableCurrent ? table_id : a.table);
      honor_miss_ = saved_miss;
      indent_ -= nest;
      flow_.in_port = saved;
      break;
    }
    case OfActionType::kGotoTable:
      if (a.table <= table_id) {
        line("goto_table to an earlier table, dropping");
        return false;
      }
      indent_ -= 4;  // printed at the rule's level, as OVS's tail call
      run_table(a.table);
      indent_ += 4;
      return false;
  }
  return true;
}

// dec_ttl, as OVS's compose_dec_ttl: a non-IP packet is left alone; else
// the megaflow pins the TTL (and nw_proto), a TTL above 1 is decremented,
// and a TTL of 0 or 1 stops this table's actions.  OVS then sends a
// packet-in (reason invalid_ttl) to each controller id, but its default
// asynchronous configuration turns that reason off and flowpath's channel
// has no way to turn it on: the packet goes nowhere unless earlier actions
// sent it, and the datapath counts the drop as for any flow without output.
inline bool Xlate::dec_ttl(const OfAction&) {
  if (!is_ip()) return true;
  pin([](FlowMask& w) { w.nw_ttl = 0xff; });
  if (flow_.nw_ttl > 1) {
    --flow_.nw_ttl;
    return true;
  }
  line(" >> IPv4 decrement TTL exception");  // OVS's words, IPv6 too
  return false;
}

// move:SRC->DST: the bits of SRC read now; a key field read pins those
// bits in the megaflow (registers are not in it: they derive from the key),
// and so does a key field written, as every rewrite.
inline void Xlate::move(const OfAction& a) {
  U128 v = read_subfield(flow_, meta_, a.src);
  PipelineMeta unused;
  if (field_info(a.src.field).space == FieldSpace::kKey)
    write_subfield(out_.mask, unused, a.src, ~U128(0));
  if (field_info(a.dst.field).space == FieldSpace::kKey)  // a rewrite: pinned (pin_rewrite)
    pin([&](FlowMask& w) { write_subfield(w, unused, a.dst, ~U128(0)); });
  write_subfield(flow_, meta_, a.dst, v);
}

// ct(): commit what the actions changed so far, then record the hand-off.
inline void Xlate::conntrack(const OfAction& a) {
  commit_flow(flow_, base_, out_.mask, out_.actions);
  XlateCtCall c;
  c.at = out_.actions.size();
  c.args = a.ct;
  c.zone = a.ct.zone_from_field ? uint16_t(read_subfield(flow_, meta_, a.ct.zone_src)) : a.ct.zone;
  // exec(...): writes to ct_mark/ct_label, resolved against a scratch copy.
  FlowKey k = flow_;
  PipelineMeta m = meta_;
  U128 mark_mask = 0, label_mask = 0;
  for (const auto& e : a.exec) {
    if (is_nat_entry(e)) continue;  // the last nat runs: a.ct.nat
    Subfield dst = e.type == OfActionType::kMove ? e.dst : Subfield{e.field, 0, 0};
    if (e.type == OfActionType::kMove) {
      write_subfield(k, m, e.dst, read_subfield(k, m, e.src));
      (dst.field == FieldId::kCtMark ? mark_mask : label_mask) |= low_bits(e.dst.n_bits)
                                                                  << e.dst.ofs;
    } else {
      apply_set_field(e, k, m);
      (e.field == FieldId::kCtMark ? mark_mask : label_mask) |= ofctl::set_field_logical(e, true);
    }
  }
  c.mark_mask = uint32_t(mark_mask);
  c.mark = uint32_t(read_field(k, m, FieldId::kCtMark) & mark_mask);
  c.label_mask = label_mask;
  c.label = read_field(k, m, FieldId::kCtLabel) & label_mask;
  if (trace_) {  // the nested actions (nats in their place), each on its line, as OVS's trace
    PortNamer namer = port_namer();
    for (const auto& e : a.exec)
      line(is_nat_entry(e) ? ofctl::format_nat(e.ct.nat) : ofctl::format_one_action(e, &namer));
    if (a.exec.empty()) line("drop");  // OVS: an empty nested list
  }
  out_.ct_calls.push_back(c);
  FrozenState fz;
  if (a.ct.table != 255) {  // what the recirculation resumes (bridge/frozen.hpp)
    fz = FrozenState{bridge_->name(), in_port_->ofport(), flow_.in_port, a.ct.table, meta_};
    fz.meta.conj_id = Be32{}, fz.meta.ct_label = {};
    if (trace_) {
      line(
          " -> A clone of the packet is forked to recirculate. The forked pipeline will be "
          "resumed at table " +
          std::to_string(a.ct.table) + ".");
      FlowKey f = flow_;
      f.ct_zone = Be16{c.zone};
      f.ct_mark = k.ct_mark;
      f.ct_label_id = ct_label_ids().intern(m.ct_label);
      out_.trace_forks.push_back(f);
    }
  }
  line(" -> Sets the packet to an untracked state, and clears all the conntrack fields.");
  out_.freezes.push_back(std::move(fz));
  conntracked_ = false;  // the rest of this pass sees the packet untracked (OVS)
  flow_.ct_state = 0, flow_.ct_zone = Be16{}, flow_.ct_mark = Be32{}, flow_.ct_label_id = 0;
  meta_.ct_label = {};
}

// ct_clear: the packet forgets its connection.  As OVS, the datapath
// action is emitted only while the packet is tracked in this pass (it came
// back from a ct(table=T) recirculation and no ct() ran since): otherwise
// the datapath has nothing to clear.
inline void Xlate::ct_clear() {
  if (conntracked_) {
    commit_flow(flow_, base_, out_.mask, out_.actions);
    XlateCtCall c;
    c.at = out_.actions.size();
    c.clear = true;
    out_.ct_calls.push_back(c);
    out_.freezes.emplace_back();
  }
  conntracked_ = false;
  flow_.ct_state = 0, flow_.ct_zone = Be16{}, flow_.ct_mark = Be32{}, flow_.ct_label_id = 0;
  base_.ct_state = 0, base_.ct_zone = Be16{}, base_.ct_mark = Be32{}, base_.ct_label_id = 0;
  meta_.ct_label = {};
}

inline void Xlate::output_ofport(uint32_t ofport) {
  switch (ofport) {
    case kOfppNormal:
      normal();
      return;
    case kOfppFlood:
      flood(false);
      return;
    case kOfppAll:
      flood(true);
      return;
    case kOfppInPort:  // the packet's in_port now (a load or resubmit may have changed it)
      ofport = flow_.in_port;
      break;
    default:
      if (ofport == flow_.in_port) {  // OVS compares with the current in_port too
        line(" -> skipping output to input port");
        return;
      }
      break;
  }
  BridgePort* p = bridge_->port_by_ofport(ofport);
  if (!p) {
    line(" -> output to nonexistent port " + std::to_string(ofport));
    return;
  }
  output_port(*p);
}

inline void Xlate::output_port(BridgePort& port) {
  if (port.of_config & BridgePort::kNoFwd) {  // port-mod no-forward, as OVS
    line(" -> OFPPC_NO_FWD set, skipping output");
    return;
  }
  if (port.is_patch()) {
    if (!port.peer) return;
    // Counted as OVS counts patch ports: tx here, rx at the peer, by every
    // hit of the datapath flow (bridge.hpp, BridgePort::patch_tx).
    if (port.patch_tx) out_.stats.push_back(port.patch_tx);
    if (port.peer->patch_rx) out_.stats.push_back(port.peer->patch_rx);
    // The peer bridge sees the packet as it is now; its changes to the
    // logical flow do not leak back into this bridge.
    FlowKey saved = flow_;
    int saved_indent = indent_;
    indent_ += 4;
    bridge_section(*port.peer->bridge);
    enter_bridge(*port.peer->bridge, *port.peer);
    indent_ = saved_indent;
    flow_ = saved;
    return;
  }
  commit_flow(flow_, base_, out_.mask, out_.actions);
  out_.actions.push_back(DpAction::output(port.dp_port));
}

inline void Xlate::normal() {
  auto& wc = out_.mask;
  wc.vlans[0].tci = wc.vlans[0].tci | Be16{uint16_t(kVlanVidMask | kVlanCfi)};
  wc.dl_src = EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  wc.dl_dst = EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  wc.dl_type = Be16::from_raw(0xffff);
  const VlanHeader v0 = flow_.vlans[0];
  const uint16_t tci = v0.tci.host();
  const bool tagged = tci & kVlanCfi;
  const uint16_t type = flow_.dl_type.host();
  if (!tagged && (type == kEthTypeVlan || type == kEthTypeQinQ)) {
    line(" -> dropping packet with partial VLAN tag");
    return;
  }
  BridgePort* in = bridge_->port_by_ofport(flow_.in_port);  // as OVS: the current in_port
  if (!in) {
    line(" -> no input bundle, dropping");
    return;
  }
  auto vlan = in->cfg.input_vlan(tagged, uint16_t(tci & kVlanVidMask));
  if (!vlan) {
    line(" -> dropping VLAN " + std::to_string(tagged ? tci & kVlanVidMask : 0) +
         " packet received on port " + in->name() + " (not allowed by its VLAN mode)");
    return;
  }
  if (is_reserved_mac(flow_.dl_dst)) {
    line(" -> packet has reserved destination MAC, dropping");
    return;
  }
  // The frame's VLAN in the bridge keeps its TPID and PCP (a priority tag's
  // PCP too); only the VID is the port's decision.
  NormalVlan nv{tagged ? v0.tpid.host() : kEthTypeVlan, *vlan,
                uint16_t(tagged ? tci & kVlanPcpMask : 0)};
  MacTable& macs = bridge_->macs();
  if (!flow_.dl_src.is_multicast()) {  // never learned, but still forwarded
    auto known = macs.lookup(*vlan, flow_.dl_src);
    if (!known || *known != in->ofport()) {
      if (learn_) {
        macs.learn(*vlan, flow_.dl_src, in->ofport());
        out_.learned = true;
        line(" -> learned that " + ofctl::format_eth(flow_.dl_src) + " is on port " +
             in->name() + " in VLAN " + std::to_string(*vlan));
      } else {
        out_.needs_upcall = true;
      }
    }
  }
  if (auto dst = macs.lookup(*vlan, flow_.dl_dst)) {
    BridgePort* p = bridge_->port_by_ofport(*dst);
    if (p == in) {
      line(" -> learned port is input port, dropping");
      return;
    }
    if (p) {
      line(" -> forwarding to learned port");
      normal_output(*p, nv);
      return;
    }
  }
  line(flow_.dl_dst.is_multicast() ? " -> multicast or broadcast destination, flooding"
                                   : " -> no learned MAC for destination, flooding");
  for (BridgePort* p : bridge_->ports())  // not to NO_FLOOD ports (OVS: not floodable)
    if (p != in && p->cfg.includes_vlan(nv.vid) && !(p->of_config & BridgePort::kNoFlood))
      normal_output(*p, nv);
}

inline void Xlate::normal_output(BridgePort& port, const NormalVlan& nv) {
  VlanHeader saved0 = flow_.vlans[0], saved1 = flow_.vlans[1];
  const bool had_tag = saved0.tci.host() & kVlanCfi;
  const uint16_t tci = uint16_t(nv.vid | nv.pcp);
  if (port.cfg.pops_vlan(nv.vid) || tci == 0) {  // VLAN 0 without PCP: no tag
    if (had_tag) {
      flow_.vlans[0] = flow_.vlans[1];
      flow_.vlans[1] = VlanHeader{};
    }
  } else {
    if (!had_tag) flow_.vlans[1] = saved0;
    flow_.vlans[0].tpid = Be16{nv.tpid};
    flow_.vlans[0].tci = Be16{uint16_t(tci | kVlanCfi)};
  }
  output_port(port);
  flow_.vlans[0] = saved0;
  flow_.vlans[1] = saved1;
}

inline void Xlate::flood(bool all) {
  line(all ? " -> all ports" : " -> flooding");
  for (BridgePort* p : bridge_->ports())  // FLOOD skips NO_FLOOD ports, ALL does not
    if (p->ofport() != flow_.in_port && (all || !(p->of_config & BridgePort::kNoFlood)))
      output_port(*p);
}

}  // namespace flowpath
