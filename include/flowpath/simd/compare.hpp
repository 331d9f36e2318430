// flowpath/simd/compare.hpp — comparing many masked keys against one
// value, finding a masked key among stored values, and bucket compares.
//
// Usage:
//   uint64_t hits = simd::match_masked_many(keys, mask, value);   // bit i
//   uint32_t j = simd::find_masked(key, mask, values);   // values.size() if none
//   uint32_t j = simd::find_words<simd::Default, 3>(probe, entries, n);
//   uint32_t bits = simd::match_u32(bucket_hashes, 8, h);
//   uint32_t hits = simd::range_hits(x, dims, leaf_ranges, stride, n);
//
// Contract.  `value`/`values` are already masked.  Results are identical
// for every backend.  Preconditions: match_masked_many takes <= 64 keys,
// match_u32 and range_hits <= 32 entries.  Never allocates, never throws; reads only the
// memory named by its arguments (no over-reads; ASan-clean).
//
// Cost (AVX-512): a whole-key masked compare is two 8-lane loads per key;
// a compact N-word compare is one (N <= 8) or two vector steps per entry.
//
// Thread-safety: stateless functions.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/backend.hpp"
#include "flowpath/simd/hwy_kernels.hpp"
#include "flowpath/simd/scalar_kernels.hpp"
#include "flowpath/simd/xsimd_kernels.hpp"

namespace flowpath::simd {

/// Bit i set when (keys[i] & mask) == value; keys.size() <= 64.
template <class B = Default>
inline uint64_t match_masked_many(std::span<const FlowKey> keys, const FlowMask& mask,
                                  const FlowKey& value) noexcept {
  assert(keys.size() <= 64);
  return Kernels<B>::match_masked_many(keys.data(), keys.size(), mask, value);
}

/// First j with (key & mask) == values[j], or values.size() if none.
template <class B = Default>
inline uint32_t find_masked(const FlowKey& key, const FlowMask& mask,
                            std::span<const FlowKey> values) noexcept {
  return Kernels<B>::find_masked(key, mask, values.data(), values.size());
}

/// First j with entries[j*N .. j*N+N) == probe[0..N), or n_entries if none.
template <class B, size_t N>
inline uint32_t find_words(const uint64_t* probe, const uint64_t* entries,
                           size_t n_entries) noexcept {
  static_assert(N >= 1, "find_words: N must be >= 1");
  return Kernels<B>::template find_words<N>(probe, entries, n_entries);
}

/// Runtime-n fallback of find_words (any n >= 1); same result.
template <class B = Default>
inline uint32_t find_words(const uint64_t* probe, size_t n, const uint64_t* entries,
                           size_t n_entries) noexcept {
  return Kernels<B>::find_words(probe, n, entries, n_entries);
}

/// Bit j set when bucket[j] == h, for j < n <= 32 (hash-bucket probe).
template <class B = Default>
inline uint32_t match_u32(const uint32_t* bucket, size_t n, uint32_t h) noexcept {
  assert(n <= 32);
  return Kernels<B>::match_u32(bucket, n, h);
}

/// Bit j set when x[k] - lo_k[j] <= span_k[j] (unsigned) for every k < nd,
/// for j < n <= 32, where lo_k = r + 2k*stride and span_k = lo_k + stride
/// (a decision-tree leaf's ranges, dimension by dimension).
template <class B = Default>
inline uint32_t range_hits(const uint32_t* x, size_t nd, const uint32_t* r, size_t stride,
                           size_t n) noexcept {
  assert(n <= 32);
  return Kernels<B>::range_hits(x, nd, r, stride, n);
}

}  // namespace flowpath::simd
