// flowpath/flow/ofctl_ct_match.hpp — the connection-tracking values of
// ovs-ofctl match text: ct_state (`+trk-inv`, `new|trk`, `0x21/0x3f`, with
// Open vSwitch's error texts) and 128-bit numbers (ct_label), parsed and
// printed as ovs-ofctl does.  Used by flow/ofctl_match.hpp.
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "flowpath/flow/fields.hpp"
#include "flowpath/flow/ofctl_flags.hpp"
#include "flowpath/flow/ofctl_values.hpp"

namespace flowpath {
namespace ofctl {

[[noreturn]] inline void ct_bad_value(std::string_view token, std::string_view why) {
  throw Error(std::string(token) + ": bad value: " + std::string(why));
}

inline constexpr std::string_view kCtStateNames[] = {"new", "est", "rel",  "rpl",
                                                     "inv", "trk", "snat", "dnat"};

/// ct_state: a number[/mask] (only the eight known flags), `+trk-inv...`
/// (mask = listed flags), or `new|trk` (exact over all eight flags).
inline std::pair<uint64_t, uint64_t> parse_ct_state(std::string_view v, std::string_view token) {
  if (v.empty()) ct_bad_value(token, "empty");
  auto unknown = [&](std::string_view what) -> std::pair<uint64_t, uint64_t> {
    throw Error(std::string(token) + ": " + std::string(what) + ": unknown ct_state flag(s)");
  };
  if (v[0] >= '0' && v[0] <= '9') {
    auto [val, msk] = split_mask(v);
    auto n = parse_uint(val, 0xffffffff);
    auto mk = msk.empty() ? std::optional<uint64_t>(0xff) : parse_uint(msk, 0xffffffff);
    if (!n || !mk) ct_bad_value(token, "ct_state must be a number or flags");
    if (*n & ~0xffull) return unknown(val);
    if (*mk & ~0xffull) return unknown(msk);
    return {*n & *mk, *mk};
  }
  auto bit_of = [&](std::string_view name) {
    for (int i = 0; i < 8; ++i)
      if (name == kCtStateNames[i]) return i;
    unknown(name);
    return -1;
  };
  return parse_flag_list(
      v, 0xff, bit_of, [&] { ct_bad_value(token, "expected + or - before a ct_state flag"); },
      [&](std::string_view name) {
        throw Error(std::string(token) + ": " + std::string(name) +
                    ": Each ct_state flag can be specified only once");
      });
}

/// A 128-bit hex or decimal number (ct_label), most significant byte first.
inline std::optional<Ipv6Addr> parse_u128(std::string_view s) {
  Ipv6Addr out;
  if (s.empty()) return std::nullopt;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    size_t digits = 0;
    for (char c : s) {
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return std::nullopt;
      if (d == 0 && digits == 0) continue;  // leading zeros
      if (++digits > 32) return std::nullopt;
      for (size_t i = 0; i < 16; ++i) {  // out = out << 4 | d
        out.b[i] = uint8_t(out.b[i] << 4 | (i + 1 < 16 ? out.b[i + 1] >> 4 : d));
      }
    }
    return out;
  }
  auto n = parse_uint(s);  // decimal: up to 64 bits
  if (!n) return std::nullopt;
  for (int i = 15; i >= 8; --i, *n >>= 8) out.b[size_t(i)] = uint8_t(*n);
  return out;
}

/// ct_label=VALUE[/MASK], 128 bits.
inline void parse_label_field(Match& out, const FieldInfo& f, std::string_view v,
                              std::string_view token) {
  auto [val, msk] = split_mask(v);
  auto too_large = [](std::string_view x) {  // more than 32 significant hex digits
    if (x.size() < 3 || x[0] != '0' || (x[1] != 'x' && x[1] != 'X')) return false;
    x.remove_prefix(2);
    size_t first = x.find_first_not_of('0');
    return first != std::string_view::npos && x.size() - first > 32 &&
           x.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
  };
  if (val.empty()) ct_bad_value(token, "empty ct_label value");
  for (auto x : {val, msk}) {
    if (x.empty()) continue;
    if (too_large(x))
      throw Error(std::string(token) + ": " + std::string(v) +
                  ": value too large for 16-byte field ct_label");
    if (!parse_u128(x))
      throw Error(std::string(token) + ": " + std::string(x) + ": bad syntax for ct_label value");
  }
  Ipv6Addr m;
  m.b.fill(0xff);
  if (!msk.empty()) m = *parse_u128(msk);
  match_set_ipv6(out, f.id, *parse_u128(val), m);
}

}  // namespace ofctl
}  // namespace flowpath
