// flowpath/flow/ofctl_ct_action.hpp — `ct(...)` and its `nat(...)` in
// ovs-ofctl flow text: parse (OVS 3.1's error texts) and print (OVS's
// order: commit, force, table=, zone=, nat, exec(...)).  Included by
// flow/ofctl_nx_actions.hpp.
//
// As OVS, nat is one of ct's nested actions, anywhere among them (before,
// between or after exec(...)'s, or inside exec(...)), and there may be
// several (the last one runs, as in OVS's translation): a nat that comes
// first prints outside exec(...), every later nested action inside it, in
// its place (each nat is an exec entry: is_nat_entry()).
//
// Cost: control path only.  Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>

namespace flowpath {
namespace ofctl {

/// "IP[-IP][:PORT[-PORT]]" (IPv6 in brackets when ports follow).
inline void parse_nat_range(NatArgs& n, std::string_view v, std::string_view tok) {
  auto bad = [&] {
    return Error(std::string(tok) + ": invalid nat range \"" + std::string(v) + "\"");
  };
  std::string_view addrs = v, ports;
  if (!v.empty() && v[0] == '[') {  // [v6]-[v6]:ports
    size_t close = v.rfind(']');
    if (close == std::string_view::npos) throw bad();
    addrs = v.substr(0, close + 1);
    if (close + 1 < v.size()) {
      if (v[close + 1] != ':') throw bad();
      ports = v.substr(close + 2);
    }
  } else if (size_t colon = v.find(':');
             colon != std::string_view::npos && v.find('.') != std::string_view::npos) {
    addrs = v.substr(0, colon), ports = v.substr(colon + 1);
  }
  auto unbracket = [](std::string_view a) {
    return a.size() >= 2 && a.front() == '[' && a.back() == ']' ? a.substr(1, a.size() - 2) : a;
  };
  size_t dash = addrs.find('-');
  std::string_view lo = unbracket(addrs.substr(0, dash));
  std::string_view hi = dash == std::string_view::npos ? lo : unbracket(addrs.substr(dash + 1));
  if (auto a = parse_ipv4(lo)) {
    auto b = parse_ipv4(hi);
    if (!b || *b < *a) throw bad();
    for (int i = 0; i < 4; ++i)
      n.addr_min.b[size_t(i)] = uint8_t(*a >> (24 - 8 * i)),
      n.addr_max.b[size_t(i)] = uint8_t(*b >> (24 - 8 * i));
  } else if (auto a6 = parse_ipv6(lo)) {
    auto b6 = parse_ipv6(hi);
    if (!b6 || b6->b < a6->b) throw bad();
    n.v6 = true, n.addr_min = *a6, n.addr_max = *b6;
  } else {
    throw bad();
  }
  n.has_addr = true;
  if (ports.empty()) return;
  size_t pd = ports.find('-');
  auto p0 = parse_uint(ports.substr(0, pd), 0xffff);
  auto p1 = pd == std::string_view::npos ? p0 : parse_uint(ports.substr(pd + 1), 0xffff);
  if (!p0 || !p1 || *p1 < *p0) throw bad();
  if (*p0 == 0 && *p1 == 0) return;  // port 0: no port range, as OVS
  n.has_ports = true, n.port_min = uint16_t(*p0), n.port_max = uint16_t(*p1);
}

/// `nat` or `nat(src|dst[=RANGE][,persistent][,hash|random])`.
inline NatArgs parse_nat(std::string_view tok) {
  NatArgs n;
  n.kind = NatArgs::kPlain;
  if (tok == "nat") return n;
  if (tok.size() < 5 || tok.substr(0, 4) != "nat(" || tok.back() != ')')
    throw Error(std::string(tok) + ": invalid argument to \"ct\" action: `" + std::string(tok) +
                "'");
  for (auto arg : split_actions(tok.substr(4, tok.size() - 5))) {
    std::string_view key = arg.substr(0, arg.find('='));
    std::string_view val = key.size() < arg.size() ? arg.substr(key.size() + 1) : "";
    if (key == "src" || key == "dst") {
      if (n.kind != NatArgs::kPlain)
        throw Error(std::string(tok) + ": May only specify one of \"src\" or \"dst\".");
      n.kind = key == "src" ? NatArgs::kSrc : NatArgs::kDst;
      if (!val.empty()) parse_nat_range(n, val, tok);
    } else if (key == "persistent") {
      n.persistent = true;
    } else if (key == "hash") {
      n.hash = true;
    } else if (key == "random") {
      n.random = true;
    } else {
      throw Error(std::string(tok) + ": invalid key \"" + std::string(key) +
                  "\" in \"nat\" argument");
    }
  }
  if (n.kind == NatArgs::kPlain && (n.persistent || n.hash || n.random))
    throw Error(std::string(tok) + ": Flags allowed only with \"src\" or \"dst\".");
  if (n.hash && n.random)
    throw Error(std::string(tok) + ": Both \"hash\" and \"random\" are not allowed.");
  return n;
}

/// ct(ARGS).  `parse_exec` parses exec(...)'s inner action list.
inline OfAction parse_ct(std::string_view tok,
                         const std::function<OfActionList(std::string_view)>& parse_exec) {
  OfAction a;
  a.type = OfActionType::kCt;
  std::string_view inner;
  if (tok != "ct") {
    if (tok.size() < 4 || tok.substr(0, 3) != "ct(" || tok.back() != ')')
      throw Error(std::string(tok) + ": unknown action ct");
    inner = tok.substr(3, tok.size() - 4);
  }
  CtArgs& c = a.ct;
  // Every nat keeps its place among the nested actions; the last one runs.
  auto add_nat = [&](const NatArgs& n) {
    c.nat = n;
    a.exec.push_back(nat_entry(n));
  };
  for (auto arg : split_actions(inner)) {
    if (arg.empty()) continue;
    std::string_view key = arg.substr(0, arg.find_first_of("=("));
    std::string_view val = key.size() < arg.size() ? arg.substr(key.size() + 1) : "";
    if (arg == "commit") {
      c.commit = true;
    } else if (arg == "force") {
      c.force = true;
    } else if (key == "table" && arg[key.size()] == '=') {
      auto t = parse_uint(val, 255);
      if (!t || *t == 255)
        throw Error(std::string(tok) + ": invalid table " + (t ? "0xff" : std::string(val)));
      c.table = uint8_t(*t);
    } else if (key == "zone" && arg[key.size()] == '=') {
      if (auto z = parse_uint(val, 0xffff)) {
        c.zone = uint16_t(*z), c.zone_from_field = false;
      } else {
        Subfield sf = parse_subfield(val);
        // OVS accepts other widths here and then cannot decode its message.
        if (sf.n_bits != 16)
          throw Error(std::string(tok) + ": zone n_bits " + std::to_string(sf.n_bits) +
                      " not within valid range [16..16]");
        c.zone_from_field = true, c.zone_src = sf;
      }
    } else if (key == "exec" && arg[key.size()] == '(' && arg.back() == ')') {
      // parse_exec returns a nat inside exec(...) as a kCt placeholder.
      for (auto& e : parse_exec(val.substr(0, val.size() - 1))) {
        if (is_nat_entry(e))
          add_nat(e.ct.nat);
        else
          a.exec.push_back(std::move(e));
      }
    } else if (key == "nat") {
      add_nat(parse_nat(arg));
    } else {
      throw Error(std::string(tok) + ": invalid argument to \"ct\" action: `" + std::string(arg) +
                  "'");
    }
  }
  // OVS parses these and then cannot decode its own message: we refuse.
  // Without commit only nats without arguments may be nested (any number).
  bool needs_commit = false;
  for (const auto& e : a.exec) needs_commit |= !is_nat_entry(e) || e.ct.nat.kind != NatArgs::kPlain;
  if (!c.commit && needs_commit)
    throw Error(std::string(tok) +
                ": CT action requires commit flag if actions other than NAT without arguments "
                "are specified.");
  return a;
}

inline std::string format_nat(const NatArgs& n) {
  if (n.kind == NatArgs::kPlain) return "nat";
  std::string s = n.kind == NatArgs::kSrc ? "nat(src" : "nat(dst";
  if (n.has_addr) {
    auto addr = [&](const Ipv6Addr& a) {
      if (!n.v6)
        return format_ipv4(uint32_t(a.b[0]) << 24 | uint32_t(a.b[1]) << 16 | uint32_t(a.b[2]) << 8 |
                           a.b[3]);
      return n.has_ports ? "[" + format_ipv6(a) + "]" : format_ipv6(a);
    };
    s += "=" + addr(n.addr_min);
    if (!(n.addr_max == n.addr_min)) s += "-" + addr(n.addr_max);
    if (n.has_ports) {
      s += ":" + std::to_string(n.port_min);
      if (n.port_max != n.port_min) s += "-" + std::to_string(n.port_max);
    }
  }
  if (n.has_addr) {  // OVS keeps the flags only with an address range
    if (n.persistent) s += ",persistent";
    if (n.hash) s += ",hash";
    if (n.random) s += ",random";
  }
  return s + ")";
}

/// ct(...) as OVS prints it; `one` prints a nested exec action.
inline std::string format_ct(const OfAction& a,
                             const std::function<std::string(const OfAction&)>& one) {
  const CtArgs& c = a.ct;
  std::string s;
  auto put = [&](const std::string& x) { s += (s.empty() ? "" : ",") + x; };
  if (c.commit) put("commit");
  if (c.force) put("force");
  if (c.table != 255) put("table=" + std::to_string(c.table));
  if (c.zone_from_field)
    put("zone=" + format_subfield(c.zone_src));
  else if (c.zone)
    put("zone=" + std::to_string(c.zone));
  // OVS prints a first nested nat outside exec(...), every other nested
  // action (later nats too) inside it, in order.
  auto nested = [&](const OfAction& e) { return is_nat_entry(e) ? format_nat(e.ct.nat) : one(e); };
  size_t i = 0;
  if (!a.exec.empty() && is_nat_entry(a.exec[0])) put(nested(a.exec[i++]));
  if (i < a.exec.size()) {
    std::string e;
    for (; i < a.exec.size(); ++i) e += (e.empty() ? "" : ",") + nested(a.exec[i]);
    put("exec(" + e + ")");
  }
  return "ct(" + s + ")";
}

}  // namespace ofctl
}  // namespace flowpath
