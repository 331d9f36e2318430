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
// Every rewrite pins the bits it writes when it runs (pin_rewrite): commit
// only emits what differs, so without the pin a packet that already held
// the new value would make a megaflow that skips the rewrite for all.
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

/// The mask of a TOS / traffic class rewrite, as OVS's commit: the bits
/// the megaflow pins (every action pins what it writes, a match what it
/// read: OVS writes the field under its wildcard mask), plus the DSCP (0xfc)
/// and ECN (0x03) parts that differ.  So `set_field:1->nw_ecn` alone is
/// tos=0x1/0x3, and after mod_nw_tos too the whole byte.  0: no rewrite.
inline uint8_t tos_mask(uint8_t want, uint8_t have, const FlowMask& wc) noexcept {
  const uint8_t diff = uint8_t(want ^ have);
  if (!diff) return 0;
  return uint8_t(wc.nw_tos | (diff & 0xfc ? 0xfc : 0) | (diff & 0x03 ? 0x03 : 0));
}

/// IPv4 address, TOS (DSCP and ECN) and TTL rewrites.  As OVS's
/// commit_set_nw_action, a packet with nw_proto 0 gets none (no L3 header in
/// OVS's eyes), so a megaflow that would rewrite pins nw_proto.
inline void commit_ipv4(const FlowKey& flow, FlowKey& base, FlowMask& wc, DpActionList& out) {
  if (flow.nw_src == base.nw_src && flow.nw_dst == base.nw_dst && flow.nw_tos == base.nw_tos &&
      flow.nw_ttl == base.nw_ttl)
    return;
  wc.nw_proto = 0xff;
  if (flow.nw_proto == 0) return;
  if (flow.nw_src != base.nw_src) out.push_back(DpAction::set_ipv4_src(flow.nw_src.host()));
  if (flow.nw_dst != base.nw_dst) out.push_back(DpAction::set_ipv4_dst(flow.nw_dst.host()));
  if (const uint8_t mask = tos_mask(flow.nw_tos, base.nw_tos, wc))
    out.push_back(DpAction::set_ipv4_tos(flow.nw_tos, mask));
  if (flow.nw_ttl != base.nw_ttl) out.push_back(DpAction::set_ipv4_ttl(flow.nw_ttl));
  base.nw_src = flow.nw_src, base.nw_dst = flow.nw_dst;
  base.nw_tos = flow.nw_tos, base.nw_ttl = flow.nw_ttl;
}

/// IPv6 rewrites, as OVS's commit_set_ipv6_action: addresses, flow label,
/// traffic class and hop limit (mod_nw_tos, ip_dscp, nw_ecn, nw_ttl act on
/// IPv6 too), as a masked set: only what changed is written, and the DSCP
/// and ECN parts of the traffic class are separate fields.  As OVS's
/// commit_set_nw_action, a packet with nw_proto 0 (no L3 header in OVS's
/// eyes) gets no rewrite, so a megaflow that rewrites pins nw_proto.
inline void commit_ipv6(const FlowKey& flow, FlowKey& base, FlowMask& wc, DpActionList& out) {
  if (flow.nw_tos == base.nw_tos && flow.nw_ttl == base.nw_ttl && flow.ipv6_src == base.ipv6_src &&
      flow.ipv6_dst == base.ipv6_dst && flow.ipv6_label == base.ipv6_label)
    return;
  wc.nw_proto = 0xff;
  if (flow.nw_proto == 0) return;
  if (flow.ipv6_src != base.ipv6_src) out.push_back(DpAction::set_ipv6_src(flow.ipv6_src));
  if (flow.ipv6_dst != base.ipv6_dst) out.push_back(DpAction::set_ipv6_dst(flow.ipv6_dst));
  if (flow.ipv6_label != base.ipv6_label)
    out.push_back(DpAction::set_ipv6_label(flow.ipv6_label.host()));
  base.ipv6_src = flow.ipv6_src, base.ipv6_dst = flow.ipv6_dst, base.ipv6_label = flow.ipv6_label;
  if (const uint8_t mask = tos_mask(flow.nw_tos, base.nw_tos, wc); mask)
    out.push_back(DpAction::set_ipv6_tclass(flow.nw_tos, mask));
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

/// What a header rewrite pins in the megaflow, at the action, as OVS's
/// do_xlate_actions un-wildcards the bits an action writes (`written`).
/// Without it a packet that already carries the value commits nothing, and
/// its megaflow, blind to the field, catches later packets with other values
/// and forwards them unrewritten.  A rewrite of an IP or L4 field of an IP
/// packet pins nw_proto too (what OVS 3.1 shows, even when the rewrite is
/// never committed): the commit above skips IP rewrites when nw_proto is 0.
inline void pin_rewrite(const FlowKey& flow, const FlowMask& written, FlowMask& wc) noexcept {
  mask_union(wc, written);
  const uint16_t type = flow.dl_type.host();
  if (type != kEthTypeIpv4 && type != kEthTypeIpv6) return;
  FlowMask ip{};
  ip.nw_src = ip.nw_dst = Be32::from_raw(0xffffffffu);
  ip.ipv6_src.b.fill(0xff), ip.ipv6_dst.b.fill(0xff);
  ip.ipv6_label = Be32::from_raw(0xffffffffu);
  ip.nw_tos = ip.nw_ttl = 0xff;
  ip.tp_src = ip.tp_dst = Be16::from_raw(0xffff);
  if (!(masked(written, ip) == FlowKey{})) wc.nw_proto = 0xff;
}

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
  if (type == kEthTypeIpv4) xlate_detail::commit_ipv4(flow, base, wc, out);
  if (type == kEthTypeIpv6) xlate_detail::commit_ipv6(flow, base, wc, out);
  if (type == kEthTypeIpv4 || type == kEthTypeIpv6) xlate_detail::commit_l4_ports(flow, base, out);
}

}  // namespace flowpath
