// flowpath/classify/split_forest_bits.hpp — SplitForest's answers from its
// bit-vector index (split_forest.hpp, rule_bits_set.hpp): the candidates
// the index yields, best rank first, checked against the forest's slots
// (visibility in the reader's version, the full check where the ranges
// do not say everything).  Included by split_forest.hpp, not on its own.
//
// Cost: what the index's search costs, plus one slot line per candidate
// until the first is taken or cannot beat the best so far.  Thread-safety:
// readers only, any number (see split_forest.hpp).
#pragma once

#include "flowpath/classify/split_forest.hpp"

namespace flowpath::classify_detail {

/// Key after key: the out-of-order core overlaps one key's scan with the
/// next key's searches (staging the keys' loads was no faster).
template <class Rule>
inline void SplitForest<Rule>::lookup_batch_bits(const FlowKey* keys, size_t n, uint64_t v,
                                                 const Rule** out, uint64_t* best_rank) const {
  if (whole_) {
    for (size_t k = 0; k < n; ++k)
      if (const Rule* r = scan_whole(keys[k], v, best_rank[k])) out[k] = r;
    return;
  }
  for (size_t k = 0; k < n; ++k)
    if (const Rule* r = scan_parts(keys[k], v, best_rank[k])) out[k] = r;
}

/// Candidate i: true (stop) when it cannot beat best_rank or is the new
/// best (then taken); false when not visible in v or not a match.
template <class Rule>
inline bool SplitForest<Rule>::take(uint32_t i, bool full_check, const FlowKey& key, uint64_t v,
                                    const Rule*& best, uint64_t& best_rank) const noexcept {
  const Slot& sl = slot_[i];
  if (sl.rank <= best_rank) return true;
  if (sl.gone.load(std::memory_order_relaxed) <= v) return false;
  if (full_check && !sl.rule->matches(key)) return false;
  if (v < max_add_ && sl.rule->add_version > v) return false;  // a reader of an older version
  best = sl.rule;
  best_rank = sl.rank;
  return true;
}

/// The best candidate by rank that is visible in v and matches, if it
/// outranks best_rank.  Touches a rule only for a full check or the
/// answer.  Small sets: the one index, straight.
template <class Rule>
inline const Rule* SplitForest<Rule>::scan_whole(const FlowKey& key, uint64_t v,
                                                 uint64_t& best_rank) const noexcept {
  const Rule* best = nullptr;
  const uint64_t* row[RuleBits::kMaxDims];
  uint64_t s;
  whole_->rows(key, row, s);
  whole_->for_each_candidate(
      row, s, [&](uint32_t i) { return take(i, whole_->full_check(i), key, v, best, best_rank); });
  return best;
}

/// The same over the parts: in each the first that is taken or cannot be.
template <class Rule>
inline const Rule* SplitForest<Rule>::scan_parts(const FlowKey& key, uint64_t v,
                                                 uint64_t& best_rank) const noexcept {
  const Rule* best = nullptr;
  uint32_t best_i = ~0u;
  bits_->for_each_candidate(key, best_i, [&](uint32_t i, bool full_check) {
    const Rule* was = best;
    bool stop = take(i, full_check, key, v, best, best_rank);
    if (best != was) best_i = i;
    return stop;
  });
  return best;
}

}  // namespace flowpath::classify_detail
