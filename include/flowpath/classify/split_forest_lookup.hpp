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
  if (bits_ && !batch_trees_) return lookup_batch_bits(keys, n, v, out, best_rank);
  uint32_t x[kBatch][kMaxDims];
  uint32_t node[kBatch];
  uint32_t on[kBatch], moving[kBatch];  // keys that walk this tree; those not at a leaf yet
  for (size_t k = 0; k < n; ++k) {      // the key's bytes the dimensions use
    __builtin_prefetch(bytes_of(keys[k]) + 16);
    __builtin_prefetch(bytes_of(keys[k]) + 80);
  }
  for (const Tree& t : trees_) {
    size_t n_on = 0;
    for (size_t k = 0; k < n; ++k) {
      if (best_rank[k] >= t.max_rank) continue;
      on[n_on++] = static_cast<uint32_t>(k);
      node[k] = 0;
      t.extract(keys[k], x[k]);
    }
    if (n_on == 0) break;
    // Each round steps only the keys still moving, without a branch per
    // key: a leaf steps to itself (SplitNode::child), so a key is stepped
    // once more after it reached its leaf and then leaves the list (its
    // node's leaf flag is read a round after the prefetch, not at once).
    std::copy(on, on + n_on, moving);
    for (size_t n_mv = n_on; n_mv;) {
      size_t j = 0;
      for (size_t i = 0; i < n_mv; ++i) {
        uint32_t k = moving[i];
        const Node& nd = t.nodes[node[k]];
        node[k] = t.step(nd, x[k]);
        __builtin_prefetch(&t.nodes[node[k]]);
        moving[j] = k;
        j += !nd.leaf;
      }
      n_mv = j;
    }
    for (size_t i = 0; i < n_on; ++i) t.prefetch_leaf(t.nodes[node[on[i]]]);
    for (size_t i = 0; i < n_on; ++i) {
      uint32_t k = on[i];
      scan(t, t.nodes[node[k]], x[k], keys[k], v, out[k], best_rank[k]);
    }
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
  const Rule* best = nullptr;
  size_t first = 0;  // the trees are ordered by max_rank, best first
  if (first_alone_ && trees_[0].max_rank > best_rank) {
    best = walk<kCount, 1>(key, v, best_rank, c, 0);
    first = 1;
  }
  size_t nt = first;
  while (nt < trees_.size() && trees_[nt].max_rank > best_rank) ++nt;
  const Rule* r = nullptr;
  static_assert(kMaxTrees == 3);
  switch (nt - first) {
    case 0:
      break;
    case 1:
      r = walk<kCount, 1>(key, v, best_rank, c, first);
      break;
    case 2:
      r = walk<kCount, 2>(key, v, best_rank, c, first);
      break;
    default:
      r = walk<kCount, 3>(key, v, best_rank, c, 0);
  }
  return r ? r : best;  // a walk answers only what beats best_rank
}

/// The first tree alone answers most keys when fewer than a quarter of
/// kProbes keys, one inside each of kProbes rules spread over the ranks,
/// get from it an answer that a later tree could beat (its max_rank is
/// higher).  The rules stand in for the traffic: no trace is needed, and
/// the same rules give the same choice (a fixed seed).
template <class Rule>
bool SplitForest<Rule>::first_answers_most() const {
  if (trees_.size() < 2 || rules_.empty()) return false;
  uint64_t seed = 1;
  size_t more = 0;
  for (size_t i = 0; i < kProbes; ++i) {
    const Rule& r = *rules_[i * rules_.size() / kProbes];
    FlowKey key = key_inside(r.match, r.ranges, &seed);
    uint64_t rank = 0;
    walk<false, 1>(key, max_add_, rank, nullptr, 0);
    more += trees_[1].max_rank > rank;
  }
  return more * 4 < kProbes;
}

template <class Rule>
template <bool kCount, size_t kNt>
const Rule* SplitForest<Rule>::walk(const FlowKey& key, uint64_t v, uint64_t& best_rank, Cost* c,
                                    size_t first) const {
  // kNt is a constant so every loop over the trees unrolls and the walks'
  // state (node, fin, ci) lives in registers, not in arrays on the stack.
  uint32_t x[kNt][kMaxDims];
  uint32_t node[kNt], ci[kNt];
  bool fin[kNt];
  const Tree* tree[kNt];
#pragma GCC unroll 3
  for (size_t i = 0; i < kNt; ++i) {
    tree[i] = &trees_[first + i];
    tree[i]->extract(key, x[i]);
    fin[i] = tree[i]->nodes[0].leaf;
    node[i] = 0;
    ci[i] = 0;
  }
  // The trees in lock step until every walk stopped: a walk stops at a
  // leaf's node or at the parent of a direct leaf.  A stopped walk steps
  // again with the others, without a branch of its own: the step is
  // idempotent there (a leaf's path leads to itself, see SplitNode::child;
  // a direct leaf's parent leads to the same direct leaf), so the node's
  // leaf flag need not be tested either.
  // A step prefetches all eight lines from the node's first child: its
  // children (1 to 8) lie one after the other there, so whichever the
  // tests pick is on its way while they run (8 prefetches without a
  // branch cost fewer instructions than the node's exact count, and less
  // time; on a stopped walk they fetch lines already near).  Addresses
  // as integers: child + k may lie past the array (a leaf's child field
  // is its own index minus an offset), and a prefetch never faults.
  for (;;) {
    bool all = true;
#pragma GCC unroll 3
    for (size_t i = 0; i < kNt; ++i) {
      const Node* nodes = tree[i]->nodes.data();
      const Node& nd = nodes[node[i]];
      const uintptr_t first =
          reinterpret_cast<uintptr_t>(nodes) + uintptr_t{nd.child} * sizeof(Node);
#pragma GCC unroll 8
      for (uintptr_t k = 0; k < 8; ++k)
        __builtin_prefetch(reinterpret_cast<const void*>(first + k * sizeof(Node)));
      if constexpr (kCount) c->nodes += !fin[i];  // a walk still moving steps through an inner node
      ci[i] = Tree::index_of(nd, Tree::path(nd, x[i]));
      bool direct = (nd.head >> ci[i]) & 1;
      node[i] = direct ? node[i] : nd.child + ci[i];
      fin[i] = direct | nodes[node[i]].leaf;
      all &= fin[i];
    }
    if (all) break;
  }
  SplitLeaf leaf[kNt];
#pragma GCC unroll 3
  for (size_t i = 0; i < kNt; ++i) {
    const Node& nd = tree[i]->nodes[node[i]];
    leaf[i] = nd.leaf ? SplitLeaf::of(nd) : tree[i]->direct_leaf(nd, ci[i]);
    tree[i]->prefetch_leaf(leaf[i]);
  }
  uint32_t order[kNt];
  uint64_t top[kNt];
#pragma GCC unroll 3
  for (size_t i = 0; i < kNt; ++i) {  // insertion sort by the leaf's best rank
    uint64_t r = leaf[i].top;
    size_t j = i;
    for (; j > 0 && top[j - 1] < r; --j) top[j] = top[j - 1], order[j] = order[j - 1];
    top[j] = r;
    order[j] = static_cast<uint32_t>(i);
  }
  const Rule* best = nullptr;
  for (size_t j = 0; j < kNt && top[j] > best_rank; ++j) {
    uint32_t n = scan(*tree[order[j]], leaf[order[j]], x[order[j]], key, v, best, best_rank);
    if constexpr (kCount) c->entries += n;
  }
  if constexpr (kCount) c->trees += kNt;
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
