// flowpath/action/set_field.hpp — header field rewrites with incremental
// checksum updates, in place on a Packet.
//
//   set_eth_src / set_eth_dst     6-byte store, no checksum involved
//   set_ipv4_src / set_ipv4_dst   IPv4 header checksum, and the TCP/UDP
//                                 checksum (the addresses are in its
//                                 pseudo-header); SCTP/ICMP need nothing
//   set_ipv4_tos(tos[, mask])     TOS bits under mask (default 0xfc: DSCP,
//                                 as ovs-ofctl mod_nw_tos; 0x03: ECN)
//   set_ipv4_ttl                  IPv4 header checksum
//   set_ipv6_tclass(tc, mask)     traffic class bits under mask (0xfc:
//                                 DSCP, as mod_nw_tos; 0x03: ECN)
//   set_ipv6_hlimit               hop limit
//   set_ipv6_src / set_ipv6_dst   TCP/UDP/ICMPv6 checksum (pseudo-header),
//                                 left alone under a routing header with
//                                 segments left (as OVS)
//   set_ipv6_label                the 20-bit flow label
//   set_tp_src / set_tp_dst       TCP/UDP port + checksum (RFC 1624);
//                                 SCTP port + full CRC32c recompute;
//                                 IPv4 and IPv6 alike (as Open vSwitch)
//
// IPv6 has no header checksum and neither the traffic class nor the hop
// limit is in the TCP/UDP pseudo-header, so those two rewrites touch
// nothing else (as Open vSwitch's packet_set_ipv6_tc / hop limit).
// UDP: a zero checksum means "none" and stays zero; an update that yields
// 0x0000 is stored as 0xffff (RFC 768).  On IPv6 a zero UDP checksum is
// not allowed (RFC 8200), but Open vSwitch (packet_set_udp_port) treats it
// as on IPv4 and rewrites the ports only; so do we, since the oracle's
// bytes are the contract (tests/action/set_field_ovs_test.cpp).  Ports are
// not in the pseudo-header, so an IPv6 port rewrite is the same 16-bit
// update as on IPv4.  IPv6 extension headers are walked as the parser
// walks them (parse/layers.hpp): hop-by-hop, routing, destination options,
// AH, fragment; a later fragment or a broken chain has no ports to rewrite.
// Later IPv4 fragments carry no L4 header: address rewrites fix only the
// IPv4 checksum there, port rewrites are skipped.  An SCTP port rewrite
// needs the whole segment in the frame (per the IP length), otherwise it is
// skipped.  Headers are found from the frame bytes (frame_view.hpp); a
// packet without the header (or truncated) makes the action kSkipped,
// never a crash.
//
// Cost: a locate (~5-10 ns) plus a few integer operations; SCTP ports
// ~1 ns per payload byte.  Thread-safety: none (one packet, one thread).
#pragma once

#include <cstdint>
#include <cstring>

#include "flowpath/action/checksum.hpp"
#include "flowpath/action/frame_view.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/parse/headers.hpp"

namespace flowpath {

inline ActionStatus set_eth_dst(Packet& pkt, const EthAddr& mac) noexcept {
  if (pkt.size() < kEthHeaderLen) return ActionStatus::kSkipped;
  std::memcpy(pkt.data(), mac.b.data(), 6);
  return ActionStatus::kOk;
}

inline ActionStatus set_eth_src(Packet& pkt, const EthAddr& mac) noexcept {
  if (pkt.size() < kEthHeaderLen) return ActionStatus::kSkipped;
  std::memcpy(pkt.data() + 6, mac.b.data(), 6);
  return ActionStatus::kOk;
}

namespace detail {

/// A TCP/UDP/SCTP header in the frame, under IPv4 or IPv6; l4 == nullptr:
/// none (not IP, later fragment, truncated, broken extension chain).
struct L4View {
  uint8_t* l4 = nullptr;
  uint32_t avail = 0;     // L4 bytes present (<= the IP length's end)
  bool complete = false;  // the whole L4 segment (per the IP length) is present
  uint8_t proto = 0;
  bool routing_pending = false;  // IPv6: a routing header with segments left on the way
};

inline L4View l4_of(const Ipv4View& v) noexcept {
  return {v.l4, v.l4_avail, v.l4_complete, v.proto};
}

constexpr bool is_ipv6_ext(uint8_t nh) noexcept {
  return nh == kIp6HopByHop || nh == kIp6Routing || nh == kIp6DestOpts || nh == kIp6Ah ||
         nh == kIp6Fragment;
}

/// The upper-layer header of an IPv6 packet whose header is at `off`.
inline L4View locate_ipv6_l4(Packet& pkt, uint32_t off) noexcept {
  if (pkt.size() < off + 40) return {};
  const uint8_t* ip = pkt.data() + off;
  if ((ip[0] >> 4) != 6) return {};
  const uint32_t end = off + 40 + load_be16(ip + 4);  // per the payload length
  const uint32_t limit = end < pkt.size() ? end : uint32_t(pkt.size());
  uint8_t nh = ip[6];
  off += 40;
  bool routing_pending = false;
  for (uint32_t n = 0; is_ipv6_ext(nh); ++n) {
    if (n == 8 || limit - off < 8) return {};  // at most 8, as parse/layers.hpp
    const uint8_t* h = pkt.data() + off;
    uint32_t len = nh == kIp6Ah ? (h[1] + 2u) * 4 : (h[1] + 1u) * 8;
    if (nh == kIp6Fragment) {
      if (load_be16(h + 2) & kIp6FragOffsetMask) return {};  // later fragment
      len = 8;
    }
    if (len > limit - off) return {};
    routing_pending |= nh == kIp6Routing && h[3] != 0;
    nh = h[0];
    off += len;
  }
  return {pkt.data() + off, limit - off, end <= pkt.size(), nh, routing_pending};
}

/// The L4 header under IPv4 (first fragment) or IPv6.
inline L4View locate_l4(Packet& pkt) noexcept {
  uint32_t type_off = inner_ethertype_offset(pkt);
  if (type_off == 0) return {};
  uint16_t type = load_be16(pkt.data() + type_off);
  if (type == kEthTypeIpv4) return l4_of(locate_ipv4(pkt));
  if (type == kEthTypeIpv6) return locate_ipv6_l4(pkt, type_off + 2);
  return {};
}

/// Where the TCP/UDP checksum is, or nullptr (no header / not TCP or UDP).
inline uint8_t* l4_csum_field(const L4View& v) noexcept {
  if (!v.l4) return nullptr;
  if (v.proto == kIpProtoTcp && v.avail >= 18) return v.l4 + 16;
  if (v.proto == kIpProtoUdp && v.avail >= 8) return v.l4 + 6;
  return nullptr;
}

/// Applies an incremental update to the L4 checksum, honouring UDP's
/// "zero = no checksum" rule.
template <class Update>
inline void update_l4_csum(const L4View& v, Update&& update) noexcept {
  uint8_t* f = l4_csum_field(v);
  if (!f) return;
  uint16_t c = load_be16(f);
  if (v.proto == kIpProtoUdp) {
    if (c == 0) return;
    c = update(c);
    store_be16(f, c == 0 ? uint16_t(0xffff) : c);
  } else {
    store_be16(f, update(c));
  }
}

inline ActionStatus set_ipv4_addr(Packet& pkt, uint32_t addr, uint32_t field_off) noexcept {
  Ipv4View v = locate_ipv4(pkt);
  if (!v.ip) return ActionStatus::kSkipped;
  uint32_t old = load_be32(v.ip + field_off);
  if (old == addr) return ActionStatus::kOk;
  store_be32(v.ip + field_off, addr);
  store_be16(v.ip + 10, csum_replace32(load_be16(v.ip + 10), old, addr));
  update_l4_csum(l4_of(v), [&](uint16_t c) { return csum_replace32(c, old, addr); });
  return ActionStatus::kOk;
}

/// Rewrites one 16-bit word of the IPv4 header (under `mask`).
inline ActionStatus set_ipv4_word(Packet& pkt, uint32_t off, uint16_t mask,
                                  uint16_t bits) noexcept {
  Ipv4View v = locate_ipv4(pkt);
  if (!v.ip) return ActionStatus::kSkipped;
  uint16_t old = load_be16(v.ip + off);
  uint16_t neu = uint16_t((old & ~mask) | (bits & mask));
  if (old == neu) return ActionStatus::kOk;
  store_be16(v.ip + off, neu);
  store_be16(v.ip + 10, csum_replace16(load_be16(v.ip + 10), old, neu));
  return ActionStatus::kOk;
}

/// The IPv6 header of the frame (behind its tags), or nullptr.
inline uint8_t* locate_ipv6(Packet& pkt) noexcept {
  const uint32_t type_off = inner_ethertype_offset(pkt);
  if (type_off == 0 || load_be16(pkt.data() + type_off) != kEthTypeIpv6) return nullptr;
  if (pkt.size() < type_off + 2 + 40) return nullptr;
  uint8_t* ip = pkt.data() + type_off + 2;
  return (ip[0] >> 4) == 6 ? ip : nullptr;
}

/// Rewrites ip6_src (field_off 8) or ip6_dst (24) and fixes the checksum
/// of a TCP, UDP (unless 0) or ICMPv6 header, whose pseudo-header covers it.
inline ActionStatus set_ipv6_addr(Packet& pkt, const Ipv6Addr& addr, uint32_t field_off) noexcept {
  uint8_t* ip = locate_ipv6(pkt);
  if (!ip) return ActionStatus::kSkipped;
  uint8_t* f = ip + field_off;
  if (std::memcmp(f, addr.b.data(), 16) == 0) return ActionStatus::kOk;
  // Under a routing header with segments left its final destination, not
  // ip6_dst, is in the L4 pseudo-header.  Open vSwitch (packet_rh_present
  // stops its walk there) then leaves the L4 checksum alone on every
  // address rewrite, src included; its bytes are the contract.
  L4View v = locate_ipv6_l4(pkt, uint32_t(ip - pkt.data()));
  if (v.routing_pending) v = {};
  auto update = [&](uint16_t c) {
    for (int w = 0; w < 16; w += 4) c = csum_replace32(c, load_be32(f + w), load_be32(&addr.b[w]));
    return c;
  };
  if (v.l4 && v.proto == kIpProtoIcmpv6 && v.avail >= 4)
    store_be16(v.l4 + 2, update(load_be16(v.l4 + 2)));
  else
    update_l4_csum(v, update);
  std::memcpy(f, addr.b.data(), 16);
  return ActionStatus::kOk;
}

inline ActionStatus set_sctp_port(const L4View& v, uint32_t off, uint16_t port) noexcept {
  if (!v.complete || v.avail < 12) return ActionStatus::kSkipped;
  store_be16(v.l4 + off, port);
  std::memset(v.l4 + 8, 0, 4);
  uint32_t crc = crc32c(v.l4, v.avail);
  for (int i = 0; i < 4; ++i) v.l4[8 + i] = uint8_t(crc >> (8 * i));  // LSB first
  return ActionStatus::kOk;
}

inline ActionStatus set_tp_port(Packet& pkt, uint16_t port, uint32_t off) noexcept {
  L4View v = locate_l4(pkt);
  if (!v.l4) return ActionStatus::kSkipped;
  if (v.proto == kIpProtoSctp) return set_sctp_port(v, off, port);
  if (!l4_csum_field(v)) return ActionStatus::kSkipped;
  uint16_t old = load_be16(v.l4 + off);
  if (old == port) return ActionStatus::kOk;
  store_be16(v.l4 + off, port);
  update_l4_csum(v, [&](uint16_t c) { return csum_replace16(c, old, port); });
  return ActionStatus::kOk;
}

}  // namespace detail

/// Addresses and ports are host-order values (192.0.2.1 == 0xc0000201).
inline ActionStatus set_ipv4_src(Packet& pkt, uint32_t addr) noexcept {
  return detail::set_ipv4_addr(pkt, addr, 12);
}
inline ActionStatus set_ipv4_dst(Packet& pkt, uint32_t addr) noexcept {
  return detail::set_ipv4_addr(pkt, addr, 16);
}
/// The TOS byte's bits under `mask` (default 0xfc: DSCP only, as
/// mod_nw_tos; 0x03: ECN only, as set_field:->nw_ecn); the rest is kept.
inline ActionStatus set_ipv4_tos(Packet& pkt, uint8_t tos, uint8_t mask = 0xfc) noexcept {
  return detail::set_ipv4_word(pkt, 0, mask, tos);
}
inline ActionStatus set_ipv4_ttl(Packet& pkt, uint8_t ttl) noexcept {
  return detail::set_ipv4_word(pkt, 8, 0xff00, uint16_t(ttl << 8));
}
/// The traffic class is bits 4..11 of the first 16-bit word (after the
/// version); only the bits under `mask` change, the flow label never.
inline ActionStatus set_ipv6_tclass(Packet& pkt, uint8_t tc, uint8_t mask) noexcept {
  uint8_t* ip = detail::locate_ipv6(pkt);
  if (!ip) return ActionStatus::kSkipped;
  const uint16_t m = uint16_t(mask << 4);
  store_be16(ip, uint16_t((load_be16(ip) & ~m) | ((uint16_t(tc) << 4) & m)));
  return ActionStatus::kOk;
}
inline ActionStatus set_ipv6_hlimit(Packet& pkt, uint8_t hlimit) noexcept {
  uint8_t* ip = detail::locate_ipv6(pkt);
  if (!ip) return ActionStatus::kSkipped;
  ip[7] = hlimit;
  return ActionStatus::kOk;
}
inline ActionStatus set_ipv6_src(Packet& pkt, const Ipv6Addr& addr) noexcept {
  return detail::set_ipv6_addr(pkt, addr, 8);
}
inline ActionStatus set_ipv6_dst(Packet& pkt, const Ipv6Addr& addr) noexcept {
  return detail::set_ipv6_addr(pkt, addr, 24);
}
/// The 20-bit flow label (no checksum covers it).
inline ActionStatus set_ipv6_label(Packet& pkt, uint32_t label) noexcept {
  uint8_t* ip = detail::locate_ipv6(pkt);
  if (!ip) return ActionStatus::kSkipped;
  store_be32(ip, (load_be32(ip) & 0xfff00000u) | (label & 0xfffffu));
  return ActionStatus::kOk;
}
inline ActionStatus set_tp_src(Packet& pkt, uint16_t port) noexcept {
  return detail::set_tp_port(pkt, port, 0);
}
inline ActionStatus set_tp_dst(Packet& pkt, uint16_t port) noexcept {
  return detail::set_tp_port(pkt, port, 2);
}

}  // namespace flowpath
