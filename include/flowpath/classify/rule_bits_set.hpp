// flowpath/classify/rule_bits_set.hpp — the bit-vector index (rule_bits.hpp)
// of a compiled rule set, as SplitForest (split_forest.hpp) builds it: one
// index over all rules when the set is small enough for dense rows, else
// one per part (the forest's subsets: small source range, small destination
// range, the rest), each with its own dimensions and intervals.
//
// Why parts: in one index over a big set, a row of a dimension a part
// wildcards holds most of that part's rules (fw1_10k: 10.6 MB of sparse
// rows), and a word of 64 rules passes the ANDed summaries when one of its
// rules fits one dimension and another the next (ipc1_10k: 15 words read per
// lookup).  Inside a part the small field is selective and the wildcards
// add few intervals: on the 10K ClassBench sets 0.5-1.4 MB and 1-4 words
// per lookup over all parts.  The cost: each part searches its own
// intervals, so a lookup pays up to three sets of searches; parts are
// asked best rule first and skipped once they cannot beat the answer.
//
// Not for 100K rules (Limits::sparse_max_rules 32K): a part's summaries,
// a bit per 64 rules per row, pass the budget (acl1_100k: 25 words per row
// and dimension, 200K intervals), and cutting the part into chunks of 16K
// rules, each its own index (22 MB), looked up in 942 ns against the
// trees' 205: searches over ~1 MB of boundaries per chunk, all misses.
//
// Cost: build O(parts x RuleBits::build); lookup per part asked as
// RuleBits; a part of more than kCheckMinRules rules asked with an answer
// in hand first costs one search and two loads (RuleBits::first_on_dim0),
// and no more when its first candidate cannot beat the answer.  Thread-safety: immutable after
// build; any number of readers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "flowpath/classify/rule_bits.hpp"

namespace flowpath::classify_detail {

class RuleBitsSet {
 public:
  static constexpr size_t kMaxParts = 3;
  static constexpr size_t kCheckMinRules = 512;  // a dense row of one line

  /// The index of rules (best rank first; they must outlive it), part_of[i]
  /// < kMaxParts being rule i's part; nullptr when over lim (the sparse
  /// budget, max(max_bytes, sparse_bytes_per_rule x rules), covers all parts).
  template <class Rule>
  static std::unique_ptr<RuleBitsSet> build(const std::vector<Rule*>& rules, const uint8_t* part_of,
                                            RuleBits::Limits lim) {
    auto out = std::make_unique<RuleBitsSet>();
    if (rules.size() <= std::min<size_t>(lim.max_rules, 4096)) {  // one part, dense rows
      auto b = RuleBits::build(rules, lim);
      if (!b) return nullptr;
      out->parts_.push_back({std::move(b), {}, 0});
      return out;
    }
    if (rules.size() > lim.sparse_max_rules) return nullptr;
    std::vector<Rule*> sub[kMaxParts];
    std::vector<uint32_t> ids[kMaxParts];
    for (uint32_t i = 0; i < rules.size(); ++i) {
      size_t p = std::min<size_t>(part_of[i], kMaxParts - 1);
      sub[p].push_back(rules[i]);
      ids[p].push_back(i);
    }
    size_t budget = std::max(lim.max_bytes, size_t{lim.sparse_bytes_per_rule} * rules.size());
    size_t used = 0;
    for (size_t p = 0; p < kMaxParts; ++p) {
      if (sub[p].empty()) continue;
      RuleBits::Limits pl = lim;  // what is left of the budget, dense or sparse
      pl.max_bytes = budget - used;
      pl.sparse_bytes_per_rule = 0;
      auto b = RuleBits::build(sub[p], pl);
      if (!b || (used += b->memory_bytes()) > budget) return nullptr;
      uint32_t first = ids[p][0];
      bool check = ids[p].size() > kCheckMinRules;
      out->parts_.push_back({std::move(b), std::move(ids[p]), first, check});
    }
    // Biggest part first: it most often holds the answer, and then a part
    // whose best rule comes after it is not searched at all.
    std::sort(out->parts_.begin(), out->parts_.end(),
              [](const Part& a, const Part& b) { return a.ids.size() > b.ids.size(); });
    return out;
  }

  size_t n_parts() const noexcept { return parts_.size(); }
  /// The one index over all rules (dense rows), if that is what the set
  /// is: callers take it straight (a 1K lookup is ~35 ns; the part loop
  /// cost 10-15% of it).
  const RuleBits* whole() const noexcept {
    return parts_.size() == 1 && parts_[0].ids.empty() ? parts_[0].bits.get() : nullptr;
  }
  const RuleBits& part(size_t p) const noexcept { return *parts_[p].bits; }
  /// True when some part has sparse rows.
  bool sparse() const noexcept {
    return std::any_of(parts_.begin(), parts_.end(),
                       [](const Part& p) { return p.bits->sparse(); });
  }
  size_t memory_bytes() const noexcept {
    size_t b = sizeof(*this);
    for (const Part& p : parts_) b += p.bits->memory_bytes() + p.ids.capacity() * 4;
    return b;
  }

  /// Calls f(i, full_check) for rules i (indexes in build's rules) whose
  /// ranges contain the key's: each part's in order until f returns true,
  /// biggest part first, none from a part whose best rule comes at or
  /// after `best` (the caller lowers it to the index it answers with).
  template <class F>
  void for_each_candidate(const FlowKey& key, const uint32_t& best, F&& f) const {
    for (const Part& p : parts_) {
      if (p.first >= best) continue;
      const RuleBits& b = *p.bits;
      if (p.ids.empty()) {
        b.for_each_candidate(key, [&](uint32_t i) { return f(i, b.full_check(i)); });
        continue;
      }
      const uint32_t* ids = p.ids.data();
      // An answer in hand: can the part's first candidate beat it?  Only
      // parts whose rows are more than a line (kCheckMinRules): asking a
      // smaller one whole (one-line rows, one- or two-level searches)
      // costs about what the check does (acl1_10k's 76-rule part holds the
      // answer whenever it is asked: the check would never skip it).
      if (p.check && best != ~0u) {
        uint32_t i0 = b.first_on_dim0(key);
        if (i0 >= p.ids.size() || ids[i0] >= best) continue;
      }
      b.for_each_candidate(key, [&](uint32_t i) { return f(ids[i], b.full_check(i)); });
    }
  }

 private:
  struct Part {
    std::unique_ptr<RuleBits> bits;
    std::vector<uint32_t> ids;  // the part's rules by their index in rules (empty: all of them)
    uint32_t first = 0;         // index of its best rule
    bool check = false;         // first_on_dim0 before asking it (more than kCheckMinRules)
  };
  std::vector<Part> parts_;
};

}  // namespace flowpath::classify_detail
