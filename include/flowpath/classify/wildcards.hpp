// flowpath/classify/wildcards.hpp — port ranges and the "which key bits
// explain this outcome" helpers the classifier uses to build megaflow masks.
//
// A rule may constrain tp_src/tp_dst by an inclusive range (host order) in
// addition to its value/mask match; a Match alone is the special case of
// full ranges.  The helpers answer, for one rule and one key: the smallest
// set of key bits such that every key agreeing on them gets the same
// match/mismatch outcome, preferring prefixes of one field (so megaflows
// stay prefix-shaped, as Open vSwitch's are):
//   - masked mismatch: the rule's mask bits of the first differing field,
//     from its most significant bit down to the first differing bit;
//   - range: the shortest prefix of the port whose aligned block lies wholly
//     inside or wholly outside the range.
//
// Cost: a few dozen instructions per rule consulted (slow path only).
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

/// Inclusive port range in host order; [0, 65535] matches everything.
struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 0xffff;
  constexpr bool full() const noexcept { return lo == 0 && hi == 0xffff; }
  constexpr bool contains(uint16_t p) const noexcept { return p >= lo && p <= hi; }
  /// Length of the longest common prefix of lo and hi (16 for one port).
  constexpr int prefix_len() const noexcept {
    return lo == hi ? 16 : std::countl_zero(static_cast<uint16_t>(lo ^ hi));
  }
  friend constexpr bool operator==(const PortRange&, const PortRange&) = default;
};

struct PortRanges {
  PortRange tp_src, tp_dst;
  constexpr bool full() const noexcept { return tp_src.full() && tp_dst.full(); }
  bool contain(const FlowKey& k) const noexcept {
    return tp_src.contains(k.tp_src.host()) && tp_dst.contains(k.tp_dst.host());
  }
  friend constexpr bool operator==(const PortRanges&, const PortRanges&) = default;
};

namespace classify_detail {

constexpr uint16_t prefix_mask16(int len) noexcept {
  return len <= 0 ? 0 : static_cast<uint16_t>(0xffffu << (16 - len));
}

/// Shortest l such that the aligned 2^(16-l) block around p is inside or
/// outside [r.lo, r.hi] entirely.
constexpr int range_explain_len(uint16_t p, PortRange r) noexcept {
  for (int l = 0; l < 16; ++l) {
    uint32_t size = 1u << (16 - l);
    uint32_t base = p & ~(size - 1);
    uint32_t end = base + size - 1;
    if ((base >= r.lo && end <= r.hi) || end < r.lo || base > r.hi) return l;
  }
  return 16;
}

/// Byte offset of the start of the field containing each key byte.
constexpr std::array<uint8_t, sizeof(FlowKey)> make_field_starts() {
  constexpr uint8_t starts[] = {0,  4,  8,  14, 20, 22, 24, 26,  28,  30,  32,  36,  40, 56,
                                72, 76, 77, 78, 79, 80, 96, 102, 108, 112, 114, 116, 118};
  std::array<uint8_t, sizeof(FlowKey)> out{};
  size_t f = 0;
  for (size_t b = 0; b < sizeof(FlowKey); ++b) {
    while (f + 1 < std::size(starts) && starts[f + 1] <= b) ++f;
    out[b] = starts[f];
  }
  return out;
}
inline constexpr auto kFieldStart = make_field_starts();

inline const uint8_t* bytes_of(const FlowKey& k) noexcept {
  return reinterpret_cast<const uint8_t*>(&k);
}
inline uint8_t* bytes_of(FlowKey& k) noexcept { return reinterpret_cast<uint8_t*>(&k); }

/// Tracked address fields (prefix tries, relaxation): byte offset, width.
struct AddrField {
  uint8_t offset, width;
};
inline constexpr AddrField kAddrFields[4] = {{32, 4}, {36, 4}, {40, 16}, {56, 16}};

/// Number of leading one bits of a field of mask m (network bit order).
inline int leading_ones(const FlowMask& m, AddrField f) noexcept {
  const uint8_t* b = bytes_of(m) + f.offset;
  int n = 0;
  for (int i = 0; i < f.width; ++i) {
    int ones = std::countl_one(b[i]);
    n += ones;
    if (ones < 8) break;
  }
  return n;
}
inline void set_prefix(FlowMask& m, AddrField f, int len) noexcept {
  uint8_t* b = bytes_of(m) + f.offset;
  for (int i = 0; i < f.width; ++i, len -= 8)
    b[i] = len >= 8 ? 0xff : len <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - len));
}

/// ORs into wc the bits that prove `key & mask != value`.  Returns false
/// (and adds nothing) when key does match under mask.
inline bool explain_mismatch(const FlowKey& key, const FlowMask& mask, const FlowKey& value,
                             FlowMask& wc) noexcept {
  for (size_t w = 0; w < FlowKey::kWords; ++w) {
    uint64_t d = (key.word(w) & mask.word(w)) ^ value.word(w);
    if (!d) continue;
    size_t b = w * 8 + static_cast<size_t>(std::countr_zero(d)) / 8;  // little-endian words
    const uint8_t* kb = bytes_of(key);
    const uint8_t* mb = bytes_of(mask);
    const uint8_t* vb = bytes_of(value);
    uint8_t* wb = bytes_of(wc);
    uint8_t diff = static_cast<uint8_t>((kb[b] & mb[b]) ^ vb[b]);
    int bit = 7 - std::countl_zero(diff);  // most significant differing bit
    for (size_t i = kFieldStart[b]; i < b; ++i) wb[i] |= mb[i];
    wb[b] |= static_cast<uint8_t>(mb[b] & (0xffu << bit));
    return true;
  }
  return false;
}

/// ORs into wc the port bits that decide p's membership in r.
inline void explain_range(Be16& wc_field, uint16_t p, PortRange r) noexcept {
  if (r.full()) return;
  wc_field |= Be16{prefix_mask16(range_explain_len(p, r))};
}

}  // namespace classify_detail
}  // namespace flowpath
