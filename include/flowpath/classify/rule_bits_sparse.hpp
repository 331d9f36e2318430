// flowpath/classify/rule_bits_sparse.hpp — one dimension's rows of the
// bit-vector rule index (rule_bits.hpp) for sets too big for dense rows:
// aggregated bit vectors (Baboescu & Varghese 2001) with the zero words
// left out.
//
// Design.  A row (the rules whose range contains one interval, a bit per
// rule in rank order) keeps only its non-zero words, packed row after row,
// and a summary of s_words words (bit j of summary word q: row word
// 64q + j is not zero) after the index of its first packed word; word
// 64q + j of a row is then packed[first + popcount(summary words before q)
// + popcount(sum[q] below bit j)].  Why: dense rows are quadratic in the rules (10K rules x 10K
// intervals x 5 dimensions would be 60 MB), while a row's non-zero words are
// the words holding a rule whose range contains the interval: on most
// dimensions a few, next to each other in rank order.  A lookup ANDs the
// dimensions' summaries first and reads only the words all of them have.
//
// Cost: build two sweeps over the intervals, O(intervals x s_words +
// packed words + rules); memory rows x (s_words + 1) x 8 bytes + 8 per
// packed word.  Thread-safety: immutable after build; any number of readers.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "flowpath/classify/huge_pages.hpp"

namespace flowpath::classify_detail {

struct SparseRows {
  uint32_t s_words = 0;  // summary words per row
  // Per row, s_words + 1 words on one stream: the index in packed of its
  // first word, then its summary (one load per row where two arrays took
  // two; the start of summary word q adds the popcounts of those before).
  HugeVector<uint64_t> rec;
  HugeVector<uint64_t> packed;  // the rows' non-zero words, row after row

  size_t memory_bytes() const noexcept { return rec.capacity() * 8 + packed.capacity() * 8; }
  /// Row r's record: [0] its first packed word, [1 + q] summary word q.
  const uint64_t* row(uint32_t r) const noexcept { return rec.data() + size_t{r} * (s_words + 1); }

  /// Rows for n_rows intervals of n_bits rules: rule i is in rows
  /// [r, z) when starts[r] and ends[z] list it.  False, before allocating
  /// the packed words, when everything would pass budget bytes.
  bool build(uint32_t n_rows, uint32_t n_bits, const std::vector<std::vector<uint32_t>>& starts,
             const std::vector<std::vector<uint32_t>>& ends, size_t budget) {
    uint32_t n_words = (n_bits + 63) / 64;
    s_words = (n_words + 63) / 64;
    // Pass 1: count the non-zero words (a bit count per word, kept as the
    // sweep adds and drops rules), to check the budget before allocating.
    std::vector<uint32_t> cnt(n_words, 0);
    size_t nz = 0, total = 0;
    auto apply = [&](uint32_t r, std::vector<uint64_t>* cur, std::vector<uint64_t>* s) {
      for (uint32_t i : starts[r]) {
        nz += cnt[i / 64]++ == 0;
        if (cur)
          (*cur)[i / 64] |= uint64_t{1} << (i % 64), (*s)[i / 4096] |= uint64_t{1} << (i / 64 % 64);
      }
      for (uint32_t i : ends[r]) {
        nz -= --cnt[i / 64] == 0;
        if (!cur) continue;
        (*cur)[i / 64] &= ~(uint64_t{1} << (i % 64));
        if (cnt[i / 64] == 0) (*s)[i / 4096] &= ~(uint64_t{1} << (i / 64 % 64));
      }
    };
    for (uint32_t r = 0; r < n_rows; ++r) apply(r, nullptr, nullptr), total += nz;
    size_t bytes = size_t{n_rows} * (s_words + 1) * 8 + total * 8;
    if (bytes > budget) return false;
    // Pass 2: the same sweep, writing each row's summary and words.
    std::fill(cnt.begin(), cnt.end(), 0);
    nz = 0;
    std::vector<uint64_t> cur(n_words, 0), s(s_words, 0);
    rec.resize(size_t{n_rows} * (s_words + 1));
    packed.reserve(total);
    for (uint32_t r = 0; r < n_rows; ++r) {
      apply(r, &cur, &s);
      uint64_t* out = rec.data() + size_t{r} * (s_words + 1);
      out[0] = packed.size();
      for (uint32_t q = 0; q < s_words; ++q) {
        out[1 + q] = s[q];
        for (uint64_t m = s[q]; m; m &= m - 1) packed.push_back(cur[64 * q + std::countr_zero(m)]);
      }
    }
    return true;
  }
};

}  // namespace flowpath::classify_detail
