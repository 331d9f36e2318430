// flowpath/action/vlan.hpp — 802.1Q / 802.1ad tag push, pop and rewrite,
// in place on a Packet.
//
//   push_vlan(pkt, tpid, tci)   new outermost tag (TPID 0x8100 or 0x88a8)
//   pop_vlan(pkt)               removes the outermost tag
//   set_vlan_vid(pkt, vid)      VID of the outermost tag; pushes an 0x8100
//   set_vlan_pcp(pkt, pcp)      tag (VID 0 / PCP 0) first if there is none,
//                               as Open vSwitch's mod_vlan_vid/mod_vlan_pcp
//
// A push grows the frame into the headroom: the 12 MAC bytes move 4 bytes
// forward and the tag goes between them and the old Ethernet type, so the
// rest of the frame is never touched.  A pop is the reverse.  The CFI/DEI
// bit (kVlanCfi, which flow keys use as "tag present") is never written.
// PacketMeta offsets (l2_5, l3, l4) are shifted to stay valid.
//
// Failure: a push without 4 bytes of headroom returns kFailed and leaves
// the frame unchanged (the executor drops the packet: forwarding it
// untagged could leak it into the wrong VLAN).  A frame shorter than an
// Ethernet header, or a pop/rewrite with nothing to act on, is kSkipped.
//
// Cost: push/pop ~2-3 ns (a 12-byte move); rewrites one 16-bit store.
// Thread-safety: none (one packet, one thread).
#pragma once

#include <cstdint>
#include <cstring>

#include "flowpath/action/frame_view.hpp"
#include "flowpath/core/packet.hpp"

namespace flowpath {

namespace detail {
/// Moves the 12 MAC bytes by +-4 through registers (a libc memmove call
/// for 12 overlapping bytes would cost more than the whole action).
inline void move_macs(uint8_t* dst, const uint8_t* src) noexcept {
  uint64_t a;
  uint32_t b;
  std::memcpy(&a, src, 8);
  std::memcpy(&b, src + 8, 4);
  std::memcpy(dst, &a, 8);
  std::memcpy(dst + 8, &b, 4);
}

inline void shift_meta(PacketMeta& m, int delta) noexcept {
  auto shift = [delta](uint16_t& off) {
    if (off == kNoOffset) return;
    int v = int(off) + delta;
    off = (v < 0 || v >= int(kNoOffset)) ? kNoOffset : uint16_t(v);
  };
  shift(m.l3);
  shift(m.l4);
}
}  // namespace detail

inline ActionStatus push_vlan(Packet& pkt, uint16_t tpid, uint16_t tci) noexcept {
  if (pkt.size() < kEthHeaderLen) return ActionStatus::kSkipped;
  uint8_t* d = pkt.push_front(kVlanTagLen);
  if (!d) return ActionStatus::kFailed;
  detail::move_macs(d, d + kVlanTagLen);
  store_be16(d + 12, tpid);
  store_be16(d + 14, uint16_t(tci & ~kVlanCfi));
  pkt.meta.l2_5 = 12;
  detail::shift_meta(pkt.meta, int(kVlanTagLen));
  return ActionStatus::kOk;
}

inline bool has_vlan(const Packet& pkt) noexcept {
  return pkt.size() >= kEthHeaderLen + kVlanTagLen && is_vlan_tpid(load_be16(pkt.data() + 12));
}

inline ActionStatus pop_vlan(Packet& pkt) noexcept {
  if (!has_vlan(pkt)) return ActionStatus::kSkipped;
  uint8_t* d = pkt.data();
  detail::move_macs(d + kVlanTagLen, d);
  pkt.pull_front(kVlanTagLen);
  pkt.meta.l2_5 = has_vlan(pkt) ? uint16_t(12) : kNoOffset;
  detail::shift_meta(pkt.meta, -int(kVlanTagLen));
  return ActionStatus::kOk;
}

/// Replaces the bits of the outermost TCI selected by `mask` with `bits`,
/// pushing an 802.1Q tag with TCI 0 first when the frame has none.
inline ActionStatus rewrite_outer_tci(Packet& pkt, uint16_t mask, uint16_t bits) noexcept {
  if (!has_vlan(pkt)) {
    ActionStatus s = push_vlan(pkt, kEthTypeVlan, 0);
    if (s != ActionStatus::kOk) return s;
  }
  uint8_t* tci = pkt.data() + 14;
  uint16_t v = load_be16(tci);
  store_be16(tci, uint16_t(((v & ~mask) | (bits & mask)) & ~kVlanCfi));
  return ActionStatus::kOk;
}

inline ActionStatus set_vlan_vid(Packet& pkt, uint16_t vid) noexcept {
  return rewrite_outer_tci(pkt, kVlanVidMask, vid);
}

inline ActionStatus set_vlan_pcp(Packet& pkt, uint8_t pcp) noexcept {
  return rewrite_outer_tci(pkt, kVlanPcpMask, uint16_t(uint16_t(pcp & 7) << kVlanPcpShift));
}

}  // namespace flowpath
