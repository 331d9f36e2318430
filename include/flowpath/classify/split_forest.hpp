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
// sorted by rank, stored inline as (rank, rule, [lo, span] per dimension)
// so the check of a candidate is a few subtractions without touching the
// rule.  Splitting stops at Config::leaf_size rules above the first rule
// that covers the whole box (the scan stops there anyway), when no split
// helps, or when the replication budget is spent.  Trees are walked in
// order of the best rank they hold and skipped when they cannot beat the
// best match so far.
//
// Megaflow masks: a node adds the bits of its dimension that decide
// `x >= t` (split_explain), a leaf adds, for each rule it checks, the bits
// Rule::explain adds (mismatch proof, or the winner's mask).  Any key that
// agrees on those bits takes the same path and gets the same answer.
//
// Removed rules stay in the trees until the next compile; lookups skip
// rules not visible in their version.  Cost: lookup ~ depth (≤ ~20) node
// reads + one leaf scan per tree; batches walk up to 32 keys in lock step
// with prefetches.  Build: O(rules x dims x depth).  Thread-safety:
// immutable after construction; any number of concurrent readers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "flowpath/classify/split_dims.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath::classify_detail {

struct SplitForestConfig {
  uint32_t leaf_size = 8;           // rules per leaf before a split is tried
  uint32_t replication_budget = 8;  // leaf entries per rule before splitting stops
};

template <class Rule>
class SplitForest {
 public:
  static constexpr size_t kMaxDims = 8;
  static constexpr size_t kBatch = 32;

  /// Compiles `rules` (ownership stays with the caller; they must outlive
  /// the forest).
  SplitForest(std::vector<Rule*> rules, SplitForestConfig cfg) : rules_(std::move(rules)) {
    std::sort(rules_.begin(), rules_.end(), [](Rule* a, Rule* b) { return a->rank > b->rank; });
    std::vector<Rule*> parts[3];
    for (Rule* r : rules_) parts[subset_of(*r)].push_back(r);
    budget_ = size_t{cfg.replication_budget} * rules_.size() + 4096;
    for (auto& p : parts)
      if (!p.empty()) trees_.push_back(Builder(p, cfg.leaf_size, budget_).build());
    std::sort(trees_.begin(), trees_.end(),
              [](const Tree& a, const Tree& b) { return a.max_rank > b.max_rank; });
  }

  const std::vector<Rule*>& rules() const noexcept { return rules_; }
  size_t n_trees() const noexcept { return trees_.size(); }
  size_t memory_bytes() const noexcept {
    size_t b = sizeof(*this) + rules_.capacity() * sizeof(Rule*);
    for (const Tree& t : trees_) b += t.nodes.capacity() * sizeof(Node) + t.ents.capacity() * 8;
    return b;
  }

  /// Best rule visible in version v that outranks best_rank (updated), or
  /// nullptr.  With wc, ORs the consulted bits into *wc.
  const Rule* lookup(const FlowKey& key, uint64_t v, uint64_t& best_rank,
                     FlowMask* wc = nullptr) const {
    const Rule* best = nullptr;
    uint32_t x[kMaxDims];
    for (const Tree& t : trees_) {
      if (t.max_rank <= best_rank) break;
      t.extract(key, x);
      uint32_t n = wc ? t.descend_wc(x, *wc) : t.descend(x);
      if (wc)
        t.scan_wc(t.nodes[n], key, v, best, best_rank, *wc);
      else
        t.scan(t.nodes[n], x, key, v, best, best_rank);
    }
    return best;
  }

  /// out[i] / best_rank[i] as lookup() for n ≤ kBatch keys, walking every
  /// tree for all keys in lock step so their cache misses overlap.
  void lookup_batch(const FlowKey* keys, size_t n, uint64_t v, const Rule** out,
                    uint64_t* best_rank) const {
    uint32_t x[kBatch][kMaxDims];
    uint32_t node[kBatch];
    for (const Tree& t : trees_) {
      bool any = false;
      for (size_t k = 0; k < n; ++k) {
        node[k] = best_rank[k] < t.max_rank ? 0 : kDone;
        if (node[k] == kDone) continue;
        any = true;
        t.extract(keys[k], x[k]);
      }
      if (!any) break;
      for (bool moving = true; moving;) {
        moving = false;
        for (size_t k = 0; k < n; ++k) {
          if (node[k] == kDone) continue;
          const Node& nd = t.nodes[node[k]];
          if (nd.dim == kLeaf) continue;
          node[k] = x[k][nd.dim] >= nd.t ? nd.b : nd.a;
          __builtin_prefetch(&t.nodes[node[k]]);
          moving = true;
        }
      }
      for (size_t k = 0; k < n; ++k)
        if (node[k] != kDone) __builtin_prefetch(&t.ents[size_t{t.nodes[node[k]].a} * t.stride]);
      for (size_t k = 0; k < n; ++k)
        if (node[k] != kDone) t.scan(t.nodes[node[k]], x[k], keys[k], v, out[k], best_rank[k]);
    }
  }

 private:
  static constexpr uint8_t kLeaf = 0xff;
  static constexpr uint32_t kDone = ~0u;
  static constexpr int kMaxDepth = 48;

  struct Node {
    uint8_t dim;  // index into Tree::dims, or kLeaf
    uint32_t t;   // go right when x[dim] >= t
    uint32_t a;   // left child, or first entry of a leaf
    uint32_t b;   // right child, or entries in a leaf
  };

  struct Tree {
    uint32_t n_dims = 0;
    uint32_t stride = 2;  // words per entry: rank, rule|full-check bit, (lo | span << 32) x dims
    KeyDim dims[kMaxDims] = {};
    uint32_t full[kMaxDims] = {};
    uint64_t max_rank = 0;
    std::vector<Node> nodes;
    std::vector<uint64_t> ents;

    void extract(const FlowKey& key, uint32_t* x) const noexcept {
      for (uint32_t d = 0; d < n_dims; ++d) x[d] = dim_read(bytes_of(key), dims[d]);
    }
    uint32_t descend(const uint32_t* x) const noexcept {
      uint32_t n = 0;
      while (nodes[n].dim != kLeaf) n = x[nodes[n].dim] >= nodes[n].t ? nodes[n].b : nodes[n].a;
      return n;
    }
    uint32_t descend_wc(const uint32_t* x, FlowMask& wc) const noexcept {
      uint32_t n = 0;
      while (nodes[n].dim != kLeaf) {
        const Node& nd = nodes[n];
        dim_or(bytes_of(wc), dims[nd.dim], split_explain(x[nd.dim], nd.t, full[nd.dim]));
        n = x[nd.dim] >= nd.t ? nd.b : nd.a;
      }
      return n;
    }
    void scan(const Node& leaf, const uint32_t* x, const FlowKey& key, uint64_t v,
              const Rule*& best, uint64_t& best_rank) const noexcept {
      const uint64_t* e = ents.data() + size_t{leaf.a} * stride;
      for (uint32_t i = 0; i < leaf.b; ++i, e += stride) {
        if (e[0] <= best_rank) return;
        bool ok = true;
        for (uint32_t d = 0; d < n_dims; ++d)
          ok &= x[d] - static_cast<uint32_t>(e[2 + d]) <= static_cast<uint32_t>(e[2 + d] >> 32);
        if (!ok) continue;
        const Rule* r = reinterpret_cast<const Rule*>(e[1] & ~uint64_t{1});
        if ((e[1] & 1) && !r->matches(key)) continue;
        if (!r->visible(v)) continue;
        best = r;
        best_rank = e[0];
        return;
      }
    }
    void scan_wc(const Node& leaf, const FlowKey& key, uint64_t v, const Rule*& best,
                 uint64_t& best_rank, FlowMask& wc) const noexcept {
      const uint64_t* e = ents.data() + size_t{leaf.a} * stride;
      for (uint32_t i = 0; i < leaf.b; ++i, e += stride) {
        if (e[0] <= best_rank) return;
        const Rule* r = reinterpret_cast<const Rule*>(e[1] & ~uint64_t{1});
        if (!r->visible(v)) continue;
        if (r->explain(key, wc)) {
          best = r;
          best_rank = e[0];
          return;
        }
      }
    }
  };

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
  std::vector<Tree> trees_;
  size_t budget_ = 0;
};

}  // namespace flowpath::classify_detail

#include "flowpath/classify/split_forest_build.hpp"
