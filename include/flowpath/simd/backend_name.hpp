// flowpath/simd/backend_name.hpp — names of the backend and instruction
// set a translation unit runs, for test output and benchmark reports
// ("highway/AVX2", "xsimd/fma3+avx2", "scalar").
//
// Thread-safety: stateless.
#pragma once

#include <string>
#include <type_traits>

#include "flowpath/simd/hwy_kernels.hpp"
#include "flowpath/simd/xsimd_kernels.hpp"

namespace flowpath::simd {

template <class B>
struct BackendName;
template <>
struct BackendName<Scalar> {
  static std::string get() { return "scalar"; }
};
template <>
struct BackendName<Highway> {
  static std::string get() { return std::string("highway/") + hwy::TargetName(HWY_TARGET); }
};
template <class A>
struct BackendName<XsimdOn<A>> {
  static std::string get() {
    if constexpr (xs_detail::usable<A>()) {
      return std::string("xsimd/") + A::name();
    } else {
      return "xsimd/unavailable(scalar)";
    }
  }
};

/// "scalar", "highway/<HWY_TARGET name>" or "xsimd/<arch name>".
template <class B>
inline std::string backend_name() {
  return BackendName<B>::get();
}

}  // namespace flowpath::simd
