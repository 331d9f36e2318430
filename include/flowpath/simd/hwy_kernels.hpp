// flowpath/simd/hwy_kernels.hpp — the Highway backend (static dispatch).
//
// Contract.  Kernels<Highway> implements every kernel of scalar_kernels.hpp
// with Highway ops for the static target HWY_TARGET (the best target the
// including translation unit's flags allow: AVX3 with -march=native on
// Zen 4, SSE2/SSE4/AVX2 for x86-64-v1..v3).  Results are bit-identical to
// Kernels<Scalar>.  With HWY_SCALAR as the static target the scalar
// kernels are used directly (a one-lane "vector" only adds overhead).
//
// Design.  Word sequences of any length n >= L are covered by full vectors
// at 0, L, 2L, ... plus one vector *overlapping* the end (offset n - L)
// whose already-covered lanes are masked off, so no kernel ever reads a
// byte past its input (ASan-clean, no padding required of callers) and no
// scalar tail loop is needed.  The vector width is capped per call at the
// largest power of two <= n (CappedTag), so a 3-word compact key uses
// 2-lane vectors, a 15-word FlowKey 8-lane ones.  Hash terms are
// lo32 * hi32 via MulEven on the u32 view (one vpmuludq per 8 words).
//
// Thread-safety: stateless.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "flowpath/simd/scalar_kernels.hpp"

// Highway 1.0.3 (Debian 12) decides whether AVX3_DL is attainable by testing
// HWY_BASELINE, a macro it never defines.  With flags that reach AVX3_DL
// (-march=native on a CPU with AVX-512 VNNI/VBMI2/BITALG and AVX-VNNI, e.g.
// Zen 4) the static target is then "not attainable" and detect_targets.h
// stops with "#error Logic error".  Asking for AVX3_DL makes it attainable;
// it changes nothing for static dispatch on other CPUs.
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL 1
#endif
#include "flowpath/simd/intrinsics.hpp"  // before Highway: see there
#include "hwy/highway.h"

namespace flowpath::simd {

#if HWY_TARGET == HWY_SCALAR
template <>
struct Kernels<Highway> : Kernels<Scalar> {};
#else

namespace hwy_detail {
namespace hn = hwy::HWY_NAMESPACE;

/// Largest power of two <= n (n >= 1), capped at 8 (one AVX-512 vector of u64).
constexpr size_t lanes_for(size_t n) noexcept {
  return n >= 8 ? 8 : std::bit_floor(n == 0 ? size_t{1} : n);
}
template <size_t N>
using TagFor = hn::CappedTag<uint64_t, lanes_for(N)>;

/// Per-lane hash_term of the words in w at positions off..off+L.
template <class D, class V>
HWY_INLINE V term(D d, V w, size_t off) {
  const hn::Repartition<uint32_t, D> d32;
  const V v = hn::Xor(w, hn::LoadU(d, kHashKeys.data() + off));
  const V prod = hn::MulEven(hn::BitCast(d32, v), hn::BitCast(d32, hn::ShiftRight<32>(v)));
  return hn::Add(hn::Sub(prod, hn::LoadU(d, kHashZeroTerms.data() + off)), w);
}

/// Sum of terms over n >= Lanes(d) words, load(off) giving the words at off.
template <class D, class Load>
HWY_INLINE uint64_t sum_terms(D d, size_t n, Load load) {
  const size_t L = hn::Lanes(d);
  auto acc = hn::Zero(d);
  size_t off = 0;
  for (; off + L <= n; off += L) acc = hn::Add(acc, term(d, load(off), off));
  if (off < n) {  // overlapping tail: drop lanes already summed (term(0) == 0)
    const size_t tail = n - L;
    const auto keep = hn::LoadU(d, kKeepFrom + 8 - (off - tail));  // cheaper than FirstN
    acc = hn::Add(acc, term(d, hn::And(keep, load(tail)), tail));
  }
  // Store + scalar adds beat SumOfLanes' shuffle-broadcast for u64 on AVX2.
  alignas(64) uint64_t lane[8];
  hn::Store(acc, d, lane);
  uint64_t sum = 0;
  for (size_t i = 0; i < L; ++i) sum += lane[i];
  return sum;
}

/// OR of (load(off) ^ ref(off)) over n >= Lanes(d) words is zero?
template <class D, class Load, class Ref>
HWY_INLINE bool all_equal(D d, size_t n, Load load, Ref ref) {
  const size_t L = hn::Lanes(d);
  auto diff = hn::Zero(d);
  size_t off = 0;
  for (; off + L <= n; off += L) diff = hn::Or(diff, hn::Xor(load(off), ref(off)));
  if (off < n) diff = hn::Or(diff, hn::Xor(load(n - L), ref(n - L)));  // overlap is harmless
  return hn::AllTrue(d, hn::Eq(diff, hn::Zero(d)));
}

/// match_u32 over n entries with vectors of at most Cap lanes, then smaller.
template <size_t Cap>
HWY_INLINE uint32_t match_u32(const uint32_t* bucket, size_t n, uint32_t h, size_t j,
                              uint32_t bits) {
  const hn::CappedTag<uint32_t, Cap> d;
  const size_t L = hn::Lanes(d);
  if (L >= 4) {  // narrower vectors are not worth it: finish in scalar below
    const auto vh = hn::Set(d, h);
    for (; j + L <= n; j += L) {
      uint8_t raw[8] = {};
      hn::StoreMaskBits(d, hn::Eq(hn::LoadU(d, bucket + j), vh), raw);
      uint32_t chunk = 0;
      std::memcpy(&chunk, raw, sizeof chunk);
      bits |= (L >= 32 ? chunk : (chunk & ((1u << L) - 1))) << j;
    }
  }
  if constexpr (Cap > 4) {
    return match_u32<Cap / 2>(bucket, n, h, j, bits);
  } else {
    for (; j < n; ++j) bits |= uint32_t{bucket[j] == h} << j;
    return bits;
  }
}

/// range_hits: up to 16 lanes per step; the last step's loads are masked
/// (AVX2 and AVX-512 masked loads never touch masked-off lanes), the loads
/// of a step are independent so only the mask AND chains across dims.
HWY_INLINE uint32_t range_hits(const uint32_t* x, size_t nd, const uint32_t* r, size_t stride,
                               size_t n) {
#if HWY_TARGET <= HWY_AVX2
  const hn::CappedTag<uint32_t, 16> d;
  const size_t L = hn::Lanes(d);
  uint32_t bits = 0;
  for (size_t j = 0; j < n; j += L) {
    const auto in = hn::FirstN(d, n - j);
    auto ok = in;
    for (size_t k = 0; k < nd; ++k) {
      const auto lo = hn::MaskedLoad(in, d, r + 2 * k * stride + j);
      const auto span = hn::MaskedLoad(in, d, r + (2 * k + 1) * stride + j);
      ok = hn::AndNot(hn::Gt(hn::Sub(hn::Set(d, x[k]), lo), span), ok);
    }
    uint8_t raw[8] = {};
    hn::StoreMaskBits(d, ok, raw);
    uint32_t chunk = 0;
    std::memcpy(&chunk, raw, sizeof chunk);
    bits |= chunk << j;
  }
  return bits;
#else  // narrower targets have no masked load that avoids the over-read
  return Kernels<Scalar>::range_hits(x, nd, r, stride, n);
#endif
}

}  // namespace hwy_detail

template <>
struct Kernels<Highway> {
  template <size_t N>
  static uint64_t hash_sum(const uint64_t* words) noexcept {
    if constexpr (N < 2) {
      return Kernels<Scalar>::hash_sum(words, N);
    } else {
      const hwy_detail::TagFor<N> d;
      return hwy_detail::sum_terms(
          d, N, [&](size_t off) { return hwy::HWY_NAMESPACE::LoadU(d, words + off); });
    }
  }
  static uint64_t hash_sum(const uint64_t* words, size_t n) noexcept {
    uint64_t sum = 0;  // only reached for n > 16 (hash_words dispatches smaller n)
    for (size_t off = 0; off < n; off += 8) {
      const size_t m = n - off < 8 ? n - off : 8;
      sum += m < 8 ? Kernels<Scalar>::hash_sum(words + off, m) : hash_sum<8>(words + off);
    }
    return sum;
  }
  static uint64_t hash_sum_masked(const FlowKey& key, const FlowMask& mask) noexcept {
    namespace hn = hwy::HWY_NAMESPACE;
    const hwy_detail::TagFor<FlowKey::kWords> d;
    const uint64_t* k = key.words();
    const uint64_t* m = mask.words();
    return hwy_detail::sum_terms(d, FlowKey::kWords, [&](size_t off) {
      return hn::And(hn::LoadU(d, k + off), hn::LoadU(d, m + off));
    });
  }

  static bool masked_equal(const uint64_t* key, const uint64_t* mask,
                           const uint64_t* value) noexcept {
    namespace hn = hwy::HWY_NAMESPACE;
    const hwy_detail::TagFor<FlowKey::kWords> d;
    return hwy_detail::all_equal(
        d, FlowKey::kWords,
        [&](size_t off) { return hn::And(hn::LoadU(d, key + off), hn::LoadU(d, mask + off)); },
        [&](size_t off) { return hn::LoadU(d, value + off); });
  }
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

  template <size_t N>
  static uint32_t find_words(const uint64_t* probe, const uint64_t* entries,
                             size_t n_entries) noexcept {
    namespace hn = hwy::HWY_NAMESPACE;
    if constexpr (N == 1) {  // one word per entry: compare L entries at once
      const hn::CappedTag<uint64_t, 8> d;
      const size_t L = hn::Lanes(d);
      const auto p = hn::Set(d, probe[0]);
      size_t j = 0;
      for (; j + L <= n_entries; j += L) {
        const intptr_t hit = hn::FindFirstTrue(d, hn::Eq(hn::LoadU(d, entries + j), p));
        if (hit >= 0) return uint32_t(j + size_t(hit));
      }
      for (; j < n_entries; ++j)
        if (entries[j] == probe[0]) return uint32_t(j);
      return uint32_t(n_entries);
    } else if constexpr (N < 4) {  // per-entry AllTrue costs more than 2-3 scalar compares
      return Kernels<Scalar>::find_words(probe, N, entries, n_entries);
    } else {
      const hwy_detail::TagFor<N> d;
      for (size_t j = 0; j < n_entries; ++j) {
        const uint64_t* e = entries + j * N;
        if (hwy_detail::all_equal(
                d, N, [&](size_t off) { return hn::LoadU(d, e + off); },
                [&](size_t off) { return hn::LoadU(d, probe + off); }))
          return uint32_t(j);
      }
      return uint32_t(n_entries);
    }
  }
  static uint32_t find_words(const uint64_t* probe, size_t n, const uint64_t* entries,
                             size_t n_entries) noexcept {
    return Kernels<Scalar>::find_words(probe, n, entries, n_entries);
  }

  static uint32_t match_u32(const uint32_t* bucket, size_t n, uint32_t h) noexcept {
    return hwy_detail::match_u32<16>(bucket, n, h, 0, 0);
  }
  static uint32_t range_hits(const uint32_t* x, size_t nd, const uint32_t* r, size_t stride,
                             size_t n) noexcept {
    return hwy_detail::range_hits(x, nd, r, stride, n);
  }

  static size_t gather_masked_words(const FlowKey& key, const FlowMask& mask, uint32_t word_map,
                                    uint64_t* out) noexcept {
#if HWY_TARGET <= HWY_AVX3
    return gather_compress(key, mask, word_map, out);  // native vpcompressq
#else
    // Emulated compress (tables + blended store) costs ~6x the scalar loop
    // on AVX2; gather_compress is still compiled and tested on every target.
    return Kernels<Scalar>::gather_masked_words(key, mask, word_map, out);
#endif
  }
  /// gather_masked_words via CompressBlendedStore (any target).
  static size_t gather_compress(const FlowKey& key, const FlowMask& mask, uint32_t word_map,
                                uint64_t* out) noexcept {
    namespace hn = hwy::HWY_NAMESPACE;
    const hwy_detail::TagFor<FlowKey::kWords> d;
    const size_t L = hn::Lanes(d);
    const uint32_t lane_bits = (1u << L) - 1;
    size_t count = 0;
    auto emit = [&](size_t off, uint32_t bits) {
      if (bits == 0) return;
      const uint8_t raw[1] = {uint8_t(bits)};
      const auto v = hn::And(hn::LoadU(d, key.words() + off), hn::LoadU(d, mask.words() + off));
      count += hn::CompressBlendedStore(v, hn::LoadMaskBits(d, raw), d, out + count);
    };
    size_t off = 0;
    for (; off + L <= FlowKey::kWords; off += L) emit(off, (word_map >> off) & lane_bits);
    if (off < FlowKey::kWords) {
      const size_t tail = FlowKey::kWords - L;
      emit(tail, (word_map >> tail) & lane_bits & ~((1u << (off - tail)) - 1));
    }
    return count;
  }
};
#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace flowpath::simd
