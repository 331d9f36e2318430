// flowpath/simd/hwy_kernels.hpp — Highway backend (placeholder: scalar
// until the vector kernels land).
#pragma once

#include "flowpath/simd/scalar_kernels.hpp"

namespace flowpath::simd {
template <>
struct Kernels<Highway> : Kernels<Scalar> {};
}  // namespace flowpath::simd
