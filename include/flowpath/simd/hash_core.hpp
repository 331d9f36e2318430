// flowpath/simd/hash_core.hpp — the definition of flowpath's masked-key
// hash, shared by every backend (constants, per-word term, finaliser).
//
// Design.  The hash must vectorise on any lane count and still give the
// same bits everywhere, so it is a sum of independent per-word terms
// (addition mod 2^64 is associative and commutative: lane order and
// reduction tree do not matter), followed by a strong scalar finaliser:
//
//   v_i    = w_i ^ K_i                       K_i: per-position constant
//   t_i    = lo32(v_i) * hi32(v_i) - C_i + w_i   (32x32->64 multiply,
//                                             C_i = lo32(K_i) * hi32(K_i))
//   h      = fmix64(sum_i t_i + n * kLen + basis * kPhi), folded to 32 bits
//
// The multiply is the NH/UMAC/XXH3 construction (a 32x32->64 multiply is
// one instruction on every x86 SIMD level, unlike a 64-bit multiply); the
// "+ w_i" term keeps words whose low half equals K_i's from vanishing; the
// "- C_i" makes an all-zero word contribute exactly 0, so zero padding is
// free and words outside a mask cost nothing to the result.  fmix64
// (MurmurHash3's finaliser) is a bijection with full avalanche, so the
// hash spreads keys that differ in a single low bit.
//
// Relation: hash_masked(key, mask, b) == hash_words(m, 15, b) where m are the
// 15 words of key & mask, in word order.  The compact form used by the
// megaflow cache (only the words a mask touches) is a different but equally
// valid hash of the same key; use one form consistently per table.
//
// Thread-safety: constants only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace flowpath::simd {

/// Longest word sequence hash_words accepts (one more than FlowKey::kWords,
/// so a padded 16-word buffer is valid input).
inline constexpr size_t kMaxHashWords = 16;

namespace hash_detail {

constexpr uint64_t splitmix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr std::array<uint64_t, kMaxHashWords> make_keys() noexcept {
  std::array<uint64_t, kMaxHashWords> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = splitmix64(0x666c6f7770617468ull + i);
  return k;
}

constexpr std::array<uint64_t, kMaxHashWords> make_zero_terms() noexcept {
  std::array<uint64_t, kMaxHashWords> c{};
  auto k = make_keys();
  for (size_t i = 0; i < c.size(); ++i) c[i] = (k[i] & 0xffffffffu) * (k[i] >> 32);
  return c;
}

}  // namespace hash_detail

/// Per-position constants K_i and zero-word terms C_i (aligned for vector loads).
alignas(64) inline constexpr std::array<uint64_t, kMaxHashWords> kHashKeys =
    hash_detail::make_keys();
alignas(64) inline constexpr std::array<uint64_t, kMaxHashWords> kHashZeroTerms =
    hash_detail::make_zero_terms();
/// Lanes 0..k-1 zero, the rest all ones: a vector loaded at kKeepFrom + 8 - k
/// (k <= 8) masks off the lanes an overlapping tail vector already covered.
alignas(64) inline constexpr uint64_t kKeepFrom[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull};
inline constexpr uint64_t kHashPhi = 0x9e3779b97f4a7c15ull;
inline constexpr uint64_t kHashLen = 0xd6e8feb86659fd93ull;

/// The term of word w at position i (the scalar definition; vector
/// backends compute exactly this per lane).
constexpr uint64_t hash_term(uint64_t w, size_t i) noexcept {
  const uint64_t v = w ^ kHashKeys[i];
  return (v & 0xffffffffu) * (v >> 32) - kHashZeroTerms[i] + w;
}

/// Turns the sum of the terms of n words into the 32-bit hash.
constexpr uint32_t hash_finish(uint64_t sum, size_t n, uint32_t basis) noexcept {
  uint64_t x = sum + n * kHashLen + uint64_t{basis} * kHashPhi;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x ^ (x >> 32));
}

}  // namespace flowpath::simd
