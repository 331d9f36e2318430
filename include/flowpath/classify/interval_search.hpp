// flowpath/classify/interval_search.hpp — which elementary interval of one
// axis a value falls in, for the bit-vector rule index (rule_bits.hpp).
//
// Design.  A static 16-way tree over the sorted interval boundaries: nodes
// of 16 keys counted with one vector compare (simd::count_le16), the top
// level (up to kTop keys) counted whole by independent compares, so up to
// 64 boundaries cost one dependent step, 1024 two, 16384 three.  Level
// l + 1's node for x is the count of level l's keys <= x (capped: pads are
// ~0u and count only for x == ~0u).
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

  uint32_t n_levels = 0;
  uint32_t level_off[4] = {}, level_nodes[4] = {};
  HugeVector<uint32_t> keys;  // levels top first, 16 keys per node, padded with ~0u
  uint32_t n_bounds = 0;      // real keys of the last level

  uint32_t n_intervals() const noexcept { return n_bounds + 1; }
  size_t memory_bytes() const noexcept { return keys.capacity() * 4; }

  /// Index of x's interval: the number of boundaries <= x.
  uint32_t search(uint32_t x) const noexcept {
    uint32_t c = 0;  // the top level whole: independent compares, no chain
    for (uint32_t j = 0; j < level_nodes[0]; ++j) c += simd::count_le16(keys.data() + 16 * j, x);
    if (n_levels == 1) return std::min(c, n_bounds);
    uint32_t node = std::min(c, level_nodes[1] - 1);
    for (uint32_t l = 1;; ++l) {
      uint32_t c = 16 * node + simd::count_le16(keys.data() + level_off[l] + 16 * node, x);
      if (l + 1 == n_levels) return std::min(c, n_bounds);
      node = std::min(c, level_nodes[l + 1] - 1);
    }
  }

  /// From sorted, unique boundaries (at most kMaxBounds; false beyond).
  bool build(std::vector<uint32_t> bounds) {
    if (bounds.size() > kMaxBounds) return false;
    n_bounds = static_cast<uint32_t>(bounds.size());
    // Levels bottom up: the last holds every boundary, each one above the
    // first key of every node of the one below but the first.
    std::vector<std::vector<uint32_t>> lv;
    lv.push_back(std::move(bounds));
    while (lv.back().size() > kTop) {
      std::vector<uint32_t> up;
      for (size_t j = 16; j < lv.back().size(); j += 16) up.push_back(lv.back()[j]);
      lv.push_back(std::move(up));
    }
    std::reverse(lv.begin(), lv.end());
    n_levels = static_cast<uint32_t>(lv.size());
    keys.clear();
    for (uint32_t l = 0; l < n_levels; ++l) {
      size_t nodes = std::max<size_t>(1, (lv[l].size() + 15) / 16);
      level_off[l] = static_cast<uint32_t>(keys.size());
      level_nodes[l] = static_cast<uint32_t>(nodes);
      lv[l].resize(16 * nodes, ~0u);
      keys.insert(keys.end(), lv[l].begin(), lv[l].end());
    }
    return true;
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
