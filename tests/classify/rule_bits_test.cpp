// RuleBits (the bit-vector index of small rule sets): its candidates are,
// for every key, a superset of the matching rules, in bit order, and exact
// where the index says its ranges tell everything; guards, edges of the
// search levels and the size limits; sparse rows; the per-part set and
// its skipping of parts that cannot beat the answer in hand.
#include "flowpath/classify/rule_bits.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "flowpath/classify/rule_bits_set.hpp"
#include "support/classify_random.hpp"

namespace flowpath {
namespace rule_bits_test {

using classify_detail::RuleBits;

struct TRule {
  Match match;
  PortRanges ranges;
  bool matches(const FlowKey& k) const { return match.matches(k) && ranges.contain(k); }
};

/// Both forms for dense rows (they must agree), the key form for sparse.
std::vector<uint32_t> candidates(const RuleBits& b, const FlowKey& key) {
  std::vector<uint32_t> out;
  b.for_each_candidate(key, [&](uint32_t i) {
    out.push_back(i);
    return false;
  });
  if (b.sparse()) return out;
  const uint64_t* row[RuleBits::kMaxDims];
  uint64_t s;
  b.rows(key, row, s);
  std::vector<uint32_t> by_rows;
  b.for_each_candidate(row, s, [&](uint32_t i) {
    by_rows.push_back(i);
    return false;
  });
  EXPECT_EQ(out, by_rows);
  return out;
}

/// Every matching rule is a candidate, candidates come in bit order, and a
/// candidate without the full-check flag matches.
void check_keys(const RuleBits& b, const std::vector<TRule>& rs, testing::RuleGen& g,
                const std::vector<testing::RandomRule>& pool, int n_keys) {
  for (int k = 0; k < n_keys; ++k) {
    FlowKey key = g.key_near(pool[g.pick(static_cast<uint32_t>(pool.size()))]);
    std::vector<uint32_t> c = candidates(b, key);
    std::vector<bool> is_cand(rs.size());
    for (size_t j = 0; j < c.size(); ++j) {
      ASSERT_LT(c[j], rs.size());
      if (j) {
        ASSERT_LT(c[j - 1], c[j]) << "candidates out of order";
      }
      is_cand[c[j]] = true;
      if (!b.full_check(c[j])) {
        ASSERT_TRUE(rs[c[j]].matches(key)) << "rule " << c[j];
      }
    }
    // The first rule of the key's first-dimension row bounds every
    // candidate and every match from below (RuleBitsSet skips a part on it).
    uint32_t first = b.first_on_dim0(key);
    ASSERT_LE(first, rs.size());
    if (!c.empty()) {
      ASSERT_LE(first, c[0]);
    }
    for (size_t i = 0; i < rs.size(); ++i) {
      if (rs[i].matches(key)) {
        ASSERT_TRUE(is_cand[i]) << "matching rule " << i << " missed";
        ASSERT_LE(first, i) << "first_on_dim0 past matching rule " << i;
      }
    }
  }
}

void check_random_sets(RuleBits::Limits lim, bool sparse) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    testing::RuleGen g(seed, seed % 2 == 0);
    std::vector<testing::RandomRule> pool;
    std::vector<TRule> rs;
    size_t n = seed <= 3 ? 300 : 1500;
    for (size_t i = 0; i < n; ++i) {
      pool.push_back(g.rule());
      rs.push_back({pool.back().match, pool.back().ranges});
    }
    std::vector<TRule*> ptrs;
    for (auto& r : rs) ptrs.push_back(&r);
    auto b = RuleBits::build(ptrs, lim);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->sparse(), sparse);
    EXPECT_EQ(b->n_rules(), n);
    EXPECT_GT(b->n_dims(), 0u);
    check_keys(*b, rs, g, pool, 3000);
  }
}

TEST(RuleBits, CandidatesAreASupersetOfTheMatches) { check_random_sets({}, false); }

/// A set of n random rules past the dense limit: sparse rows by default.
void check_big(size_t n, int n_keys, RuleBits::Limits lim = {}) {
  testing::RuleGen g(11, true);
  std::vector<testing::RandomRule> pool;
  std::vector<TRule> rs;
  for (size_t i = 0; i < n; ++i) {
    pool.push_back(g.rule());
    rs.push_back({pool.back().match, pool.back().ranges});
  }
  std::vector<TRule*> ptrs;
  for (auto& r : rs) ptrs.push_back(&r);
  auto b = RuleBits::build(ptrs, lim);
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->sparse());
  check_keys(*b, rs, g, pool, n_keys);
}

/// The same with sparse rows (dense turned off), and a set past the dense
/// limit (5000 rules: summaries of two words) that gets sparse rows by default.
TEST(RuleBits, SparseCandidatesAreASupersetOfTheMatches) {
  check_random_sets({0, size_t{8} << 20}, true);
  check_big(5000, 3000);
}

/// Summaries of four words (13000 rules; the sets above have one or two);
/// these random rules constrain 7-8 dimensions, so a bigger budget.
TEST(RuleBits, SparseRowsOfFourSummaryWords) {
  RuleBits::Limits lim;
  lim.sparse_bytes_per_rule = 4000;
  check_big(13000, 600, lim);
}

/// Rule sets on IPv4 5-tuples (addresses, ports and, with proto, the
/// protocol): the four and five dimensions with rows that ClassBench sets
/// get (the random sets above get six to eight).  Dense and sparse,
/// summaries of one and two words.
void check_five_tuple(bool proto, size_t n, RuleBits::Limits lim, bool sparse) {
  testing::RuleGen g(21 + static_cast<uint32_t>(n) + proto, true);
  std::vector<testing::RandomRule> pool;
  std::vector<TRule> rs;
  for (size_t i = 0; i < n; ++i) {
    testing::RandomRule r = g.rule();
    FlowKey v = r.match.value;
    FlowMask m{};
    v.dl_type = Be16{kEthTypeIpv4}, m.dl_type = Be16{0xffff};  // a guard
    m.nw_src = r.match.mask.nw_src, m.nw_dst = r.match.mask.nw_dst;
    m.tp_src = r.match.mask.tp_src, m.tp_dst = r.match.mask.tp_dst;
    if (proto) m.nw_proto = r.match.mask.nw_proto;
    r.match = Match(v, m);
    pool.push_back(r);
    rs.push_back({r.match, r.ranges});
  }
  std::vector<TRule*> ptrs;
  for (auto& r : rs) ptrs.push_back(&r);
  auto b = RuleBits::build(ptrs, lim);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->sparse(), sparse);
  EXPECT_EQ(b->n_dims(), proto ? 5u : 4u);
  check_keys(*b, rs, g, pool, 3000);
}

TEST(RuleBits, FourAndFiveDimensionWalks) {
  for (bool proto : {false, true}) {
    check_five_tuple(proto, 1500, {}, false);
    check_five_tuple(proto, 1500, {0, size_t{8} << 20}, true);
    check_five_tuple(proto, 5000, {}, true);
  }
}

/// Many exact /32 sources (3000: a search of three levels; 700: two levels
/// of 32-key nodes with AVX-512, three of 16-key ones without), the extreme values 0 and 2^32 - 1
/// among them, and one EtherType shared by all (a guard).
void check_deep(RuleBits::Limits lim, uint32_t n_addrs = 3000) {
  testing::RuleGen g(9);
  std::vector<TRule> rs;
  std::vector<uint32_t> addrs = {0, 1, ~0u, ~0u - 1};
  for (uint32_t i = 0; i < n_addrs; ++i) addrs.push_back(static_cast<uint32_t>(g.rng()()));
  for (uint32_t a : addrs) {
    FlowKey v, m;
    v.dl_type = Be16{kEthTypeIpv4}, m.dl_type = Be16{0xffff};
    v.nw_src = Be32{a}, m.nw_src = Be32{~0u};
    rs.push_back({Match(v, m), PortRanges{}});
  }
  {
    FlowKey v, m;  // a catch-all for IPv4, last
    v.dl_type = Be16{kEthTypeIpv4}, m.dl_type = Be16{0xffff};
    rs.push_back({Match(v, m), PortRanges{}});
  }
  std::vector<TRule*> ptrs;
  for (auto& r : rs) ptrs.push_back(&r);
  auto b = RuleBits::build(ptrs, lim);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->n_guards(), 1u);  // dl_type
  ASSERT_EQ(b->n_dims(), 1u);    // nw_src
  // 3000 addresses: more than 4096 intervals; 700: 1041-2080 boundaries.
  EXPECT_GT(b->n_intervals(0), n_addrs == 3000 ? 4096u : 1042u);
  for (size_t i = 0; i < addrs.size(); ++i) {
    FlowKey k;
    k.dl_type = Be16{kEthTypeIpv4};
    k.nw_src = Be32{addrs[i]};
    std::vector<uint32_t> c = candidates(*b, k);
    ASSERT_FALSE(c.empty());
    // The first candidate is the first rule for this address (duplicates
    // among the random ones come later), the catch-all is last.
    EXPECT_TRUE(rs[c[0]].matches(k));
    ASSERT_LT(c[0], addrs.size());
    EXPECT_EQ(addrs[c[0]], addrs[i]);
    EXPECT_EQ(c.back(), rs.size() - 1);
    k.dl_type = Be16{kEthTypeIpv6};  // outside the guard: nothing
    EXPECT_TRUE(candidates(*b, k).empty());
  }
}

TEST(RuleBits, DeepSearchEdgesAndGuards) { check_deep({}); }
TEST(RuleBits, SparseDeepSearchEdgesAndGuards) { check_deep({0, size_t{8} << 20}); }
TEST(RuleBits, WideNodeSearchEdgesAndGuards) { check_deep({}, 700); }
TEST(RuleBits, SparseWideNodeSearchEdgesAndGuards) { check_deep({0, size_t{8} << 20}, 700); }

using classify_detail::IntervalSearch;

/// The search takes 32-key nodes exactly when they save a level, and
/// answers like std::upper_bound at every width and depth: on each
/// boundary, next to it, at 0 and 2^32 - 1, and at random values.
TEST(IntervalSearch, FewestLevelsAndExactAtEveryWidth) {
  // (boundaries, levels, width): the edges of each depth for both widths.
  const uint32_t cases[][3] = {{0, 1, 16},     {1, 1, 16},     {64, 1, 16},   {65, 2, 16},
                               {1040, 2, 16},  {1041, 2, 32},  {2080, 2, 32}, {2081, 3, 16},
                               {16656, 3, 16}, {16657, 3, 32}, {40000, 3, 32}};
  testing::RuleGen g(77);
  for (const auto& cs : cases) {
    std::vector<uint32_t> b = {0, ~0u};  // the extremes among them
    while (b.size() < cs[0] + 10) {      // some clustered (small), the rest spread
      for (uint32_t i = 0; i < cs[0] + 10; ++i)
        b.push_back(static_cast<uint32_t>(g.rng()()) >> (i % 3 == 0 ? 20 : 0));
      std::sort(b.begin(), b.end());
      b.erase(std::unique(b.begin(), b.end()), b.end());
    }
    const uint32_t n = cs[0];  // 0 and 2^32 - 1, then n - 2 from between
    std::vector<uint32_t> t(b.begin() + 1, b.begin() + 1 + (n >= 2 ? n - 2 : 0));
    if (n >= 1) t.insert(t.begin(), 0u);
    if (n >= 2) t.push_back(~0u);
    b = std::move(t);
    IntervalSearch dflt;  // the walks' build: 32-key nodes only with AVX-512
    ASSERT_TRUE(dflt.build(b));
    EXPECT_EQ(dflt.width, IntervalSearch::kMaxWidth == 32 ? cs[2] : 16u) << cs[0];
    IntervalSearch ix;  // both widths on every ISA
    ASSERT_TRUE(ix.build(b, 32));
    EXPECT_EQ(ix.n_levels, cs[1]) << cs[0] << " boundaries";
    EXPECT_EQ(ix.width, cs[2]) << cs[0] << " boundaries";
    EXPECT_EQ(ix.n_intervals(), cs[0] + 1);
    std::vector<uint32_t> xs = {0, 1, ~0u, ~0u - 1};
    for (uint32_t v : b) xs.insert(xs.end(), {v, v - 1, v + 1});
    for (int i = 0; i < 2000; ++i) xs.push_back(static_cast<uint32_t>(g.rng()()));
    for (uint32_t x : xs) {
      auto want = static_cast<uint32_t>(std::upper_bound(b.begin(), b.end(), x) - b.begin());
      uint32_t got = ix.search(x);
      ASSERT_EQ(got, want) << cs[0] << " boundaries, x " << x;
      ASSERT_EQ(ix.width == 32 ? ix.search32(x) : ix.search16(x), want);
      ASSERT_EQ(dflt.search(x), want);
    }
  }
  IntervalSearch big;  // past the limit: no tree
  EXPECT_FALSE(big.build(std::vector<uint32_t>(IntervalSearch::kMaxBounds + 1)));
}

TEST(RuleBits, NoIndexPastTheLimits) {
  testing::RuleGen g(5);
  std::vector<TRule> rs;
  for (int i = 0; i < 200; ++i) {
    auto r = g.rule();
    rs.push_back({r.match, r.ranges});
  }
  std::vector<TRule*> ptrs;
  for (auto& r : rs) ptrs.push_back(&r);
  EXPECT_NE(RuleBits::build(ptrs, {200, size_t{1} << 20}), nullptr);
  EXPECT_EQ(RuleBits::build(ptrs, {199, size_t{1} << 20, 0}), nullptr);  // too many rules
  EXPECT_EQ(RuleBits::build(ptrs, {0, size_t{1} << 20, 0}), nullptr);    // disabled
  EXPECT_EQ(RuleBits::build(ptrs, {200, 1024}), nullptr);                // rows too big
  // Past the dense limit: sparse rows, unless over their own limits.
  auto sp = RuleBits::build(ptrs, {199, size_t{1} << 20, 200});
  ASSERT_NE(sp, nullptr);
  EXPECT_TRUE(sp->sparse());
  EXPECT_EQ(RuleBits::build(ptrs, {199, size_t{1} << 20, 199}), nullptr);
  EXPECT_EQ(RuleBits::build(ptrs, {199, 1024, 200, 4}), nullptr);  // 1 KB: too small
  std::vector<TRule*> none;
  EXPECT_EQ(RuleBits::build(none, {}), nullptr);
}

}  // namespace rule_bits_test
}  // namespace flowpath

namespace flowpath {
namespace rule_bits_test {

using classify_detail::RuleBitsSet;

/// Past the dense limit the set keeps one index per part: every matching
/// rule is a candidate once, each part's candidates come in order, a
/// candidate without the full-check flag matches, and no part is asked
/// whose best rule is not before `best`.
TEST(RuleBitsSet, PartsCandidatesAreASupersetOfTheMatches) {
  for (uint32_t seed = 31; seed <= 34; ++seed) {
    testing::RuleGen g(seed, seed % 2 == 0);
    std::vector<testing::RandomRule> pool;
    std::vector<TRule> rs;
    std::vector<uint8_t> part_of;
    for (size_t i = 0; i < 1500; ++i) {
      pool.push_back(g.rule());
      rs.push_back({pool.back().match, pool.back().ranges});
      // Seed 34: two parts, one of them small (dense rows).
      part_of.push_back(static_cast<uint8_t>(seed == 34 ? (g.pick(20) == 0) : g.pick(3)));
    }
    std::vector<TRule*> ptrs;
    for (auto& r : rs) ptrs.push_back(&r);
    auto set = RuleBitsSet::build(ptrs, part_of.data(), {200, size_t{8} << 20});
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->n_parts(), seed == 34 ? 2u : 3u);
    EXPECT_TRUE(set->sparse());
    for (int k = 0; k < 3000; ++k) {
      FlowKey key = g.key_near(pool[g.pick(static_cast<uint32_t>(pool.size()))]);
      std::vector<int> seen(rs.size(), 0);
      int64_t last[RuleBitsSet::kMaxParts] = {-1, -1, -1};
      set->for_each_candidate(key, ~0u, [&](uint32_t i, bool full_check) {
        EXPECT_LT(i, rs.size());
        EXPECT_LT(last[part_of[i]], int64_t{i}) << "candidates out of order in a part";
        last[part_of[i]] = i;
        ++seen[i];
        if (!full_check) {
          EXPECT_TRUE(rs[i].matches(key)) << "rule " << i;
        }
        return false;
      });
      for (size_t i = 0; i < rs.size(); ++i) {
        ASSERT_LE(seen[i], 1) << "rule " << i << " twice";
        if (rs[i].matches(key)) {
          ASSERT_EQ(seen[i], 1) << "matching rule " << i << " missed";
        }
      }
      bool any = false;
      set->for_each_candidate(key, 0u, [&](uint32_t, bool) { return any = true; });
      EXPECT_FALSE(any) << "a part asked though none can beat rule 0";
      // An answer in hand at `best`: every matching rule before it is still
      // asked (a part is skipped only when its first rule on the first
      // dimension's row comes at or after best).
      auto best = g.pick(static_cast<uint32_t>(rs.size())) + 1;
      std::vector<int> asked(rs.size(), 0);
      set->for_each_candidate(key, best, [&](uint32_t i, bool) {
        ++asked[i];
        return false;
      });
      for (uint32_t i = 0; i < best; ++i)
        if (rs[i].matches(key)) {
          ASSERT_EQ(asked[i], 1) << "matching rule " << i << " before " << best << " not asked";
        }
    }
  }
  testing::RuleGen g(35);
  std::vector<TRule> rs;
  for (int i = 0; i < 300; ++i) {
    auto r = g.rule();
    rs.push_back({r.match, r.ranges});
  }
  std::vector<TRule*> ptrs;
  for (auto& r : rs) ptrs.push_back(&r);
  std::vector<uint8_t> part_of(rs.size(), 0);
  EXPECT_NE(RuleBitsSet::build(ptrs, part_of.data(), {200, size_t{8} << 20, 300}), nullptr);
  // Over the sparse rule limit, or the memory budget: no index.
  EXPECT_EQ(RuleBitsSet::build(ptrs, part_of.data(), {200, size_t{8} << 20, 299}), nullptr);
  EXPECT_EQ(RuleBitsSet::build(ptrs, part_of.data(), {200, 1024, 300, 1}), nullptr);
}

/// Parts of more than kCheckMinRules rules are asked with an answer in
/// hand only when the first rule of the key's first-dimension row comes
/// before it: here every rule has its own source address, so a key's row
/// holds one rule; with the answer at or before that rule no part is asked,
/// after it the rule is.
TEST(RuleBitsSet, PartsThatCannotBeatTheAnswerAreNotAsked) {
  constexpr uint32_t kN = 1200;
  std::vector<TRule> rs(kN);
  std::vector<uint8_t> part_of(kN);
  for (uint32_t i = 0; i < kN; ++i) {
    FlowKey v{}, m{};
    v.dl_type = Be16{kEthTypeIpv4}, m.dl_type = Be16{0xffff};
    v.nw_src = Be32{0x0a000000u + 2 * i}, m.nw_src = Be32{0xffffffffu};
    rs[i] = {Match(v, m), {}};
    part_of[i] = static_cast<uint8_t>(i % 2);  // two parts of 600 rules
  }
  std::vector<TRule*> ptrs;
  for (auto& r : rs) ptrs.push_back(&r);
  auto set = RuleBitsSet::build(ptrs, part_of.data(), {200, size_t{8} << 20});
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->n_parts(), 2u);
  for (uint32_t r = 0; r < kN; r += 7) {
    FlowKey key = rs[r].match.value;
    for (uint32_t best : {r, r / 2 + 1, r + 1, r + 1 + r % 5, kN}) {
      if (best == 0) continue;
      std::vector<uint32_t> asked;
      set->for_each_candidate(key, best, [&](uint32_t i, bool) {
        asked.push_back(i);
        return false;
      });
      if (r < best) {
        ASSERT_EQ(asked, std::vector<uint32_t>{r}) << "rule " << r << ", answer " << best;
      } else {
        ASSERT_TRUE(asked.empty()) << "rule " << r << " asked, answer " << best;
      }
    }
  }
}

}  // namespace rule_bits_test
}  // namespace flowpath
