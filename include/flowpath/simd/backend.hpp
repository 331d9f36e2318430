// flowpath/simd/backend.hpp — SIMD backend tags and the kernel trait.
//
// Contract.  A backend is an empty tag type passed as the first template
// argument of every simd/ function: `Scalar` (the reference, plain C++),
// `Highway` (Google Highway, static dispatch: the best target the
// translation unit is compiled for, HWY_TARGET), `Xsimd` (xsimd
// `batch<T, Arch>` with Arch = xsimd::default_arch; `XsimdOn<Arch>` picks
// another instruction set).  `Default` is Highway.  All backends return
// bit-identical results; tests check each against Scalar on every ISA the
// build machine has.
//
// No dynamic dispatch happens in these headers (see DESIGN.md): which ISA
// runs is decided by the compile flags of the including translation unit
// (e.g. -march=native; without flags Highway uses SCALAR/SSE2 and xsimd
// sse2).  Programs that want runtime dispatch wrap the calls in their own
// .cpp with Highway's foreach_target machinery.
//
// Thread-safety: stateless.
#pragma once

#include "flowpath/simd/intrinsics.hpp"  // before xsimd: see there

#include <xsimd/xsimd.hpp>

namespace flowpath::simd {

/// The plain C++ reference; every other backend must agree with it bit for bit.
struct Scalar {};
/// Google Highway, statically dispatched to HWY_TARGET.
struct Highway {};
/// xsimd on instruction set `Arch` (an xsimd arch type, e.g. xsimd::avx2).
template <class Arch>
struct XsimdOn {
  using arch_type = Arch;
};

/// xsimd on the best instruction set the translation unit is compiled for.
using Xsimd = XsimdOn<xsimd::default_arch>;

/// Primary backend used by the classifiers unless told otherwise.
using Default = Highway;

/// Kernels<B> holds the static kernel functions of backend B; specialised
/// in scalar_kernels.hpp, hwy_kernels.hpp and xsimd_kernels.hpp.
template <class B>
struct Kernels;

}  // namespace flowpath::simd
