// <immintrin.h>, included once for every flowpath SIMD header before xsimd,
// Highway or our own kernels pull it in.
//
// GCC 12 warns "'__Y' is used uninitialized" from inside avx512fintrin.h
// wherever an AVX-512 intrinsic that starts from _mm512_undefined_*() is
// inlined into -Wall code (GCC bug 105593, fixed in GCC 13): the header
// initialises its "undefined" vector from itself on purpose.  The warning
// is located in the system header, so silencing it for the header's own
// lines, as here, leaves the check on for every line of ours and of the
// library user's.  A program that includes <immintrin.h> itself before
// flowpath gets the header's first inclusion, and GCC 12's warning, back.
//
// Thread-safety: a header, nothing to share.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#endif
