// flowpath/simd/bits_kernels.hpp — the two kernels of the bit-vector rule
// index (classify/rule_bits.hpp): how many of 16 uint32 keys are <= x (a
// step of its 16-way search tree), and the AND of 8-word slices of n rows;
// and the decision trees' wide-node step (classify/split_tree.hpp): seven
// tests x[d[j]] >= t[j] at once; and the trees' key values, eight
// big-endian fields of a 128-byte key read at once.
//
// Usage:  uint32_t c = simd::count_le16(keys, x);            // keys[0..16), 0..16
//         uint32_t nz = simd::and_rows8(rows, n, off, acc);  // acc[j], bit j: acc[j] != 0
//         uint32_t m = simd::ge7(x, d, t);                   // bit j: x[d[j]] >= t[j]
//         simd::be32_perm(off, perm);                        // once, for:
//         simd::read8_be32(key, off, perm, shift, x);  // x[j] = be32 at key + off[j] >> shift[j]
//
// Contract.  count_le16 reads exactly keys[0..16) (any alignment), unsigned
// compare.  and_rows8 reads rows[d][off..off + 8) for d < n (n >= 1, any
// alignment), writes acc[0..8).  Every variant gives the scalar twin's
// result; the unsuffixed name picks the widest the compile flags allow
// (AVX-512F, AVX2, else scalar); the others stay callable for the per-ISA
// tests.
//
// ge7: x[0..8), d[0..8) and t[0..8) are read (the eighth lane of d and t
// is read and ignored, so the caller's arrays must have it: SplitNode's t
// is followed by d, its d by the leaf flag); every d[j] (j < 7) must be
// < 8; unsigned compare; bits 0..6 only.
//
// Cost: count_le16: AVX-512 one load, compare into a mask, popcount; AVX2
// two loads, max/compare pairs, movemasks; scalar 16 compares.  and_rows8:
// one (AVX-512) or two (AVX2) vector loads and ANDs per row, scalar 8.
// ge7: a widening load of d, one permute of x, a compare (AVX-512VL into a
// mask; AVX2 max + equal + movemask): about 6 instructions for the scalar
// twin's ~35.
//
// read8_be32: base must have 128 readable bytes (the AVX-512 VBMI variant
// loads them all), off[j] + 4 <= 128, shift[j] <= 32 (32 gives 0, as the
// scalar twin's shift of the word widened to 64 bits), perm filled by
// be32_perm(off).  VBMI: two 64-byte loads, one byte permute that also
// reverses each word, one variable shift, one store: 5 instructions for
// the scalar twin's ~45, no gather (Zen 4's vpgatherdd is microcoded and
// was no faster than the scalar loads, session 18), and one 32-byte store
// that a following 32-byte load of x (ge7) forwards from, where the
// scalar twin's eight 4-byte stores cannot be forwarded to it.  Without
// VBMI the scalar twin.
//
// Thread-safety: stateless functions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "flowpath/simd/intrinsics.hpp"

namespace flowpath::simd {

/// The reference: count of keys[i] <= x over i < 16.
inline uint32_t count_le16_scalar(const uint32_t* keys, uint32_t x) noexcept {
  uint32_t c = 0;
  for (int i = 0; i < 16; ++i) c += keys[i] <= x;
  return c;
}

#if defined(__AVX2__)
/// k <= x exactly when max(k, x) == x (AVX2 has no unsigned compare).
inline uint32_t count_le16_avx2(const uint32_t* keys, uint32_t x) noexcept {
  __m256i xv = _mm256_set1_epi32(static_cast<int>(x));
  __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(keys));
  __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(keys + 8));
  __m256i la = _mm256_cmpeq_epi32(_mm256_max_epu32(a, xv), xv);
  __m256i lb = _mm256_cmpeq_epi32(_mm256_max_epu32(b, xv), xv);
  uint32_t m = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(la))) |
               static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(lb))) << 8;
  return static_cast<uint32_t>(std::popcount(m));
}
#endif

#if defined(__AVX512F__)
inline uint32_t count_le16_avx512(const uint32_t* keys, uint32_t x) noexcept {
  __m512i v = _mm512_loadu_si512(keys);
  __mmask16 m = _mm512_cmple_epu32_mask(v, _mm512_set1_epi32(static_cast<int>(x)));
  return static_cast<uint32_t>(std::popcount(static_cast<uint32_t>(m)));
}
#endif

inline uint32_t count_le16(const uint32_t* keys, uint32_t x) noexcept {
#if defined(__AVX512F__)
  return count_le16_avx512(keys, x);
#elif defined(__AVX2__)
  return count_le16_avx2(keys, x);
#else
  return count_le16_scalar(keys, x);
#endif
}

/// The reference: acc[j] = AND of rows[d][off + j] over d < n; bit j of the
/// result set when acc[j] != 0.
inline uint32_t and_rows8_scalar(const uint64_t* const* rows, uint32_t n, uint32_t off,
                                 uint64_t* acc) noexcept {
  uint32_t nz = 0;
  for (uint32_t j = 0; j < 8; ++j) {
    uint64_t a = rows[0][off + j];
    for (uint32_t d = 1; d < n; ++d) a &= rows[d][off + j];
    acc[j] = a;
    nz |= uint32_t{a != 0} << j;
  }
  return nz;
}

#if defined(__AVX2__)
inline uint32_t and_rows8_avx2(const uint64_t* const* rows, uint32_t n, uint32_t off,
                               uint64_t* acc) noexcept {
  auto ld = [&](uint32_t d, uint32_t h) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[d] + off + 4 * h));
  };
  __m256i a = ld(0, 0), b = ld(0, 1);
  for (uint32_t d = 1; d < n; ++d) {
    a = _mm256_and_si256(a, ld(d, 0));
    b = _mm256_and_si256(b, ld(d, 1));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc), a);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + 4), b);
  __m256i z = _mm256_setzero_si256();
  uint32_t za =
      static_cast<uint32_t>(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(a, z))));
  uint32_t zb =
      static_cast<uint32_t>(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(b, z))));
  return ~(za | zb << 4) & 0xffu;
}
#endif

#if defined(__AVX512F__)
inline uint32_t and_rows8_avx512(const uint64_t* const* rows, uint32_t n, uint32_t off,
                                 uint64_t* acc) noexcept {
  __m512i a = _mm512_loadu_si512(rows[0] + off);
  for (uint32_t d = 1; d < n; ++d) a = _mm512_and_si512(a, _mm512_loadu_si512(rows[d] + off));
  _mm512_storeu_si512(acc, a);
  return static_cast<uint32_t>(_mm512_test_epi64_mask(a, a));
}
#endif

inline uint32_t and_rows8(const uint64_t* const* rows, uint32_t n, uint32_t off,
                          uint64_t* acc) noexcept {
#if defined(__AVX512F__)
  return and_rows8_avx512(rows, n, off, acc);
#elif defined(__AVX2__)
  return and_rows8_avx2(rows, n, off, acc);
#else
  return and_rows8_scalar(rows, n, off, acc);
#endif
}

/// The reference: bit j set when x[d[j]] >= t[j] (unsigned), j < 7.
inline uint32_t ge7_scalar(const uint32_t* x, const uint8_t* d, const uint32_t* t) noexcept {
  uint32_t m = 0;
  for (uint32_t j = 0; j < 7; ++j) m |= uint32_t{x[d[j]] >= t[j]} << j;
  return m;
}

#if defined(__AVX2__)
/// The key's values in the tests' order by one permute (vpermd uses the
/// low 3 bits of each index); x >= t exactly when max(x, t) == x.
inline uint32_t ge7_avx2(const uint32_t* x, const uint8_t* d, const uint32_t* t) noexcept {
  __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(d)));
  __m256i xs = _mm256_permutevar8x32_epi32(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)), idx);
  __m256i tv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t));
  __m256i ge = _mm256_cmpeq_epi32(_mm256_max_epu32(xs, tv), xs);
  return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(ge))) & 0x7fu;
}
#endif

#if defined(__AVX512F__) && defined(__AVX512VL__)
inline uint32_t ge7_avx512(const uint32_t* x, const uint8_t* d, const uint32_t* t) noexcept {
  __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(d)));
  __m256i xs = _mm256_permutexvar_epi32(
      idx, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
  __m256i tv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t));
  return static_cast<uint32_t>(_mm256_cmpge_epu32_mask(xs, tv)) & 0x7fu;
}
#endif

inline uint32_t ge7(const uint32_t* x, const uint8_t* d, const uint32_t* t) noexcept {
#if defined(__AVX512F__) && defined(__AVX512VL__)
  return ge7_avx512(x, d, t);
#elif defined(__AVX2__)
  return ge7_avx2(x, d, t);
#else
  return ge7_scalar(x, d, t);
#endif
}

/// read8_be32's byte indices: perm[4j + b] = off[j] + 3 - b, the word's
/// bytes most significant last (little-endian lanes, big-endian fields).
inline void be32_perm(const uint32_t* off, uint8_t* perm) noexcept {
  for (uint32_t j = 0; j < 8; ++j)
    for (uint32_t b = 0; b < 4; ++b) perm[4 * j + b] = static_cast<uint8_t>(off[j] + 3 - b);
}

/// The reference: x[j] = the big-endian 32-bit word at base + off[j],
/// widened to 64 bits, >> shift[j], for j < 8.
inline void read8_be32_scalar(const uint8_t* base, const uint32_t* off, const uint32_t* shift,
                              uint32_t* x) noexcept {
  for (uint32_t j = 0; j < 8; ++j) {
    uint32_t w;
    std::memcpy(&w, base + off[j], 4);
    x[j] = static_cast<uint32_t>(uint64_t{__builtin_bswap32(w)} >> shift[j]);
  }
}

#if defined(__AVX512VBMI__) && defined(__AVX512VL__)
/// The 128 bytes in two registers, the 32 wanted bytes picked (and each
/// word reversed) by one vpermt2b; vpsrlvd gives 0 for counts above 31.
inline void read8_be32_vbmi(const uint8_t* base, const uint8_t* perm, const uint32_t* shift,
                            uint32_t* x) noexcept {
  const __m512i lo = _mm512_loadu_si512(base);
  const __m512i hi = _mm512_loadu_si512(base + 64);
  const __m512i idx = _mm512_castsi256_si512(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(perm)));  // upper lanes unused
  const __m256i w = _mm512_castsi512_si256(_mm512_permutex2var_epi8(lo, idx, hi));
  const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(shift));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(x), _mm256_srlv_epi32(w, s));
}
#endif

inline void read8_be32(const uint8_t* base, const uint32_t* off, const uint8_t* perm,
                       const uint32_t* shift, uint32_t* x) noexcept {
#if defined(__AVX512VBMI__) && defined(__AVX512VL__)
  (void)off;
  read8_be32_vbmi(base, perm, shift, x);
#else
  (void)perm;
  read8_be32_scalar(base, off, shift, x);
#endif
}

}  // namespace flowpath::simd
