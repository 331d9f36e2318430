// flowpath/flow/ofctl_flags.hpp — flag lists in ovs-ofctl match text, the
// one grammar tcp_flags and ct_state share: `+syn-ack` (signed: the mask is
// the flags named, `-` clears) or `syn|ack` (the value is the flags named,
// the mask every flag of the field).  Each field keeps its own names and
// Open vSwitch's own error texts, so they come in as callables.
//
// Cost: control path only.  Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

namespace flowpath {
namespace ofctl {

/// Parses `v` (not empty) as a flag list.  `bit_of(name)` returns the
/// flag's bit number or throws the field's error; `bad_sign()` throws when
/// a signed list has something else than `+`/`-` before a name;
/// `repeated(name)` is called when a signed list names a flag twice (it may
/// throw, or accept).  Returns {value, mask}, mask = `all` for a `|` list.
template <class BitOf, class BadSign, class Repeated>
std::pair<uint64_t, uint64_t> parse_flag_list(std::string_view v, uint64_t all, BitOf bit_of,
                                              BadSign bad_sign, Repeated repeated) {
  bool signed_form = v[0] == '+' || v[0] == '-';
  uint64_t value = 0, mask = 0;
  while (!v.empty()) {
    char sign = '|';
    if (signed_form) {
      sign = v[0];
      if (sign != '+' && sign != '-') bad_sign();
      v.remove_prefix(1);
    }
    size_t end = v.find_first_of(signed_form ? "+-" : "|");
    std::string_view name = v.substr(0, end);
    v = end == std::string_view::npos ? std::string_view{} : v.substr(end + (signed_form ? 0 : 1));
    int bit = bit_of(name);
    if (signed_form && (mask >> bit & 1)) repeated(name);
    if (sign != '-') value |= uint64_t{1} << bit;
    mask |= uint64_t{1} << bit;
  }
  return {value, signed_form ? mask : all};
}

}  // namespace ofctl
}  // namespace flowpath
