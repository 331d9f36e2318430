// flowpath/classify/split_forest.hpp — the read-optimised, immutable part of
// ClassifierV2 (classifier_v2.hpp): a few binary decision trees compiled
// from a snapshot of the rules.
//
// Design (HyperSplit, Qi et al. 2009, over CutSplit-style subsets, Li et al.
// 2018).  Rules are first split into subsets by whether their nw_src /
// nw_dst ranges are small (≤ 2^16 addresses): "small source", "small
// destination", the rest.  Inside a subset rules rarely overlap on the
// small field, so a tree over it replicates few rules; the big, overlapping
// rules (wildcards) go to their own tree instead of being copied into
// every leaf.  Each tree node compares one dimension of the key (see
// split_dims.hpp) with a split point t chosen among the rules' range ends
// (three quantiles per dimension, the one leaving the fewest rules in the
// bigger child); a leaf holds the rules whose ranges meet the leaf's box,
// sorted by rank, as ranks, rule indexes and the rules' [lo, span] per
// dimension stored column-wise, so one vector compare per dimension checks
// up to 16 entries without touching a rule (simd::range_hits; the scan
// then takes the hits in rank order).  Splitting stops at
// Config::leaf_size rules above the first rule that covers the whole box
// (the scan stops there anyway), when no split helps, or when the
// replication budget is spent.  A lookup descends all trees in lock step
// (their dependent loads overlap; or the first alone, then the others if
// they can beat it, see lookup_fast), a wide node's seven tests at once (the
// path then comes from a table, kWidePath, the child from the node's map:
// a leaf is stored once however many paths reach it), stops at a leaf's
// parent when that places the leaf's entries (a direct leaf, SplitNode::
// lend), and scans the leaves best rank first, skipping what cannot beat
// the best match so far (why: docs/classifier.md, "Lookup speed" and the
// sixth round).
//
// The forest also builds a bit-vector index (rule_bits_set.hpp) over the
// same rules in rank order (dense rows for small sets; sparse rows per
// subset for larger ones, within its memory limit: Config::bits); lookups
// without a mask use it instead of the trees (a few dependent loads
// instead of 5-13).
//
// Megaflow masks: a node adds the bits of its dimension that decide
// `x >= t` (split_explain), a leaf adds, for each rule it checks, the bits
// Rule::explain adds (mismatch proof, or the winner's mask).  Any key that
// agrees on those bits takes the same path and gets the same answer.
//
// Removed rules stay in the trees until the next compile; lookups skip
// rules not visible in their version, reading removals from the forest's
// own array (mark_removed).  Cost: lookup ~ 3-6 cache-line nodes (three
// binary levels each) + one leaf scan per tree; batches walk up to 32 keys
// in lock step with prefetches.  Build: O(rules x dims x depth).
// Thread-safety: immutable after construction except the removal array
// (writer: mark_removed/sync_removals); any number of concurrent readers.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "flowpath/classify/cache_size.hpp"
#include "flowpath/classify/huge_pages.hpp"
#include "flowpath/classify/rule_bits_set.hpp"
#include "flowpath/classify/split_dims.hpp"
#include "flowpath/classify/split_tree.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/compare.hpp"

namespace flowpath::classify_detail {

struct SplitForestConfig {
  uint32_t leaf_size = 8;           // rules per leaf before a split is tried
  uint32_t replication_budget = 8;  // leaf entries per rule before splitting stops
  RuleBits::Limits bits{};          // the bit-vector fast path's limits (max_rules 0: never)
  // Batches walk the trees instead of asking sparse parts when the trees'
  // nodes and leaf records take at most this many bytes (cache_size.hpp).
  size_t batch_trees_max_bytes = batch_trees_default_bytes();
  int first_tree_alone = -1;  // 1 yes, 0 no, -1 first_answers_most() (first_tree_alone())
};

template <class Rule>
class SplitForest {
 public:
  static constexpr size_t kMaxDims = kSplitMaxDims;
  static constexpr size_t kBatch = 32;
  static constexpr size_t kMaxTrees = 3;  // one per subset (subset_of)

  /// Compiles `rules` (ownership stays with the caller; they must outlive
  /// the forest).
  SplitForest(std::vector<Rule*> rules, SplitForestConfig cfg) : rules_(std::move(rules)) {
    std::sort(rules_.begin(), rules_.end(), [](Rule* a, Rule* b) { return a->rank > b->rank; });
    slot_ = huge_array<Slot>(rules_.size());
    for (size_t i = 0; i < rules_.size(); ++i)
      slot_[i].rank = rules_[i]->rank, slot_[i].rule = rules_[i];
    std::vector<uint32_t> parts[kMaxTrees];
    std::vector<uint8_t> part_of(rules_.size());
    for (uint32_t i = 0; i < rules_.size(); ++i) {
      part_of[i] = static_cast<uint8_t>(subset_of(*rules_[i]));
      parts[part_of[i]].push_back(i);
      max_add_ = std::max(max_add_, rules_[i]->add_version);
    }
    sync_removals();
    bits_ = RuleBitsSet::build(rules_, part_of.data(), cfg.bits);  // parts as the trees'
    whole_ = bits_ ? bits_->whole() : nullptr;
    budget_ = size_t{cfg.replication_budget} * rules_.size() + 4096;
    for (auto& p : parts)
      if (!p.empty()) trees_.push_back(Builder(rules_, p, cfg.leaf_size, budget_).build());
    std::sort(trees_.begin(), trees_.end(),
              [](const Tree& a, const Tree& b) { return a.max_rank > b.max_rank; });
    batch_trees_ = bits_ && !whole_ && trees_bytes() <= cfg.batch_trees_max_bytes;
    // -1: chosen only where single lookups walk the trees (no bit index)
    first_alone_ =
        cfg.first_tree_alone < 0 ? !bits_ && first_answers_most() : cfg.first_tree_alone > 0;
  }

  const std::vector<Rule*>& rules() const noexcept { return rules_; }

  /// Readers learn removals from the forest's own copy of each rule's
  /// remove_version (a small array, so a lookup never touches a rule it
  /// does not return).  The writer refreshes it when installing the forest
  /// and marks each later removal in every forest a reader may still hold,
  /// before publishing the removal's version.
  /// first_gone_ (the oldest of those versions) lets a tree's scan skip
  /// the slot while no rule of the forest is gone in the reader's version
  /// (the entries carry the rule's address): one line less per answer.
  void sync_removals() noexcept {
    uint64_t first = kLive;
    for (size_t i = 0; i < rules_.size(); ++i) {
      uint64_t g = rules_[i]->remove_version.load(std::memory_order_relaxed);
      slot_[i].gone.store(g, std::memory_order_relaxed);
      first = std::min(first, g);
    }
    first_gone_.store(first, std::memory_order_relaxed);
  }
  /// pos: r's index in rules() when the caller knows it, else ~0u.
  void mark_removed(const Rule* r, uint32_t pos, uint64_t v) noexcept {
    if (v < first_gone_.load(std::memory_order_relaxed))  // before v is published
      first_gone_.store(v, std::memory_order_relaxed);
    if (pos < rules_.size() && rules_[pos] == r)
      return slot_[pos].gone.store(v, std::memory_order_relaxed);
    auto it = std::lower_bound(rules_.begin(), rules_.end(), r->rank,
                               [](const Rule* a, uint64_t rank) { return a->rank > rank; });
    for (; it != rules_.end() && (*it)->rank == r->rank; ++it)
      if (*it == r) slot_[it - rules_.begin()].gone.store(v, std::memory_order_relaxed);
  }
  struct Stats {
    size_t nodes = 0, entries = 0, max_depth = 0;
    size_t inner = 0;         // wide nodes that are not leaves
    size_t shared_paths = 0;  // paths of an inner node to a child an earlier path of it reaches
    size_t reached = 0;       // nodes a walk from the roots reaches (each counted once)
    size_t direct = 0;        // leaves whose entries their parent places (SplitNode::lend)
  };
  Stats stats() const;
  /// Nodes visited and leaf entries scanned for key in all trees (no early exit).
  std::pair<size_t, size_t> path_cost(const FlowKey& key) const;
  size_t n_trees() const noexcept { return trees_.size(); }
  const SplitTree& tree(size_t i) const noexcept { return trees_[i]; }  // tests
  /// The bit-vector index lookups without a mask use, or nullptr (the trees then).
  const RuleBitsSet* bits() const noexcept { return bits_.get(); }
  /// True when batches walk the trees although there is an index: its
  /// parts are sparse and the trees fit in Config::batch_trees_max_bytes
  /// (their lock-step walks then cost a batch less per key than the
  /// parts' searches; docs/classifier.md, sixteenth round).
  bool batches_walk_trees() const noexcept { return batch_trees_; }
  /// True when lookups without a mask walk the first tree alone, then the
  /// others that can beat its answer (Config::first_tree_alone; lookup_fast).
  bool first_tree_alone() const noexcept { return first_alone_; }
  /// The trees' nodes and leaf records, in bytes (what batches_walk_trees weighs).
  size_t trees_bytes() const noexcept {
    size_t b = 0;
    for (const Tree& t : trees_) b += t.nodes.size() * sizeof(Node) + t.ent.size() * 4;
    return b;
  }
  size_t memory_bytes() const noexcept {
    size_t b = sizeof(*this) + rules_.capacity() * (sizeof(Rule*) + sizeof(Slot));
    if (bits_) b += bits_->memory_bytes();
    for (const Tree& t : trees_) b += t.nodes.capacity() * sizeof(Node) + t.ent.capacity() * 4;
    return b;
  }

  /// Best rule visible in version v that outranks best_rank (updated), or
  /// nullptr.  With wc, ORs the consulted bits into *wc.
  const Rule* lookup(const FlowKey& key, uint64_t v, uint64_t& best_rank,
                     FlowMask* wc = nullptr) const {
    if (wc) return lookup_wc(key, v, best_rank, *wc);
    if (bits_) return scan_bits(key, v, best_rank);
    return lookup_fast<false>(key, v, best_rank, nullptr);
  }

  /// What one lookup without wc costs (diagnostics, benchmarks): trees
  /// descended, wide nodes stepped through, leaf entries compared.
  struct Cost {
    size_t trees = 0, nodes = 0, entries = 0;
  };
  Cost lookup_cost(const FlowKey& key, uint64_t v) const {
    Cost c;
    uint64_t best_rank = 0;
    lookup_fast<true>(key, v, best_rank, &c);
    return c;
  }

  /// out[i] / best_rank[i] as lookup() for n ≤ kBatch keys, walking every
  /// tree for all keys in lock step so their cache misses overlap.
  void lookup_batch(const FlowKey* keys, size_t n, uint64_t v, const Rule** out,
                    uint64_t* best_rank) const;

 private:
  static constexpr uint8_t kLeaf = 0xff;
  static constexpr uint32_t kFullCheck = 1u << 31;
  static constexpr uint64_t kLive = ~uint64_t{0};  // a live rule's remove_version (kNeverRemoved)
  static constexpr int kMaxDepth = 48;

  /// The builder's binary node: go to a + 1 when x[dim] >= t, else a;
  /// a leaf (dim == kLeaf) holds entries [a, a + b).
  struct BNode {
    uint8_t dim;
    uint32_t t;
    uint32_t a;
    uint32_t b;
    uint32_t r;  // a leaf's first range in the builder's rng_
    uint32_t h;  // a leaf's head (Node::head)
  };
  using Node = SplitNode;  // split_tree.hpp
  using Tree = SplitTree;

  /// The megaflow path: trees one by one, each skipped when it cannot
  /// beat the best so far (a skipped tree adds no bits to the mask).
  const Rule* lookup_wc(const FlowKey& key, uint64_t v, uint64_t& best_rank, FlowMask& wc) const;

  /// Without a mask: every tree that could beat best_rank is descended in
  /// lock step (their dependent loads overlap, as lookup_batch does across
  /// keys), then the leaves are scanned best first rank first, so the first
  /// match stops the other scans at their first entry.  With first_alone_
  /// the first tree goes alone, the rest after it if they can beat its
  /// answer (docs/classifier.md, eighteenth round).
  /// Not inlined into lookup(): the bit index's walks, inlined there, kept
  /// their code (with it inlined, GCC made the 16-key search a call in them).
  template <bool kCount>
  [[gnu::noinline]] const Rule* lookup_fast(const FlowKey& key, uint64_t v, uint64_t& best_rank,
                                            Cost* c) const;
  /// lookup_fast's walk of trees first .. first + kNt - 1.
  template <bool kCount, size_t kNt>
  const Rule* walk(const FlowKey& key, uint64_t v, uint64_t& best_rank, Cost* c,
                   size_t first) const;
  static constexpr size_t kProbes = 256;  // keys first_answers_most() samples
  bool first_answers_most() const;

  // The bit-vector index's answers (split_forest_bits.hpp).
  void lookup_batch_bits(const FlowKey* keys, size_t n, uint64_t v, const Rule** out,
                         uint64_t* best_rank) const;
  const Rule* scan_bits(const FlowKey& key, uint64_t v, uint64_t& best_rank) const noexcept {
    return whole_ ? scan_whole(key, v, best_rank) : scan_parts(key, v, best_rank);
  }
  bool take(uint32_t i, bool full_check, const FlowKey& key, uint64_t v, const Rule*& best,
            uint64_t& best_rank) const noexcept;
  const Rule* scan_whole(const FlowKey& key, uint64_t v, uint64_t& best_rank) const noexcept;
  const Rule* scan_parts(const FlowKey& key, uint64_t v, uint64_t& best_rank) const noexcept;

  /// Entries compared (for Cost; unused results cost nothing): 32 at a
  /// time, dimension by dimension (simd::range_hits), then the hits in
  /// rank order until one is visible and passes its full check.
  template <class Leaf>  // Node or SplitLeaf
  uint32_t scan(const Tree& t, const Leaf& leaf, const uint32_t* x, const FlowKey& key, uint64_t v,
                const Rule*& best, uint64_t& best_rank) const noexcept;

  void scan_wc(const Tree& t, const Node& leaf, const FlowKey& key, uint64_t v, const Rule*& best,
               uint64_t& best_rank, FlowMask& wc) const noexcept;

  /// 0: small source range, 1: small destination range, 2: the rest.
  static int subset_of(const Rule& r) {
    constexpr KeyDim src{32, 4}, dst{36, 4};
    DimRange s = project(r.match, r.ranges, src), d = project(r.match, r.ranges, dst);
    if (s.hi - s.lo < (1u << 16)) return 0;
    if (d.hi - d.lo < (1u << 16)) return 1;
    return 2;
  }

  class Builder;

  std::vector<Rule*> rules_;  // every rule compiled in, best rank first
  // What a lookup needs of rules_[i] on one line: its remove_version (the
  // forest's own copy, see sync_removals), rank and pointer.
  struct alignas(32) Slot {
    std::atomic<uint64_t> gone{0};
    uint64_t rank = 0;
    Rule* rule = nullptr;
  };
  HugeArray<Slot> slot_;
  // The oldest slot_[i].gone: a reader of a version before it sees every
  // rule of the forest (the writer lowers it with each removal, before
  // publishing the removal's version, as it marks the slot).
  std::atomic<uint64_t> first_gone_{kLive};
  uint64_t max_add_ = 0;  // newest add_version in rules_
  std::vector<Tree> trees_;
  size_t budget_ = 0;
  std::unique_ptr<RuleBitsSet> bits_;  // the fast path without a mask, within its limits
  const RuleBits* whole_ = nullptr;    // bits_ when it is one index over all rules
  bool batch_trees_ = false;           // batches_walk_trees()
  bool first_alone_ = false;           // first_tree_alone()
};

}  // namespace flowpath::classify_detail

#include "flowpath/classify/split_forest_bits.hpp"
#include "flowpath/classify/split_forest_build.hpp"
#include "flowpath/classify/split_forest_lookup.hpp"
