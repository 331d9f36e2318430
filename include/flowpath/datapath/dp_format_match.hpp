// flowpath/datapath/dp_format_match.hpp — a megaflow match in OVS's
// datapath (ODP) flow syntax, as `ovs-appctl dpctl/dump-flows` prints it.
// See dp_format.hpp for the whole line.  Only fields with mask bits are
// printed; partial masks as value/mask (IPv4 masks dotted, as OVS).
//
// Boundary code: allocates strings.  Thread-safety: pure functions.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "flowpath/flow/ct_label_ids.hpp"
#include "flowpath/flow/match.hpp"
#include "flowpath/flow/ofctl_values.hpp"

namespace flowpath {

/// Port number -> name for printing; empty = print numbers.
// Named DpPortNamer: flow/ofctl_values.hpp has PortNamer (optional names).
using DpPortNamer = std::function<std::string(uint32_t)>;

namespace dp_format_detail {

inline std::string hex(uint32_t v, int digits = 0) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%0*x", digits, v);
  return b;
}
inline std::string mac(const EthAddr& a) {
  char b[24];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", a.b[0], a.b[1], a.b[2], a.b[3],
                a.b[4], a.b[5]);
  return b;
}
inline std::string ip4(uint32_t host) {
  return std::to_string(host >> 24) + "." + std::to_string(host >> 16 & 255) + "." +
         std::to_string(host >> 8 & 255) + "." + std::to_string(host & 255);
}
inline std::string ip6(const Ipv6Addr& a) {
  char b[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.b.data(), b, sizeof b);
  return b;
}

// Collects "name=value[/mask]" items of one attribute.
struct Attr {
  std::string body;
  template <class T, class F>
  void add(const char* name, const T& v, const T& m, const T& full, F&& fmt) {
    if (m == T{}) return;
    if (!body.empty()) body += ',';
    body += name;
    body += '=';
    body += fmt(v);
    if (!(m == full)) body += "/" + fmt(m);
  }
  void emit(std::string& out, const char* attr) const {
    if (body.empty()) return;
    out += std::string(",") + attr + "(" + body + ")";
  }
};

inline std::string dec(uint32_t v) { return std::to_string(v); }
// OVS prints these with C's "%#x", which writes zero as a bare "0".
inline std::string hex2(uint32_t v) { return v ? hex(v) : "0"; }

inline void format_l3_l4(std::string& out, const FlowKey& v, const FlowKey& m) {
  const EthAddr kMacFull{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  Ipv6Addr v6full;
  v6full.b.fill(0xff);
  auto u8 = [](uint8_t x) { return uint32_t(x); };
  auto frag = [](uint32_t f) -> std::string {
    return (f & kFragAny) ? ((f & kFragLater) ? "later" : "first") : "no";
  };
  const uint16_t type = v.dl_type.host();
  Attr l3;
  if (type == kEthTypeIpv4) {
    l3.add("src", v.nw_src.host(), m.nw_src.host(), 0xffffffffu, ip4);
    l3.add("dst", v.nw_dst.host(), m.nw_dst.host(), 0xffffffffu, ip4);
  } else if (type == kEthTypeIpv6) {
    l3.add("src", v.ipv6_src, m.ipv6_src, v6full, ip6);
    l3.add("dst", v.ipv6_dst, m.ipv6_dst, v6full, ip6);
    l3.add("label", v.ipv6_label.host(), m.ipv6_label.host(), 0xfffffu, hex2);
  } else if (type == kEthTypeArp || type == kEthTypeRarp) {
    l3.add("sip", v.nw_src.host(), m.nw_src.host(), 0xffffffffu, ip4);
    l3.add("tip", v.nw_dst.host(), m.nw_dst.host(), 0xffffffffu, ip4);
    l3.add("op", u8(v.nw_proto), u8(m.nw_proto), 0xffu, dec);
    l3.add("sha", v.arp_sha, m.arp_sha, kMacFull, mac);
    l3.add("tha", v.arp_tha, m.arp_tha, kMacFull, mac);
    l3.emit(out, type == kEthTypeArp ? "arp" : "rarp");
    return;
  } else {
    return;
  }
  l3.add("proto", u8(v.nw_proto), u8(m.nw_proto), 0xffu, dec);
  l3.add(type == kEthTypeIpv4 ? "tos" : "tclass", u8(v.nw_tos), u8(m.nw_tos), 0xffu, hex2);
  l3.add(type == kEthTypeIpv4 ? "ttl" : "hlimit", u8(v.nw_ttl), u8(m.nw_ttl), 0xffu, dec);
  if (m.nw_frag) l3.body += std::string(l3.body.empty() ? "" : ",") + "frag=" + frag(v.nw_frag);
  l3.emit(out, type == kEthTypeIpv4 ? "ipv4" : "ipv6");

  Attr l4;
  const char* name = nullptr;
  const char* a = "src";
  const char* b = "dst";
  switch (v.nw_proto) {
    case kIpProtoTcp:
      name = "tcp";
      break;
    case kIpProtoUdp:
      name = "udp";
      break;
    case kIpProtoSctp:
      name = "sctp";
      break;
    case kIpProtoIcmp:
      name = "icmp", a = "type", b = "code";
      break;
    case kIpProtoIcmpv6:
      name = "icmpv6", a = "type", b = "code";
      break;
    default:
      return;
  }
  if (!m.nw_proto) return;
  l4.add(a, uint32_t(v.tp_src.host()), uint32_t(m.tp_src.host()), 0xffffu, dec);
  l4.add(b, uint32_t(v.tp_dst.host()), uint32_t(m.tp_dst.host()), 0xffffu, dec);
  l4.emit(out, name);
  if (v.nw_proto == kIpProtoTcp && m.tcp_flags.host()) {
    uint32_t fv = v.tcp_flags.host(), fm = m.tcp_flags.host();
    out += ",tcp_flags(" + hex(fv, 3) + (fm == 0x0fff ? "" : "/" + hex(fm, 3)) + ")";
  }
}

// OVS's %#x: "0" for zero, else "0x..".
inline std::string hex_or_zero(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%#x", v);
  return b;
}

// ct_state(+new-est+trk), ct_zone(0x1), ct_mark(0x1/0xff), ct_label(0x1): before
// recirc_id, in the order of OVS's key attributes; only consulted bits.
inline void format_ct(std::string& out, const FlowKey& v, const FlowKey& m) {
  static constexpr const char* kNames[8] = {"new", "est", "rel",  "rpl",
                                            "inv", "trk", "snat", "dnat"};
  if (m.ct_state) {
    out += "ct_state(";
    for (int b = 0; b < 8; ++b)
      if (m.ct_state & (1u << b))
        out += std::string(v.ct_state & (1u << b) ? "+" : "-") + kNames[b];
    out += "),";
  }
  auto num = [&](const char* name, uint32_t val, uint32_t mask, uint32_t full) {
    if (!mask) return;
    out += std::string(name) + "(" + hex_or_zero(val);
    if (mask != full) out += "/" + hex_or_zero(mask);
    out += "),";
  };
  num("ct_zone", v.ct_zone.host(), m.ct_zone.host(), 0xffffu);
  num("ct_mark", v.ct_mark.host(), m.ct_mark.host(), 0xffffffffu);
  if (m.ct_label_id) {  // the label the id names, whole (ct_label_ids.hpp)
    auto l = ct_label_ids().label(v.ct_label_id);
    out += "ct_label(" + (l ? ofctl::format_u128(Ipv6Addr{*l}) : std::string("?")) + "),";
  }
}

}  // namespace dp_format_detail

/// The match part of a dpctl/dump-flows line.
inline std::string format_megaflow_match(const Match& match, const DpPortNamer& port_name = {}) {
  using namespace dp_format_detail;
  const FlowKey& v = match.value;
  const FlowKey& m = match.mask;
  const EthAddr kMacFull{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  // The key's recirc_id (0 on the first pass), as OVS prints it: %#x.
  std::string out;
  format_ct(out, v, m);
  out += v.recirc_id ? "recirc_id(" + hex(v.recirc_id, 0) + ")" : "recirc_id(0)";
  if (m.in_port) out += ",in_port(" + (port_name ? port_name(v.in_port) : dec(v.in_port)) + ")";
  out += ",packet_type(ns=0,id=0)";
  Attr eth;
  eth.add("src", v.dl_src, m.dl_src, kMacFull, mac);
  eth.add("dst", v.dl_dst, m.dl_dst, kMacFull, mac);
  eth.emit(out, "eth");

  std::string type;
  if (m.dl_type.raw) {
    type = "eth_type(" + hex(v.dl_type.host(), 4);
    if (m.dl_type.host() != 0xffff) type += "/" + hex(m.dl_type.host(), 4);
    type += ")";
  }
  const uint16_t tci = v.vlans[0].tci.host(), tci_m = m.vlans[0].tci.host();
  const bool tagged = (tci_m & kVlanCfi) && (tci & kVlanCfi);
  if (tagged) {
    uint16_t tpid = v.vlans[0].tpid.host() ? v.vlans[0].tpid.host() : kEthTypeVlan;
    Attr vlan;
    vlan.add("vid", uint32_t(tci & kVlanVidMask), uint32_t(tci_m & kVlanVidMask),
             uint32_t(kVlanVidMask), dec);
    vlan.add("pcp", uint32_t(tci >> kVlanPcpShift), uint32_t(tci_m >> kVlanPcpShift), 7u, dec);
    if (vlan.body.empty()) vlan.body = "vid=0/0,pcp=0/0";
    out += ",eth_type(" + hex(tpid, 4) + ")";
    vlan.emit(out, "vlan");
    std::string inner = type;
    format_l3_l4(inner, v, m);
    if (!inner.empty() && inner[0] == ',') inner.erase(0, 1);
    out += ",encap(" + inner + ")";
    return out;
  }
  if (!type.empty()) out += "," + type;
  if (m.dl_type.raw) format_l3_l4(out, v, m);
  return out;
}

}  // namespace flowpath
