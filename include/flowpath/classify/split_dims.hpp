// flowpath/classify/split_dims.hpp — the key seen as integer dimensions, for
// the compiled decision trees of split_forest.hpp (internals of
// classifier_v2.hpp).
//
// Every field of FlowKey (wildcards.hpp's field table) becomes one or more
// dimensions of at most 32 bits: fields up to 4 bytes are one dimension,
// wider ones (MACs, IPv6 addresses) are cut into 4-byte chunks, each read
// big-endian so that a CIDR prefix is an integer range.  A rule projects on
// a dimension to an inclusive range [lo, hi]: exact for prefix-shaped masks
// (and for tp_src/tp_dst, intersected with its PortRanges); a non-prefix
// mask projects to the full range and marks the rule as needing its full
// check at the leaf.  A range is a superset of what the rule matches, so a
// tree that routes by ranges never loses a rule.
//
// Cost: a dimension read is one load and a byte swap.  Thread-safety: pure.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/match.hpp"

namespace flowpath::classify_detail {

struct KeyDim {
  uint8_t off;    // byte offset in FlowKey
  uint8_t width;  // 1..4 bytes
};

inline constexpr size_t kNumKeyDims = 44;

constexpr std::array<KeyDim, kNumKeyDims> make_key_dims() {
  constexpr uint8_t starts[] = {0,   4,   8,   14,  20,  22,  24,  26,  28, 30, 32,
                                36,  40,  56,  72,  76,  77,  78,  79,  80, 96, 102,
                                108, 112, 114, 116, 118, 120, 121, 122, 124};
  std::array<KeyDim, kNumKeyDims> out{};
  size_t n = 0;
  for (size_t f = 0; f < std::size(starts); ++f) {
    size_t end = f + 1 < std::size(starts) ? starts[f + 1] : sizeof(FlowKey);
    for (size_t o = starts[f]; o < end; o += 4)
      out[n++] = {static_cast<uint8_t>(o), static_cast<uint8_t>(end - o < 4 ? end - o : 4)};
  }
  return out;
}
inline constexpr auto kKeyDims = make_key_dims();
static_assert(kKeyDims[kNumKeyDims - 1].off + kKeyDims[kNumKeyDims - 1].width == sizeof(FlowKey),
              "dimension table covers FlowKey");

inline constexpr uint8_t kTpSrcOff = 112, kTpDstOff = 114;

constexpr uint32_t dim_full(KeyDim d) noexcept {
  return d.width == 4 ? ~0u : (1u << (8 * d.width)) - 1;
}

/// Big-endian value of dimension d in the bytes of a key or mask.
inline uint32_t dim_read(const uint8_t* bytes, KeyDim d) noexcept {
  const uint8_t* p = bytes + d.off;
  switch (d.width) {
    case 1:
      return p[0];
    case 2:
      return uint32_t{p[0]} << 8 | p[1];
    case 3:
      return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
    default: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return __builtin_bswap32(v);
    }
  }
}

/// ORs the big-endian value m into the dimension's bytes of wc.
inline void dim_or(uint8_t* bytes, KeyDim d, uint32_t m) noexcept {
  for (int i = d.width - 1; i >= 0; --i, m >>= 8) bytes[d.off + i] |= static_cast<uint8_t>(m);
}

/// A rule's projection on one dimension.
struct DimRange {
  uint32_t lo, hi;
  bool exact;  // the range is exactly what the rule's match accepts there
};

inline DimRange project(const Match& m, const PortRanges& rg, KeyDim d) noexcept {
  uint32_t full = dim_full(d);
  uint32_t mk = dim_read(bytes_of(m.mask), d);
  uint32_t v = dim_read(bytes_of(m.value), d);
  uint32_t inv = ~mk & full;
  DimRange r{0, full, true};
  if ((inv & (inv + 1)) == 0) {
    r.lo = v & mk;
    r.hi = r.lo | inv;
  } else {
    r.exact = false;  // non-prefix mask: route by the full range, check at the leaf
  }
  const PortRange* pr = d.off == kTpSrcOff ? &rg.tp_src : d.off == kTpDstOff ? &rg.tp_dst : nullptr;
  if (pr && !pr->full()) {
    r.lo = std::max<uint32_t>(r.lo, pr->lo);
    r.hi = std::min<uint32_t>(r.hi, pr->hi);
  }
  return r;
}

/// Bit d set when the match's mask touches dimension d (or d is a ranged port).
inline uint64_t constrained_dims(const Match& m, const PortRanges& rg) noexcept {
  uint64_t out = 0;
  for (uint32_t d = 0; d < kNumKeyDims; ++d) {
    KeyDim k = kKeyDims[d];
    bool c = dim_read(bytes_of(m.mask), k) != 0;
    c |= k.off == kTpSrcOff && !rg.tp_src.full();
    c |= k.off == kTpDstOff && !rg.tp_dst.full();
    out |= uint64_t{c} << d;
  }
  return out;
}

/// A key inside the rule (match, ranges): its bits where the mask says,
/// pseudo-random bits elsewhere, ports drawn from its ranges (then the
/// mask's port bits, so the key may miss a range a port mask also
/// constrains), from the generator state *seed (splitmix64: the same seed,
/// the same key).  SplitForest samples keys so to choose its walk.
inline FlowKey key_inside(const Match& m, const PortRanges& rg, uint64_t* seed) noexcept {
  auto next = [seed] {
    uint64_t z = (*seed += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  };
  FlowKey k;
  auto* kb = reinterpret_cast<uint8_t*>(&k);
  const auto* v = reinterpret_cast<const uint8_t*>(&m.value);
  const auto* mk = reinterpret_cast<const uint8_t*>(&m.mask);
  for (size_t b = 0; b < sizeof k; ++b) kb[b] = static_cast<uint8_t>(v[b] | (next() & ~mk[b]));
  auto in = [&](const PortRange& r, Be16 val, Be16 msk) {
    auto p = static_cast<uint16_t>(r.lo + next() % (uint32_t{r.hi} - r.lo + 1));
    return Be16{static_cast<uint16_t>((p & ~msk.host()) | val.host())};
  };
  k.tp_src = in(rg.tp_src, m.value.tp_src, m.mask.tp_src);
  k.tp_dst = in(rg.tp_dst, m.value.tp_dst, m.mask.tp_dst);
  return k;
}

/// The bits of x (a w-bit value) that decide `x >= t` for a split point
/// t > 0: the leading bits down to the first bit where x and t differ,
/// but never below t's lowest set bit (an aligned t needs only its prefix).
inline uint32_t split_explain(uint32_t x, uint32_t t, uint32_t full) noexcept {
  int tz = std::countr_zero(t);
  uint32_t diff = ((x ^ t) >> tz) << tz;
  int low = diff ? 31 - std::countl_zero(diff) : tz;
  return (full >> low) << low;
}

}  // namespace flowpath::classify_detail
