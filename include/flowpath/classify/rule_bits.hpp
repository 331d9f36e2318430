// flowpath/classify/rule_bits.hpp — a bit-vector index of a small rule set
// (Lakshman & Stiliadis 1998), the fast path of SplitForest (split_forest.hpp)
// when the rule set is small enough, for ClassifierV2 (classifier_v2.hpp).
//
// Design.  The rules, sorted best rank first, get bit positions 0..n-1.  On
// each of up to kMaxDims dimensions (split_dims.hpp: the ones most rules
// constrain) the rules' range ends cut the axis into elementary intervals;
// each interval stores a row of n bits: the rules whose range on that
// dimension contains the interval.  A lookup finds the key's interval on
// every dimension, ANDs the rows word by word and takes the set bits in
// order: the first set bit whose rule is visible (and passes its full check,
// when its ranges do not say everything its match says) is the answer.  The
// interval search is a static 16-way tree per dimension (interval_search.hpp:
// nodes of 16 sorted boundaries counted with one vector compare; 32 with two
// where that saves a level) whose top level, up to 64 boundaries, is counted
// whole by independent compares: one dependent step up to 64 boundaries,
// two up to 1040 (2080 with 32-key nodes).  So a lookup's
// chain of dependent loads is one or two search steps and one row load, the
// dimensions' searches running side by side, where the forest needs 4-12
// wide-node loads and a leaf scan per tree.  Each row has a summary word
// (bit j: word j has a bit) in a small array of its own: ANDed first, they name the words worth
// reading, so a lookup reads one line per dimension (prefetched as soon as
// it is known), not whole rows.  A dimension on which every rule has the
// same range (EtherType, often) is a compare, not rows.
// Dense rows only for small sets: their memory is dims x intervals x n / 8
// bytes, quadratic in n (0.25 MB per dimension at 1K rules, 4 MB at 4K).
// Bigger sets (Limits::sparse_max_rules) keep only each row's non-zero
// words and a summary bit per word (rule_bits_sparse.hpp); a lookup ANDs
// the summaries, then only the words every dimension has.  The caller
// gives the limits (rules and bytes) and gets no index beyond.
//
// Cost: build O(dims x intervals x n / 64); lookup ~ 1-2 search steps and
// a row (prefetched whole) per dimension + n / 64 word ANDs at most (the scan stops at the
// first visible candidate).  Thread-safety: immutable after construction;
// any number of concurrent readers.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "flowpath/classify/huge_pages.hpp"
#include "flowpath/classify/interval_search.hpp"
#include "flowpath/classify/rule_bits_sparse.hpp"
#include "flowpath/classify/split_dims.hpp"
#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/bits_kernels.hpp"

namespace flowpath::classify_detail {

class RuleBits {
 public:
  static constexpr size_t kMaxDims = 8;
  struct Limits {
    uint32_t max_rules = 4096;             // dense rows up to this many rules (at most 4096)
    size_t max_bytes = size_t{8} << 20;    // and bytes
    uint32_t sparse_max_rules = 1u << 15;  // sparse rows up to this many (why: rule_bits_set.hpp)
    uint32_t sparse_bytes_per_rule = 800;  // in max(max_bytes, this x rules) bytes
  };

  /// Builds the index of rules (best rank first; they must outlive it), or
  /// returns nullptr when the set is over the limits or constrains nothing.
  template <class Rule>
  static std::unique_ptr<RuleBits> build(const std::vector<Rule*>& rules, Limits lim);

  size_t n_rules() const noexcept { return n_; }
  /// Dimensions with rows, dimensions that are a compare (guards), and a
  /// dimension's intervals (diagnostics, tests).
  uint32_t n_dims() const noexcept { return n_dims_; }
  uint32_t n_guards() const noexcept { return n_guards_; }
  uint32_t n_intervals(uint32_t d) const noexcept { return dim_[d].ix.n_intervals(); }
  /// True when the rows are sparse (rule_bits_sparse.hpp): rows() and the
  /// row form of for_each_candidate are then not to be called.
  bool sparse() const noexcept { return sparse_; }
  size_t memory_bytes() const noexcept {
    size_t b = sizeof(*this) + full_check_.capacity() * 8;
    for (uint32_t d = 0; d < n_dims_; ++d) {
      const Dim& dm = dim_[d];
      b += dm.ix.memory_bytes() + sp_[d].memory_bytes() + dm.summary.capacity() * 8;
      if (dm.rows) b += size_t{dm.ix.n_intervals()} * words_ * 8;
    }
    return b;
  }
  /// True when rule i's ranges do not say everything its match says.
  bool full_check(uint32_t i) const noexcept { return full_check_[i / 64] >> (i % 64) & 1; }

  /// The key's row on every dimension, and in s the AND of their
  /// summaries (bit j: word j of every row has a bit; 0 when the key is
  /// outside a guard).  Prefetches the line of the first candidate word.
  void rows(const FlowKey& key, const uint64_t** row, uint64_t& s) const noexcept {
    const uint8_t* kb = bytes_of(key);
    s = in_guards(kb) ? ~uint64_t{0} : 0;
    for (uint32_t d = 0; d < n_dims_; ++d) {
      const Dim& dm = dim_[d];
      uint32_t x = read(kb, dm.off, dm.shift);
      uint32_t iv = wide_search(dm.ix) ? dm.ix.search32(x) : dm.ix.search16(x);
      row[d] = dm.rows.get() + size_t{iv} * words_;
      s &= dm.summary[iv];
    }
    uint32_t w = s ? static_cast<uint32_t>(std::countr_zero(s)) & ~7u : 0;
    for (uint32_t d = 0; d < n_dims_; ++d) __builtin_prefetch(row[d] + w);
  }
  /// Calls f(i) for every rule i whose ranges contain the key's (a
  /// superset of the matching rules), in bit order, until f returns true.
  /// Reads the rows a line (8 words) at a time (simd::and_rows8), only
  /// lines the summaries s have bits in.
  template <class F>
  void for_each_candidate(const uint64_t* const* row, uint64_t s, F&& f) const {
    for (uint32_t blk = 0; blk < words_; blk += 8) {
      if ((s >> blk & 0xff) == 0) continue;
      uint64_t acc[8];
      for (uint32_t nz = simd::and_rows8(row, n_dims_, blk, acc); nz; nz &= nz - 1) {
        uint32_t j = static_cast<uint32_t>(std::countr_zero(nz));
        for (uint64_t a = acc[j]; a; a &= a - 1)
          if (f((blk + j) * 64 + static_cast<uint32_t>(std::countr_zero(a)))) return;
      }
    }
  }
  /// The best (lowest) rule of the key's row on the first dimension, or n
  /// when the row is empty: no candidate comes before it (the AND of the
  /// rows only drops bits).  One search and two loads, where a full ask
  /// costs a search per dimension and the scan: a part asked for rules
  /// outranking an answer in hand mostly has none (ipc1_10k: 3 in 4 of its
  /// second part's asks end here).  Out of line: the lookups that never
  /// call it (acl1_10k) ran 3-5% slower with it inlined into the part loop.
  [[gnu::noinline]] uint32_t first_on_dim0(const FlowKey& key) const noexcept {
    const Dim& dm = dim_[0];
    uint32_t iv = dm.ix.search(read(bytes_of(key), dm.off, dm.shift));
    if (!sparse_) {
      uint64_t s = dm.summary[iv];
      if (s == 0) return n_;
      auto j = static_cast<uint32_t>(std::countr_zero(s));
      uint64_t w = dm.rows[size_t{iv} * words_ + j];
      return 64 * j + static_cast<uint32_t>(std::countr_zero(w));
    }
    const uint64_t* rec = sp_[0].row(iv);  // [0]: its first packed word, [1 + q]: summaries
    for (uint32_t q = 0; q < sp_[0].s_words; ++q)
      if (uint64_t s = rec[1 + q]) {  // the row's first packed word is its first word
        uint32_t j = 64 * q + static_cast<uint32_t>(std::countr_zero(s));
        return 64 * j + static_cast<uint32_t>(std::countr_zero(sp_[0].packed[rec[0]]));
      }
    return n_;
  }
  /// The same for key, dense or sparse: the candidates in bit order until
  /// f returns true.
  template <class F>
  void for_each_candidate(const FlowKey& key, F&& f) const {
    if (!sparse_) {
      const uint64_t* row[kMaxDims];
      uint64_t s;
      rows(key, row, s);
      return for_each_candidate(row, s, f);
    }
    const uint8_t* kb = bytes_of(key);
    if (!in_guards(kb)) return;
    const uint32_t nd = n_dims_, nq = sp_[0].s_words, stride = nq + 1;  // every dimension alike
    const uint64_t* rw[kMaxDims];        // each dimension's row record (SparseRows::row)
    for (uint32_t d = 0; d < nd; ++d) {  // independent searches
      const Dim& dm = dim_[d];
      uint32_t x = read(kb, dm.off, dm.shift);
      uint32_t iv = wide_search(dm.ix) ? dm.ix.search32(x) : dm.ix.search16(x);
      rw[d] = sp_[d].rec.data() + size_t{iv} * stride;
    }
    for (uint32_t q = 0; q < nq; ++q) {
      uint64_t m = rw[0][1 + q];
      for (uint32_t d = 1; d < nd; ++d) m &= rw[d][1 + q];
      if (m == 0) continue;  // most summary words: no word every dimension has
      // Where each row's words of summary word q start in its packed words:
      // only now, for the (usually one) q that has candidates.
      const uint64_t* base[kMaxDims];
      for (uint32_t d = 0; d < nd; ++d) {
        uint64_t at = rw[d][0];
        for (uint32_t p = 0; p < q; ++p) at += static_cast<uint64_t>(std::popcount(rw[d][1 + p]));
        base[d] = sp_[d].packed.data() + at;
      }
      for (; m; m &= m - 1) {  // words every dimension has, in order
        auto j = static_cast<uint32_t>(std::countr_zero(m));
        uint64_t below = (uint64_t{1} << j) - 1, a = ~uint64_t{0};
        for (uint32_t d = 0; d < nd && a; ++d) a &= base[d][std::popcount(rw[d][1 + q] & below)];
        for (; a; a &= a - 1)
          if (f((64 * q + j) * 64 + static_cast<uint32_t>(std::countr_zero(a)))) return;
      }
    }
  }

 private:
  struct Dim {
    uint8_t off = 0, shift = 0;
    IntervalSearch ix;
    HugeArray<uint64_t> rows;      // n_rows x words_, 64-byte aligned
    HugeVector<uint64_t> summary;  // per row: bit j set when word j is not 0
  };
  /// A dimension every rule has the same range on: a compare, no rows.
  struct Guard {
    uint8_t off = 0, shift = 0;
    uint32_t lo = 0, hi = 0;
  };
  /// Constant false where build makes no 32-key nodes (interval_search.hpp).
  static bool wide_search(const IntervalSearch& ix) noexcept {
    return IntervalSearch::kMaxWidth == 32 && ix.width == 32;
  }
  static uint32_t read(const uint8_t* kb, uint8_t off, uint8_t shift) noexcept {
    uint32_t w;
    std::memcpy(&w, kb + off, 4);  // in bounds: build checks off + 4 <= sizeof(FlowKey)
    return __builtin_bswap32(w) >> shift;
  }
  bool in_guards(const uint8_t* kb) const noexcept {
    bool in = true;
    for (uint32_t g = 0; g < n_guards_; ++g) {
      uint32_t x = read(kb, guard_[g].off, guard_[g].shift);
      in &= x >= guard_[g].lo && x <= guard_[g].hi;
    }
    return in;
  }
  static uint32_t choose_dims(const std::vector<uint64_t>& cons, uint32_t* chosen);
  bool add_dims(const uint32_t* chosen, uint32_t n_chosen,
                const std::vector<std::vector<DimRange>>& rg, const std::vector<uint8_t>& dead,
                size_t max_bytes);
  bool build_dim(Dim& dm, SparseRows& sp, const std::vector<DimRange>& rg,
                 const std::vector<uint8_t>& dead, size_t budget);

  uint32_t n_ = 0, words_ = 0, n_dims_ = 0, n_guards_ = 0;
  bool sparse_ = false;
  Dim dim_[kMaxDims];
  SparseRows
      sp_[kMaxDims];  // dim_[d]'s rows when sparse_ (apart: the dense path's Dims stay small)
  Guard guard_[kMaxDims];
  HugeVector<uint64_t> full_check_;
};

}  // namespace flowpath::classify_detail

#include "flowpath/classify/rule_bits_build.hpp"
