// flowpath/action/checksum.hpp — Internet checksum (RFC 1071), its
// incremental update (RFC 1624) and CRC32c (SCTP, RFC 3309).
//
// Actions that rewrite a header field fix the checksums that cover it
// without re-reading the packet: RFC 1624 equation 3,
//     HC' = ~(~HC + ~m + m')
// where m and m' are the old and new 16-bit words (a 32-bit field is two
// words).  Equation 3 (not 2) is the one that never produces the "-0"
// checksum 0x0000 from a non-zero sum, so the result equals a checksum
// computed from scratch.  All values here are host-order integers holding
// the big-endian 16-bit words as they appear on the wire.
//
// SCTP has no incremental form: its CRC32c covers the whole packet, so a
// port change recomputes it (crc32c below, a byte-table implementation:
// about 1 ns per byte; only SCTP port rewrites pay it).
//
// Cost: csum_replace16/32 are a handful of integer operations.
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace flowpath {

/// Adds n bytes, read as big-endian 16-bit words (a trailing odd byte is
/// padded with zero), to a 32-bit one's-complement accumulator.
inline uint32_t csum_add_bytes(uint32_t sum, const uint8_t* p, size_t n) noexcept {
  uint64_t acc = sum;
  size_t i = 0;
  for (; i + 1 < n; i += 2) acc += uint32_t(p[i]) << 8 | p[i + 1];
  if (i < n) acc += uint32_t(p[i]) << 8;
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return uint32_t(acc);
}

/// Folds a 32-bit accumulator to 16 bits with end-around carry.
constexpr uint16_t csum_fold(uint32_t sum) noexcept {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}

/// The Internet checksum of a buffer (the value to store in the field,
/// computed with the field itself zeroed).
inline uint16_t inet_checksum(const uint8_t* p, size_t n) noexcept {
  return uint16_t(~csum_fold(csum_add_bytes(0, p, n)));
}

/// RFC 1624 eq. 3: the checksum after one 16-bit word changed old -> neu.
constexpr uint16_t csum_replace16(uint16_t csum, uint16_t old, uint16_t neu) noexcept {
  uint32_t sum = uint32_t(uint16_t(~csum)) + uint16_t(~old) + neu;
  return uint16_t(~csum_fold(sum));
}

/// The same for a 32-bit field (two words).
constexpr uint16_t csum_replace32(uint16_t csum, uint32_t old, uint32_t neu) noexcept {
  uint32_t sum = uint32_t(uint16_t(~csum)) + uint16_t(~(old >> 16)) + uint16_t(~old) + (neu >> 16) +
                 (neu & 0xffff);
  return uint16_t(~csum_fold(sum));
}

namespace detail {
inline constexpr std::array<uint32_t, 256> kCrc32cTable = [] {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;  // reflected
    t[i] = c;
  }
  return t;
}();
}  // namespace detail

/// CRC32c (Castagnoli) of a buffer: crc32c("123456789") == 0xe3069283.
/// SCTP stores the result least significant byte first.
inline uint32_t crc32c(const uint8_t* p, size_t n) noexcept {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = detail::kCrc32cTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace flowpath
