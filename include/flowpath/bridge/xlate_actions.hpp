// flowpath/bridge/xlate_actions.hpp — the OpenFlow actions and NORMAL of
// translation (the member functions declared in xlate.hpp).
//
// NORMAL, as Open vSwitch's: the ingress port's VLAN mode decides the
// packet's VLAN (an access port drops tagged frames); a multicast source is
// dropped; the source is learned; a known unicast destination is output to
// its port (dropped if that is the ingress port); anything else floods to
// every port of the VLAN except the ingress; each output is tagged or
// untagged by the output port's mode.
#pragma once

#include "flowpath/bridge/xlate.hpp"
#include "flowpath/flow/fields.hpp"

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
      output_ofport(a.port);
      break;
    case OfActionType::kSetVlanVid:
      set_vid_pcp(kVlanVidMask, uint16_t(a.u16 & kVlanVidMask));
      break;
    case OfActionType::kSetVlanPcp:
      set_vid_pcp(kVlanPcpMask, uint16_t((a.u16 & 7) << kVlanPcpShift));
      break;
    case OfActionType::kStripVlan:
      out_.mask.vlans[0].tci = Be16::from_raw(0xffff);
      flow_.vlans[0] = flow_.vlans[1];
      flow_.vlans[1] = VlanHeader{};
      break;
    case OfActionType::kPushVlan:
      flow_.vlans[1] = v0;
      v0.tpid = Be16{a.u16};
      v0.tci = Be16{uint16_t(kVlanCfi | (v0.tci.host() & ~kVlanCfi))};
      break;
    case OfActionType::kSetDlSrc: flow_.dl_src = a.mac; break;
    case OfActionType::kSetDlDst: flow_.dl_dst = a.mac; break;
    case OfActionType::kSetNwSrc: flow_.nw_src = Be32{a.ipv4}; break;
    case OfActionType::kSetNwDst: flow_.nw_dst = Be32{a.ipv4}; break;
    case OfActionType::kSetNwTos:
      flow_.nw_tos = uint8_t((flow_.nw_tos & 3) | (a.u16 & 0xfc));
      break;
    case OfActionType::kSetTpSrc: flow_.tp_src = Be16{a.u16}; break;
    case OfActionType::kSetTpDst: flow_.tp_dst = Be16{a.u16}; break;
    case OfActionType::kSetField: apply_set_field(a, flow_); break;
    case OfActionType::kResubmit: {
      uint32_t saved = flow_.in_port;
      if (a.port != kOfppInPort) flow_.in_port = a.port;
      indent_ += 4;
      run_table(a.table == kOfTableCurrent ? table_id : a.table);
      indent_ -= 4;
      flow_.in_port = saved;
      break;
    }
    case OfActionType::kGotoTable:
      if (a.table <= table_id) {
        line("goto_table to an earlier table, dropping");
        return false;
      }
      run_table(a.table);
      return false;
  }
  return true;
}

inline void Xlate::output_ofport(uint32_t ofport) {
  switch (ofport) {
    case kOfppNormal: normal(); return;
    case kOfppFlood: flood(false); return;
    case kOfppAll: flood(true); return;
    case kOfppInPort: output_port(*in_port_); return;
    default: break;
  }
  BridgePort* p = bridge_->port_by_ofport(ofport);
  if (!p) {
    line(" -> output to nonexistent port " + std::to_string(ofport));
    return;
  }
  if (p == in_port_) {
    line(" -> skipping output to input port");
    return;
  }
  output_port(*p);
}

inline void Xlate::output_port(BridgePort& port) {
  if (port.is_patch()) {
    if (!port.peer) return;
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
  wc.vlans[0] = VlanHeader{Be16::from_raw(0xffff), Be16::from_raw(0xffff)};
  wc.dl_src = EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  wc.dl_dst = EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  uint16_t tci = flow_.vlans[0].tci.host();
  bool tagged = tci & kVlanCfi;
  auto vlan = in_port_->cfg.input_vlan(tagged, uint16_t(tci & kVlanVidMask));
  if (!vlan) {
    line(" -> dropping VLAN " + std::to_string(tagged ? tci & kVlanVidMask : 0) +
         " packet received on port " + in_port_->name() + " (not allowed by its VLAN mode)");
    return;
  }
  if (flow_.dl_src.is_multicast()) {
    line(" -> dropping packet with multicast source address");
    return;
  }
  MacTable& macs = bridge_->macs();
  auto known = macs.lookup(*vlan, flow_.dl_src);
  if (!known || *known != in_port_->ofport()) {
    if (learn_) {
      macs.learn(*vlan, flow_.dl_src, in_port_->ofport());
      out_.learned = true;
      line(" -> learned that " + ofctl::format_eth(flow_.dl_src) + " is on port " + in_port_->name() +
           " in VLAN " + std::to_string(*vlan));
    } else {
      out_.needs_upcall = true;
    }
  }
  if (!flow_.dl_dst.is_multicast()) {
    if (auto dst = macs.lookup(*vlan, flow_.dl_dst)) {
      BridgePort* p = bridge_->port_by_ofport(*dst);
      if (p == in_port_) {
        line(" -> learned port is input port, dropping");
        return;
      }
      if (p) {
        line(" -> forwarding to learned port");
        normal_output(*p, *vlan);
        return;
      }
    }
    line(" -> no learned MAC for destination, flooding");
  } else {
    line(" -> multicast or broadcast destination, flooding");
  }
  for (BridgePort* p : bridge_->ports())
    if (p != in_port_) normal_output(*p, *vlan);
}

inline void Xlate::normal_output(BridgePort& port, uint16_t vlan) {
  auto how = port.cfg.output_tag(vlan);
  if (how == PortConfig::OutputTag::kNone) return;
  VlanHeader saved0 = flow_.vlans[0], saved1 = flow_.vlans[1];
  bool had_tag = saved0.tci.host() & kVlanCfi;
  if (how == PortConfig::OutputTag::kUntagged) {
    if (had_tag) {
      flow_.vlans[0] = flow_.vlans[1];
      flow_.vlans[1] = VlanHeader{};
    }
  } else {
    uint16_t pcp = had_tag ? uint16_t(saved0.tci.host() & kVlanPcpMask) : 0;
    if (!had_tag) flow_.vlans[1] = saved0;
    flow_.vlans[0].tpid = had_tag ? saved0.tpid : Be16{kEthTypeVlan};
    flow_.vlans[0].tci = Be16{uint16_t(pcp | kVlanCfi | vlan)};
  }
  output_port(port);
  flow_.vlans[0] = saved0;
  flow_.vlans[1] = saved1;
}

inline void Xlate::flood(bool all) {
  line(all ? " -> all ports" : " -> flooding");
  for (BridgePort* p : bridge_->ports())
    if (p != in_port_) output_port(*p);
}

}  // namespace flowpath
