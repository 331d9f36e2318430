// tests/differential/normal_actions.hpp — datapath actions, as either
// switch prints them, reduced to what a user can see: the set of outputs,
// each with the VLAN headers the frame carries when it leaves.
//
//   "push_vlan(vid=1000,pcp=0),eth2,pop_vlan,vm2"   (frame untagged)
//     -> "eth2[8100:1000:0] vm2[]"
//
// Walking the action list keeps the frame's tag stack (starting from the
// tags the frame arrived with) and any header rewrites seen so far; each
// output records the tags and the fields that differ from the frame's.  The order of outputs is not
// significant (OVS and flowpath flood in different port orders), duplicates are.  Ports are printed
// by name: `names` maps OVS's datapath port numbers; flowpath's text already has names.  Anything
// not understood is kept verbatim, so it can only make a comparison fail, never pass.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "differential/normal_frames.hpp"

namespace flowpath::difftest {

/// Splits "a,b(c,d),e" at top-level commas.
inline std::vector<std::string> split_actions(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : s) {
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') --depth;
    cur += c;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

inline long arg_of(const std::string& a, const std::string& key, long dflt) {
  auto pos = a.find(key + "=");
  if (pos == std::string::npos) return dflt;
  return std::strtol(a.c_str() + pos + key.size() + 1, nullptr, 0);
}

inline std::string tag_text(const Tag& t) {
  char b[32];
  std::snprintf(b, sizeof b, "%04x:%u:%u", t.tpid, t.vid, t.pcp);
  return b;
}

/// "0x20/0xfc" -> "32": masked sets (OVS) and plain ones (flowpath) alike.
inline std::string field_value(std::string v) {
  v = v.substr(0, v.find('/'));
  if (!v.empty() && v.find(':') == std::string::npos && v.find('.') == std::string::npos) {
    char* end = nullptr;
    unsigned long n = std::strtoul(v.c_str(), &end, 0);
    if (end && *end == 0) return std::to_string(n);
  }
  return v;
}

/// The normalised output set of an action text (see the header comment).
/// `original` holds the frame's header fields as "hdr.field" -> value (e.g.
/// "ipv4.tos" -> "0"): a rewrite back to the original value is no rewrite.
inline std::string normalize_actions(const std::string& text, const std::vector<Tag>& in_tags,
                                     const std::map<uint32_t, std::string>& names = {},
                                     const std::map<std::string, std::string>& original = {}) {
  std::vector<Tag> stack = in_tags;
  std::map<std::string, std::string> fields = original;
  std::string odd;
  std::vector<std::string> outs;
  for (const std::string& a : split_actions(text)) {
    if (a == "drop" || a.empty()) continue;
    if (a.rfind("push_vlan(", 0) == 0) {
      Tag t{uint16_t(arg_of(a, "tpid", 0x8100)), uint16_t(arg_of(a, "vid", 0)),
            uint8_t(arg_of(a, "pcp", 0))};
      stack.insert(stack.begin(), t);
    } else if (a == "pop_vlan") {
      if (stack.empty())
        odd += " [pop of no tag]";
      else
        stack.erase(stack.begin());
    } else if (a.rfind("set(", 0) == 0 && a.size() > 6 && a.find('(', 4) != std::string::npos) {
      // set(HDR(k=v,k=v)) -> fields["HDR.k"] = v
      size_t open = a.find('(', 4);
      std::string hdr = a.substr(4, open - 4);
      std::string body = a.substr(open + 1, a.size() - open - 3);
      for (const std::string& kv : split_actions(body)) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) {
          odd += " " + a;
          continue;
        }
        fields[hdr + "." + kv.substr(0, eq)] = field_value(kv.substr(eq + 1));
      }
    } else if (a.find('(') != std::string::npos) {
      odd += " " + a;
    } else {
      std::string port = a;
      if (a.find_first_not_of("0123456789") == std::string::npos) {
        auto it = names.find(uint32_t(std::stoul(a)));
        if (it != names.end()) port = it->second;
      }
      std::string o = port + "[";
      for (size_t i = 0; i < stack.size(); ++i) o += (i ? "/" : "") + tag_text(stack[i]);
      o += "]";
      for (const auto& [k, v] : fields) {
        auto it = original.find(k);
        if (it == original.end() || it->second != v) o += " " + k + "=" + v;
      }
      outs.push_back(o + odd);
    }
  }
  std::sort(outs.begin(), outs.end());
  std::string r;
  for (const auto& o : outs) r += (r.empty() ? "" : ", ") + o;
  return r.empty() ? "drop" : r;
}

/// The same normal form for frames a datapath actually sent: each
/// (port name, bytes) becomes "port[tags] fields" (fields that differ from
/// `original`), so a real datapath's output compares with OVS's actions.
inline std::string normalize_frames(
    const std::vector<std::pair<std::string, std::vector<uint8_t>>>& outs,
    const std::map<std::string, std::string>& original) {
  std::vector<std::string> v;
  for (const auto& [port, f] : outs) {
    std::string o = port + "[";
    size_t off = 12;
    int n = 0;
    auto u16 = [&](size_t at) { return uint16_t(f[at] << 8 | f[at + 1]); };
    // A tag counts when its TCI and the next EtherType are there (as parsers do).
    while (off + 6 <= f.size() && (u16(off) == 0x8100 || u16(off) == 0x88a8)) {
      uint16_t tci = u16(off + 2);
      o += (n++ ? "/" : "") + tag_text(Tag{u16(off), uint16_t(tci & 0xfff), uint8_t(tci >> 13)});
      off += 4;
    }
    o += "]";
    std::map<std::string, std::string> fields;
    if (f.size() >= 12) {
      EthAddr d, sa;
      std::copy(f.begin(), f.begin() + 6, d.b.begin());
      std::copy(f.begin() + 6, f.begin() + 12, sa.b.begin());
      fields["eth.dst"] = frame_detail::mac_text(d);
      fields["eth.src"] = frame_detail::mac_text(sa);
    }
    if (off + 2 + 20 <= f.size() && u16(off) == 0x0800 && original.count("ipv4.tos")) {
      fields["ipv4.tos"] = std::to_string(f[off + 3] & 0xfc);
      fields["ipv4.ttl"] = std::to_string(f[off + 2 + 8]);
    }
    for (const auto& [k, val] : fields) {
      auto it = original.find(k);
      if (it == original.end() || it->second != val) o += " " + k + "=" + val;
    }
    v.push_back(o);
  }
  std::sort(v.begin(), v.end());
  std::string r;
  for (const auto& o : v) r += (r.empty() ? "" : ", ") + o;
  return r.empty() ? "drop" : r;
}

}  // namespace flowpath::difftest
