// flowpath/classify/interval_search.hpp — which elementary interval of one
// axis a value falls in, for the bit-vector rule index (rule_bits.hpp).
//
// Design.  A static tree over the sorted interval boundaries: nodes of
// `width` keys (16: one vector compare, simd::count_le16; 32: two,
// independent), the top level (up to kTop keys) counted whole by
// independent compares.  With 16-key nodes up to 64 boundaries cost one
// dependent step, 1040 two, 16656 three; with 32-key nodes 2080 two, the
// rest three.  The build takes 32-key nodes only when they save a level
// (a dimension of 1041-2080 boundaries, or more than 16656), and only
// when AVX-512 is compiled in (kMaxWidth): a step is a load, compare and
// count in a chain, and there a 32-key node is the same chain with one
// more independent compare (~4 instructions), while at an equal depth the
// 16-key tree makes fewer compares.  With AVX2 a 16-key count is already
// two compare pairs and two movemasks; 32 keys doubled it and the 10K
// lookups ran no faster (docs/classifier.md, ninth round), so other
// builds keep 16-key nodes and the code they had.  Level l + 1's node for x is the count of
// level l's keys <= x (capped: pads are ~0u and count only for x == ~0u).
//
// Cost: build O(bounds); search 1-4 dependent steps.  Thread-safety:
// immutable after build; any number of concurrent readers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "flowpath/classify/huge_pages.hpp"
#include "flowpath/classify/split_dims.hpp"
#include "flowpath/simd/bits_kernels.hpp"

namespace flowpath::classify_detail {

struct IntervalSearch {
  static constexpr size_t kTop = 64;  // keys of the top search level (4 vector compares)
  static constexpr size_t kMaxBounds = size_t{16} << 12;  // four levels at most

#if defined(__AVX512F__)
  static constexpr uint32_t kMaxWidth =
      32;  // build's default: 32-key nodes where they save a level
#else
  static constexpr uint32_t kMaxWidth = 16;  // why: the design note above
#endif

  uint32_t n_levels = 0;
  uint32_t width = 16;  // keys per node below the top: 16 or 32
  uint32_t level_off[4] = {}, level_nodes[4] = {};
  HugeVector<uint32_t> keys;  // levels top first, `width` keys per node, padded with ~0u
  uint32_t n_bounds = 0;      // real keys of the last level

  uint32_t n_intervals() const noexcept { return n_bounds + 1; }
  size_t memory_bytes() const noexcept { return keys.capacity() * 4; }

  /// Index of x's interval: the number of boundaries <= x.
  uint32_t search(uint32_t x) const noexcept { return width == 32 ? search32(x) : search16(x); }
  /// The same for each width; the lookups' walks (rule_bits.hpp) call them
  /// by the width themselves (search16 alone when kMaxWidth is 16).  Why not search() there: with
  /// both widths in it, GCC stopped inlining it into the walks (+5-8% instructions per lookup on
  /// every set, from the calls' spills), and forced inline it cost the 1K sets' dense walk ~4%.  So
  /// the 16-key search stays what GCC inlined before, and the 32-key one is a call (a search saving
  /// a level).  The 16-key one is forced inline: GCC's own choice moved with code elsewhere in the
  /// unit (the twelfth round's trees made it a call in the sparse walk: +2-3% instructions at 10K).
  [[gnu::always_inline]] uint32_t search16(uint32_t x) const noexcept { return search_w<16>(x); }
  [[gnu::noinline]] uint32_t search32(uint32_t x) const noexcept { return search_w<32>(x); }

  /// From sorted, unique boundaries (at most kMaxBounds; false beyond);
  /// 32-key nodes where they save a level, when max_width allows them
  /// (tests pass 32 on every ISA; the walks build with kMaxWidth).
  bool build(std::vector<uint32_t> bounds, uint32_t max_width = kMaxWidth) {
    if (bounds.size() > kMaxBounds) return false;
    n_bounds = static_cast<uint32_t>(bounds.size());
    width =
        max_width >= 32 && levels_for(bounds.size(), 32) < levels_for(bounds.size(), 16) ? 32 : 16;
    // Levels bottom up: the last holds every boundary, each one above the
    // first key of every node of the one below but the first.
    std::vector<std::vector<uint32_t>> lv;
    lv.push_back(std::move(bounds));
    while (lv.back().size() > kTop) {
      std::vector<uint32_t> up;
      for (size_t j = width; j < lv.back().size(); j += width) up.push_back(lv.back()[j]);
      lv.push_back(std::move(up));
    }
    std::reverse(lv.begin(), lv.end());
    n_levels = static_cast<uint32_t>(lv.size());
    keys.clear();
    for (uint32_t l = 0; l < n_levels; ++l) {
      size_t w = l == 0 ? 16 : width;  // the top is counted 16 keys at a time
      size_t nodes = std::max<size_t>(1, (lv[l].size() + w - 1) / w);
      level_off[l] = static_cast<uint32_t>(keys.size());
      level_nodes[l] = static_cast<uint32_t>(nodes);
      lv[l].resize(w * nodes, ~0u);
      keys.insert(keys.end(), lv[l].begin(), lv[l].end());
    }
    return true;
  }

  /// Levels of a tree over n boundaries with nodes of w keys.
  static uint32_t levels_for(size_t n, size_t w) noexcept {
    uint32_t l = 1;
    for (; n > kTop; ++l) n = (n - 1) / w;  // the first keys of every node but the first
    return l;
  }

 private:
  template <uint32_t W>
  [[gnu::always_inline]] uint32_t search_w(uint32_t x) const noexcept {
    const uint32_t* k = keys.data();
    uint32_t c = 0;  // the top level whole: independent compares, no chain
    for (uint32_t j = 0; j < level_nodes[0]; ++j) c += simd::count_le16(k + 16 * j, x);
    if (n_levels == 1) return std::min(c, n_bounds);
    uint32_t node = std::min(c, level_nodes[1] - 1);
    for (uint32_t l = 1;; ++l) {
      const uint32_t* nk = k + level_off[l] + W * node;
      uint32_t c = W * node + simd::count_le16(nk, x);
      if constexpr (W == 32) c += simd::count_le16(nk + 16, x);
      if (l + 1 == n_levels) return std::min(c, n_bounds);
      node = std::min(c, level_nodes[l + 1] - 1);
    }
  }
};

/// The boundaries the live ranges cut [0, full] at (x starts a new
/// interval at each), sorted and unique.
inline std::vector<uint32_t> range_bounds(const std::vector<DimRange>& rg,
                                          const std::vector<uint8_t>& dead, uint32_t full) {
  std::vector<uint32_t> bounds;
  for (size_t i = 0; i < rg.size(); ++i) {
    if (dead[i]) continue;
    if (rg[i].lo > 0) bounds.push_back(rg[i].lo);
    if (rg[i].hi < full) bounds.push_back(rg[i].hi + 1);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  return bounds;
}

}  // namespace flowpath::classify_detail
