// flowpath/bridge/xlate_commit.hpp — turning changes of the logical flow
// into datapath actions.
//
// Translation keeps two keys: `flow`, what OpenFlow actions have made of the
// packet so far, and `base`, what the packet in the datapath looks like
// given the datapath actions already emitted.  Before every output,
// commit() emits the actions that turn base into flow (VLAN pops/pushes,
// Ethernet/IPv4/IPv6/L4 rewrites) and sets base = flow for those fields, so an
// action list only carries the changes that matter to some output, once.
//
// VLAN changes un-wildcard the packet's original VLAN headers: a push
// copies the PCP the packet had, so the megaflow must pin it (as OVS does).
//
// Cost: a few compares per output; control path only.
#pragma once

#include "flowpath/action/dp_action.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

namespace xlate_detail {

inline int vlan_depth(const FlowKey& k) noexcept {
  int n = 0;
  while (n < 2 && (k.vlans[n].tci.host() & kVlanCfi)) ++n;
  return n;
}

inline DpAction push_of(const VlanHeader& v) {
  uint16_t tpid = v.tpid.host() ? v.tpid.host() : kEthTypeVlan;
  return DpAction::push_vlan(tpid, uint16_t(v.tci.host() & ~kVlanCfi));
}

inline void commit_vlans(const FlowKey& flow, FlowKey& base, FlowMask& wc, DpActionList& out) {
  if (flow.vlans[0] == base.vlans[0] && flow.vlans[1] == base.vlans[1]) return;
  wc.vlans[0] = VlanHeader{Be16::from_raw(0xffff), Be16::from_raw(0xffff)};
  wc.vlans[1] = VlanHeader{Be16::from_raw(0xffff), Be16::from_raw(0xffff)};
  int nb = vlan_depth(base), nf = vlan_depth(flow);
  if (nf == nb - 1 && (nf == 0 || flow.vlans[0] == base.vlans[1])) {
    out.push_back(DpAction::pop_vlan());
  } else if (nf == nb + 1 && (nb == 0 || flow.vlans[1] == base.vlans[0])) {
    out.push_back(push_of(flow.vlans[0]));
  } else {
    for (int i = 0; i < nb; ++i) out.push_back(DpAction::pop_vlan());
    for (int i = nf - 1; i >= 0; --i) out.push_back(push_of(flow.vlans[i]));
  }
  base.vlans[0] = flow.vlans[0];
  base.vlans[1] = flow.vlans[1];
}

/// IPv4 address, TOS and TTL rewrites.
inline void commit_ipv4(const FlowKey& flow, FlowKey& base, DpActionList& out) {
  auto set32 = [&](DpActionType t, Be32 want, Be32& have) {
    if (want == have) return;
    DpAction a;
    a.type = t;
    a.ipv4 = want.host();
    out.push_back(a);
    have = want;
  };
  set32(DpActionType::kSetIpv4Src, flow.nw_src, base.nw_src);
  set32(DpActionType::kSetIpv4Dst, flow.nw_dst, base.nw_dst);
  auto set8 = [&](DpActionType t, uint8_t want, uint8_t& have) {
    if (want == have) return;
    DpAction a;
    a.type = t;
    a.u8 = want;
    out.push_back(a);
    have = want;
  };
  if ((flow.nw_tos & 0xfc) != (base.nw_tos & 0xfc)) {
    set8(DpActionType::kSetIpv4Tos, uint8_t(flow.nw_tos & 0xfc), base.nw_tos);
    base.nw_tos = flow.nw_tos;
  }
  set8(DpActionType::kSetIpv4Ttl, flow.nw_ttl, base.nw_ttl);
}

/// IPv6 traffic class and hop limit rewrites: OVS's commit_set_ipv6_action
/// rewrites both (mod_nw_tos, ip_dscp, nw_ecn, nw_ttl act on IPv6 too), as a
/// masked set: the DSCP and ECN parts of the traffic class are separate
/// fields, so only the part that changed is written.  As OVS's
/// commit_set_nw_action, a packet with nw_proto 0 (no L3 header in OVS's
/// eyes) gets no rewrite, so a megaflow that rewrites pins nw_proto.
inline void commit_ipv6(const FlowKey& flow, FlowKey& base, FlowMask& wc, DpActionList& out) {
  if (flow.nw_tos == base.nw_tos && flow.nw_ttl == base.nw_ttl) return;
  wc.nw_proto = 0xff;
  if (flow.nw_proto == 0) return;
  const uint8_t diff = uint8_t(flow.nw_tos ^ base.nw_tos);
  const uint8_t mask = uint8_t((diff & 0xfc ? 0xfc : 0) | (diff & 0x03 ? 0x03 : 0));
  if (mask) out.push_back(DpAction::set_ipv6_tclass(flow.nw_tos, mask));
  base.nw_tos = flow.nw_tos;
  if (flow.nw_ttl != base.nw_ttl) out.push_back(DpAction::set_ipv6_hlimit(flow.nw_ttl));
  base.nw_ttl = flow.nw_ttl;
}

/// TCP/UDP/SCTP port rewrites, under IPv4 and IPv6 alike (as OVS's
/// commit_set_port_action: ports are rewritten in both).
inline void commit_l4_ports(const FlowKey& flow, FlowKey& base, DpActionList& out) {
  if (flow.nw_frag & kFragLater) return;  // later fragments carry no ports
  uint8_t p = flow.nw_proto;
  if (p != kIpProtoTcp && p != kIpProtoUdp && p != kIpProtoSctp) return;
  auto set16 = [&](DpActionType t, Be16 want, Be16& have) {
    if (want == have) return;
    DpAction a;
    a.type = t;
    a.l4_port = want.host();
    out.push_back(a);
    have = want;
  };
  set16(DpActionType::kSetTpSrc, flow.tp_src, base.tp_src);
  set16(DpActionType::kSetTpDst, flow.tp_dst, base.tp_dst);
}

}  // namespace xlate_detail

/// Emits the datapath actions that turn `base` into `flow`; base := flow.
inline void commit_flow(const FlowKey& flow, FlowKey& base, FlowMask& wc, DpActionList& out) {
  xlate_detail::commit_vlans(flow, base, wc, out);
  auto set_mac = [&](DpActionType t, const EthAddr& want, EthAddr& have) {
    if (want == have) return;
    DpAction a;
    a.type = t;
    a.mac = want;
    out.push_back(a);
    have = want;
  };
  set_mac(DpActionType::kSetEthSrc, flow.dl_src, base.dl_src);
  set_mac(DpActionType::kSetEthDst, flow.dl_dst, base.dl_dst);
  const uint16_t type = flow.dl_type.host();
  if (type == kEthTypeIpv4) xlate_detail::commit_ipv4(flow, base, out);
  if (type == kEthTypeIpv6) xlate_detail::commit_ipv6(flow, base, wc, out);
  if (type == kEthTypeIpv4 || type == kEthTypeIpv6) xlate_detail::commit_l4_ports(flow, base, out);
}

}  // namespace flowpath
