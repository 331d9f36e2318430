// flowpath/datapath/dp_format.hpp — datapath flows and actions as text,
// in the syntax of `ovs-appctl dpctl/dump-flows` (OVS's ODP format).
//
//   format_dp_actions(actions, port_name)
//     "push_vlan(vid=1000,pcp=0),3"; "pop_vlan"; "set(eth(src=..,dst=..))";
//     "set(ipv4(src=..,dst=..,tos=..,ttl=..))"; "set(tcp(src=..))"; output
//     as the bare port (or port_name(port) when given); "drop" when empty.
//     Consecutive sets of one header merge into one set(), as OVS commits
//     them.  ct(...) as its DpCtSpec's text, recirc(0x1), ct_clear.
//     Set-VLAN actions, which OVS expresses as pop+push, print as
//     set(vlan(vid=..)) / set(vlan(pcp=..)).
//   format_megaflow_match(match, port_name)
//     "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=..,dst=..),
//      eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,frag=no),udp(dst=53)"
//     Only fields with mask bits are printed; a partial mask is printed as
//     value/mask.  A tagged match prints eth_type(0x8100),vlan(..),
//     encap(eth_type(..),..) as OVS does.
//   format_megaflow(entry, now_ms, port_name)
//     match + ", packets:N, bytes:N, used:0.500s, actions:..."
//
// Boundary code: allocates strings.  Thread-safety: pure functions.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "flowpath/classify/megaflow_entry.hpp"
#include "flowpath/datapath/dp_format_match.hpp"

namespace flowpath {

namespace dp_format_detail {

inline bool same_header(DpActionType a, DpActionType b) noexcept {
  auto cls = [](DpActionType t) {
    switch (t) {
      case DpActionType::kSetEthSrc:
      case DpActionType::kSetEthDst:
        return 1;
      case DpActionType::kSetIpv4Src:
      case DpActionType::kSetIpv4Dst:
      case DpActionType::kSetIpv4Tos:
      case DpActionType::kSetIpv4Ttl:
        return 2;
      case DpActionType::kSetTpSrc:
      case DpActionType::kSetTpDst:
        return 3;
      case DpActionType::kSetIpv6Tclass:
      case DpActionType::kSetIpv6Hlimit:
      case DpActionType::kSetIpv6Src:
      case DpActionType::kSetIpv6Dst:
      case DpActionType::kSetIpv6Label:
        return 4;
      default:
        return 0;
    }
  };
  return cls(a) != 0 && cls(a) == cls(b);
}

inline std::string set_field(const DpAction& a) {
  using dp_format_detail::ip4;
  using dp_format_detail::mac;
  switch (a.type) {
    case DpActionType::kSetEthSrc:
      return "src=" + mac(a.mac);
    case DpActionType::kSetEthDst:
      return "dst=" + mac(a.mac);
    case DpActionType::kSetIpv4Src:
      return "src=" + ip4(a.ipv4);
    case DpActionType::kSetIpv4Dst:
      return "dst=" + ip4(a.ipv4);
    case DpActionType::kSetIpv4Tos:  // masked unless the whole byte, as OVS prints it
      return "tos=" + hex(a.u8) + (a.tci == 0xff ? "" : "/" + hex(uint8_t(a.tci ? a.tci : 0xfc)));
    case DpActionType::kSetIpv4Ttl:
      return "ttl=" + std::to_string(a.u8);
    case DpActionType::kSetIpv6Tclass:  // masked unless the whole byte, as OVS prints it
      return "tclass=" + hex(a.u8) + (a.tci == 0xff ? "" : "/" + hex(uint8_t(a.tci)));
    case DpActionType::kSetIpv6Hlimit:
      return "hlimit=" + std::to_string(a.u8);
    case DpActionType::kSetIpv6Src:
      return "src=" + dp_format_detail::ip6(a.ipv6);
    case DpActionType::kSetIpv6Dst:
      return "dst=" + dp_format_detail::ip6(a.ipv6);
    case DpActionType::kSetIpv6Label:
      return "label=" + hex(a.port);
    case DpActionType::kSetTpSrc:
      return "src=" + std::to_string(a.l4_port);
    case DpActionType::kSetTpDst:
      return "dst=" + std::to_string(a.l4_port);
    default:
      return "";
  }
}

}  // namespace dp_format_detail

/// Datapath actions in OVS syntax.  nw_proto picks tcp/udp/sctp for L4
/// port rewrites (default tcp).
inline std::string format_dp_actions(const DpActionList& actions, const DpPortNamer& port_name = {},
                                     uint8_t nw_proto = kIpProtoTcp) {
  using namespace dp_format_detail;
  if (actions.empty()) return "drop";
  std::string out;
  for (size_t i = 0; i < actions.size(); ++i) {
    const DpAction& a = actions[i];
    if (!out.empty()) out += ',';
    switch (a.type) {
      case DpActionType::kOutput:
        out += port_name ? port_name(a.port) : std::to_string(a.port);
        continue;
      case DpActionType::kPushVlan:
        out += "push_vlan(";
        if (a.tpid != 0x8100) out += "tpid=" + hex(a.tpid) + ",";
        out += "vid=" + std::to_string(a.tci & kVlanVidMask) +
               ",pcp=" + std::to_string(a.tci >> kVlanPcpShift) + ")";
        continue;
      case DpActionType::kPopVlan:
        out += "pop_vlan";
        continue;
      case DpActionType::kSetVlanVid:
        out += "set(vlan(vid=" + std::to_string(a.tci & kVlanVidMask) + "))";
        continue;
      case DpActionType::kSetVlanPcp:
        out += "set(vlan(pcp=" + std::to_string(a.u8) + "))";
        continue;
      case DpActionType::kCt:
        out += a.ct ? a.ct->text : "ct";
        continue;
      case DpActionType::kCtClear:
        out += "ct_clear";
        continue;
      case DpActionType::kRecirc:
        out += "recirc(" + hex_or_zero(a.port) + ")";
        continue;
      default:
        break;
    }
    const char* hdr = "eth";
    if (a.type >= DpActionType::kSetIpv4Src && a.type <= DpActionType::kSetIpv4Ttl) hdr = "ipv4";
    if (a.type >= DpActionType::kSetIpv6Tclass && a.type <= DpActionType::kSetIpv6Label)
      hdr = "ipv6";
    if (a.type == DpActionType::kSetTpSrc || a.type == DpActionType::kSetTpDst)
      hdr = nw_proto == kIpProtoUdp ? "udp" : nw_proto == kIpProtoSctp ? "sctp" : "tcp";
    out += std::string("set(") + hdr + "(" + set_field(a);
    while (i + 1 < actions.size() && same_header(a.type, actions[i + 1].type))
      out += "," + set_field(actions[++i]);
    out += "))";
  }
  return out;
}

/// `packets:N, bytes:N, used:X.XXXs` (or used:never), as OVS prints them.
inline std::string format_flow_stats(uint64_t packets, uint64_t bytes, int64_t used_ms,
                                     int64_t now_ms) {
  char buf[96];
  std::string out =
      "packets:" + std::to_string(packets) + ", bytes:" + std::to_string(bytes) + ", used:";
  if (used_ms == 0) return out + "never";
  std::snprintf(buf, sizeof buf, "%.3fs", double(now_ms - used_ms) / 1000.0);
  return out + buf;
}

/// One line of `ovs-appctl dpctl/dump-flows`.
inline std::string format_megaflow(const MegaflowEntry& e, int64_t now_ms,
                                   const DpPortNamer& port_name = {}) {
  std::string out = format_megaflow_match(e.match, port_name);
  out += ", " + format_flow_stats(e.packets, e.bytes, e.used_ms, now_ms);
  out += ", actions:" + format_dp_actions(e.actions, port_name, e.match.value.nw_proto);
  return out;
}

}  // namespace flowpath
