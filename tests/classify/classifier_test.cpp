// Differential tests: Classifier vs linear search on random rule sets, the
// megaflow property by random probing inside each returned mask, and
// concurrent readers during updates.
#include "flowpath/classify/classifier.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "flowpath/classify/linear_classifier.hpp"
#include "support/classify_random.hpp"

namespace flowpath {
namespace classifier_test {

using testing::probe_inside;
using testing::RandomRule;
using testing::RangeLinear;
using testing::RuleGen;

struct Stats {
  size_t lookups = 0, wc_bits = 0;
};

void check_lookup(const Classifier<int>& c, const RangeLinear& ref, RuleGen& g,
                  const std::vector<RandomRule>& pool, Stats& st) {
  const RandomRule& base = pool[g.pick(static_cast<uint32_t>(pool.size()))];
  FlowKey key =
      g.coin(10) ? probe_inside(g, FlowKey{}, FlowKey{}, base.match.value) : g.key_near(base);
  FlowMask wc{};
  const auto* got = c.lookup(key, &wc);
  const auto* want = ref.lookup(key);
  ASSERT_EQ(got ? got->value : -1, want ? want->id : -1);
  const auto* fast = c.lookup(key);
  ASSERT_EQ(fast, got);
  const Classifier<int>::Rule* batch_out[1];
  c.lookup_batch(std::span<const FlowKey>(&key, 1), batch_out);
  ASSERT_EQ(batch_out[0], got);
  for (int p = 0; p < 8; ++p) {
    FlowKey k2 = probe_inside(g, key, wc, base.match.value);
    const auto* w2 = ref.lookup(k2);
    ASSERT_EQ(w2 ? w2->id : -1, want ? want->id : -1) << "megaflow property violated";
  }
  ++st.lookups;
  for (size_t i = 0; i < FlowKey::kWords; ++i) st.wc_bits += std::popcount(wc.word(i));
}

void run_differential(uint32_t seed, bool ranges, int n_rules, int n_ops, ClassifierConfig cfg) {
  RuleGen g(seed, ranges);
  Classifier<int> c(cfg);
  RangeLinear ref;
  std::vector<RandomRule> pool;
  for (int i = 0; i < n_rules; ++i) pool.push_back(g.rule());
  int next_id = 0;
  for (const auto& r : pool) {
    int id = next_id++;
    size_t before = ref.rules.size();
    ref.insert(r, id);
    ASSERT_EQ(c.insert(r.match, r.priority, id, r.ranges), ref.rules.size() == before);
  }
  Stats st;
  for (int op = 0; op < n_ops; ++op) {
    uint32_t what = g.pick(10);
    if (what == 0) {
      const auto& r = pool[g.pick(static_cast<uint32_t>(pool.size()))];
      ASSERT_EQ(c.remove(r.match, r.priority, r.ranges), ref.remove(r));
    } else if (what == 1) {
      RandomRule r = g.coin(2) ? pool[g.pick(static_cast<uint32_t>(pool.size()))] : g.rule();
      if (g.coin(2)) pool.push_back(r);
      int id = next_id++;
      size_t before = ref.rules.size();
      ref.insert(r, id);
      ASSERT_EQ(c.insert(r.match, r.priority, id, r.ranges), ref.rules.size() == before);
    } else {
      check_lookup(c, ref, g, pool, st);
      if (::testing::Test::HasFatalFailure()) return;
    }
    ASSERT_EQ(c.size(), ref.rules.size());
  }
  std::printf("seed %u: %zu rules, %zu tables, %.1f wc bits per lookup (of 960)\n", seed, c.size(),
              c.n_tables(), double(st.wc_bits) / double(st.lookups ? st.lookups : 1));
}

TEST(Classifier, MatchesLinearOnMasksOnly) {
  for (uint32_t seed = 1; seed <= 6; ++seed) run_differential(seed, false, 200, 3000, {});
}

TEST(Classifier, MatchesLinearWithRanges) {
  for (uint32_t seed = 11; seed <= 16; ++seed) run_differential(seed, true, 300, 3000, {});
}

TEST(Classifier, MatchesLinearTinyCollisionLimitNoTries) {
  ClassifierConfig cfg;
  cfg.collision_limit = 1;
  cfg.prefix_tracking = false;
  cfg.ipv4_step = 32;
  for (uint32_t seed = 21; seed <= 23; ++seed) run_differential(seed, true, 300, 2000, cfg);
}

TEST(Classifier, SameApiAsLinearClassifier) {
  RuleGen g(99, false);
  Classifier<int> c;
  LinearClassifier<int> lin;
  for (int i = 0; i < 300; ++i) {
    RandomRule r = g.rule();
    ASSERT_EQ(c.insert(r.match, r.priority, i), lin.insert(r.match, r.priority, i));
    if (i % 7 == 0) {
      ASSERT_EQ(c.remove(r.match, r.priority), lin.remove(r.match, r.priority));
    }
    FlowKey k = g.key_near(r);
    const auto* a = c.lookup(k);
    const auto* b = lin.lookup(k);
    ASSERT_EQ(a ? a->value : -1, b ? b->value : -1);
    if (a) {
      EXPECT_EQ(a->priority, b->priority);
      EXPECT_EQ(a->match, b->match);
    }
  }
  EXPECT_EQ(c.size(), lin.size());
}

TEST(Classifier, PrefixTrackingKeepsMegaflowShort) {
  ClassifierConfig cfg;
  cfg.ipv4_step = 8;  // the /8 rule gets a table of its own: the trie must skip it
  Classifier<int> c(cfg);
  FlowKey v, m;
  v.dl_type = Be16{kEthTypeIpv4};
  m.dl_type = Be16{0xffff};
  v.nw_dst = Be32{0x0a000000};
  m.nw_dst = Be32{0xff000000};
  c.insert(Match(v, m), 10, 1);
  c.insert(Match(FlowKey{}, FlowKey{}), 0, 2);
  FlowKey k;
  k.dl_type = Be16{kEthTypeIpv4};
  k.nw_dst = Be32{0xc0a80101};  // 192.168.1.1: first bit differs from 10/8
  FlowMask wc{};
  const auto* r = c.lookup(k, &wc);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 2);
  EXPECT_EQ(wc.nw_dst.host(), 0x80000000u);  // one bit, not /8
  EXPECT_EQ(wc.dl_type.raw, 0);
}

TEST(Classifier, ReadersSeeOnlyRuleSetsThatExisted) {
  // Two rules A and B match `key`; the writer always inserts one before
  // removing the other, so every version has at least one of them.  Filler
  // rules churn tables (creation, growth, deletion) meanwhile.
  Classifier<int> c;
  RuleGen g(7);
  FlowKey key;
  key.nw_src = Be32{0x0a000001};
  FlowKey mv = key, mm;
  mm.nw_src = Be32{~0u};
  Match a(mv, mm), b(mv, FlowKey{});
  c.insert(a, 5, 1);
  std::atomic<bool> stop{false};
  std::atomic<long> seen{0}, bad{0};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      rcu::ReadGuard guard;  // keeps the returned rule alive while it is read
      FlowMask wc{};
      const auto* r = c.lookup(key, seen % 2 ? &wc : nullptr);
      if (!r || (r->value != 1 && r->value != 2)) bad.fetch_add(1);
      seen.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::vector<RandomRule> filler;
  for (int round = 0; round < 3000; ++round) {
    c.insert(b, 3, 2);
    c.remove(a, 5);
    for (int i = 0; i < 3; ++i) {
      filler.push_back(g.rule());
      c.insert(filler.back().match, filler.back().priority - 100, 3, filler.back().ranges);
    }
    c.insert(a, 5, 1);
    c.remove(b, 3);
    while (filler.size() > 50) {
      c.remove(filler.front().match, filler.front().priority - 100, filler.front().ranges);
      filler.erase(filler.begin());
    }
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(seen.load(), 0);
}

}  // namespace classifier_test
}  // namespace flowpath
