// flowpath/simd/xsimd_kernels.hpp — the xsimd backend, `XsimdOn<Arch>`.
//
// Contract.  Kernels<XsimdOn<A>> implements the scalar_kernels.hpp kernels
// with xsimd::batch<T, A>, A an xsimd x86 arch (sse2 ... avx512bw; Xsimd
// uses xsimd::default_arch, the best one the compile flags allow).
// Results are bit-identical to Kernels<Scalar>.  An arch that xsimd cannot
// use (none available, non-x86) falls back to the scalar kernels.
//
// Design.  Same as the Highway backend (see hwy_kernels.hpp): full vectors
// plus one overlapping vector at the end, so nothing is read past the
// input.  xsimd has no "capped" batch, so a sequence shorter than one
// vector moves to the next narrower arch (avx512 -> avx2 -> sse4.2/sse2 ->
// scalar) at compile time.  The lo32 * hi32 hash term uses the
// pmuludq-family intrinsic of the arch (xsimd 8.1 has no 32x32->64
// multiply); gather_masked_words is scalar (xsimd 8.1 has no compress).
//
// Thread-safety: stateless.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include "flowpath/simd/intrinsics.hpp"  // before xsimd: see there

#include <xsimd/xsimd.hpp>

#include "flowpath/simd/scalar_kernels.hpp"

namespace flowpath::simd {

namespace xs_detail {

alignas(64) inline constexpr uint32_t kLaneBit[16] = {
    1u << 0, 1u << 1, 1u << 2,  1u << 3,  1u << 4,  1u << 5,  1u << 6,  1u << 7,
    1u << 8, 1u << 9, 1u << 10, 1u << 11, 1u << 12, 1u << 13, 1u << 14, 1u << 15};

template <class A>
constexpr bool usable() noexcept {
  if constexpr (std::is_void_v<A>) {
    return false;
  } else {
    return A::supported() && A::available() && std::is_base_of_v<xsimd::generic, A>;
  }
}

/// Bit i set for each true lane i of a 32-bit comparison.  On AVX-512 the
/// batch_bool is a mask register and is that answer already; elsewhere the
/// true lanes' kLaneBit are summed.  (xsimd 8.1's select for AVX-512BW
/// also names the 8- and 16-bit blends, which GCC refuses for 32-bit lanes
/// when it does not optimise: this does not use it.)
template <class A>
inline uint32_t lane_mask(const xsimd::batch_bool<uint32_t, A>& ok) noexcept {
#if XSIMD_WITH_AVX512F
  constexpr bool mask_register = std::is_base_of_v<xsimd::avx512f, A>;
#else
  constexpr bool mask_register = false;
#endif
  if constexpr (mask_register) {
    return uint32_t(ok.data) & ((1u << xsimd::batch<uint32_t, A>::size) - 1);
  } else {
    using V = xsimd::batch<uint32_t, A>;
    return xsimd::hadd(xsimd::select(ok, V::load_unaligned(kLaneBit), V(0u)));
  }
}

/// The next narrower arch than A (void: none, use scalar code).
template <class A>
struct Narrower {
  using type = void;
};
#if XSIMD_WITH_AVX512F && XSIMD_WITH_AVX2
template <class A>
requires std::is_base_of_v<xsimd::avx512f, A>
struct Narrower<A> {
  using type = xsimd::avx2;
};
#endif
#if XSIMD_WITH_AVX && (XSIMD_WITH_SSE4_2 || XSIMD_WITH_SSE2)
template <class A>
requires std::is_base_of_v<xsimd::avx, A>
struct Narrower<A> {
#if XSIMD_WITH_SSE4_2
  using type = xsimd::sse4_2;
#else
  using type = xsimd::sse2;
#endif
};
#endif

template <class T, class A>
constexpr size_t lanes() noexcept {
  if constexpr (usable<A>()) {
    return xsimd::batch<T, A>::size;
  } else {
    return 1;
  }
}

/// The widest arch at or below A whose T-batch has at most `n` lanes (void: scalar).
template <class T, class A, size_t N>
struct FitArch {
  using type = std::conditional_t<
      !usable<A>(), void,
      std::conditional_t<(lanes<T, A>() <= N), A,
                         typename FitArch<T, typename Narrower<A>::type, N>::type>>;
};
template <class T, size_t N>
struct FitArch<T, void, N> {
  using type = void;
};
template <class T, class A, size_t N>
using FitArchT = typename FitArch<T, A, N>::type;

/// lo32(v) * hi32(v) per 64-bit lane.
template <class A>
inline xsimd::batch<uint64_t, A> mul_lo_hi(xsimd::batch<uint64_t, A> v) noexcept {
  using V = xsimd::batch<uint64_t, A>;
  const V hi = v >> 32;
#if XSIMD_WITH_AVX512F
  if constexpr (std::is_base_of_v<xsimd::avx512f, A>) return V(_mm512_mul_epu32(v, hi));
#endif
#if XSIMD_WITH_AVX2
  if constexpr (std::is_base_of_v<xsimd::avx2, A>) return V(_mm256_mul_epu32(v, hi));
#endif
#if XSIMD_WITH_SSE2
  if constexpr (std::is_base_of_v<xsimd::sse2, A>) return V(_mm_mul_epu32(v, hi));
#endif
  return (v & V(0xffffffffull)) * hi;
}

/// Sum of hash terms over n >= lanes words; load(off) gives the words at off.
template <class A, class Load>
inline uint64_t sum_terms(size_t n, Load load) noexcept {
  using V = xsimd::batch<uint64_t, A>;
  constexpr size_t L = V::size;
  auto term = [](V w, size_t off) {
    const V v = w ^ V::load_unaligned(kHashKeys.data() + off);
    return mul_lo_hi<A>(v) - V::load_unaligned(kHashZeroTerms.data() + off) + w;
  };
  V acc(uint64_t{0});
  size_t off = 0;
  for (; off + L <= n; off += L) acc += term(load(off), off);
  if (off < n) {  // overlapping tail: zero the lanes already summed (term(0) == 0)
    const size_t tail = n - L;
    acc += term(load(tail) & V::load_unaligned(kKeepFrom + 8 - (off - tail)), tail);
  }
  return xsimd::hadd(acc);
}

/// All of (load(off) ^ ref(off)) over n >= lanes words zero?
template <class A, class Load, class Ref>
inline bool all_equal(size_t n, Load load, Ref ref) noexcept {
  using V = xsimd::batch<uint64_t, A>;
  constexpr size_t L = V::size;
  V diff(uint64_t{0});
  size_t off = 0;
  for (; off + L <= n; off += L) diff |= load(off) ^ ref(off);
  if (off < n) diff |= load(n - L) ^ ref(n - L);
  return xsimd::all(diff == V(uint64_t{0}));
}

template <class A>
inline uint32_t match_u32(const uint32_t* bucket, size_t n, uint32_t h, size_t j,
                          uint32_t bits) noexcept {
  if constexpr (usable<A>() && lanes<uint32_t, A>() >= 4) {
    using V = xsimd::batch<uint32_t, A>;
    constexpr size_t L = V::size;
    const V vh(h);
    for (; j + L <= n; j += L) bits |= lane_mask<A>(V::load_unaligned(bucket + j) == vh) << j;
    return match_u32<typename Narrower<A>::type>(bucket, n, h, j, bits);
  } else {
    for (; j < n; ++j) bits |= uint32_t{bucket[j] == h} << j;
    return bits;
  }
}

/// range_hits over full vectors of A, then narrower ones, then scalar.
template <class A>
inline uint32_t range_hits(const uint32_t* x, size_t nd, const uint32_t* r, size_t stride, size_t n,
                           size_t j, uint32_t bits) noexcept {
  if constexpr (usable<A>() && lanes<uint32_t, A>() >= 4) {
    using V = xsimd::batch<uint32_t, A>;
    constexpr size_t L = V::size;
    const V zero(0u);
    for (; j + L <= n; j += L) {
      auto ok = zero == zero;
      for (size_t k = 0; k < nd; ++k) {
        const V lo = V::load_unaligned(r + 2 * k * stride + j);
        const V span = V::load_unaligned(r + (2 * k + 1) * stride + j);
        ok = ok & ((V(x[k]) - lo) <= span);
      }
      bits |= lane_mask<A>(ok) << j;
    }
    return range_hits<typename Narrower<A>::type>(x, nd, r, stride, n, j, bits);
  } else {
    for (; j < n; ++j) bits |= uint32_t{Kernels<Scalar>::range_hit(x, nd, r, stride, j)} << j;
    return bits;
  }
}

}  // namespace xs_detail

template <class A>
struct Kernels<XsimdOn<A>> {
  template <size_t N>
  static uint64_t hash_sum(const uint64_t* words) noexcept {
    using Fit = xs_detail::FitArchT<uint64_t, A, N>;
    if constexpr (std::is_void_v<Fit>) {
      return Kernels<Scalar>::hash_sum(words, N);
    } else {
      using V = xsimd::batch<uint64_t, Fit>;
      return xs_detail::sum_terms<Fit>(N,
                                       [&](size_t off) { return V::load_unaligned(words + off); });
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
    using Fit = xs_detail::FitArchT<uint64_t, A, 8>;
    if constexpr (std::is_void_v<Fit>) {
      return Kernels<Scalar>::hash_sum_masked(key, mask);
    } else {
      using V = xsimd::batch<uint64_t, Fit>;
      const uint64_t* k = key.words();
      const uint64_t* m = mask.words();
      return xs_detail::sum_terms<Fit>(FlowKey::kWords, [&](size_t off) {
        return V::load_unaligned(k + off) & V::load_unaligned(m + off);
      });
    }
  }

  static bool masked_equal(const uint64_t* key, const uint64_t* mask,
                           const uint64_t* value) noexcept {
    using Fit = xs_detail::FitArchT<uint64_t, A, 8>;
    if constexpr (std::is_void_v<Fit>) {
      return Kernels<Scalar>::masked_equal(key, mask, value);
    } else {
      using V = xsimd::batch<uint64_t, Fit>;
      return xs_detail::all_equal<Fit>(
          FlowKey::kWords,
          [&](size_t off) { return V::load_unaligned(key + off) & V::load_unaligned(mask + off); },
          [&](size_t off) { return V::load_unaligned(value + off); });
    }
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
    if constexpr (N == 1 && xs_detail::usable<A>()) {  // compare L entries at once
      using V = xsimd::batch<uint64_t, A>;
      constexpr size_t L = V::size;
      const V p(probe[0]);
      size_t j = 0;
      for (; j + L <= n_entries; j += L)
        if (xsimd::any(V::load_unaligned(entries + j) == p)) break;
      for (; j < n_entries; ++j)
        if (entries[j] == probe[0]) return uint32_t(j);
      return uint32_t(n_entries);
    } else {
      using Fit = xs_detail::FitArchT<uint64_t, A, N>;
      if constexpr (std::is_void_v<Fit> || N < 4) {  // see Kernels<Highway>::find_words
        return Kernels<Scalar>::find_words(probe, N, entries, n_entries);
      } else {
        using V = xsimd::batch<uint64_t, Fit>;
        for (size_t j = 0; j < n_entries; ++j) {
          const uint64_t* e = entries + j * N;
          if (xs_detail::all_equal<Fit>(
                  N, [&](size_t off) { return V::load_unaligned(e + off); },
                  [&](size_t off) { return V::load_unaligned(probe + off); }))
            return uint32_t(j);
        }
        return uint32_t(n_entries);
      }
    }
  }
  static uint32_t find_words(const uint64_t* probe, size_t n, const uint64_t* entries,
                             size_t n_entries) noexcept {
    return Kernels<Scalar>::find_words(probe, n, entries, n_entries);
  }

  static uint32_t match_u32(const uint32_t* bucket, size_t n, uint32_t h) noexcept {
    using Start = xs_detail::FitArchT<uint32_t, A, 16>;
    return xs_detail::match_u32<Start>(bucket, n, h, 0, 0);
  }
  static uint32_t range_hits(const uint32_t* x, size_t nd, const uint32_t* r, size_t stride,
                             size_t n) noexcept {
    using Start = xs_detail::FitArchT<uint32_t, A, 16>;
    return xs_detail::range_hits<Start>(x, nd, r, stride, n, 0, 0);
  }

  static size_t gather_masked_words(const FlowKey& key, const FlowMask& mask, uint32_t word_map,
                                    uint64_t* out) noexcept {
    return Kernels<Scalar>::gather_masked_words(key, mask, word_map, out);
  }
};

}  // namespace flowpath::simd
