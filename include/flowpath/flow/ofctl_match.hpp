// flowpath/flow/ofctl_match.hpp — the match half of ovs-ofctl flow text:
// parsing `field=value[/mask]` and shorthands (ip, tcp6, ...) into a
// Match, and printing a Match the way `ovs-ofctl dump-flows` does.
//
// Parsing is stricter than ovs-ofctl, on purpose: where ovs-ofctl silently
// lets the last of two contradictory settings win (`tcp,udp`,
// `dl_type=0x800,dl_type=0x806`) or truncates an out-of-range value
// (`nw_tos=3`, `dl_vlan=4096`), we throw flowpath::Error naming the token.
// Prerequisites are checked once the whole match is known, so their order
// in the text does not matter (as in ovs-ofctl).
//
// Printing follows Open vSwitch's match_format(): priority (unless 32768),
// the protocol shorthand, in_port, VLAN, Ethernet, L3, L4.
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <cinttypes>
#include <string>
#include <string_view>

#include "flowpath/flow/fields.hpp"
#include "flowpath/flow/ofctl_ct_match.hpp"
#include "flowpath/flow/ofctl_values.hpp"

namespace flowpath {

inline constexpr int32_t kOfDefaultPriority = 32768;

namespace ofctl {

struct Shorthand {
  std::string_view name;
  uint16_t dl_type;
  uint8_t nw_proto;  // 0 = none
};
inline constexpr Shorthand kShorthands[] = {
    {"ip", kEthTypeIpv4, 0},     {"ipv6", kEthTypeIpv6, 0},    {"arp", kEthTypeArp, 0},
    {"rarp", kEthTypeRarp, 0},   {"tcp", kEthTypeIpv4, 6},     {"udp", kEthTypeIpv4, 17},
    {"sctp", kEthTypeIpv4, 132}, {"icmp", kEthTypeIpv4, 1},    {"tcp6", kEthTypeIpv6, 6},
    {"udp6", kEthTypeIpv6, 17},  {"sctp6", kEthTypeIpv6, 132}, {"icmp6", kEthTypeIpv6, 58},
};

inline constexpr std::string_view kTcpFlagNames[] = {"fin", "syn", "rst", "psh", "ack",
                                                     "urg", "ece", "cwr", "ns"};

/// ORs `add` into `m`, or throws when the two disagree on a shared bit.
inline void merge_checked(Match& m, const Match& add, std::string_view token) {
  for (size_t i = 0; i < FlowKey::kWords; ++i) {
    uint64_t both = m.mask.word(i) & add.mask.word(i);
    if ((m.value.word(i) ^ add.value.word(i)) & both)
      throw Error(std::string(token) + ": conflicts with an earlier match on the same field");
  }
  for (size_t i = 0; i < PipelineMeta::kWords; ++i) {
    uint64_t both = m.meta_mask.words()[i] & add.meta_mask.words()[i];
    if ((m.meta_value.words()[i] ^ add.meta_value.words()[i]) & both)
      throw Error(std::string(token) + ": conflicts with an earlier match on the same field");
    m.meta_mask.words()[i] |= add.meta_mask.words()[i];
    m.meta_value.words()[i] |= add.meta_value.words()[i];
  }
  mask_union(m.mask, add.mask);
  mask_union(m.value, add.value);
}

[[noreturn]] inline void bad_value(std::string_view token, std::string_view why) {
  throw Error(std::string(token) + ": bad value: " + std::string(why));
}

/// tcp_flags: a number[/mask], `+syn-ack` (mask = listed flags), or
/// `syn|ack` (exact).  Returns {value, mask}.
inline std::pair<uint64_t, uint64_t> parse_tcp_flags(std::string_view v, std::string_view token) {
  if (v.empty()) bad_value(token, "empty");
  if (v[0] != '+' && v[0] != '-') {
    auto [val, msk] = split_mask(v);
    if (auto n = parse_uint(val, 0x0fff)) {
      auto mk = msk.empty() ? std::optional<uint64_t>(0x0fff) : parse_uint(msk, 0x0fff);
      if (!mk) bad_value(token, "tcp_flags mask must be a number up to 0x0fff");
      return {*n & *mk, *mk};
    }
  }
  auto bit_of = [&](std::string_view name) {
    for (int i = 0; i < 9; ++i)
      if (name == kTcpFlagNames[i]) return i;
    if (name.size() > 2 && name.front() == '[' && name.back() == ']')
      if (auto n = parse_uint("0x" + std::string(name.substr(1, name.size() - 2)), 0x800))
        if (std::has_single_bit(*n)) return std::countr_zero(*n);
    bad_value(token, "unknown TCP flag \"" + std::string(name) + "\"");
  };
  return parse_flag_list(
      v, 0x0fff, bit_of, [&] { bad_value(token, "expected + or - before a flag name"); },
      [&](std::string_view name) {
        throw Error(std::string(token) + ": " + std::string(name) +
                    ": Each TCP flag can be specified only once");
      });
}

inline std::pair<uint64_t, uint64_t> parse_frag(std::string_view v, std::string_view token) {
  if (v == "no") return {0, kFragAny};
  if (v == "yes") return {kFragAny, kFragAny};
  if (v == "first") return {kFragAny, kFragAny | kFragLater};
  if (v == "later") return {kFragAny | kFragLater, kFragAny | kFragLater};
  if (v == "not_later") return {0, kFragLater};
  bad_value(token, "nw_frag must be no, yes, first, later or not_later");
}

inline uint64_t parse_ipv4_mask(std::string_view msk, std::string_view token) {
  if (auto len = parse_uint(msk, 32); len && msk.find('.') == std::string_view::npos)
    return *len ? ~uint64_t(0) << (32 - *len) & 0xffffffff : 0;
  if (auto m = parse_ipv4(msk)) return *m;
  throw Error(std::string(token) + ": " + std::string(token.substr(token.find('=') + 1)) +
              ": IPv4 network prefix bits not between 0 and 32, inclusive");
}

/// The name OVS reports a field under: its meta-flow name for the alias
/// the text used (tp_src is OVS's alias of tcp_src, dl_type of eth_type).
inline std::string_view ovs_field_name(std::string_view used) {
  static constexpr std::pair<std::string_view, std::string_view> kMap[] = {
      {"dl_src", "eth_src"}, {"dl_dst", "eth_dst"}, {"dl_type", "eth_type"},
      {"nw_src", "ip_src"},  {"nw_dst", "ip_dst"},  {"ip_proto", "nw_proto"},
      {"ip_ecn", "nw_ecn"},  {"tp_src", "tcp_src"}, {"tp_dst", "tcp_dst"},
      {"nw_frag", "ip_frag"}};
  for (auto [a, b] : kMap)
    if (a == used) return b;
  return used;
}

/// Bytes of the field in OVS (its "value too large for N-byte field").
inline unsigned ovs_field_bytes(const FieldInfo& f) {
  switch (f.id) {
    case FieldId::kArpOp:
    case FieldId::kDlVlan:
    case FieldId::kTcpFlags:
      return 2;
    case FieldId::kDlVlanPcp:
      return 1;
    case FieldId::kCtState:
      return 4;
    default:
      return f.n_bytes == 2 && f.bits <= 0xff ? 1 : f.n_bytes;
  }
}

inline void parse_ipv6_field(Match& out, const FieldInfo& f, std::string_view v,
                             std::string_view token) {
  auto [val, msk] = split_mask(v);
  auto a = parse_ipv6(val);
  if (!a) throw Error(std::string(token) + ": " + std::string(val) + ": invalid IPv6 address");
  Ipv6Addr m = ipv6_prefix_mask(128);
  if (!msk.empty()) {
    if (auto len = parse_uint(msk, 128); len && msk.find(':') == std::string_view::npos)
      m = ipv6_prefix_mask(unsigned(*len));
    else if (auto mm = parse_ipv6(msk))
      m = *mm;
    else
      throw Error(std::string(token) + ": " + std::string(v) +
                  ": IPv6 network prefix bits not between 0 and 128, inclusive");
  }
  match_set_ipv6(out, f.id, *a, m);
}

/// Value and mask of a <= 64-bit field, range- and mask-checked.
inline std::pair<uint64_t, uint64_t> parse_scalar(const FieldInfo& f, std::string_view v,
                                                  std::string_view token,
                                                  const PortNameResolver& resolver) {
  uint64_t full = f.bits >> f.shift;
  auto [val, msk] = split_mask(v);
  // OVS takes an all-ones mask (all of its field's bytes) on a field that
  // has none (nw_ttl=1/0xff, dl_vlan=5/0xffff).
  unsigned mask_bytes = ovs_field_bytes(f);
  bool full_mask = mask_bytes < 8 && parse_uint(msk) == (uint64_t(1) << (8 * mask_bytes)) - 1;
  if (!msk.empty() && !f.maskable && f.format != FieldFormat::kPort && !full_mask)
    throw Error(std::string(token) + ": " + std::string(v) + ": invalid mask for field " +
                std::string(f.name) + " (it does not support masks)");
  switch (f.format) {
    case FieldFormat::kPort:
      if (!msk.empty())
        throw Error(std::string(token) + ": " + std::string(v) +
                    ": invalid or unknown port for in_port (it does not support masks)");
      if (auto p = parse_port(val, resolver); p && (*p < 0xff00 || *p == 0xfffe)) return {*p, full};
      throw Error(std::string(token) + ": " + std::string(val) +
                  ": invalid or unknown port for in_port (a port number below 0xff00, LOCAL "
                  "or a known port name)");
    case FieldFormat::kFrag:
      return parse_frag(v, token);
    case FieldFormat::kTcpFlags:
      return parse_tcp_flags(v, token);
    case FieldFormat::kCtState:
      return parse_ct_state(v, token);
    case FieldFormat::kEth: {
      auto e = parse_eth(val);
      auto m = msk.empty() ? std::optional<EthAddr>(u64_to_eth(full)) : parse_eth(msk);
      if (!e || !m)
        throw Error(std::string(token) + ": " + std::string(!e ? val : msk) +
                    ": invalid Ethernet address");
      return {eth_to_u64(*e), eth_to_u64(*m)};
    }
    case FieldFormat::kIpv4: {
      auto a = parse_ipv4(val);
      if (!a) throw Error(std::string(token) + ": " + std::string(val) + ": invalid IP address");
      return {*a, msk.empty() ? full : parse_ipv4_mask(msk, token)};
    }
    default:
      break;
  }
  std::string name(ovs_field_name(token.substr(0, token.find('='))));
  unsigned bytes = ovs_field_bytes(f);
  uint64_t type_max = bytes >= 8 ? ~0ull : (uint64_t(1) << (8 * bytes)) - 1;
  if (!parse_uint(val))
    throw Error(std::string(token) + ": " + std::string(val) + ": bad syntax for " + name +
                " value");
  auto n = parse_uint(val, type_max);
  if (!n)
    throw Error(std::string(token) + ": " + std::string(val) + ": value too large for " +
                std::to_string(bytes) + "-byte field " + name);
  // OVS silently truncates values that fit the field's bytes but not its
  // bits (nw_ecn=4 -> 0, dl_vlan=4096 -> 0): we reject them.
  uint64_t max = f.id == FieldId::kNwTos ? 0xff : full;
  if (*n > max && !(f.id == FieldId::kDlVlan && *n == 0xffff))
    bad_value(token, "not a number in range 0.." + std::to_string(full) +
                         " (ovs-ofctl would truncate it)");
  if (f.id == FieldId::kNwTos && (*n & 3))
    bad_value(token, "nw_tos must be a multiple of 4 (ovs-ofctl would truncate it)");
  if (f.id == FieldId::kNwTos) return {*n, full};
  auto m = msk.empty() || full_mask ? std::optional<uint64_t>(full) : parse_uint(msk, full);
  if (!m) bad_value(token, "mask out of range");
  return {*n, *m};
}

/// Applies one `name=value` or shorthand token to `m`.
inline void parse_match_token(Match& m, std::string_view name, std::string_view value,
                              std::string_view token, const PortNameResolver& resolver,
                              std::array<bool, size_t(FieldId::kCount)>& used) {
  Match add;
  const FieldInfo* f = find_field(name);
  if (!f) {
    for (const auto& s : kShorthands)
      if (s.name == name) {
        if (!value.empty()) throw Error(std::string(token) + ": shorthand takes no value");
        match_set(add, FieldId::kDlType, s.dl_type);
        if (s.nw_proto) match_set(add, FieldId::kNwProto, s.nw_proto);
        return merge_checked(m, add, token);
      }
    throw Error(std::string(token) + ": unknown keyword " + std::string(name));
  }
  if (value.empty()) throw Error(std::string(token) + ": field needs a value");
  if (f->format == FieldFormat::kLabel) {
    parse_label_field(add, *f, value, token);
  } else if (f->n_bytes == 16) {
    parse_ipv6_field(add, *f, value, token);
  } else {
    auto [v, mk] = parse_scalar(*f, value, token, resolver);
    match_set(add, f->id, v, mk);
  }
  used[size_t(f->id)] = true;
  merge_checked(m, add, token);
}

/// Throws if a used field's prerequisite is missing.  Like ovs-ofctl,
/// nw_src/nw_dst/nw_proto also serve ARP, icmp_type/code also ICMPv6.
inline void check_prereqs(const Match& m, const std::array<bool, size_t(FieldId::kCount)>& used) {
  for (const auto& f : all_fields()) {
    if (!used[size_t(f.id)]) continue;
    auto need = missing_prereq(m, f.prereq);
    if (need.empty()) continue;
    bool arp_ok = f.id == FieldId::kNwSrc || f.id == FieldId::kNwDst || f.id == FieldId::kNwProto;
    if (arp_ok && missing_prereq(m, FieldPrereq::kArp).empty()) continue;
    bool icmp6_ok = f.id == FieldId::kIcmpType || f.id == FieldId::kIcmpCode;
    if (icmp6_ok && missing_prereq(m, FieldPrereq::kIcmpv6).empty()) continue;
    throw Error(std::string(f.name) + ": missing prerequisite: requires " + std::string(need));
  }
}

}  // namespace ofctl
}  // namespace flowpath

#include "flowpath/flow/ofctl_match_format.hpp"
