// tests/simd/backends.hpp — the backend list every simd test runs over,
// random key helpers, and exact-size heap buffers (so ASan catches any
// read past the end of an input).
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/backend_name.hpp"
#include "flowpath/simd/compare.hpp"
#include "flowpath/simd/hash.hpp"

namespace simd_test {

using namespace flowpath;
namespace simd = flowpath::simd;

// Every backend the compile flags of this executable allow; the xsimd
// narrower archs run too, so one AVX2 build also checks SSE2/SSE4.2 code.
using Backends = ::testing::Types<simd::Scalar, simd::Highway, simd::Xsimd
#if XSIMD_WITH_SSE2
                                  ,
                                  simd::XsimdOn<xsimd::sse2>
#endif
#if XSIMD_WITH_SSE4_2
                                  ,
                                  simd::XsimdOn<xsimd::sse4_2>
#endif
#if XSIMD_WITH_AVX2
                                  ,
                                  simd::XsimdOn<xsimd::avx2>
#endif
#if XSIMD_WITH_AVX512BW
                                  ,
                                  simd::XsimdOn<xsimd::avx512bw>
#endif
                                  >;

struct BackendNames {
  template <class B>
  static std::string GetName(int) {
    std::string s = simd::backend_name<B>();
    for (char& c : s)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
  }
};

inline FlowKey random_key(std::mt19937_64& rng) {
  FlowKey k;
  for (size_t i = 0; i < FlowKey::kWords; ++i) k.words()[i] = rng();
  return k;
}

/// A mask with a random subset of whole words, each word partly set.
inline FlowMask random_mask(std::mt19937_64& rng) {
  FlowMask m;
  for (size_t i = 0; i < FlowKey::kWords; ++i) {
    const uint64_t r = rng();
    m.words()[i] = (r & 3) == 0 ? 0 : (r & 3) == 1 ? ~0ull : rng();
  }
  return m;
}

/// A heap array of exactly n elements (no slack for over-reads).
template <class T>
inline std::unique_ptr<T[]> exact(size_t n) {
  return std::unique_ptr<T[]>(new T[n == 0 ? 1 : n]);
}

/// Calls f(std::integral_constant<size_t, N>) for N = 1..Max.
template <size_t Max, class F, size_t... I>
inline void for_each_n_impl(F&& f, std::index_sequence<I...>) {
  (f(std::integral_constant<size_t, I + 1>{}), ...);
}
template <size_t Max, class F>
inline void for_each_n(F&& f) {
  for_each_n_impl<Max>(f, std::make_index_sequence<Max>{});
}

}  // namespace simd_test
