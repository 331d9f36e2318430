// The per-table ports trie (classify/ports_trie.hpp): the trie's answer
// against brute force, the megaflow contract of Classifier::lookup(key, &wc)
// on random port-heavy rule sets (every key equal under the returned mask
// gets the same rule, checked against a linear scan), and the case that
// motivated it: a DHCP rule (udp,tp_src=68,tp_dst=67) no longer makes one
// megaflow per UDP source port.
#include "flowpath/classify/ports_trie.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <set>
#include <vector>

#include "flowpath/classify/classifier.hpp"
#include "support/classify_random.hpp"

namespace flowpath {
namespace ports_trie_test {

using classify_detail::PortsTrie;
using testing::RandomRule;
using testing::RangeLinear;

// Longest prefix (<= len) of v shared with any stored value, by brute force.
int brute_match_len(const std::multiset<uint32_t>& stored, uint32_t v, int len) {
  if (stored.empty()) return -1;
  int best = 0;
  for (uint32_t s : stored) {
    uint32_t d = s ^ v;
    best = std::max(best, std::min(len, d ? std::countl_zero(d) : 32));
  }
  return best;
}

TEST(PortsTrie, MatchLenAgreesWithBruteForce) {
  std::mt19937 rng(7);
  for (int len : {1, 5, 16, 17, 32}) {
    PortsTrie t;
    std::multiset<uint32_t> stored;  // values cut to len bits
    auto cut = [len](uint32_t v) { return len == 32 ? v : v & (~0u << (32 - len)); };
    for (int op = 0; op < 3000; ++op) {
      uint32_t v = cut(rng() & (rng() % 2 ? 0xffffffffu : 0x00ff00ffu));
      if (!stored.empty() && rng() % 3 == 0) {
        auto it = stored.begin();
        std::advance(it, rng() % stored.size());
        t.update(*it, len, -1);
        stored.erase(it);
      } else {
        t.update(v, len, +1);
        stored.insert(v);
      }
      uint32_t k = rng() % 2 ? rng() : v ^ (1u << (rng() % 32));
      ASSERT_EQ(t.match_len(k, len), brute_match_len(stored, k, len))
          << "len " << len << " op " << op;
    }
    // Nodes are kept after removal: an emptied trie answers "nothing stored".
    for (uint32_t v : stored) t.update(v, len, -1);
    EXPECT_EQ(t.match_len(0x12345678u, len), -1);
    EXPECT_GT(t.memory_bytes(), 0u);
  }
}

// Rules over the 5-tuple with ports of every shape: exact, prefix masks,
// non-prefix masks, ranges, wildcards; few address and protocol values so
// that keys collide with rules on everything but the ports.
struct PortRuleGen {
  std::mt19937 rng;
  explicit PortRuleGen(uint32_t seed) : rng(seed) {}
  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); }

  void port(Be16& v, Be16& m, PortRange& r) {
    switch (pick(7)) {
      case 0:
        v = Be16{uint16_t(pick(4) + 66)}, m = Be16{0xffff};  // 66-69 (DHCP-like)
        break;
      case 1:
        v = Be16{uint16_t(pick(1 << 16))}, m = Be16{0xffff};
        break;
      case 2: {
        uint16_t mask = uint16_t(0xffff << pick(16));
        v = Be16{uint16_t(pick(1 << 16) & mask)}, m = Be16{mask};
        break;
      }
      case 3:
        m = Be16{uint16_t(0x1000u << pick(4))}, v = Be16{uint16_t(m.host() & pick(1 << 16))};
        break;  // one non-prefix bit
      case 4: {
        uint16_t a = uint16_t(pick(1 << 16)), b = uint16_t(a + pick(65536u - a));
        r = PortRange{a, b};
        break;
      }
      default:
        break;  // wildcard
    }
  }
  RandomRule rule() {
    FlowKey v, m;
    v.dl_type = Be16{kEthTypeIpv4}, m.dl_type = Be16{0xffff};
    if (pick(3)) v.nw_proto = pick(2) ? kIpProtoUdp : kIpProtoTcp, m.nw_proto = 0xff;
    if (pick(3) == 0) {
      int len = static_cast<int>(pick(33));
      m.nw_src = Be32{len ? ~0u << (32 - len) : 0};
      v.nw_src = Be32{0xc0000200u | pick(4)} & m.nw_src;
    }
    PortRanges rg;
    port(v.tp_src, m.tp_src, rg.tp_src);
    port(v.tp_dst, m.tp_dst, rg.tp_dst);
    return RandomRule{Match(v, m), static_cast<int32_t>(pick(8)), rg};
  }
  FlowKey key(const std::vector<RandomRule>& rules) {
    FlowKey k;
    k.dl_type = Be16{kEthTypeIpv4};
    k.nw_proto = pick(2) ? kIpProtoUdp : kIpProtoTcp;
    k.nw_src = Be32{0xc0000200u | pick(4)};
    k.tp_src = Be16{uint16_t(pick(1 << 16))};
    k.tp_dst = Be16{uint16_t(pick(1 << 16))};
    if (!rules.empty() && pick(2)) {  // near a rule's ports
      const RandomRule& r = rules[pick(static_cast<uint32_t>(rules.size()))];
      k.tp_src = Be16{uint16_t((r.match.value.tp_src.host() & r.match.mask.tp_src.host()) ^
                               (pick(2) ? 0 : 1u << pick(16)))};
      k.tp_dst = Be16{uint16_t((r.match.value.tp_dst.host() & r.match.mask.tp_dst.host()) ^
                               (pick(2) ? 0 : 1u << pick(16)))};
      if (!r.ranges.tp_src.full()) k.tp_src = Be16{uint16_t(r.ranges.tp_src.lo - pick(2))};
      if (!r.ranges.tp_dst.full()) k.tp_dst = Be16{uint16_t(r.ranges.tp_dst.hi + pick(2))};
    }
    return k;
  }
  // A key equal to k on wc's bits, random elsewhere (within the fields the
  // rules look at, plus noise in others).
  FlowKey inside(const FlowKey& k, const FlowMask& wc) {
    FlowKey r = k;
    r.nw_proto = pick(3) == 0 ? uint8_t(pick(256)) : pick(2) ? kIpProtoUdp : kIpProtoTcp;
    r.nw_src = Be32{pick(4) ? 0xc0000200u | pick(8) : uint32_t(rng())};
    r.tp_src = Be16{uint16_t(pick(1 << 16))};
    r.tp_dst = Be16{uint16_t(pick(1 << 16))};
    r.nw_dst = Be32{uint32_t(rng())};
    for (size_t i = 0; i < FlowKey::kWords; ++i)
      r.words()[i] = (k.word(i) & wc.word(i)) | (r.word(i) & ~wc.word(i));
    return r;
  }
};

size_t mask_bits(const FlowMask& m) {
  size_t n = 0;
  for (size_t i = 0; i < FlowKey::kWords; ++i) n += std::popcount(m.word(i));
  return n;
}

// Returns the mean number of wc bits per lookup.
double check_megaflow_contract(uint32_t seed, int n_rules, bool ports_tracking, int ncl,
                               bool common_bits = true) {
  PortRuleGen g(seed);
  ClassifierConfig cfg;
  cfg.ports_tracking = ports_tracking;
  cfg.common_bits = common_bits;
  cfg.collision_limit = static_cast<uint32_t>(ncl);
  Classifier<int> c(cfg);
  RangeLinear ref;
  std::vector<RandomRule> rules;
  for (int i = 0; i < n_rules; ++i) {
    rules.push_back(g.rule());
    ref.insert(rules.back(), i);
    c.insert(rules.back().match, rules.back().priority, i, rules.back().ranges);
  }
  size_t bits = 0, lookups = 0;
  for (int round = 0; round < 3; ++round) {
    for (int q = 0; q < 400; ++q) {
      FlowKey k = g.key(rules);
      FlowMask wc{};
      const auto* got = c.lookup(k, &wc);
      const auto* want = ref.lookup(k);
      EXPECT_EQ(got ? got->value : -1, want ? want->id : -1) << "seed " << seed;
      for (int p = 0; p < 16; ++p) {
        FlowKey k2 = g.inside(k, wc);
        const auto* w2 = ref.lookup(k2);
        if ((w2 ? w2->id : -1) != (want ? want->id : -1)) {
          ADD_FAILURE() << "megaflow contract violated: seed " << seed << " round " << round
                        << " key tp_src " << k.tp_src.host() << " tp_dst " << k.tp_dst.host()
                        << " wc tp_src " << std::hex << wc.tp_src.host() << " tp_dst "
                        << wc.tp_dst.host() << std::dec << " inside key tp_src " << k2.tp_src.host()
                        << " tp_dst " << k2.tp_dst.host();
          return 0;
        }
      }
      bits += mask_bits(wc);
      ++lookups;
    }
    // Churn: remove a third of the rules, add as many new ones; the
    // trie's counts must follow (removal is deferred to a grace period).
    for (size_t i = 0; i < rules.size(); i += 3) {
      c.remove(rules[i].match, rules[i].priority, rules[i].ranges);
      ref.remove(rules[i]);
      rules[i] = g.rule();
      ref.insert(rules[i], n_rules * (round + 1) + static_cast<int>(i));
      c.insert(rules[i].match, rules[i].priority, n_rules * (round + 1) + static_cast<int>(i),
               rules[i].ranges);
    }
  }
  return double(bits) / double(lookups);
}

TEST(PortsTrie, MegaflowContractOnRandomPortRules) {
  for (uint32_t seed = 1; seed <= 12; ++seed)
    for (int n : {4, 40, 300}) {
      check_megaflow_contract(seed, n, true, 16);
      check_megaflow_contract(seed + 100, n, true, 1);          // many small tables
      check_megaflow_contract(seed + 200, n, true, 16, false);  // the trie alone
      check_megaflow_contract(seed + 300, n, false, 16, true);  // common bits alone
      if (::testing::Test::HasFailure()) return;
    }
}

TEST(PortsTrie, MegaflowsAreNarrowerThanWithoutTrie) {
  double with = 0, without = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    with += check_megaflow_contract(seed, 100, true, 16);
    without += check_megaflow_contract(seed, 100, false, 16, false);
  }
  EXPECT_LT(with, without) << "bits per lookup with the ports trie " << with / 6 << ", without "
                           << without / 6;
}

// Neutron's DHCP rules and lower-priority UDP rules; keys from many source
// ports: one megaflow (per ports prefix the trie needs) instead of one per
// port.  The control (ports trie and common bits off) shows one megaflow
// per port.
size_t dhcp_megaflows(bool narrowing, int n_ports, uint16_t first_port, size_t* max_bits) {
  ClassifierConfig cfg;
  cfg.ports_tracking = narrowing;
  cfg.common_bits = narrowing;
  Classifier<int> c(cfg);
  FlowKey v, m;
  v.dl_type = Be16{kEthTypeIpv4}, m.dl_type = Be16{0xffff};
  v.nw_proto = kIpProtoUdp, m.nw_proto = 0xff;
  FlowKey dv = v, dm = m;
  dv.tp_src = Be16{68}, dm.tp_src = Be16{0xffff};
  dv.tp_dst = Be16{67}, dm.tp_dst = Be16{0xffff};
  c.insert(Match(dv, dm), 95, 1);  // udp,tp_src=68,tp_dst=67 -> allow
  FlowKey sv = v, sm = m;
  sv.tp_src = Be16{67}, sm.tp_src = Be16{0xffff};
  sv.tp_dst = Be16{68}, sm.tp_dst = Be16{0xffff};
  c.insert(Match(sv, sm), 70, 2);  // udp,tp_src=67,tp_dst=68 -> drop (DHCP server)
  c.insert(Match(v, m), 60, 3);    // other UDP
  c.insert(Match(FlowKey{}, FlowKey{}), 0, 4);
  std::set<std::vector<uint64_t>> megaflows;
  *max_bits = 0;
  for (int i = 0; i < n_ports; ++i) {
    FlowKey k = v;
    k.nw_src = Be32{0xc0000201u};
    k.nw_dst = Be32{0xc0000264u};
    k.tp_src = Be16{uint16_t(first_port + i)};
    k.tp_dst = Be16{5001};
    FlowMask wc{};
    const auto* r = c.lookup(k, &wc);
    EXPECT_TRUE(r && r->value == 3);
    std::vector<uint64_t> mf;
    for (size_t w = 0; w < FlowKey::kWords; ++w) mf.push_back(k.word(w) & wc.word(w));
    for (size_t w = 0; w < FlowKey::kWords; ++w) mf.push_back(wc.word(w));
    megaflows.insert(mf);
    *max_bits = std::max<size_t>(*max_bits, std::popcount(wc.tp_src.host()));
  }
  return megaflows.size();
}

TEST(PortsTrie, OneMegaflowCoversManyDhcpMissSourcePorts) {
  size_t bits = 0;
  // Ephemeral ports (>= 32768) differ from 68 and 67 in their first bit.
  EXPECT_EQ(dhcp_megaflows(true, 1000, 33000, &bits), 1u);
  EXPECT_EQ(bits, 1u);  // tp_src's first bit only
  // Control: without the trie the table's whole mask goes in, port by port.
  EXPECT_EQ(dhcp_megaflows(false, 1000, 33000, &bits), 1000u);
  EXPECT_EQ(bits, 16u);
  // Low ports near 68: more bits, still far fewer megaflows than ports.
  size_t low = dhcp_megaflows(true, 1000, 0, &bits);
  EXPECT_LT(low, 40u);
  EXPECT_GE(bits, 13u);  // 64-71 share 13 bits with 67 and 68
}

}  // namespace ports_trie_test
}  // namespace flowpath
