// flowpath/classify/classbench.hpp — ClassBench rule sets, traces and
// answer files (format: data/classbench/README.md), plain or gzip.
//
//   auto rules = classbench::load_rules("acl1_10k.gz");      // file order
//   for (size_t i = 0; i < rules.size(); ++i)
//     cls.insert(rules[i].match, classbench::priority_of(i), int(i), rules[i].ranges);
//   auto trace = classbench::load_trace("acl1_10k_cb.trace.gz");
//   auto ans = classbench::load_answers("acl1_10k.cb.ans.gz");
//
// A rule maps to dl_type=0x0800, nw_src/nw_dst prefixes, nw_proto (exact
// or any) as a Match, and the two port ranges as PortRanges (native ranges,
// no prefix expansion); the flags column is ignored.  The first rule in
// the file wins: priority_of(i) = -i.  .gz files are read through
// `gzip -dc` (popen); zlib is not a dependency.
//
// Errors: std::runtime_error naming the file, line and what is wrong.
// Cost: boundary code, ~100 ns per line.  Thread-safety: free functions.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowpath/classify/wildcards.hpp"
#include "flowpath/flow/match.hpp"

namespace flowpath::classbench {

struct Rule {
  Match match;
  PortRanges ranges;
};

/// ClassBench priority: the first rule in the file has the highest.
inline int32_t priority_of(size_t index) noexcept { return -static_cast<int32_t>(index); }

/// Reads a whole file (gunzipping *.gz through `gzip -dc`) into lines.
inline std::vector<std::string> read_lines(const std::string& path) {
  bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  FILE* f = nullptr;
  if (gz) {
    if (FILE* probe = std::fopen(path.c_str(), "rb"))
      std::fclose(probe);
    else
      throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    std::string cmd = "gzip -dc '" + path + "'";
    f = popen(cmd.c_str(), "r");
  } else {
    f = std::fopen(path.c_str(), "r");
  }
  if (!f) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::vector<std::string> lines;
  std::string cur;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        lines.push_back(std::move(cur));
        cur.clear();
      } else if (buf[i] != '\r') {
        cur.push_back(buf[i]);
      }
    }
  if (!cur.empty()) lines.push_back(std::move(cur));
  int rc = gz ? pclose(f) : std::fclose(f);
  if (gz && rc != 0) throw std::runtime_error(path + ": `gzip -dc` failed (is it gzip data?)");
  return lines;
}

namespace detail {
[[noreturn]] inline void fail(const std::string& path, size_t line, const std::string& what) {
  throw std::runtime_error(path + ":" + std::to_string(line + 1) + ": " + what);
}
/// Parses "a.b.c.d/len" at p; advances p.
inline bool parse_prefix(const char*& p, uint32_t& addr, int& len) {
  unsigned a, b, c, d;
  int used = 0;
  if (std::sscanf(p, "%u.%u.%u.%u/%d%n", &a, &b, &c, &d, &len, &used) != 5) return false;
  if (a > 255 || b > 255 || c > 255 || d > 255 || len < 0 || len > 32) return false;
  addr = (a << 24) | (b << 16) | (c << 8) | d;
  p += used;
  return true;
}
inline uint32_t prefix_mask(int len) { return len ? ~0u << (32 - len) : 0; }
}  // namespace detail

/// Parses one rule line ("@src/len dst/len lo : hi lo : hi proto/mask ...").
inline Rule parse_rule(const std::string& line, const std::string& path = "<rule>",
                       size_t lineno = 0) {
  const char* p = line.c_str();
  while (*p == ' ' || *p == '\t') ++p;
  if (*p++ != '@') detail::fail(path, lineno, "rule must start with '@': " + line);
  uint32_t src, dst;
  int sl, dl;
  if (!detail::parse_prefix(p, src, sl) || !detail::parse_prefix(p, dst, dl))
    detail::fail(path, lineno, "bad address prefix in: " + line);
  unsigned s0, s1, d0, d1, proto, pmask;
  int used = 0;
  if (std::sscanf(p, " %u : %u %u : %u %x/%x%n", &s0, &s1, &d0, &d1, &proto, &pmask, &used) != 6)
    detail::fail(path, lineno, "bad port range or protocol in: " + line);
  if (s0 > s1 || s1 > 65535 || d0 > d1 || d1 > 65535)
    detail::fail(path, lineno, "port range out of order or above 65535 in: " + line);
  if (proto > 255 || (pmask != 0 && pmask != 0xff))
    detail::fail(path, lineno, "protocol must be V/0xFF or V/0x00 in: " + line);
  FlowKey v, m;
  v.dl_type = Be16{kEthTypeIpv4};
  m.dl_type = Be16{0xffff};
  m.nw_src = Be32{detail::prefix_mask(sl)};
  m.nw_dst = Be32{detail::prefix_mask(dl)};
  v.nw_src = Be32{src};
  v.nw_dst = Be32{dst};
  v.nw_proto = static_cast<uint8_t>(proto);
  m.nw_proto = static_cast<uint8_t>(pmask);
  Rule r;
  r.match = Match(v, m);  // masks host bits off
  r.ranges.tp_src = PortRange{uint16_t(s0), uint16_t(s1)};
  r.ranges.tp_dst = PortRange{uint16_t(d0), uint16_t(d1)};
  return r;
}

inline std::vector<Rule> load_rules(const std::string& path) {
  std::vector<Rule> rules;
  auto lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find_first_not_of(" \t") != std::string::npos)
      rules.push_back(parse_rule(lines[i], path, i));
  if (rules.empty()) throw std::runtime_error(path + ": no rules");
  return rules;
}

/// The FlowKey of a trace line's 5-tuple.
inline FlowKey make_key(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto) {
  FlowKey k;
  k.dl_type = Be16{kEthTypeIpv4};
  k.nw_src = Be32{src};
  k.nw_dst = Be32{dst};
  k.nw_proto = proto;
  k.tp_src = Be16{sport};
  k.tp_dst = Be16{dport};
  return k;
}

inline std::vector<FlowKey> load_trace(const std::string& path) {
  std::vector<FlowKey> keys;
  auto lines = read_lines(path);
  keys.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    unsigned long s, d, sp, dp, pr;
    if (std::sscanf(lines[i].c_str(), "%lu %lu %lu %lu %lu", &s, &d, &sp, &dp, &pr) != 5 ||
        s > 0xffffffffUL || d > 0xffffffffUL || sp > 65535 || dp > 65535 || pr > 255)
      detail::fail(path, i, "bad trace line (want src dst sport dport proto ...): " + lines[i]);
    keys.push_back(make_key(uint32_t(s), uint32_t(d), uint16_t(sp), uint16_t(dp), uint8_t(pr)));
  }
  return keys;
}

inline std::vector<int> load_answers(const std::string& path) {
  std::vector<int> out;
  auto lines = read_lines(path);
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    char* end = nullptr;
    long v = std::strtol(lines[i].c_str(), &end, 10);
    if (end == lines[i].c_str() || v < -1) detail::fail(path, i, "bad answer: " + lines[i]);
    out.push_back(static_cast<int>(v));
  }
  return out;
}

}  // namespace flowpath::classbench
