// flowpath/parse/layers.hpp — the per-layer steps of the parser (internal;
// include flowpath/parse/parser.hpp).
//
// Each step reads one header at a known offset, checks it against the frame
// size first, fills its key fields and meta offset, and returns false when
// the frame is malformed.  The common path (Ethernet, VLAN, IPv4, L4) is
// forced inline so that parse_packet is one straight function; IPv6, ARP and
// ND are out of line to keep that function small.
// Thread-safety: pure functions over their arguments.
#pragma once

#include <cstdint>
#include <cstring>

#include "flowpath/core/packet.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/parse/headers.hpp"

namespace flowpath {

inline constexpr uint32_t kMaxIpv6ExtHeaders = 8;  // RFC 8200 order has at most 7

namespace parse_detail {

// Frame bytes [0, end) plus the key and metadata being filled.
struct Frame {
  const uint8_t* p;
  uint32_t size;
  FlowKey& key;
  PacketMeta& meta;
};

// Zeroes the key with plain vector stores: a memset of 120 bytes becomes
// `rep stos` under some -march tunings, which costs more than the parse.
[[gnu::always_inline]] inline void zero_key(FlowKey& key) noexcept {
  struct Words {
    uint64_t w[FlowKey::kWords];
  };
  static_assert(sizeof(Words) == sizeof(FlowKey));
  static constexpr Words kZero{};
  std::memcpy(static_cast<void*>(&key), &kZero, sizeof key);
}

inline void set_icmp_type_code(FlowKey& key, const uint8_t* h) noexcept {
  key.tp_src = Be16{h[0]};
  key.tp_dst = Be16{h[1]};
}

// Neighbor Solicitation/Advertisement at h, `left` bytes of ICMPv6 message.
[[gnu::noinline]] inline bool parse_nd(const uint8_t* h, uint32_t left, FlowKey& key) noexcept {
  if (left < sizeof(NdMessage)) return false;
  const auto* nd = header_at<NdMessage>(h);
  std::memcpy(key.nd_target.b.data(), nd->target, 16);
  const uint8_t type = nd->icmp.type;
  for (uint32_t off = sizeof(NdMessage); off < left;) {
    if (left - off < sizeof(NdOptLinkAddr)) return false;
    const auto* opt = header_at<NdOptLinkAddr>(h + off);
    const uint32_t opt_len = uint32_t(opt->len) * 8;
    if (opt_len == 0 || opt_len > left - off) return false;
    if (opt->len == 1) {
      if (opt->type == kNdOptSourceLinkAddr && type == kNdNeighborSolicit)
        std::memcpy(key.arp_sha.b.data(), opt->addr, 6);
      else if (opt->type == kNdOptTargetLinkAddr && type == kNdNeighborAdvert)
        std::memcpy(key.arp_tha.b.data(), opt->addr, 6);
    }
    off += opt_len;
  }
  return true;
}

// L4 header at `off`, `end` = end of the IP payload (<= frame size).
// `fragment`: a first fragment may legitimately stop short of its header.
[[gnu::always_inline]] inline bool parse_l4(Frame& f, uint32_t off, uint32_t end, uint8_t proto,
                                            bool v6, bool fragment) noexcept {
  f.meta.l4 = uint16_t(off);
  const uint8_t* h = f.p + off;
  const uint32_t left = end - off;
  FlowKey& key = f.key;
  if (proto == kIpProtoUdp) [[likely]] {
    if (left < sizeof(UdpHeader)) [[unlikely]]
      return fragment;
    std::memcpy(&key.tp_src, h, 4);  // src and dst ports, adjacent in both
    return true;
  }
  if (proto == kIpProtoTcp) {
    if (left < sizeof(TcpHeader)) [[unlikely]]
      return fragment;
    const uint16_t off_flags = header_at<TcpHeader>(h)->off_flags.host();
    const uint32_t doff = uint32_t(off_flags >> 12) * 4;
    if (doff < sizeof(TcpHeader) || doff > left) [[unlikely]]
      return fragment;
    std::memcpy(&key.tp_src, h, 4);
    key.tcp_flags = Be16{uint16_t(off_flags & kTcpFlagsMask)};
    return true;
  }
  if (proto == kIpProtoSctp) {
    if (left < sizeof(SctpHeader)) return fragment;
    std::memcpy(&key.tp_src, h, 4);
    return true;
  }
  if (proto == kIpProtoIcmp && !v6) {
    if (left < sizeof(IcmpHeader)) return fragment;
    set_icmp_type_code(key, h);
    return true;
  }
  if (proto == kIpProtoIcmpv6 && v6) {
    if (left < sizeof(Icmpv6Header)) return fragment;
    set_icmp_type_code(key, h);
    if ((h[0] == kNdNeighborSolicit || h[0] == kNdNeighborAdvert) && h[1] == 0)
      return parse_nd(h, left, key) || fragment;
    return true;
  }
  return true;  // an IP protocol without ports: nothing more to read
}

[[gnu::always_inline]] inline bool parse_ipv4(Frame& f, uint32_t off) noexcept {
  f.meta.l3 = uint16_t(off);
  const uint32_t left = f.size - off;
  if (left < sizeof(Ipv4Header)) [[unlikely]]
    return false;
  const auto* ip = header_at<Ipv4Header>(f.p + off);
  const uint32_t ihl = uint32_t(ip->ver_ihl & 0x0f) * 4;
  if ((ip->ver_ihl >> 4) != 4 || ihl < sizeof(Ipv4Header) || ihl > left) [[unlikely]]
    return false;
  FlowKey& key = f.key;
  std::memcpy(&key.nw_src, ip->src, 8);  // src, dst adjacent in both
  key.nw_proto = ip->proto;
  key.nw_tos = ip->tos;
  key.nw_ttl = ip->ttl;
  bool later = false;
  if ((ip->frag_off.be() & Be16{kIpv4Mf | kIpv4FragOffsetMask}) != Be16{}) [[unlikely]] {
    later = (ip->frag_off.host() & kIpv4FragOffsetMask) != 0;
    key.nw_frag = uint8_t(kFragAny | (later ? kFragLater : 0));
  }
  const uint32_t tot = ip->tot_len.host();
  if (tot < ihl || tot > left) [[unlikely]]
    return false;
  if (later) return true;  // later fragments carry no L4 header
  return parse_l4(f, off + ihl, off + tot, ip->proto, false, key.nw_frag != 0);
}

// Walks the extension headers from `off`; returns false on a broken chain.
// On success `off`/`nh` are the upper-layer header and its protocol.
inline bool walk_ipv6_ext(Frame& f, uint32_t& off, uint32_t end, uint8_t& nh,
                          bool& later) noexcept {
  for (uint32_t n = 0;; ++n) {
    if (nh != kIp6HopByHop && nh != kIp6Routing && nh != kIp6DestOpts && nh != kIp6Ah &&
        nh != kIp6Fragment)
      return true;
    if (n == kMaxIpv6ExtHeaders || end - off < sizeof(Ipv6ExtHeader)) return false;
    const uint8_t* h = f.p + off;
    if (nh == kIp6Fragment) {
      const auto* fh = header_at<Ipv6FragHeader>(h);
      f.key.nw_frag = kFragAny;
      nh = fh->next;
      off += sizeof(Ipv6FragHeader);
      if (fh->offset_flags.host() & kIp6FragOffsetMask) {
        f.key.nw_frag |= kFragLater;
        later = true;
        return true;
      }
      continue;
    }
    const auto* eh = header_at<Ipv6ExtHeader>(h);
    const uint32_t len = nh == kIp6Ah ? (uint32_t(eh->len) + 2) * 4 : (uint32_t(eh->len) + 1) * 8;
    if (len > end - off) return false;
    nh = eh->next;
    off += len;
  }
}

// Out of line, with the frame passed in registers, so that the common
// IPv4 path keeps its Frame in registers too.
[[gnu::noinline]] inline bool parse_ipv6(const uint8_t* p, uint32_t size, FlowKey& k, PacketMeta& m,
                                         uint32_t off) noexcept {
  Frame f{p, size, k, m};
  f.meta.l3 = uint16_t(off);
  const uint32_t left = f.size - off;
  if (left < sizeof(Ipv6Header)) [[unlikely]]
    return false;
  const auto* ip = header_at<Ipv6Header>(f.p + off);
  const uint32_t vtf = ip->ver_tc_flow.host();
  if ((vtf >> 28) != 6) [[unlikely]]
    return false;
  FlowKey& key = f.key;
  std::memcpy(key.ipv6_src.b.data(), ip->src, 32);  // src, dst adjacent in both
  key.ipv6_label = Be32{vtf & 0xfffff};
  key.nw_tos = uint8_t(vtf >> 20);
  key.nw_ttl = ip->hop_limit;
  const uint32_t plen = ip->payload_len.host();
  if (plen > left - sizeof(Ipv6Header)) [[unlikely]]
    return false;
  const uint32_t end = off + sizeof(Ipv6Header) + plen;
  off += sizeof(Ipv6Header);
  uint8_t nh = ip->next;
  bool later = false;
  if (!walk_ipv6_ext(f, off, end, nh, later)) [[unlikely]]
    return false;
  key.nw_proto = nh;
  if (later) return true;
  return parse_l4(f, off, end, nh, true, key.nw_frag != 0);
}

[[gnu::noinline]] inline bool parse_arp(const uint8_t* p, uint32_t size, FlowKey& k, PacketMeta& m,
                                        uint32_t off) noexcept {
  Frame f{p, size, k, m};
  f.meta.l3 = uint16_t(off);
  if (f.size - off < sizeof(ArpHeader)) return false;
  const auto* arp = header_at<ArpHeader>(f.p + off);
  if (arp->htype.host() != 1 || arp->ptype.host() != kEthTypeIpv4 || arp->hlen != 6 ||
      arp->plen != 4)
    return true;  // another hardware/protocol pair: valid, but no fields
  FlowKey& key = f.key;
  const uint16_t op = arp->op.host();
  if (op <= 0xff) key.nw_proto = uint8_t(op);  // as OVS: larger opcodes match as 0
  std::memcpy(key.arp_sha.b.data(), arp->sha, 6);
  std::memcpy(&key.nw_src, arp->spa, 4);
  std::memcpy(key.arp_tha.b.data(), arp->tha, 6);
  std::memcpy(&key.nw_dst, arp->tpa, 4);
  return true;
}

// EtherTypes are compared in network order (constants swapped at compile
// time), so the common path never byte-swaps them.
inline bool is_vlan_tpid(Be16 t) noexcept {
  return t == Be16{kEthTypeVlan} || t == Be16{kEthTypeQinQ};
}

// VLAN tags from `off` (the first TPID).  Returns false when malformed; on
// return `type` is the ethertype after the tags and `off` the L3 offset.
[[gnu::always_inline]] inline bool parse_vlans(Frame& f, uint32_t& off, Be16& type) noexcept {
  f.meta.l2_5 = uint16_t(off);
  for (int i = 0; i < 2; ++i) {
    // A tag counts when its TCI and the following EtherType are present.
    if (f.size - off < sizeof(VlanTag) + 2) [[unlikely]]
      return false;
    const auto* tag = header_at<VlanTag>(f.p + off);
    f.key.vlans[i].tpid = type;
    f.key.vlans[i].tci = tag->tci.be() | Be16{kVlanCfi};
    off += sizeof(VlanTag);
    type = header_at<WireBe16>(f.p + off)->be();
    if (!is_vlan_tpid(type)) [[likely]] {
      off += 2;
      return true;
    }
  }
  return false;  // a third tag: keep two, dl_type = its TPID
}

[[gnu::always_inline]] inline bool parse_frame(Frame& f) noexcept {
  if (f.size < sizeof(EthHeader)) [[unlikely]]
    return false;
  const auto* eth = header_at<EthHeader>(f.p);
  std::memcpy(f.key.dl_dst.b.data(), eth->dst, 12);  // dl_dst, dl_src adjacent in both
  Be16 type = eth->type.be();
  uint32_t off = sizeof(EthHeader);
  if (is_vlan_tpid(type)) {
    off -= 2;
    const bool ok = parse_vlans(f, off, type);
    f.key.dl_type = type;
    if (!ok) [[unlikely]]
      return false;
  } else {
    f.key.dl_type = type;
  }
  if (type == Be16{kEthTypeIpv4}) [[likely]]
    return parse_ipv4(f, off);
  if (type == Be16{kEthTypeIpv6}) return parse_ipv6(f.p, f.size, f.key, f.meta, off);
  if (type == Be16{kEthTypeArp} || type == Be16{kEthTypeRarp})
    return parse_arp(f.p, f.size, f.key, f.meta, off);
  if (type.host() < kEthTypeMin) f.key.dl_type = Be16{uint16_t(0x05ff)};  // 802.3: OVS's value
  return true;
}

}  // namespace parse_detail

}  // namespace flowpath
