// flowpath/classify/split_tree.hpp — one compiled decision tree of
// SplitForest (split_forest.hpp): its wide nodes, leaf entries and the
// walks over them (descent with and without a megaflow mask).
//
// Design: see split_forest.hpp.  A wide node holds three levels of the
// binary tree (seven tests) in one cache line; a lookup makes the seven
// tests at once and takes the path from a table (kWidePath) and the child
// from the node's map (a leaf met above the third level is one child, not
// a copy per path), one dependent load per three levels.  Cost: a descent
// is one load per wide node.  Thread-safety: immutable after build; any
// number of readers.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "flowpath/classify/huge_pages.hpp"
#include "flowpath/classify/split_dims.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/bits_kernels.hpp"

namespace flowpath::classify_detail {

inline constexpr size_t kSplitMaxDims = 8;  // dimensions a tree tests

/// The child (0..7) a wide node's three levels lead to, by the outcomes of
/// its seven tests (bit j: test j said x >= t): test 0, then test 1 + p,
/// then test 3 + p, p being the path so far.
inline constexpr auto kWidePath = [] {
  std::array<uint8_t, 128> out{};
  for (uint32_t m = 0; m < 128; ++m) {
    uint32_t p = m & 1;
    p = 2 * p + (m >> (1 + p) & 1);
    p = 2 * p + (m >> (3 + p) & 1);
    out[m] = static_cast<uint8_t>(p);
  }
  return out;
}();

/// What lookups walk: three levels of the binary tree in one cache line
/// (7 tests, a path p of 3 bits), so a lookup waits for a third of the
/// memory loads.  Test i of level l sits at index 2^l - 1 + path; a test
/// with t == 0 always goes right (it stands below a leaf reached early).
/// The node's distinct children (1 to 8) lie at base.. one after the
/// other: path p leads to child + (count >> 3p & 7), so a leaf met at the
/// first or second level (which 4 or 2 paths reach) is stored once, not
/// copied into each of their slots.
struct alignas(64) SplitNode {
  uint32_t t[7];
  uint8_t d[7];
  uint8_t leaf;
  // A leaf: its record in Tree::ent.  An inner node: the record of its
  // first direct leaf (lend).
  uint32_t base;
  // Entries in a leaf; in an inner node, its map: bits 3p..3p+2 are the
  // index (from base) of the child path p leads to.
  uint32_t count;
  uint32_t rbase;  // a leaf's ranges in Tree::ent (base + kEntWords * count)
  // First child; in a leaf, its own index - (count >> 21 & 7), which is
  // where step() takes a leaf (all its tests pass: path 7).
  uint32_t child;
  // A leaf's entries down to the first that covers its box by ranges
  // alone: while that rule is visible the scan never goes further, so
  // the first compare stops there (the rest serve removals).  An inner
  // node: bit i set when its child i (from child) is a direct leaf.
  uint32_t head;
  union {
    // A leaf's best rank (ranks[base], 0 when empty) on the node's own
    // line: the leaves are ordered, and one that cannot beat the answer in
    // hand is passed, without waiting for the leaf's entries.
    uint64_t top;
    // An inner node's direct leaves: children that are leaves with no
    // tail (head == count), their entries one after the other from base,
    // at most 255 in all; lend[i] is the end of child i's entries as an
    // offset from base (a child not direct adds nothing).  The walk
    // without a mask takes a direct leaf's entries from here, without
    // loading the leaf's node: one dependent load less per tree.
    uint8_t lend[8];
  };
};
static_assert(sizeof(SplitNode) == 64);
// simd::ge7 reads eight lanes of t and of d (path()).
static_assert(offsetof(SplitNode, d) == offsetof(SplitNode, t) + 7 * sizeof(uint32_t));
static_assert(offsetof(SplitNode, leaf) == offsetof(SplitNode, d) + 7);
static_assert(kSplitMaxDims == 8);
/// What a leaf scan reads of a leaf (SplitNode's fields of the same names),
/// for a direct leaf made from its parent.
struct SplitLeaf {
  uint32_t base, count, rbase, head;
  uint64_t top;
  static SplitLeaf of(const SplitNode& n) noexcept {
    return {n.base, n.count, n.rbase, n.head, n.top};
  }
};
struct SplitTree {
  uint32_t n_dims = 0;
  KeyDim dims[kSplitMaxDims] = {};
  uint32_t full[kSplitMaxDims] = {};
  // Fast read: dimension d is the 32-bit big-endian word at byte off[d]
  // of the key, widened, >> shift[d]; the dimensions past n_dims read
  // offset 0 and shift 32, which makes them 0 without a test.
  uint32_t off[kSplitMaxDims] = {};
  uint32_t shift[kSplitMaxDims] = {32, 32, 32, 32, 32, 32, 32, 32};
  uint8_t perm[4 * kSplitMaxDims] = {};  // simd::be32_perm(off): the bytes of off's words
  bool fast_read = true;              // every dimension lies in the key's first 116 bytes
  uint64_t max_rank = 0;
  HugeVector<SplitNode> nodes;
  // Leaf entries, leaf after leaf, each leaf one record so a short leaf's
  // ranks, ids and ranges share cache lines (a hit on a 2-entry leaf of
  // five dimensions reads two lines, not the four of three arrays): from
  // the leaf's base, per entry i in rank order its rank (two words, low
  // first), id (index in rules_ | kFullCheck: the ranges do not say
  // everything) and rule's address (two words) at ent[base + 5i ..], then
  // from rbase = base + 5 * count the ranges column-wise so one vector
  // compare checks up to 16 entries on one dimension:
  // ent[rbase + 2d * count + i] = lo,
  // ent[rbase + (2d + 1) * count + i] = hi - lo, for d < n_dims.
  HugeVector<uint32_t> ent;
  static constexpr uint32_t kEntWords = 5;  // rank, id, rule before the ranges

  /// Words of ent per entry.
  uint32_t stride() const noexcept { return kEntWords + 2 * n_dims; }
  /// Entry i's rank, id and rule in the record at e (ent + a leaf's base).
  static uint64_t rank_at(const uint32_t* e, uint32_t i) noexcept {
    uint64_t r;
    std::memcpy(&r, e + kEntWords * i, sizeof r);  // x86: one unaligned load
    return r;
  }
  static uint32_t id_at(const uint32_t* e, uint32_t i) noexcept { return e[kEntWords * i + 2]; }
  static const void* rule_at(const uint32_t* e, uint32_t i) noexcept {
    const void* r;
    std::memcpy(&r, e + kEntWords * i + 3, sizeof r);
    return r;
  }
  /// Appends an entry's first words (before the leaf's ranges) to ent.
  void push_entry(uint64_t rank, uint32_t id, const void* rule) {
    uint32_t w[kEntWords];
    std::memcpy(w, &rank, sizeof rank);  // as rank_at reads it
    w[2] = id;
    std::memcpy(w + 3, &rule, sizeof rule);
    ent.insert(ent.end(), w, w + kEntWords);
  }

  template <class Leaf>  // SplitNode or SplitLeaf
  void prefetch_leaf(const Leaf& lf) const noexcept {
    auto from = reinterpret_cast<uintptr_t>(ent.data() + lf.base) & ~uintptr_t{63};
    auto end = reinterpret_cast<uintptr_t>(ent.data() + lf.base + stride() * lf.count);
    end = std::min<uintptr_t>(end, from + 34 * 64);  // 34 lines at most
    for (; from < end; from += 64) __builtin_prefetch(reinterpret_cast<const void*>(from));
  }

  /// The child path p of inner node m leads to.
  static uint32_t child_of(const SplitNode& m, uint32_t p) noexcept {
    return m.child + index_of(m, p);
  }
  /// Its index from m.child (in a leaf: what step() adds to child).
  static uint32_t index_of(const SplitNode& m, uint32_t p) noexcept {
    return m.count >> (3 * p) & 7;
  }
  /// The path (0..7) of m's seven tests for x.
  /// x: kSplitMaxDims values (simd::ge7 reads all eight lanes of x, of
  /// m.t and of m.d: t is followed by d, d by the leaf flag).
  static uint32_t path(const SplitNode& m, const uint32_t* x) noexcept {
    return kWidePath[simd::ge7(x, m.d, m.t)];
  }
  /// Inner node m's direct leaf i (head bit i set): what the scan needs
  /// (its best rank read from its entries; the direct leaves' records lie
  /// one after the other from m.base).
  SplitLeaf direct_leaf(const SplitNode& m, uint32_t i) const noexcept {
    uint32_t from = i ? m.lend[i - 1] : 0, count = m.lend[i] - from;
    uint32_t base = m.base + from * stride();
    return {base, count, base + kEntWords * count, count,
            count ? rank_at(ent.data() + base, 0) : 0};
  }
  /// All seven tests at once (independent loads the core overlaps),
  /// then the path from a table and the child from the node's map: one
  /// dependent load per wide node instead of three compare-then-load
  /// rounds.  A leaf steps to itself (all its tests pass, path 7, and its
  /// child field allows for what its count says there), so lock-step
  /// walks need no branch per node.
  static uint32_t step(const SplitNode& m, const uint32_t* x) noexcept {
    return child_of(m, path(m, x));
  }
  size_t depth(uint32_t n) const {
    if (nodes[n].leaf) return 0;
    size_t d = 0;
    for (uint32_t p = 0; p < 8; ++p) d = std::max(d, depth(child_of(nodes[n], p)));
    return 1 + d;
  }
  void extract(const FlowKey& key, uint32_t* x) const noexcept {
    const uint8_t* kb = bytes_of(key);
    if (fast_read) {  // the eight at once where the ISA allows (simd/bits_kernels.hpp)
      simd::read8_be32(kb, off, perm, shift, x);
      return;
    }
    for (uint32_t d = 0; d < kSplitMaxDims; ++d) x[d] = d < n_dims ? dim_read(kb, dims[d]) : 0;
  }
  uint32_t descend(const uint32_t* x) const noexcept {
    uint32_t n = 0;
    while (!nodes[n].leaf) n = step(nodes[n], x);
    return n;
  }
  uint32_t descend_wc(const uint32_t* x, FlowMask& wc) const noexcept {
    uint32_t n = 0;
    while (!nodes[n].leaf) {
      const SplitNode& m = nodes[n];
      uint32_t i = 0, p = 0;
      for (int level = 0; level < 3; ++level, i = 2 * i + 1) {
        uint32_t j = i + p;
        if (m.t[j])
          dim_or(bytes_of(wc), dims[m.d[j]], split_explain(x[m.d[j]], m.t[j], full[m.d[j]]));
        p = 2 * p + (x[m.d[j]] >= m.t[j]);
      }
      n = child_of(m, p);
    }
    return n;
  }
};

}  // namespace flowpath::classify_detail
