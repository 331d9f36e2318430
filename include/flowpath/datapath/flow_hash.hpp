// flowpath/datapath/flow_hash.hpp — the datapath's per-packet flow hash
// (the exact-match cache's key hash, also stored in PacketMeta::hash).
//
// Contract.  flow_hash<B>(key) is a 32-bit hash of the whole key: keys that
// differ in any bit almost always hash differently, and every output bit
// depends on every input word.  It is the datapath's own function (the
// megaflow subtables hash their compact words separately), so it is tuned
// for the common packet rather than for bit-compatibility:
//
//   - An IPv4/ARP-less packet fills at most words 0-4, 9, 14 and 15; words 5-8
//     and 10-13 (IPv6 addresses, ND target, ARP hardware addresses) are
//     zero.  One OR of those eight words decides the path.
//   - Common path: the eight words are folded into two 64-bit lanes
//     (positions rotated apart so that equal fields in different words do
//     not cancel), then two 64x64->128-bit multiplies mix them ("mum", as
//     in wyhash) and the halves are folded to 32 bits.  ~20 instructions.
//   - Otherwise (IPv6, ND, ARP): the strong full-key hash of simd/hash.hpp
//     (simd::hash_words over all 16 words, backend B), xor a constant so that
//     the two paths do not share values by construction.
//
// Open vSwitch's EMC uses the NIC's RSS hash (a Toeplitz hash of the
// 5-tuple only); collisions here cost only a slot, never correctness, since
// the EMC compares the full key.
//
// Cost: ~8 cycles per IPv4 packet.  Never allocates, never throws.
// Thread-safety: stateless.
#pragma once

#include <bit>
#include <cstdint>

#include "flowpath/flow/flow_key.hpp"
#include "flowpath/simd/hash.hpp"

namespace flowpath {

/// Words that only IPv6, ND and ARP packets fill (bit i = word i).
inline constexpr uint32_t kRareKeyWords = 0x3de0;  // words 5-8, 10-13

namespace flow_hash_detail {

/// 64x64 -> 128-bit multiply, halves folded (wyhash's "mum").
inline uint64_t mum(uint64_t a, uint64_t b) noexcept {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return uint64_t(p) ^ uint64_t(p >> 64);
}

}  // namespace flow_hash_detail

template <class B>
inline uint32_t flow_hash(const FlowKey& key) noexcept {
  using flow_hash_detail::mum;
  const KeyWord* w = key.words();
  const uint64_t rare = w[5] | w[6] | w[7] | w[8] | w[10] | w[11] | w[12] | w[13];
  if (rare != 0) [[unlikely]]
    return simd::hash_words<B, FlowKey::kWords>(w, 0) ^ 0x5bd1e995u;
  // Lane a: addresses (MACs, IPs) and the conntrack word (zero before a
  // ct(), so it costs one XOR); lane b: metadata (in_port, recirc_id),
  // VLANs, L3/L4 fields.
  const uint64_t a = w[1] ^ std::rotl(uint64_t(w[2]), 23) ^ std::rotl(uint64_t(w[4]), 41) ^
                     std::rotl(uint64_t(w[15]), 7);
  const uint64_t b = w[0] ^ std::rotl(uint64_t(w[3]), 11) ^ std::rotl(uint64_t(w[9]), 29) ^
                     std::rotl(uint64_t(w[14]), 47);
  const uint64_t m = mum(a ^ 0xa0761d6478bd642full, b ^ 0xe7037ed1a0b428dbull);
  const uint64_t h = mum(m ^ 0x8ebc6af09c88c6e3ull, a ^ b ^ 0x589965cc75374cc3ull);
  return uint32_t(h ^ (h >> 32));
}

}  // namespace flowpath
