// flowpath/flow/ofctl_nx_actions.hpp — the Nicira-extension actions of
// ovs-ofctl flow text that Neutron's firewall writes: `load:V->F[a..b]`,
// `move:S[a..b]->D[c..d]`, `conjunction(ID,K/N)`, `ct(...)` with commit,
// force, table=, zone=N|zone=SUBFIELD, exec(set_field/load/move to
// ct_mark/ct_label) and nat[(src|dst=ADDR[-ADDR][:PORT[-PORT]],flags)],
// and `ct_clear`; parsed with Open vSwitch 3.1's error texts and printed
// as it prints them (the ct() argument order: commit, force, table, zone,
// nat, exec).
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "flowpath/flow/of_action.hpp"
#include "flowpath/flow/ofctl_match.hpp"
#include "flowpath/flow/subfield.hpp"

namespace flowpath {
namespace ofctl {

/// Splits at top-level commas (not inside parentheses).
inline std::vector<std::string_view> split_actions(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '(') ++depth;
    if (i < s.size() && s[i] == ')') --depth;
    if (i == s.size() || (s[i] == ',' && depth == 0)) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

/// A field's logical value/mask as the bytes kSetField keeps.
inline void set_field_bytes(OfAction& a, FieldId id, U128 value, U128 mask) {
  const FieldInfo& f = field_info(id);
  Match m;
  if (f.n_bytes == 16) {
    Ipv6Addr v, mk;
    for (int i = 15; i >= 0; --i, value >>= 8, mask >>= 8)
      v.b[size_t(i)] = uint8_t(value), mk.b[size_t(i)] = uint8_t(mask);
    match_set_ipv6(m, id, v, mk);
  } else {
    match_set(m, id, uint64_t(value), uint64_t(mask));
  }
  std::memcpy(a.value.data(), field_bytes(m, f, false), f.n_bytes);
  std::memcpy(a.mask.data(), field_bytes(m, f, true), f.n_bytes);
}
/// The logical value (mask = false) or mask of a kSetField action.
inline U128 set_field_logical(const OfAction& a, bool mask) {
  const FieldInfo& f = field_info(a.field);
  FlowKey k;
  PipelineMeta meta;
  uint8_t* p = f.space == FieldSpace::kMeta ? field_bytes(meta, f) : field_bytes(k, f);
  std::memcpy(p, (mask ? a.mask : a.value).data(), f.n_bytes);
  return read_field(k, meta, a.field);
}

/// `load:VALUE->DST[a..b]`: a kSetField over the subfield's bits.
inline OfAction parse_load(std::string_view arg, std::string_view tok) {
  size_t arrow = arg.find("->");
  if (arrow == std::string_view::npos) throw Error(std::string(tok) + ": expected VALUE->FIELD");
  std::string_view value = trim(arg.substr(0, arrow));
  Subfield dst = parse_subfield(trim(arg.substr(arrow + 2)));
  std::optional<U128> v;
  if (auto n = parse_uint(value))
    v = *n;
  else if (auto big = parse_u128(value)) {
    U128 x = 0;
    for (uint8_t b : big->b) x = x << 8 | b;
    v = x;
  }
  if (!v) throw Error(std::string(arg) + ": " + std::string(value) + ": bad syntax for load value");
  if (dst.n_bits < 128 && (*v >> dst.n_bits) != 0)
    throw Error(std::string(arg) + ": value " + std::string(value) + " does not fit into " +
                std::to_string(dst.n_bits) + " bits");
  OfAction a;
  a.type = OfActionType::kSetField;
  a.field = dst.field;
  a.is_load = true;
  set_field_bytes(a, dst.field, *v << dst.ofs, load_mask(dst));
  return a;
}

/// `move:SRC[a..b]->DST[c..d]` (equal widths).
inline OfAction parse_move(std::string_view arg, std::string_view /*tok*/) {
  size_t arrow = arg.find("->");
  if (arrow == std::string_view::npos) throw Error(std::string(arg) + ": missing `->'");
  OfAction a;
  a.type = OfActionType::kMove;
  try {
    a.src = parse_subfield(trim(arg.substr(0, arrow)));
    a.dst = parse_subfield(trim(arg.substr(arrow + 2)));
  } catch (const Error& e) {  // OVS names the whole argument
    // The reason follows the subfield's own text and ": ".  what() stops at
    // a NUL byte, so text with one in the subfield may have no ": " left.
    const std::string m = e.what();
    const size_t colon = m.find(": ");
    throw Error(std::string(arg) + (colon == std::string::npos ? ": " + m : m.substr(colon)));
  }
  if (a.src.n_bits != a.dst.n_bits)
    throw Error(std::string(arg) + ": source field is " + std::to_string(a.src.n_bits) +
                " bits wide but destination is " + std::to_string(a.dst.n_bits) + " bits wide");
  return a;
}

/// `conjunction(ID,K/N)`: 1 <= K <= N, 2 <= N <= 64.
inline OfAction parse_conjunction(std::string_view arg, std::string_view tok) {
  auto bad = [&] {
    return Error(std::string(tok) + ": \"conjunction\" syntax is \"conjunction(id,i/n)\"");
  };
  if (arg.size() < 2 || arg.front() != '(' || arg.back() != ')') throw bad();
  auto inner = arg.substr(1, arg.size() - 2);
  size_t comma = inner.find(','), slash = inner.find('/');
  if (comma == std::string_view::npos || slash == std::string_view::npos || slash < comma)
    throw bad();
  auto id = parse_uint(trim(inner.substr(0, comma)), 0xffffffff);
  auto k = parse_uint(trim(inner.substr(comma + 1, slash - comma - 1)), 255);
  auto n = parse_uint(trim(inner.substr(slash + 1)), 255);
  if (!id || !k || !n) throw bad();
  // OVS checks in this order; an id above 32 bits it truncates, we refuse.
  if (*n < 2) throw Error(std::string(tok) + ": conjunction must have at least 2 clauses");
  if (*n > 64) throw Error(std::string(tok) + ": conjunction must have at most 64 clauses");
  if (*k < 1) throw Error(std::string(tok) + ": clause index must be positive");
  if (*k > *n)
    throw Error(std::string(tok) +
                ": clause index must be less than or equal to number of clauses");
  OfAction a;
  a.type = OfActionType::kConjunction;
  a.u32 = uint32_t(*id);
  a.clause = uint8_t(*k);
  a.n_clauses = uint8_t(*n);
  return a;
}

inline std::string hex_u128(U128 v) {
  if (!v) return "0";
  std::string s;
  for (; v; v >>= 4) s.insert(s.begin(), "0123456789abcdef"[unsigned(v & 15)]);
  return "0x" + s;
}

/// A kSetField as Nicira's reg_load prints it: `load:V->F[a..b]`, split
/// into 64-bit pieces (`load:LO->F[0..63],load:HI->F[64..127]`) and into
/// one piece per contiguous run of mask bits, as OVS encodes it.
inline std::string format_load(const OfAction& a) {
  unsigned width = field_width(a.field) ? field_width(a.field) : 128;
  const FieldInfo& f = field_info(a.field);
  U128 v = set_field_logical(a, false), mk = set_field_logical(a, true) & low_bits(width);
  // A set_field of the whole field writes OVS's whole (maybe wider) field.
  if (!a.is_load && f.n_bytes != 16 && set_field_logical(a, true) == U128(f.bits >> f.shift))
    mk = low_bits(width);
  std::string s;
  unsigned bit = 0;
  while (bit < width) {
    while (bit < width && !(mk >> bit & 1)) ++bit;
    unsigned end = bit;
    while (end < width && (mk >> end & 1) && end - bit < 64) ++end;
    if (end == bit) break;
    Subfield sf{a.field, uint8_t(bit), uint8_t(end - bit)};
    s += (s.empty() ? "" : ",") + std::string("load:") + hex_u128(v >> bit & low_bits(end - bit)) +
         "->" + format_subfield(sf);
    bit = end;
  }
  return s;
}

}  // namespace ofctl
}  // namespace flowpath

#include "flowpath/flow/ofctl_ct_action.hpp"
