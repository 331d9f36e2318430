// flowpath/simd/hash.hpp — hashing flow keys under a mask, and compact
// word sequences (the megaflow cache's miniflow-like form).
//
// Usage:
//   uint32_t h = simd::hash_masked(key, mask);             // Default backend
//   uint32_t h = simd::hash_masked<simd::Scalar>(key, mask, basis);
//   simd::hash_masked_batch(keys, mask, basis, out);        // out[i] per key
//   uint64_t w[15]; size_t n = simd::gather_masked_words(key, mask, map, w);
//   uint32_t h = simd::hash_words<simd::Default, 3>(w, basis);  // n == 3
//
// Contract.  Results are bit-identical for every backend and ISA (the hash
// is defined in hash_core.hpp).  hash_words<B, N>(w, b) == hash_words<B>(w,
// N, b); hash_masked(key, mask, b) == hash_words(key & mask words, 15, b).
// The hash is not cryptographic; it is meant for hash tables keyed by
// flows (good spread for keys that differ in one field only).
//
// Cost (AVX-512): a masked key hash is two 8-lane load/and/xor/mul/add
// steps, one reduction and a 64-bit finaliser, ~10 ns or less; see
// docs/benchmarks.md (## simd).  Never allocates, never throws.
//
// Thread-safety: stateless functions.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/backend.hpp"
#include "flowpath/simd/hash_core.hpp"
#include "flowpath/simd/hwy_kernels.hpp"
#include "flowpath/simd/scalar_kernels.hpp"
#include "flowpath/simd/xsimd_kernels.hpp"

namespace flowpath::simd {

/// Hash of key & mask over all FlowKey::kWords words.
template <class B = Default>
inline uint32_t hash_masked(const FlowKey& key, const FlowMask& mask, uint32_t basis = 0) noexcept {
  return hash_finish(Kernels<B>::hash_sum_masked(key, mask), FlowKey::kWords, basis);
}

/// out[i] = hash_masked<B>(keys[i], mask, basis).
template <class B = Default>
inline void hash_masked_batch(std::span<const FlowKey> keys, const FlowMask& mask, uint32_t basis,
                              uint32_t* out) noexcept {
  for (size_t i = 0; i < keys.size(); ++i)
    out[i] = hash_finish(Kernels<B>::hash_sum_masked(keys[i], mask), FlowKey::kWords, basis);
}

/// Hash of N compact words (1 <= N <= kMaxHashWords), specialised at compile time.
template <class B, size_t N>
inline uint32_t hash_words(const uint64_t* words, uint32_t basis) noexcept {
  static_assert(N >= 1 && N <= kMaxHashWords, "hash_words: N must be in 1..16");
  return hash_finish(Kernels<B>::template hash_sum<N>(words), N, basis);
}

/// Runtime-n form (n <= kMaxHashWords): same result as hash_words<B, n>.
/// Dispatches to the compile-time kernels so that the common shapes are
/// as fast as the specialised call.
template <class B = Default>
inline uint32_t hash_words(const uint64_t* words, size_t n, uint32_t basis) noexcept {
  assert(n <= kMaxHashWords);
  switch (n) {
    case 0:
      return hash_finish(0, 0, basis);
    case 1:
      return hash_words<B, 1>(words, basis);
    case 2:
      return hash_words<B, 2>(words, basis);
    case 3:
      return hash_words<B, 3>(words, basis);
    case 4:
      return hash_words<B, 4>(words, basis);
    case 5:
      return hash_words<B, 5>(words, basis);
    case 6:
      return hash_words<B, 6>(words, basis);
    case 7:
      return hash_words<B, 7>(words, basis);
    case 8:
      return hash_words<B, 8>(words, basis);
    case 9:
      return hash_words<B, 9>(words, basis);
    case 10:
      return hash_words<B, 10>(words, basis);
    case 11:
      return hash_words<B, 11>(words, basis);
    case 12:
      return hash_words<B, 12>(words, basis);
    case 13:
      return hash_words<B, 13>(words, basis);
    case 14:
      return hash_words<B, 14>(words, basis);
    case 15:
      return hash_words<B, 15>(words, basis);
    default:
      return hash_words<B, 16>(words, basis);
  }
}

/// Writes key.word(i) & mask.word(i) for each set bit i of word_map (bits
/// >= FlowKey::kWords ignored), in increasing i; returns the count.
/// `out` must have room for popcount(word_map) words.
template <class B = Default>
inline size_t gather_masked_words(const FlowKey& key, const FlowMask& mask, uint32_t word_map,
                                  uint64_t* out) noexcept {
  return Kernels<B>::gather_masked_words(key, mask, word_map, out);
}

}  // namespace flowpath::simd
