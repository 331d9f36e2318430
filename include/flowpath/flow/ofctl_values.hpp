// flowpath/flow/ofctl_values.hpp — parsing and printing of the scalar
// values of ovs-ofctl flow text: integers (decimal or 0x hex), MAC and
// IPv4/IPv6 addresses with optional /mask or /prefix, port names.
//
// Parsers return std::nullopt on malformed input and never read past the
// string_view; the caller (flow/ofctl_match.hpp) turns that into an Error
// naming the token.  Printers follow Open vSwitch's output byte for byte
// (CIDR when a mask is a prefix, dotted or colon mask otherwise).
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "flowpath/core/error.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

/// Optional hooks mapping port names <-> OpenFlow port numbers.
using PortNameResolver = std::function<std::optional<uint32_t>(std::string_view)>;
using PortNamer = std::function<std::optional<std::string>(uint32_t)>;

namespace ofctl {

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

/// Unsigned integer, decimal or 0x-prefixed hex, at most `max`.
inline std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max = ~0ull) noexcept {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = unsigned(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = unsigned(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = unsigned(c - 'A' + 10);
    else
      return std::nullopt;
    if (v > (~0ull - d) / unsigned(base)) return std::nullopt;
    v = v * unsigned(base) + d;
  }
  if (v > max) return std::nullopt;
  return v;
}

/// Splits "value/mask" at the first '/'; mask is empty when absent.
inline std::pair<std::string_view, std::string_view> split_mask(std::string_view s) noexcept {
  size_t p = s.find('/');
  if (p == std::string_view::npos) return {s, {}};
  return {s.substr(0, p), s.substr(p + 1)};
}

inline std::optional<EthAddr> parse_eth(std::string_view s) noexcept {
  EthAddr e;
  if (s.size() != 17) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (i && s[i * 3 - 1] != ':') return std::nullopt;
    auto v = parse_uint(std::string("0x") + std::string(s.substr(i * 3, 2)), 0xff);
    if (!v) return std::nullopt;
    e.b[i] = uint8_t(*v);
  }
  return e;
}

inline std::string format_eth(const EthAddr& e) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", e.b[0], e.b[1], e.b[2], e.b[3],
                e.b[4], e.b[5]);
  return buf;
}

/// Dotted quad, host order.
inline std::optional<uint32_t> parse_ipv4(std::string_view s) noexcept {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) return std::nullopt;
    for (char c : s.substr(0, dot))
      if (c < '0' || c > '9') return std::nullopt;
    auto octet = parse_uint(s.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    v = v << 8 | uint32_t(*octet);
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return v;
}

inline std::string format_ipv4(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
  return buf;
}

/// Prefix length of a contiguous high-bits mask, or -1.
inline int ipv4_prefix_len(uint32_t mask) noexcept {
  uint32_t inv = ~mask;
  return (inv & (inv + 1)) == 0 ? 32 - std::popcount(inv) : -1;
}

inline std::optional<Ipv6Addr> parse_ipv6(std::string_view s) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  Ipv6Addr a;
  if (inet_pton(AF_INET6, std::string(s).c_str(), a.b.data()) != 1) return std::nullopt;
  return a;
}

inline std::string format_ipv6(const Ipv6Addr& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.b.data(), buf, sizeof buf);
  return buf;
}

/// A 128-bit number (ct_label) as OVS prints it: `0x` and the hex digits
/// without leading zeros, `0` for zero.
inline std::string format_u128(const Ipv6Addr& a) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : a.b) {
    for (int nib : {b >> 4, b & 15})
      if (!s.empty() || nib) s += kHex[nib];
  }
  return s.empty() ? "0" : "0x" + s;
}

inline Ipv6Addr ipv6_prefix_mask(unsigned len) noexcept {
  Ipv6Addr m;
  for (unsigned i = 0; i < 16; ++i) {
    unsigned bits = len > i * 8 ? std::min(8u, len - i * 8) : 0;
    m.b[i] = uint8_t(0xff00 >> bits);
  }
  return m;
}

inline int ipv6_prefix_len(const Ipv6Addr& m) noexcept {
  for (unsigned len = 0; len <= 128; ++len)
    if (ipv6_prefix_mask(len) == m) return int(len);
  return -1;
}

/// An OpenFlow port: a number, LOCAL/NONE, or a name via `resolver`.
inline std::optional<uint32_t> parse_port(std::string_view s, const PortNameResolver& resolver) {
  if (auto v = parse_uint(s, 0xffffffffull)) return uint32_t(*v);
  if (iequals(s, "LOCAL")) return 0xfffe;
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (resolver)
    if (auto p = resolver(s)) return p;
  return std::nullopt;
}

}  // namespace ofctl
}  // namespace flowpath
