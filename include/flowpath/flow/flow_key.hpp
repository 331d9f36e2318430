// flowpath/flow/flow_key.hpp — the flow key: every header field the
// classifiers can match, plus the datapath metadata that survives a
// recirculation (recirc_id, ct_state/zone/mark), in one fixed 128-byte,
// 8-byte-aligned layout.
//
// Design.  Open vSwitch's `struct flow` holds ~670 bytes and a sparse
// "miniflow" to make hashing cheap.  flowpath's key covers the fields of
// Ethernet/802.1Q/802.1ad/ARP/IPv4/IPv6(+ND)/TCP/UDP/SCTP/ICMP and the
// connection-tracking metadata in 16 64-bit words, small enough to hash
// and compare densely: a masked compare of a whole key is two AVX-512 loads.
// The connection tracker's fields sit in the key because a megaflow after
// recirculation matches them (`recirc_id(1),ct_state(+est+trk)`);
// the 128-bit ct_label rides as a 32-bit id of the label
// (ct_label_id, flow/ct_label_ids.hpp: 16 more key bytes would cost every
// packet), and the OpenFlow registers are not in the key: they live in
// PipelineMeta (flow/pipeline_meta.hpp), which exists only while a packet
// is translated (docs/flow-syntax.md, "Where the new fields live").  Fields are grouped so that
// each 64-bit word belongs to one lookup stage (staged lookup, as in OVS): metadata, L2, L3, L4.  A
// key is also used as a mask (FlowMask): 1 bits matter.
//
// Values are in network byte order (Be16/Be32 or raw bytes) exactly as on
// the wire, except in_port (host order).  Absent headers leave their fields
// zero; padding is always zero so that whole-word hashing is valid.
//
//   word  byte  field                  notes
//   0     0     in_port    u32         host order
//         4     recirc_id  u32         host order; 0 = first pass
//   1     8     dl_dst     6 bytes
//         14    dl_src     6 bytes     (straddles words 1-2)
//   2     20    dl_type    Be16        innermost ethertype (after VLANs)
//         22    (pad)      2
//   3     24    vlans[0]   tpid,tci    outer tag; tci has kVlanCfi set when
//         28    vlans[1]   tpid,tci    a tag is present (OVS convention)
//   4     32    nw_src     Be32        IPv4 src; ARP spa
//         36    nw_dst     Be32        IPv4 dst; ARP tpa
//   5-6   40    ipv6_src   16 bytes
//   7-8   56    ipv6_dst   16 bytes
//   9     72    ipv6_label Be32        low 20 bits
//         76    nw_proto   u8          IP protocol; ARP opcode (low byte)
//         77    nw_tos     u8          DSCP << 2 | ECN (IPv6 traffic class)
//         78    nw_ttl     u8          TTL / hop limit
//         79    nw_frag    u8          kFragAny | kFragLater
//   10-11 80    nd_target  16 bytes    ICMPv6 ND target
//   12    96    arp_sha    6 bytes     ARP sha; ND source link-layer addr
//         102   arp_tha    6 bytes     ARP tha; ND target link-layer addr
//   13    108   ct_label_id u32        host order; id of the ct_label
//                                      (flow/ct_label_ids.hpp), 0: none
//   14    112   tp_src     Be16        L4 src port; ICMP/ICMPv6 type
//         114   tp_dst     Be16        L4 dst port; ICMP/ICMPv6 code
//         116   tcp_flags  Be16        low 12 bits
//         118   (pad)      2
//   15    120   ct_state   u8          CS_* flags (new, est, ... dnat)
//         121   (pad)      1
//         122   ct_zone    Be16
//         124   ct_mark    Be32
//
// Thread-safety: plain value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "flowpath/core/byte_order.hpp"

namespace flowpath {

struct EthAddr {
  std::array<uint8_t, 6> b{};
  friend constexpr bool operator==(const EthAddr&, const EthAddr&) = default;
  constexpr bool is_multicast() const noexcept { return b[0] & 1; }
  constexpr bool is_broadcast() const noexcept {
    return (b[0] & b[1] & b[2] & b[3] & b[4] & b[5]) == 0xFF;
  }
  constexpr bool is_zero() const noexcept { return (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0; }
};
static_assert(sizeof(EthAddr) == 6 && alignof(EthAddr) == 1);

struct Ipv6Addr {
  std::array<uint8_t, 16> b{};
  friend constexpr bool operator==(const Ipv6Addr&, const Ipv6Addr&) = default;
};
static_assert(sizeof(Ipv6Addr) == 16 && alignof(Ipv6Addr) == 1);

struct VlanHeader {
  Be16 tpid;  // 0x8100 or 0x88a8; zero when absent
  Be16 tci;   // PCP(3) | CFI/present(1) | VID(12)
  friend constexpr bool operator==(const VlanHeader&, const VlanHeader&) = default;
};

// Ethertypes and other constants used across the library.
inline constexpr uint16_t kEthTypeIpv4 = 0x0800;
inline constexpr uint16_t kEthTypeArp = 0x0806;
inline constexpr uint16_t kEthTypeRarp = 0x8035;
inline constexpr uint16_t kEthTypeVlan = 0x8100;  // 802.1Q
inline constexpr uint16_t kEthTypeQinQ = 0x88a8;  // 802.1ad
inline constexpr uint16_t kEthTypeIpv6 = 0x86dd;
inline constexpr uint16_t kEthTypeMin = 0x0600;  // below: 802.3 length
inline constexpr uint16_t kVlanCfi = 0x1000;     // "tag present" in keys
inline constexpr uint16_t kVlanVidMask = 0x0fff;
inline constexpr uint16_t kVlanPcpMask = 0xe000;
inline constexpr int kVlanPcpShift = 13;
inline constexpr uint8_t kFragAny = 1;    // any fragment (first or later)
inline constexpr uint8_t kFragLater = 2;  // not the first fragment
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoSctp = 132;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

/// Type of a 64-bit word view over keys (may alias the key's fields).
using KeyWord = uint64_t __attribute__((__may_alias__));

struct alignas(8) FlowKey {
  static constexpr size_t kWords = 16;

  // word 0: metadata
  uint32_t in_port = 0;
  uint32_t recirc_id = 0;
  // words 1-3: L2
  EthAddr dl_dst;
  EthAddr dl_src;
  Be16 dl_type;
  uint8_t pad1_[2] = {};
  VlanHeader vlans[2];
  // words 4-13: L3
  Be32 nw_src;
  Be32 nw_dst;
  Ipv6Addr ipv6_src;
  Ipv6Addr ipv6_dst;
  Be32 ipv6_label;
  uint8_t nw_proto = 0;
  uint8_t nw_tos = 0;
  uint8_t nw_ttl = 0;
  uint8_t nw_frag = 0;
  Ipv6Addr nd_target;
  EthAddr arp_sha;
  EthAddr arp_tha;
  uint32_t ct_label_id = 0;  // (was padding: the layout is unchanged)
  // word 14: L4
  Be16 tp_src;
  Be16 tp_dst;
  Be16 tcp_flags;
  uint8_t pad3_[2] = {};
  // word 15: connection tracking (zero until a ct() action ran)
  uint8_t ct_state = 0;
  uint8_t pad4_ = 0;
  Be16 ct_zone;
  Be32 ct_mark;

  KeyWord* words() noexcept { return reinterpret_cast<KeyWord*>(this); }
  const KeyWord* words() const noexcept { return reinterpret_cast<const KeyWord*>(this); }
  uint64_t word(size_t i) const noexcept { return words()[i]; }

  // A branch-free XOR/OR over the 16 words instead of a call to memcmp;
  // compilers unroll it and vectorise it where the target allows.  (Vector
  // types with reduced alignment are not portable: clang keeps their
  // natural 32-byte alignment and faults on 8-byte-aligned keys.)
  friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
    uint64_t diff = 0;
    for (size_t i = 0; i < kWords; ++i) diff |= a.words()[i] ^ b.words()[i];
    return diff == 0;
  }
};
static_assert(sizeof(FlowKey) == 128);
static_assert(alignof(FlowKey) == 8);
static_assert(offsetof(FlowKey, dl_dst) == 8 && offsetof(FlowKey, dl_src) == 14);
static_assert(offsetof(FlowKey, dl_type) == 20 && offsetof(FlowKey, vlans) == 24);
static_assert(offsetof(FlowKey, nw_src) == 32 && offsetof(FlowKey, ipv6_src) == 40);
static_assert(offsetof(FlowKey, ipv6_dst) == 56 && offsetof(FlowKey, ipv6_label) == 72);
static_assert(offsetof(FlowKey, nw_proto) == 76 && offsetof(FlowKey, nw_frag) == 79);
static_assert(offsetof(FlowKey, nd_target) == 80 && offsetof(FlowKey, arp_sha) == 96);
static_assert(offsetof(FlowKey, arp_tha) == 102 && offsetof(FlowKey, tp_src) == 112);
static_assert(offsetof(FlowKey, tcp_flags) == 116 && offsetof(FlowKey, recirc_id) == 4);
static_assert(offsetof(FlowKey, ct_state) == 120 && offsetof(FlowKey, ct_zone) == 122);
static_assert(offsetof(FlowKey, ct_mark) == 124 && offsetof(FlowKey, ct_label_id) == 108);

// ct_state flags (OVS's CS_*: the bits of the ct_state match field).
inline constexpr uint8_t kCsNew = 0x01;
inline constexpr uint8_t kCsEstablished = 0x02;
inline constexpr uint8_t kCsRelated = 0x04;
inline constexpr uint8_t kCsReplyDir = 0x08;
inline constexpr uint8_t kCsInvalid = 0x10;
inline constexpr uint8_t kCsTracked = 0x20;
inline constexpr uint8_t kCsSrcNat = 0x40;
inline constexpr uint8_t kCsDstNat = 0x80;

/// A mask over a FlowKey: same layout, 1 bits are significant.
using FlowMask = FlowKey;

/// Lookup stages (staged lookup): word ranges [begin, end) per layer.
struct KeyStage {
  uint8_t begin, end;
};
/// (The ct word 15 rides with L4: stages must be contiguous word ranges.)
inline constexpr std::array<KeyStage, 4> kKeyStages{{{0, 1}, {1, 4}, {4, 14}, {14, 16}}};

/// A mask with every bit set (exact match on the whole key).
inline FlowMask exact_mask() noexcept {
  FlowMask m;
  std::memset(static_cast<void*>(&m), 0xFF, sizeof m);
  return m;
}

/// out = key & mask, word by word.
inline void apply_mask(const FlowKey& key, const FlowMask& mask, FlowKey& out) noexcept {
  for (size_t i = 0; i < FlowKey::kWords; ++i) out.words()[i] = key.word(i) & mask.word(i);
}
inline FlowKey masked(const FlowKey& key, const FlowMask& mask) noexcept {
  FlowKey out;
  apply_mask(key, mask, out);
  return out;
}
/// acc |= other (union of consulted bits).
inline void mask_union(FlowMask& acc, const FlowMask& other) noexcept {
  for (size_t i = 0; i < FlowKey::kWords; ++i) acc.words()[i] |= other.word(i);
}
/// True when key & mask == value (value already masked).
inline bool masked_equal(const FlowKey& key, const FlowMask& mask, const FlowKey& value) noexcept {
  uint64_t diff = 0;
  for (size_t i = 0; i < FlowKey::kWords; ++i) diff |= (key.word(i) & mask.word(i)) ^ value.word(i);
  return diff == 0;
}
inline bool is_zero(const FlowKey& k) noexcept {
  uint64_t acc = 0;
  for (size_t i = 0; i < FlowKey::kWords; ++i) acc |= k.word(i);
  return acc == 0;
}
/// Bitmap of the words in which `mask` has any bit set (bit i = word i).
inline uint32_t mask_word_map(const FlowMask& mask) noexcept {
  uint32_t map = 0;
  for (size_t i = 0; i < FlowKey::kWords; ++i)
    if (mask.word(i)) map |= 1u << i;
  return map;
}

}  // namespace flowpath
