// flow_text_gen.hpp — a seeded generator of ovs-ofctl flow text for the
// differential test against `ovs-ofctl parse-flows` (flow_text_diff_test).
//
// Valid flows: a protocol context (none, ip, ipv6, arp, rarp, tcp, udp,
// sctp, icmp and their v6 forms, ND), 0-4 match fields the context allows,
// each from the field registry with an exact value, a prefix or a bitwise
// mask where the field is maskable; priority, cookie, table, timeouts; and
// 0-5 actions: outputs and reserved ports, VLAN rewrites (mod_vlan_vid,
// mod_vlan_pcp, strip/pop, push_vlan followed by mod_vlan_vid or
// set_field:->vlan_vid), mod_dl/nw/tp, mod_nw_tos, set_field on every
// settable field whose prerequisite the match meets, resubmit, goto_table
// forward and backward.  The pipeline part (flow_text_gen_ct.hpp): ct_*,
// registers, conj_id, recirc_id in matches; load, move, set_field to
// registers, ct(...), ct_clear and conjunction in actions.
// Invalid flows: one valid flow with one defect spliced in (bad value,
// out-of-range number, missing prerequisite, unknown field or action, mask
// on an unmaskable field, ...).  Each case carries the name of its kind.
//
// Same seed, same cases: std::mt19937_64 and our own uniform draws (the
// standard distributions differ between library implementations).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace flowpath::difftest {

struct FlowCase {
  std::string text;
  std::string kind;  // "valid" or the name of the defect
};

class FlowTextGen {
 public:
  explicit FlowTextGen(uint64_t seed) : rng_(seed) {}

  FlowCase valid() {
    Ctx c = context();
    std::vector<std::string> parts;
    if (chance(4)) parts.push_back("priority=" + std::to_string(below(65536)));
    if (chance(5)) parts.push_back("cookie=" + hex(rng_() >> below(64)));
    if (chance(4))
      table_ = int(below(6)), parts.push_back("table=" + std::to_string(table_));
    else
      table_ = -1;
    if (chance(6)) parts.push_back("idle_timeout=" + std::to_string(below(65536)));
    if (chance(6)) parts.push_back("hard_timeout=" + std::to_string(below(65536)));
    if (!c.shorthand.empty()) parts.push_back(c.shorthand);
    std::vector<std::string> used;  // one setting per field (OVS lets the last win)
    unsigned n_pipeline = chance(3) ? 1 + unsigned(below(3)) : 0;
    for (unsigned n = unsigned(below(5)) + n_pipeline, i = 0; i < n; ++i) {
      std::string m = i < n_pipeline ? pipeline_field(c) : match_field(c);
      if (m.empty()) continue;
      std::vector<std::string> claims = {group(m.substr(0, m.find('=')))};
      if (claims[0].starts_with("xreg")) {  // xregN is reg2N and reg2N+1
        unsigned x = unsigned(std::stoul(claims[0].substr(4)));
        claims = {"reg" + std::to_string(2 * x), "reg" + std::to_string(2 * x + 1)};
      }
      if (claims[0] == "vlan_tci") claims.insert(claims.end(), {"dl_vlan", "dl_vlan_pcp"});
      if (claims[0] == "dl_vlan" || claims[0] == "dl_vlan_pcp") claims.push_back("vlan_tci");
      if (m == "dl_vlan=0xffff") claims.push_back("dl_vlan_pcp");  // "no tag" has no PCP
      bool clash = false;
      for (const auto& g : claims)
        clash = clash || std::find(used.begin(), used.end(), g) != used.end();
      if (clash) continue;
      used.insert(used.end(), claims.begin(), claims.end());
      parts.push_back(m);
    }
    shuffle(parts);
    std::string text = join(parts, ",");
    return {text + (text.empty() ? "" : " ") + "actions=" + actions(c), "valid"};
  }

  FlowCase invalid() {
    static const char* kKinds[] = {
        "bad_number",     "out_of_range",    "bad_address",     "missing_prereq", "unknown_field",
        "unknown_action", "unmaskable_mask", "bad_keyword",     "goto_backward",  "readonly_set",
        "set_prereq",     "no_actions",      "drop_with_other", "bad_push_vlan",  "bad_action_arg",
        "bad_resubmit",   "cookie_mask_add", "bad_prefix",      "ovs_truncates",  "ovs_garbles",
        "goto_order",     "empty_value",     "conflict",        "ct_defect"};
    std::string kind = kKinds[below(std::size(kKinds))];
    return {defect(kind), kind};
  }

 private:
  struct Ctx {
    std::string shorthand;
    bool ip4 = false, ip6 = false, arp = false, tcp = false, udp = false, sctp = false;
    bool icmp4 = false, icmp6 = false, nd_ns = false, nd_na = false;
  };

  // Fields that share key bits, by one name.
  static std::string group(const std::string& name) {
    static const std::pair<const char*, const char*> kSame[] = {
        {"eth_src", "dl_src"},        {"eth_dst", "dl_dst"},       {"ip_src", "nw_src"},
        {"ip_dst", "nw_dst"},         {"ip_dscp", "nw_tos"},       {"ip_ecn", "nw_ecn"},
        {"tcp_src", "tp_src"},        {"udp_src", "tp_src"},       {"sctp_src", "tp_src"},
        {"tcp_dst", "tp_dst"},        {"udp_dst", "tp_dst"},       {"sctp_dst", "tp_dst"},
        {"icmpv6_type", "icmp_type"}, {"icmpv6_code", "icmp_code"}};
    for (auto [a, b] : kSame)
      if (name == a) return b;
    return name;
  }
  uint64_t below(uint64_t n) { return n ? rng_() % n : 0; }
  bool chance(unsigned one_in) { return below(one_in) == 0; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  void shuffle(std::vector<std::string>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }
  static std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& p : v) s += (s.empty() ? "" : sep) + p;
    return s;
  }
  static std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
  }
  std::string num(uint64_t max) {  // decimal or hex, biased to edges
    uint64_t v = chance(5) ? (chance(2) ? 0 : max) : below(max + 1);
    return chance(3) ? hex(v) : std::to_string(v);
  }
  std::string mac() {
    static const char* kMacs[] = {"00:00:00:00:00:01", "52:54:00:12:34:56", "ff:ff:ff:ff:ff:ff",
                                  "01:80:c2:00:00:00", "fa:16:3e:aa:bb:cc", "00:00:00:00:00:00"};
    if (chance(2)) return kMacs[below(std::size(kMacs))];
    char b[18];
    uint64_t v = rng_();
    std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", unsigned(v & 0xfe),
                  unsigned(v >> 8 & 255), unsigned(v >> 16 & 255), unsigned(v >> 24 & 255),
                  unsigned(v >> 32 & 255), unsigned(v >> 40 & 255));
    return b;
  }
  std::string mac_mask() {
    static const char* kMasks[] = {"ff:ff:ff:ff:ff:ff", "ff:ff:ff:00:00:00", "01:00:00:00:00:00",
                                   "fe:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:f0"};
    return kMasks[below(std::size(kMasks))];
  }
  std::string ipv4() {
    static const char* kIps[] = {"192.0.2.1", "198.51.100.7",    "203.0.113.0", "10.0.0.0",
                                 "0.0.0.0",   "255.255.255.255", "224.0.0.1"};
    if (chance(2)) return kIps[below(std::size(kIps))];
    uint64_t v = rng_();
    return std::to_string(v & 255) + "." + std::to_string(v >> 8 & 255) + "." +
           std::to_string(v >> 16 & 255) + "." + std::to_string(v >> 24 & 255);
  }
  std::string ipv4_masked() {
    std::string a = ipv4();
    switch (below(4)) {
      case 0:
        return a + "/" + std::to_string(below(33));
      case 1:
        return a + "/" +
               pick(std::vector<std::string>{"255.255.255.0", "255.0.255.0", "0.0.0.0",
                                             "255.255.255.255"});
      default:
        return a;
    }
  }
  std::string ipv6() {
    static const char* kIps[] = {
        "2001:db8::1", "::1", "fe80::1", "::", "2001:db8:0:1::/64", "ff02::1", "2001:db8::a:b:c:d"};
    std::string s = kIps[below(std::size(kIps))];
    return s.find('/') == std::string::npos ? s : s.substr(0, s.find('/'));
  }
  std::string ipv6_masked() {
    std::string a = ipv6();
    switch (below(4)) {
      case 0:
        return a + "/" + std::to_string(below(129));
      case 1:
        return a + "/ffff:ffff::ffff";
      default:
        return a;
    }
  }
  std::string l4_port(bool masked) {
    std::string v = num(65535);
    if (masked && chance(3))
      v += "/" + pick(std::vector<std::string>{"0xff00", "0xfff0", "0x1", "0xffff"});
    return v;
  }

  Ctx context();
  std::string match_field(const Ctx& c);
  std::string set_field(const Ctx& c, bool& vlan);
  std::string actions(const Ctx& c);
  std::string defect(const std::string& kind);
  // flow_text_gen_ct.hpp: connection tracking, registers, conjunction.
  std::string pipeline_field(const Ctx& c);
  std::string reg_subfield(unsigned& bits);
  std::string readable_field(const Ctx& c, unsigned& bits);
  std::string ct_action(const Ctx& c);
  std::string nx_action(const Ctx& c);
  std::string conjunctions();
  std::string ct_defect();

  std::mt19937_64 rng_;
  int table_ = -1;
};

}  // namespace flowpath::difftest

#include "flow_text_gen_ct.hpp"
#include "flow_text_gen_impl.hpp"
