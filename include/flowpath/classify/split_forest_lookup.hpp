// flowpath/classify/split_forest_lookup.hpp — SplitForest's walks of its
// trees (split_forest.hpp): the megaflow path (one tree after another, a
// mask of the bits consulted), the path without a mask (all trees in lock
// step, leaves best rank first), batches of keys in lock step, the leaf
// scans, and the trees' diagnostics (stats, path_cost).  Included by
// split_forest.hpp, not on its own.
//
// Cost and thread-safety: see split_forest.hpp (readers only, any number).
#pragma once

#include "flowpath/classify/split_forest.hpp"

namespace flowpath::classify_detail {

template <class Rule>
void SplitForest<Rule>::lookup_batch(const FlowKey* keys, size_t n, uint64_t v, const Rule** out,
                                     uint64_t* best_rank) const {
  if (bits_) return lookup_batch_bits(keys, n, v, out, best_rank);
  uint32_t x[kBatch][kMaxDims];
  uint32_t node[kBatch];
  for (size_t k = 0; k < n; ++k) {  // the key's bytes the dimensions use
    __builtin_prefetch(bytes_of(keys[k]) + 16);
    __builtin_prefetch(bytes_of(keys[k]) + 80);
  }
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
        if (nd.leaf) continue;
        node[k] = t.step(nd, x[k]);
        __builtin_prefetch(&t.nodes[node[k]]);
        moving = true;
      }
    }
    for (size_t k = 0; k < n; ++k)
      if (node[k] != kDone) t.prefetch_leaf(t.nodes[node[k]]);
    for (size_t k = 0; k < n; ++k)
      if (node[k] != kDone) scan(t, t.nodes[node[k]], x[k], keys[k], v, out[k], best_rank[k]);
  }
}

template <class Rule>
const Rule* SplitForest<Rule>::lookup_wc(const FlowKey& key, uint64_t v, uint64_t& best_rank,
                                         FlowMask& wc) const {
  const Rule* best = nullptr;
  uint32_t x[kMaxDims];
  for (const Tree& t : trees_) {
    if (t.max_rank <= best_rank) break;
    t.extract(key, x);
    scan_wc(t, t.nodes[t.descend_wc(x, wc)], key, v, best, best_rank, wc);
  }
  return best;
}

template <class Rule>
template <bool kCount>
const Rule* SplitForest<Rule>::lookup_fast(const FlowKey& key, uint64_t v, uint64_t& best_rank,
                                           Cost* c) const {
  uint32_t x[kMaxTrees][kMaxDims];
  uint32_t node[kMaxTrees], ci[kMaxTrees];
  bool fin[kMaxTrees];
  size_t nt = 0;
  for (const Tree& t : trees_) {
    if (t.max_rank <= best_rank) break;
    t.extract(key, x[nt]);
    fin[nt] = t.nodes[0].leaf;
    node[nt++] = 0;
  }
  // The trees in lock step: a walk stops at a leaf's node or at the
  // parent of a direct leaf, and a stopped walk is passed over (a branch
  // on a flag that flips once per walk: cheaper than repeating its step,
  // which would lead to the same place).
  for (bool moving = nt > 0; moving;) {
    moving = false;
    for (size_t i = 0; i < nt; ++i) {
      if (fin[i]) continue;
      const Tree& t = trees_[i];
      const Node& nd = t.nodes[node[i]];
      if constexpr (kCount) ++c->nodes;  // a walk still moving steps through an inner node
      ci[i] = Tree::index_of(nd, Tree::path(nd, x[i]));
      bool direct = bool(!nd.leaf) & bool((nd.head >> ci[i]) & 1);
      node[i] = direct ? node[i] : nd.child + ci[i];
      fin[i] = direct | t.nodes[node[i]].leaf;
      moving |= !fin[i];
    }
  }
  SplitLeaf leaf[kMaxTrees];
  for (size_t i = 0; i < nt; ++i) {
    const Tree& t = trees_[i];
    const Node& nd = t.nodes[node[i]];
    leaf[i] = nd.leaf ? SplitLeaf::of(nd) : t.direct_leaf(nd, ci[i]);
    t.prefetch_leaf(leaf[i]);
  }
  uint32_t order[kMaxTrees];
  uint64_t top[kMaxTrees];
  for (size_t i = 0; i < nt; ++i) {  // insertion sort by the leaf's best rank
    uint64_t r = leaf[i].top;
    size_t j = i;
    for (; j > 0 && top[j - 1] < r; --j) top[j] = top[j - 1], order[j] = order[j - 1];
    top[j] = r;
    order[j] = static_cast<uint32_t>(i);
  }
  const Rule* best = nullptr;
  for (size_t j = 0; j < nt && top[j] > best_rank; ++j) {
    const Tree& t = trees_[order[j]];
    uint32_t n = scan(t, leaf[order[j]], x[order[j]], key, v, best, best_rank);
    if constexpr (kCount) c->entries += n;
  }
  if constexpr (kCount) c->trees += nt;
  return best;
}

template <class Rule>
template <class Leaf>
uint32_t SplitForest<Rule>::scan(const Tree& t, const Leaf& leaf, const uint32_t* x,
                                 const FlowKey& key, uint64_t v, const Rule*& best,
                                 uint64_t& best_rank) const noexcept {
  if (leaf.top <= best_rank) return 0;  // no entry can win (0 also when empty)
  const uint32_t* e = t.ent.data() + leaf.base;
  const uint32_t* rg = t.ent.data() + leaf.rbase;
  const uint64_t first_gone = first_gone_.load(std::memory_order_relaxed);
  for (uint32_t c0 = 0, n; c0 < leaf.count; c0 += n) {
    if (Tree::rank_at(e, c0) <= best_rank) return c0;
    n = std::min<uint32_t>(32, (c0 < leaf.head ? leaf.head : leaf.count) - c0);
    for (uint32_t hits = simd::range_hits(x, t.n_dims, rg + c0, leaf.count, n); hits;
         hits &= hits - 1) {
      uint32_t i = c0 + static_cast<uint32_t>(std::countr_zero(hits));
      uint64_t rank = Tree::rank_at(e, i);
      if (rank <= best_rank) return c0 + n;
      uint32_t id = Tree::id_at(e, i);
      const Rule* r = static_cast<const Rule*>(Tree::rule_at(e, i));
      if (v >= first_gone) {  // some rule is gone: this one?
        const Slot& sl = slot_[id & ~kFullCheck];
        if (sl.gone.load(std::memory_order_relaxed) <= v) continue;
      }
      if ((id & kFullCheck) && !r->matches(key)) continue;
      if (v < max_add_ && r->add_version > v) continue;  // a reader of an older version
      best = r;
      best_rank = rank;
      return c0 + n;
    }
  }
  return leaf.count;
}

template <class Rule>
void SplitForest<Rule>::scan_wc(const Tree& t, const Node& leaf, const FlowKey& key, uint64_t v,
                                const Rule*& best, uint64_t& best_rank,
                                FlowMask& wc) const noexcept {
  const uint32_t* e = t.ent.data() + leaf.base;
  for (uint32_t i = 0; i < leaf.count; ++i) {
    if (Tree::rank_at(e, i) <= best_rank) return;
    const Rule* r = rules_[Tree::id_at(e, i) & ~kFullCheck];
    if (!r->visible(v)) continue;
    if (r->explain(key, wc)) {
      best = r;
      best_rank = Tree::rank_at(e, i);
      return;
    }
  }
}

template <class Rule>
typename SplitForest<Rule>::Stats SplitForest<Rule>::stats() const {
  Stats st;
  for (const Tree& t : trees_) {
    st.nodes += t.nodes.size();
    st.entries += t.ent.size() / t.stride();
    st.max_depth = std::max(st.max_depth, t.depth(0));
    std::vector<uint8_t> seen(t.nodes.size());
    std::vector<uint32_t> todo{0};
    while (!todo.empty()) {
      uint32_t n = todo.back();
      todo.pop_back();
      if (seen[n]++) continue;
      ++st.reached;
      if (t.nodes[n].leaf) continue;
      ++st.inner;
      st.direct += static_cast<size_t>(std::popcount(t.nodes[n].head));
      for (uint32_t p = 0; p < 8; ++p) {
        uint32_t c = Tree::child_of(t.nodes[n], p);
        bool again = false;
        for (uint32_t q = 0; q < p; ++q) again |= Tree::child_of(t.nodes[n], q) == c;
        st.shared_paths += again;
        if (!again) todo.push_back(c);
      }
    }
  }
  return st;
}

template <class Rule>
std::pair<size_t, size_t> SplitForest<Rule>::path_cost(const FlowKey& key) const {
  size_t nodes = 0, ents = 0;
  uint32_t x[kMaxDims];
  for (const Tree& t : trees_) {
    t.extract(key, x);
    uint32_t n = 0;
    for (; !t.nodes[n].leaf; ++nodes) n = t.step(t.nodes[n], x);
    ents += t.nodes[n].count;
  }
  return {nodes, ents};
}

}  // namespace flowpath::classify_detail
