// flowpath/classify/rule_bits_build.hpp — how RuleBits (rule_bits.hpp) is
// built: the rules projected on the dimensions most of them constrain,
// guards, the intervals and their search, dense or sparse rows.  Included
// by rule_bits.hpp, not on its own.
//
// Cost: O(dims x (rules log rules + intervals x row words)), on the
// compile thread.  Thread-safety: builds a new object; no shared state.
#pragma once

#include "flowpath/classify/rule_bits.hpp"

namespace flowpath::classify_detail {

template <class Rule>
std::unique_ptr<RuleBits> RuleBits::build(const std::vector<Rule*>& rules, Limits lim) {
  bool sparse = rules.size() > std::min<size_t>(lim.max_rules, 64 * 64);
  if (rules.empty() || (sparse && rules.size() > lim.sparse_max_rules)) return nullptr;
  auto out = std::unique_ptr<RuleBits>(new RuleBits);
  RuleBits& b = *out;
  b.n_ = static_cast<uint32_t>(rules.size());
  b.sparse_ = sparse;
  // Dense: whole lines (a word is read from one); sparse: words.
  b.words_ = sparse ? (b.n_ + 63) / 64 : (b.n_ + 511) / 512 * 8;
  if (sparse)
    lim.max_bytes = std::max<size_t>(lim.max_bytes, size_t{lim.sparse_bytes_per_rule} * b.n_);
  b.full_check_.assign(b.words_, 0);
  std::vector<uint64_t> cons(rules.size());
  for (size_t i = 0; i < rules.size(); ++i)
    cons[i] = constrained_dims(rules[i]->match, rules[i]->ranges);
  uint32_t chosen[kMaxDims];
  uint32_t n_chosen = choose_dims(cons, chosen);
  if (n_chosen == 0) return nullptr;
  uint64_t seen = 0;
  for (uint32_t d = 0; d < n_chosen; ++d) seen |= uint64_t{1} << chosen[d];
  std::vector<uint8_t> dead(rules.size(), 0);
  std::vector<std::vector<DimRange>> rg(n_chosen, std::vector<DimRange>(rules.size()));
  for (size_t i = 0; i < rules.size(); ++i) {
    bool fc = (cons[i] & ~seen) != 0;  // constrained where the index does not look
    for (uint64_t m = cons[i]; m; m &= m - 1) {
      uint32_t kd = static_cast<uint32_t>(std::countr_zero(m));
      DimRange r = project(rules[i]->match, rules[i]->ranges, kKeyDims[kd]);
      dead[i] |= r.lo > r.hi;
      fc |= !r.exact;
    }
    for (uint32_t d = 0; d < n_chosen; ++d) {
      KeyDim k = kKeyDims[chosen[d]];
      rg[d][i] = cons[i] >> chosen[d] & 1 ? project(rules[i]->match, rules[i]->ranges, k)
                                          : DimRange{0, dim_full(k), true};
    }
    if (fc) b.full_check_[i / 64] |= uint64_t{1} << (i % 64);
  }
  return b.add_dims(chosen, n_chosen, rg, dead, lim.max_bytes) ? std::move(out) : nullptr;
}

/// The (at most kMaxDims) dimensions most rules constrain, as the forest's
/// trees choose them, that rows() can read with one 4-byte load.
inline uint32_t RuleBits::choose_dims(const std::vector<uint64_t>& cons, uint32_t* chosen) {
  uint32_t use[kNumKeyDims] = {};
  for (uint64_t c : cons)
    for (uint64_t m = c; m; m &= m - 1) ++use[std::countr_zero(m)];
  uint32_t order[kNumKeyDims];
  for (uint32_t d = 0; d < kNumKeyDims; ++d) order[d] = d;
  std::stable_sort(order, order + kNumKeyDims,
                   [&](uint32_t a, uint32_t c) { return use[a] > use[c]; });
  uint32_t n = 0;
  for (uint32_t j = 0; j < kNumKeyDims && n < kMaxDims && use[order[j]] > 0; ++j)
    if (size_t{kKeyDims[order[j]].off} + 4 <= sizeof(FlowKey)) chosen[n++] = order[j];
  return n;
}

/// Each chosen dimension becomes a guard (one range shared by every live
/// rule; one dimension always keeps rows) or a dimension with rows.  False
/// when the rows would pass max_bytes (checked before each allocation).
inline bool RuleBits::add_dims(const uint32_t* chosen, uint32_t n_chosen,
                               const std::vector<std::vector<DimRange>>& rg,
                               const std::vector<uint8_t>& dead, size_t max_bytes) {
  size_t bytes = 0;
  for (uint32_t d = 0; d < n_chosen; ++d) {
    KeyDim k = kKeyDims[chosen[d]];
    auto shift = static_cast<uint8_t>(32 - 8 * k.width);
    // One range shared by every live rule: a guard (but keep one row dimension).
    const DimRange* first = nullptr;
    bool same = true;
    for (size_t i = 0; i < dead.size(); ++i) {
      if (dead[i]) continue;
      if (!first) first = &rg[d][i];
      same &= rg[d][i].lo == first->lo && rg[d][i].hi == first->hi;
    }
    if (first && same && (n_dims_ > 0 || d + 1 < n_chosen)) {
      guard_[n_guards_++] = {k.off, shift, first->lo, first->hi};
      continue;
    }
    Dim& dm = dim_[n_dims_++];
    dm.off = k.off;
    dm.shift = shift;
    if (!build_dim(dm, sp_[n_dims_ - 1], rg[d], dead, max_bytes - std::min(bytes, max_bytes)))
      return false;
    bytes += dm.ix.memory_bytes() + sp_[n_dims_ - 1].memory_bytes() + dm.summary.size() * 8 +
             (dm.rows ? size_t{dm.ix.n_intervals()} * words_ * 8 : 0);
  }
  return bytes <= max_bytes;
}

/// One dimension: its boundaries, the search levels over them and a row
/// per interval.  False when the rows would be over the byte limit.
inline bool RuleBits::build_dim(Dim& dm, SparseRows& sp, const std::vector<DimRange>& rg,
                                const std::vector<uint8_t>& dead, size_t budget) {
  std::vector<uint32_t> bounds = range_bounds(rg, dead, ~0u >> dm.shift);
  size_t n_rows = bounds.size() + 1;
  if (!sparse_ && n_rows * (words_ + 1) * 8 > budget) return false;  // before allocating
  if (!dm.ix.build(std::move(bounds))) return false;
  // Rule i's bit is set from the interval of its lo to that of its hi:
  // one sweep over the intervals, adding and dropping bits.
  std::vector<std::vector<uint32_t>> starts(n_rows + 1), ends(n_rows + 1);
  for (uint32_t i = 0; i < rg.size(); ++i) {
    if (dead[i]) continue;
    starts[dm.ix.search(rg[i].lo)].push_back(i);
    ends[dm.ix.search(rg[i].hi) + 1].push_back(i);
  }
  if (sparse_) {
    size_t keys = dm.ix.memory_bytes();
    return keys < budget &&
           sp.build(static_cast<uint32_t>(n_rows), n_, starts, ends, budget - keys);
  }
  size_t nw = words_;
  dm.rows = huge_array_for_overwrite<uint64_t>(n_rows * nw);
  std::vector<uint64_t> cur(nw, 0);
  dm.summary.assign(n_rows, 0);
  for (uint32_t r = 0; r < n_rows; ++r) {
    for (uint32_t i : starts[r]) cur[i / 64] |= uint64_t{1} << (i % 64);
    for (uint32_t i : ends[r]) cur[i / 64] &= ~(uint64_t{1} << (i % 64));
    for (size_t w = 0; w < nw; ++w) dm.summary[r] |= uint64_t{cur[w] != 0} << w;
    std::copy(cur.begin(), cur.end(), dm.rows.get() + size_t{r} * nw);
  }
  return true;
}

}  // namespace flowpath::classify_detail
