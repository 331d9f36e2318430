// flowpath/classify/split_forest_build.hpp — the compiler of one
// SplitForest tree (see split_forest.hpp for the design).  Included by
// split_forest.hpp only.
//
// Cost: O(rules x dims) per level, ~depth levels; the writer runs it on a
// background thread (classifier_v2.hpp).  Thread-safety: one builder per
// thread; reads only immutable rule fields.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace flowpath::classify_detail {

template <class Rule>
class SplitForest<Rule>::Builder {
 public:
  /// Builds the tree of the rules all[ids[i]] (ids in rank order).
  Builder(const std::vector<Rule*>& all, std::vector<uint32_t> ids, uint32_t leaf_size,
          size_t& budget)
      : ids_(std::move(ids)), leaf_(std::max<uint32_t>(leaf_size, 1)), budget_(budget) {
    rules_.reserve(ids_.size());
    for (uint32_t id : ids_) rules_.push_back(all[id]);
  }

  Tree build() {
    choose_dims();
    for (uint32_t d = 0; d < t_.n_dims; ++d) {
      t_.off[d] = t_.dims[d].off;
      t_.shift[d] = 32 - 8 * t_.dims[d].width;
      t_.fast_read &= size_t{t_.dims[d].off} + 4 <= sizeof(FlowKey);
    }
    simd::be32_perm(t_.off, t_.perm);
    t_.max_rank = rules_.empty() ? 0 : rules_[0]->rank;
    std::vector<uint32_t> all;
    for (uint32_t i = 0; i < rules_.size(); ++i)
      if (!rr_[i].dead) all.push_back(i);
    uint32_t blo[kMaxDims] = {}, bhi[kMaxDims];
    for (uint32_t d = 0; d < t_.n_dims; ++d) bhi[d] = t_.full[d];
    bn_.push_back({});
    build_node(0, all, blo, bhi, 0);
    t_.nodes.push_back({});
    widen(0, 0);
    place_direct_leaves();
    t_.nodes.shrink_to_fit();
    return std::move(t_);
  }

 private:
  struct Proj {
    uint32_t lo[kMaxDims], hi[kMaxDims];
    bool full_check = false;  // the ranges do not say everything the match says
    bool dead = false;        // empty range: the rule matches nothing
  };
  struct Split {
    uint32_t dim, t;
    size_t score;
  };

  /// The (at most kMaxDims) dimensions most rules constrain, and each
  /// rule's projection on them.
  void choose_dims() {
    std::array<std::pair<size_t, uint32_t>, kNumKeyDims> use{};
    for (uint32_t d = 0; d < kNumKeyDims; ++d) use[d].second = d;
    std::vector<uint64_t> cons(rules_.size());  // dimensions each rule constrains
    for (size_t i = 0; i < rules_.size(); ++i) {
      cons[i] = constrained_dims(rules_[i]->match, rules_[i]->ranges);
      for (uint64_t m = cons[i]; m; m &= m - 1) ++use[std::countr_zero(m)].first;
    }
    std::stable_sort(use.begin(), use.end(), [](auto a, auto b) { return a.first > b.first; });
    uint32_t chosen[kNumKeyDims];
    std::fill(std::begin(chosen), std::end(chosen), kMaxDims);
    for (uint32_t k = 0; k < kMaxDims && use[k].first > 0; ++k) {
      chosen[use[k].second] = t_.n_dims;
      t_.dims[t_.n_dims] = kKeyDims[use[k].second];
      t_.full[t_.n_dims] = dim_full(kKeyDims[use[k].second]);
      ++t_.n_dims;
    }
    rr_.resize(rules_.size());
    for (size_t i = 0; i < rules_.size(); ++i) {
      Proj& p = rr_[i];
      for (uint32_t d = 0; d < t_.n_dims; ++d) {
        p.lo[d] = 0;
        p.hi[d] = t_.full[d];
      }
      for (uint64_t m = cons[i]; m; m &= m - 1) {
        uint32_t d = static_cast<uint32_t>(std::countr_zero(m));
        DimRange r = project(rules_[i]->match, rules_[i]->ranges, kKeyDims[d]);
        p.dead |= r.lo > r.hi;
        p.full_check |= !r.exact;
        if (chosen[d] < kMaxDims) {
          p.lo[chosen[d]] = r.lo;
          p.hi[chosen[d]] = r.hi;
        } else {
          p.full_check = true;  // constrained on a dimension the tree does not see
        }
      }
    }
  }
  /// Rules that matter for splitting: up to and including the first one
  /// that covers the whole box with its ranges alone (a scan stops there).
  size_t effective(const std::vector<uint32_t>& s, const uint32_t* blo, const uint32_t* bhi) const {
    for (size_t i = 0; i < s.size(); ++i) {
      const Proj& p = rr_[s[i]];
      if (p.full_check) continue;
      bool cover = true;
      for (uint32_t d = 0; d < t_.n_dims; ++d) cover &= p.lo[d] <= blo[d] && p.hi[d] >= bhi[d];
      if (cover) return i + 1;
    }
    return s.size();
  }

  void build_node(uint32_t idx, std::vector<uint32_t>& s, uint32_t* blo, uint32_t* bhi, int depth) {
    size_t eff = effective(s, blo, bhi);
    Split sp{0, 0, ~size_t{0}};
    if (eff > leaf_ && depth < kMaxDepth && budget_ >= 2 * s.size()) sp = choose(s, eff, blo, bhi);
    if (sp.score == ~size_t{0}) return make_leaf(idx, s, eff);
    std::vector<uint32_t> l, r;
    for (uint32_t i : s) {
      if (rr_[i].lo[sp.dim] < sp.t) l.push_back(i);
      if (rr_[i].hi[sp.dim] >= sp.t) r.push_back(i);
    }
    std::vector<uint32_t>().swap(s);
    uint32_t li = static_cast<uint32_t>(bn_.size());
    bn_.push_back({});
    bn_.push_back({});
    bn_[idx] = {static_cast<uint8_t>(sp.dim), sp.t, li, 0, 0, 0};
    uint32_t saved = bhi[sp.dim];
    bhi[sp.dim] = sp.t - 1;
    build_node(li, l, blo, bhi, depth + 1);
    bhi[sp.dim] = saved;
    saved = blo[sp.dim];
    blo[sp.dim] = sp.t;
    build_node(li + 1, r, blo, bhi, depth + 1);
    blo[sp.dim] = saved;
  }

  /// Best split of the first `eff` rules: per dimension, the quartiles of
  /// the range ends inside the box; the score favours balance, then little
  /// replication.  No split when none leaves fewer rules on both sides.
  Split choose(const std::vector<uint32_t>& s, size_t eff, const uint32_t* blo,
               const uint32_t* bhi) {
    Split best{0, 0, ~size_t{0}};
    size_t step = std::max<size_t>(1, eff / kSample);  // sampled: the split only steers
    size_t n = (eff + step - 1) / step;
    for (uint32_t d = 0; d < t_.n_dims; ++d) {
      cand_.clear();
      for (size_t i = 0; i < eff; i += step) {
        const Proj& p = rr_[s[i]];
        if (p.lo[d] > blo[d]) cand_.push_back(p.lo[d]);
        if (p.hi[d] < bhi[d]) cand_.push_back(p.hi[d] + 1);
      }
      if (cand_.empty()) continue;
      for (size_t q = 1; q <= 3; ++q) {
        auto nth = cand_.begin() + static_cast<ptrdiff_t>(cand_.size() * q / 4);
        std::nth_element(cand_.begin(), nth, cand_.end());
        uint32_t t = *nth;
        size_t nl = 0, nr = 0;
        for (size_t i = 0; i < eff; i += step) {
          nl += rr_[s[i]].lo[d] < t;
          nr += rr_[s[i]].hi[d] >= t;
        }
        if (std::max(nl, nr) >= n) continue;
        size_t score = 4 * std::max(nl, nr) + (nl + nr - n);
        if (score < best.score) best = {d, t, score};
      }
    }
    return best;
  }

  /// head: entries down to the first that covers the leaf's box.
  void make_leaf(uint32_t idx, const std::vector<uint32_t>& s, size_t head) {
    uint32_t first = static_cast<uint32_t>(ranks_.size());
    uint32_t rbase = static_cast<uint32_t>(rng_.size());
    for (uint32_t i : s) {
      ranks_.push_back(rules_[i]->rank);
      eids_.push_back(ids_[i] | (rr_[i].full_check ? kFullCheck : 0));
      erules_.push_back(rules_[i]);
    }
    for (uint32_t d = 0; d < t_.n_dims; ++d) {  // column-wise: lo[], then span[]
      for (uint32_t i : s) rng_.push_back(rr_[i].lo[d]);
      for (uint32_t i : s) rng_.push_back(rr_[i].hi[d] - rr_[i].lo[d]);
    }
    budget_ -= std::min(budget_, s.size());
    bn_[idx] = {
        kLeaf, 0, first, static_cast<uint32_t>(s.size()), rbase, static_cast<uint32_t>(head)};
  }

  /// Writes at t_.nodes[w] the wide node for binary node b: its tests down
  /// three levels (a leaf met early stands for all the paths below it,
  /// under always-true tests), then the distinct subtrees it leads to (a
  /// leaf met early once), with the map from each path to its subtree.
  void widen(uint32_t w, uint32_t b) {
    if (bn_[b].dim == kLeaf) {
      Node leaf{};
      leaf.leaf = 1;
      leaf.base = bn_[b].a;
      leaf.count = bn_[b].b;
      leaf.rbase = bn_[b].r;
      leaf.head = bn_[b].h;
      leaf.top = leaf.count ? ranks_[leaf.base] : 0;
      leaf.child = w - (leaf.count >> 21 & 7);  // modulo 2^32: step() adds it back
      t_.nodes[w] = leaf;
      return;
    }
    Node m{};
    uint32_t level[8] = {b}, next[8];
    for (uint32_t l = 0, width = 1; l < 3; ++l, width *= 2) {
      for (uint32_t i = 0; i < width; ++i) {
        const BNode& n = bn_[level[i]];
        bool leaf = n.dim == kLeaf;
        m.d[width - 1 + i] = leaf ? 0 : n.dim;
        m.t[width - 1 + i] = leaf ? 0 : n.t;
        next[2 * i] = leaf ? level[i] : n.a;
        next[2 * i + 1] = leaf ? level[i] : n.a + 1;
      }
      std::copy(next, next + 2 * width, level);
    }
    uint32_t distinct[8], n = 0;  // the paths of one leaf met early are adjacent
    for (uint32_t p = 0; p < 8; ++p) {
      if (n == 0 || distinct[n - 1] != level[p]) distinct[n++] = level[p];
      m.count |= (n - 1) << (3 * p);
    }
    m.base = static_cast<uint32_t>(t_.nodes.size());
    m.child = m.base;
    t_.nodes[w] = m;
    t_.nodes.resize(t_.nodes.size() + n);
    for (uint32_t i = 0; i < n; ++i) widen(m.base + i, distinct[i]);
  }

  /// Lays the leaves' entries out as Tree::ent's records, so each inner
  /// node's direct leaves (SplitNode::lend) have theirs one after the
  /// other, and sets base, rbase, head and lend of every node.  A leaf has
  /// one parent (it is stored once), so it is placed once; entries keep
  /// their order.
  void place_direct_leaves() {
    t_.ent.reserve(ranks_.size() * t_.stride());
    const uint32_t nd2 = 2 * t_.n_dims;
    std::vector<uint8_t> placed(t_.nodes.size());
    auto place = [&](uint32_t n) {
      Node& lf = t_.nodes[n];
      uint32_t nb = static_cast<uint32_t>(t_.ent.size());
      for (uint32_t i = lf.base; i < lf.base + lf.count; ++i)
        t_.push_entry(ranks_[i], eids_[i], erules_[i]);
      t_.ent.insert(t_.ent.end(), rng_.begin() + lf.rbase,
                    rng_.begin() + lf.rbase + size_t{nd2} * lf.count);
      lf.base = nb;
      lf.rbase = nb + Tree::kEntWords * lf.count;
      placed[n] = 1;
    };
    for (uint32_t w = 0; w < t_.nodes.size(); ++w) {
      Node& m = t_.nodes[w];
      if (m.leaf) continue;
      m.base = static_cast<uint32_t>(t_.ent.size());
      m.head = 0;
      uint32_t end = 0, n = Tree::index_of(m, 7) + 1;
      for (uint32_t i = 0; i < 8; ++i) {
        const Node* c = i < n ? &t_.nodes[m.child + i] : nullptr;
        if (c && c->leaf && c->head == c->count && end + c->count <= 255) {
          end += c->count;
          place(m.child + i);
          m.head |= 1u << i;
        }
        m.lend[i] = static_cast<uint8_t>(end);
      }
    }
    for (uint32_t n = 0; n < t_.nodes.size(); ++n)
      if (t_.nodes[n].leaf && !placed[n]) place(n);
  }

  static constexpr size_t kSample = 64;

  std::vector<Rule*> rules_;
  std::vector<uint32_t> ids_;
  uint32_t leaf_;
  size_t& budget_;
  std::vector<Proj> rr_;
  std::vector<BNode> bn_;
  std::vector<uint32_t> cand_;
  // The leaves' entries as make_leaf writes them (ranks_[base + i],
  // eids_[base + i], erules_[base + i], rng_[rbase ..]), before
  // place_direct_leaves lays them out in Tree::ent.  Huge-page vectors as
  // the tree's own (big ones mapped and unmapped whole, not kept by malloc).
  HugeVector<uint64_t> ranks_;
  HugeVector<const Rule*> erules_;
  HugeVector<uint32_t> eids_, rng_;
  Tree t_;
};

}  // namespace flowpath::classify_detail
