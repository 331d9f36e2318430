// flowpath/simd/xsimd_kernels.hpp — xsimd backend (placeholder: scalar
// until the vector kernels land).
#pragma once

#include "flowpath/simd/scalar_kernels.hpp"

namespace flowpath::simd {
template <class Arch>
struct Kernels<XsimdOn<Arch>> : Kernels<Scalar> {};
}  // namespace flowpath::simd
