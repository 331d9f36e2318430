// flowpath/action/frame_view.hpp — where the headers an action rewrites
// are, found from the frame bytes themselves.
//
// Actions do not trust PacketMeta offsets: an earlier action in the same
// list may have pushed or popped a tag, and a buffer's metadata may come
// from anywhere.  Re-deriving the IPv4 and L4 positions costs a few loads
// (Ethernet type, at most kMaxVlanTags tags, the IPv4 version/IHL/length/
// fragment words), every one bounds-checked against pkt.size().  A view
// with ip == nullptr means "no usable IPv4 header": the action is skipped.
//
// Cost: ~5-10 ns.  Thread-safety: none (reads one packet).
#pragma once

#include <cstdint>

#include "flowpath/core/byte_order.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

inline constexpr uint32_t kEthHeaderLen = 14;
inline constexpr uint32_t kVlanTagLen = 4;
inline constexpr uint32_t kMaxVlanTags = 4;  // deeper stacks: not IPv4 to us

/// What a per-packet action did.  kSkipped: not applicable or malformed
/// (the packet continues unchanged); kFailed: the packet cannot be
/// forwarded correctly any more (e.g. no headroom for a tag) and is dropped.
enum class ActionStatus : uint8_t { kOk, kSkipped, kFailed };

constexpr bool is_vlan_tpid(uint16_t ethertype) noexcept {
  return ethertype == kEthTypeVlan || ethertype == kEthTypeQinQ;
}

struct Ipv4View {
  uint8_t* ip = nullptr;     // IPv4 header; nullptr: none or malformed
  uint8_t* l4 = nullptr;     // L4 header; nullptr: later fragment or none
  uint32_t ip_hlen = 0;      // IHL * 4
  uint32_t l4_avail = 0;     // L4 bytes present in the frame (<= IP length)
  bool l4_complete = false;  // the whole L4 segment (per IPv4 total length) is present
  uint8_t proto = 0;
};

/// Offset of the Ethernet type after all VLAN tags, or 0 if the frame is too
/// short (the type field is 2 bytes at the returned offset).
inline uint32_t inner_ethertype_offset(const Packet& pkt) noexcept {
  uint32_t off = 12;
  for (uint32_t tags = 0;; ++tags) {
    if (pkt.size() < off + 2) return 0;
    if (!is_vlan_tpid(load_be16(pkt.data() + off)) || tags == kMaxVlanTags) return off;
    off += kVlanTagLen;
  }
}

/// Finds the IPv4 header and (first fragment only) its L4 header.
inline Ipv4View locate_ipv4(Packet& pkt) noexcept {
  Ipv4View v;
  uint32_t type_off = inner_ethertype_offset(pkt);
  if (type_off == 0 || load_be16(pkt.data() + type_off) != kEthTypeIpv4) return v;
  uint32_t ip_off = type_off + 2;
  if (pkt.size() < ip_off + 20) return v;
  uint8_t* ip = pkt.data() + ip_off;
  uint32_t hlen = (ip[0] & 0x0f) * 4u;
  uint32_t total = load_be16(ip + 2);
  if ((ip[0] >> 4) != 4 || hlen < 20 || total < hlen || pkt.size() < ip_off + hlen) return v;
  v.ip = ip;
  v.ip_hlen = hlen;
  v.proto = ip[9];
  if ((load_be16(ip + 6) & 0x1fff) != 0) return v;  // later fragment: no L4 header
  uint32_t frame_avail = pkt.size() - ip_off;
  uint32_t ip_avail = total < frame_avail ? total : frame_avail;
  v.l4 = ip + hlen;
  v.l4_avail = ip_avail - hlen;
  v.l4_complete = total <= frame_avail;
  return v;
}

}  // namespace flowpath
