// flowpath/simd/scalar_kernels.hpp — the Scalar backend: plain C++
// definitions of every simd/ kernel.  This is the reference that the
// Highway and xsimd kernels are tested against, and the fallback they use
// for sizes smaller than one vector.
//
// Cost: one pass over the words involved, no allocation, no branches on
// data except early exits in the find_* kernels.  Thread-safety: stateless.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/backend.hpp"
#include "flowpath/simd/hash_core.hpp"

namespace flowpath::simd {

template <>
struct Kernels<Scalar> {
  /// Sum of hash_term over words[0..n).
  static uint64_t hash_sum(const uint64_t* words, size_t n) noexcept {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; ++i) sum += hash_term(words[i], i);
    return sum;
  }
  template <size_t N>
  static uint64_t hash_sum(const uint64_t* words) noexcept {
    return hash_sum(words, N);
  }
  /// Sum of hash_term over the 15 words of key & mask.
  static uint64_t hash_sum_masked(const FlowKey& key, const FlowMask& mask) noexcept {
    uint64_t sum = 0;
    for (size_t i = 0; i < FlowKey::kWords; ++i) sum += hash_term(key.word(i) & mask.word(i), i);
    return sum;
  }

  static bool masked_equal(const uint64_t* key, const uint64_t* mask,
                           const uint64_t* value) noexcept {
    uint64_t diff = 0;
    for (size_t i = 0; i < FlowKey::kWords; ++i) diff |= (key[i] & mask[i]) ^ value[i];
    return diff == 0;
  }
  /// Bit i set when keys[i] & mask == value; n <= 64.
  static uint64_t match_masked_many(const FlowKey* keys, size_t n, const FlowMask& mask,
                                    const FlowKey& value) noexcept {
    uint64_t bits = 0;
    for (size_t j = 0; j < n; ++j)
      bits |= uint64_t{masked_equal(keys[j].words(), mask.words(), value.words())} << j;
    return bits;
  }
  static uint32_t find_masked(const FlowKey& key, const FlowMask& mask, const FlowKey* values,
                              size_t n) noexcept {
    for (size_t j = 0; j < n; ++j)
      if (masked_equal(key.words(), mask.words(), values[j].words())) return uint32_t(j);
    return uint32_t(n);
  }
  /// First j < n_entries whose n words at entries + j * n equal probe.
  static uint32_t find_words(const uint64_t* probe, size_t n, const uint64_t* entries,
                             size_t n_entries) noexcept {
    for (size_t j = 0; j < n_entries; ++j) {
      uint64_t diff = 0;
      for (size_t i = 0; i < n; ++i) diff |= probe[i] ^ entries[j * n + i];
      if (diff == 0) return uint32_t(j);
    }
    return uint32_t(n_entries);
  }
  template <size_t N>
  static uint32_t find_words(const uint64_t* probe, const uint64_t* entries,
                             size_t n_entries) noexcept {
    return find_words(probe, N, entries, n_entries);
  }
  /// Bit j set when bucket[j] == h; n <= 32.
  static uint32_t match_u32(const uint32_t* bucket, size_t n, uint32_t h) noexcept {
    uint32_t bits = 0;
    for (size_t j = 0; j < n; ++j) bits |= uint32_t{bucket[j] == h} << j;
    return bits;
  }
  /// Bit j set when, for every k < nd, x[k] lies in the range
  /// [r[2k*stride + j], that + r[(2k+1)*stride + j]] (lo, span arrays of
  /// n <= 32 entries each, stride apart); every x[k] - lo is unsigned.
  static uint32_t range_hits(const uint32_t* x, size_t nd, const uint32_t* r, size_t stride,
                             size_t n) noexcept {
    uint32_t bits = 0;
    for (size_t j = 0; j < n; ++j) bits |= uint32_t{range_hit(x, nd, r, stride, j)} << j;
    return bits;
  }
  static bool range_hit(const uint32_t* x, size_t nd, const uint32_t* r, size_t stride,
                        size_t j) noexcept {
    uint32_t out = 0;
    for (size_t k = 0; k < nd; ++k)
      out |= (x[k] - r[2 * k * stride + j]) > r[(2 * k + 1) * stride + j];
    return out == 0;
  }
  /// out[k] = key.word(i) & mask.word(i) for the k-th set bit i of word_map.
  static size_t gather_masked_words(const FlowKey& key, const FlowMask& mask, uint32_t word_map,
                                    uint64_t* out) noexcept {
    size_t k = 0;
    for (uint32_t m = word_map & ((1u << FlowKey::kWords) - 1); m != 0; m &= m - 1) {
      const int i = std::countr_zero(m);
      out[k++] = key.word(size_t(i)) & mask.word(size_t(i));
    }
    return k;
  }
};

}  // namespace flowpath::simd
