// flowpath/action/dp_action.hpp — datapath actions.
//
// What the slow path (translation, bridge/xlate.hpp) produces for a
// megaflow and what the fast path executes on every packet of the flow
// (action/executor.hpp).  They are OVS's datapath actions: already
// resolved, no tables, no NORMAL; ports are datapath port numbers (one
// number space across all bridges of a Datapath).
//
// Connection tracking: kCt points at a DpCtSpec (the tracker's parameters
// and their dpctl text), interned by whoever translates (bridge/frozen.hpp:
// one spec object per distinct ct() call, alive as long as the Ofproto), so
// the action stays small (48 bytes, 16 of them an IPv6 address) and two
// equal ct() actions compare equal.
// kRecirc (port = recirc id) hands the packet back to the datapath for
// another pass (datapath/recirc_sink.hpp); kCtClear forgets the packet's
// connection.
//
// Thread-safety: plain values; an installed action list is immutable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flowpath/conntrack/ct_types.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

enum class DpActionType : uint8_t {
  kOutput,      // port
  kPushVlan,    // tpid, tci (PCP|VID; the CFI bit is never set on the wire)
  kPopVlan,     // outermost tag
  kSetVlanVid,  // tci: new VID of the outermost tag (push one if none)
  kSetVlanPcp,  // u8: new PCP of the outermost tag (push one if none)
  kSetEthSrc,   // mac
  kSetEthDst,   // mac
  kSetIpv4Src,  // ipv4 (host order); fixes IPv4 and L4 checksums
  kSetIpv4Dst,  // ipv4
  kSetIpv4Tos,  // u8: TOS bits under the mask `tci` (0: 0xfc, the DSCP bits, as mod_nw_tos)
  kSetIpv4Ttl,  // u8
  kSetTpSrc,    // l4_port (host order); TCP/UDP/SCTP
  kSetTpDst,    // l4_port
  kCt,          // ct: the tracker's parameters (DpCtSpec, never null)
  kCtClear,     // the packet's ct_state/zone/mark become zero
  kRecirc,      // port: recirc id; the packet (a copy unless last) takes another pass
  // IPv6 rewrites (no header checksum; not in the L4 pseudo-header).
  kSetIpv6Tclass,  // u8: traffic class bits under the mask `tci` (0xfc DSCP, 0x03 ECN)
  kSetIpv6Hlimit,  // u8: hop limit
  kSetIpv6Src,     // ipv6; fixes the TCP/UDP/ICMPv6 checksum (pseudo-header)
  kSetIpv6Dst,     // ipv6; the same (neither under a routing header with segments left)
  kSetIpv6Label,   // port: the 20-bit flow label
};

/// The parameters of one datapath ct(...) action.
struct DpCtSpec {
  ct::CtParams params;
  std::string text;  // as dpctl prints it: "ct(commit,zone=1)"
};

struct DpAction {
  DpActionType type{};
  uint8_t u8 = 0;
  uint16_t tpid = 0;
  uint16_t tci = 0;
  uint16_t l4_port = 0;
  uint32_t port = 0;
  uint32_t ipv4 = 0;
  EthAddr mac{};
  const DpCtSpec* ct = nullptr;
  Ipv6Addr ipv6{};

  static DpAction output(uint32_t port) {
    DpAction a;
    a.type = DpActionType::kOutput;
    a.port = port;
    return a;
  }
  static DpAction push_vlan(uint16_t tpid, uint16_t tci) {
    DpAction a;
    a.type = DpActionType::kPushVlan;
    a.tpid = tpid;
    a.tci = tci;
    return a;
  }
  static DpAction pop_vlan() {
    DpAction a;
    a.type = DpActionType::kPopVlan;
    return a;
  }
  static DpAction set_vlan_vid(uint16_t vid) {
    DpAction a;
    a.type = DpActionType::kSetVlanVid;
    a.tci = vid;
    return a;
  }
  static DpAction set_vlan_pcp(uint8_t pcp) {
    DpAction a;
    a.type = DpActionType::kSetVlanPcp;
    a.u8 = pcp;
    return a;
  }
  static DpAction set_eth_src(const EthAddr& m) {
    DpAction a;
    a.type = DpActionType::kSetEthSrc;
    a.mac = m;
    return a;
  }
  static DpAction set_eth_dst(const EthAddr& m) {
    DpAction a;
    a.type = DpActionType::kSetEthDst;
    a.mac = m;
    return a;
  }
  static DpAction set_ipv4_src(uint32_t ip) {
    DpAction a;
    a.type = DpActionType::kSetIpv4Src;
    a.ipv4 = ip;
    return a;
  }
  static DpAction set_ipv4_dst(uint32_t ip) {
    DpAction a;
    a.type = DpActionType::kSetIpv4Dst;
    a.ipv4 = ip;
    return a;
  }
  // The DSCP-only form keeps tci 0 (the XDP fast path's only TOS op).
  static DpAction set_ipv4_tos(uint8_t tos, uint8_t mask = 0xfc) {
    DpAction a;
    a.type = DpActionType::kSetIpv4Tos;
    a.u8 = uint8_t(tos & mask);
    a.tci = mask == 0xfc ? 0 : mask;
    return a;
  }
  static DpAction set_ipv4_ttl(uint8_t ttl) {
    DpAction a;
    a.type = DpActionType::kSetIpv4Ttl;
    a.u8 = ttl;
    return a;
  }
  static DpAction set_ipv6_tclass(uint8_t tc, uint8_t mask) {
    DpAction a;
    a.type = DpActionType::kSetIpv6Tclass;
    a.u8 = uint8_t(tc & mask);
    a.tci = mask;
    return a;
  }
  static DpAction set_ipv6_hlimit(uint8_t hl) {
    DpAction a;
    a.type = DpActionType::kSetIpv6Hlimit;
    a.u8 = hl;
    return a;
  }
  static DpAction set_ipv6_src(const Ipv6Addr& ip) {
    DpAction a;
    a.type = DpActionType::kSetIpv6Src;
    a.ipv6 = ip;
    return a;
  }
  static DpAction set_ipv6_dst(const Ipv6Addr& ip) {
    DpAction a;
    a.type = DpActionType::kSetIpv6Dst;
    a.ipv6 = ip;
    return a;
  }
  static DpAction set_ipv6_label(uint32_t label) {
    DpAction a;
    a.type = DpActionType::kSetIpv6Label;
    a.port = label & 0xfffffu;
    return a;
  }
  static DpAction set_tp_src(uint16_t port) {
    DpAction a;
    a.type = DpActionType::kSetTpSrc;
    a.l4_port = port;
    return a;
  }
  static DpAction set_tp_dst(uint16_t port) {
    DpAction a;
    a.type = DpActionType::kSetTpDst;
    a.l4_port = port;
    return a;
  }

  static DpAction conntrack(const DpCtSpec* spec) {
    DpAction a;
    a.type = DpActionType::kCt;
    a.ct = spec;
    return a;
  }
  static DpAction ct_clear() {
    DpAction a;
    a.type = DpActionType::kCtClear;
    return a;
  }
  static DpAction recirc(uint32_t id) {
    DpAction a;
    a.type = DpActionType::kRecirc;
    a.port = id;
    return a;
  }

  friend bool operator==(const DpAction&, const DpAction&) = default;
};

/// An ordered list; empty means drop.
using DpActionList = std::vector<DpAction>;

}  // namespace flowpath
