// flowpath/core/byte_order.hpp — big-endian field types.
//
// Be16/Be32/Be64 hold a value in network byte order.  They are distinct
// types with no implicit conversion to or from host integers, so
// `key.tp_dst == 80` does not compile; write `key.tp_dst == Be16{80}` (the
// constructor converts from host order) or compare `key.tp_dst.host()`.
// Their layout is exactly the wire bytes, so they can sit in packed header
// structs and in the flow key, and masks apply to them bitwise.
//
// Cost: a byte swap on construction and on host(); nothing else.
// Thread-safety: plain values.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace flowpath {

template <class T>
constexpr T byteswap_if_little(T v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(T) == 1) return v;
    else if constexpr (sizeof(T) == 2) return T(__builtin_bswap16(v));
    else if constexpr (sizeof(T) == 4) return T(__builtin_bswap32(v));
    else return T(__builtin_bswap64(v));
  } else {
    return v;
  }
}

template <class T>
struct BigEndian {
  T raw = 0;  // network-order bits, as on the wire

  constexpr BigEndian() noexcept = default;
  constexpr explicit BigEndian(T host_value) noexcept
      : raw(byteswap_if_little(host_value)) {}
  static constexpr BigEndian from_raw(T network_bits) noexcept {
    BigEndian b;
    b.raw = network_bits;
    return b;
  }
  /// Reads from possibly unaligned wire bytes.
  static BigEndian load(const void* p) noexcept {
    BigEndian b;
    std::memcpy(&b.raw, p, sizeof(T));
    return b;
  }
  void store(void* p) const noexcept { std::memcpy(p, &raw, sizeof(T)); }

  constexpr T host() const noexcept { return byteswap_if_little(raw); }

  friend constexpr bool operator==(BigEndian, BigEndian) noexcept = default;
  friend constexpr BigEndian operator&(BigEndian a, BigEndian b) noexcept {
    return from_raw(T(a.raw & b.raw));
  }
  friend constexpr BigEndian operator|(BigEndian a, BigEndian b) noexcept {
    return from_raw(T(a.raw | b.raw));
  }
  friend constexpr BigEndian operator^(BigEndian a, BigEndian b) noexcept {
    return from_raw(T(a.raw ^ b.raw));
  }
  constexpr BigEndian operator~() const noexcept { return from_raw(T(~raw)); }
  constexpr BigEndian& operator&=(BigEndian o) noexcept { raw &= o.raw; return *this; }
  constexpr BigEndian& operator|=(BigEndian o) noexcept { raw |= o.raw; return *this; }
};

using Be16 = BigEndian<uint16_t>;
using Be32 = BigEndian<uint32_t>;
using Be64 = BigEndian<uint64_t>;
static_assert(sizeof(Be16) == 2 && sizeof(Be32) == 4 && sizeof(Be64) == 8);
static_assert(alignof(Be16) == 2 && alignof(Be32) == 4);

/// Reads a host-order value from wire bytes (unaligned).
inline uint16_t load_be16(const uint8_t* p) noexcept { return Be16::load(p).host(); }
inline uint32_t load_be32(const uint8_t* p) noexcept { return Be32::load(p).host(); }
inline void store_be16(uint8_t* p, uint16_t v) noexcept { Be16{v}.store(p); }
inline void store_be32(uint8_t* p, uint32_t v) noexcept { Be32{v}.store(p); }

}  // namespace flowpath
