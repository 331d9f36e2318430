// ClassifierV2 (forest + delta): differential tests against the linear
// reference on random rule sets while compiles fold the delta in, the
// megaflow property (any key agreeing with the looked-up key on the
// returned mask's bits gets the same answer) in both parts, and readers
// running during updates and background compiles.
#include "flowpath/classify/classifier_v2.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "flowpath/classify/linear_classifier.hpp"
#include "support/classify_random.hpp"

namespace flowpath {
namespace classifier_v2_test {

using testing::probe_inside;
using testing::RandomRule;
using testing::RangeLinear;
using testing::RuleGen;

void check_lookup(const ClassifierV2<int>& c, const RangeLinear& ref, RuleGen& g,
                  const std::vector<RandomRule>& pool, size_t& wc_bits) {
  const RandomRule& base = pool[g.pick(static_cast<uint32_t>(pool.size()))];
  FlowKey key =
      g.coin(10) ? probe_inside(g, FlowKey{}, FlowKey{}, base.match.value) : g.key_near(base);
  FlowMask wc{};
  const auto* got = c.lookup(key, &wc);
  const auto* want = ref.lookup(key);
  ASSERT_EQ(got ? got->value : -1, want ? want->id : -1);
  ASSERT_EQ(c.lookup(key), got);
  const ClassifierV2<int>::Rule* batch_out[3];
  FlowKey three[3] = {key, g.key_near(base), key};
  c.lookup_batch(std::span<const FlowKey>(three, 3), batch_out);
  ASSERT_EQ(batch_out[0], got);
  ASSERT_EQ(batch_out[2], got);
  ASSERT_EQ(batch_out[1], c.lookup(three[1]));
  for (int p = 0; p < 8; ++p) {
    FlowKey k2 = probe_inside(g, key, wc, base.match.value);
    const auto* w2 = ref.lookup(k2);
    ASSERT_EQ(w2 ? w2->id : -1, want ? want->id : -1) << "megaflow property violated";
    ASSERT_EQ(c.lookup(k2), got) << "megaflow property violated (same classifier)";
  }
  for (size_t i = 0; i < FlowKey::kWords; ++i) wc_bits += std::popcount(wc.word(i));
}

void run_differential(uint32_t seed, bool ranges, int n_rules, int n_ops, ClassifierV2Config cfg) {
  RuleGen g(seed, ranges);
  ClassifierV2<int> c(cfg);
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
  size_t wc_bits = 0, lookups = 0;
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
    } else if (what == 2 && g.coin(50)) {
      c.compile_now();
      ASSERT_EQ(c.delta_size(), 0u);
    } else {
      check_lookup(c, ref, g, pool, wc_bits);
      ++lookups;
      if (::testing::Test::HasFatalFailure()) return;
    }
    ASSERT_EQ(c.size(), ref.rules.size());
  }
  EXPECT_GT(c.compiles(), 0u);
  std::printf("seed %u: %zu rules, %zu delta, %zu compiles, %.1f wc bits per lookup\n", seed,
              c.size(), c.delta_size(), size_t(c.compiles()),
              double(wc_bits) / double(lookups ? lookups : 1));
}

ClassifierV2Config sync_cfg() {
  ClassifierV2Config cfg;
  cfg.background = false;
  cfg.compile_min = 16;
  cfg.compile_fraction = 4;
  return cfg;
}

TEST(ClassifierV2, MatchesLinearOnMasksOnly) {
  for (uint32_t seed = 1; seed <= 5; ++seed) run_differential(seed, false, 200, 3000, sync_cfg());
}

TEST(ClassifierV2, MatchesLinearWithRanges) {
  for (uint32_t seed = 11; seed <= 15; ++seed) run_differential(seed, true, 300, 3000, sync_cfg());
}

TEST(ClassifierV2, MatchesLinearSmallLeavesTinyBudget) {
  ClassifierV2Config cfg = sync_cfg();
  cfg.leaf_size = 1;
  cfg.replication_budget = 1;
  cfg.collision_limit = 1;
  for (uint32_t seed = 21; seed <= 23; ++seed) run_differential(seed, true, 300, 2000, cfg);
}

TEST(ClassifierV2, MatchesLinearBigLeaves) {
  ClassifierV2Config cfg = sync_cfg();
  cfg.leaf_size = 100;  // leaves of more than 32 entries: the scan goes chunk by chunk
  for (uint32_t seed = 26; seed <= 27; ++seed) run_differential(seed, true, 300, 2000, cfg);
}

// The forest's trees on every lookup without a mask (no bit-vector index,
// which the sets above get), and an index whose rows stop at a byte limit.
TEST(ClassifierV2, MatchesLinearTreesOnly) {
  ClassifierV2Config cfg = sync_cfg();
  cfg.bits_max_rules = 0;
  for (uint32_t seed = 41; seed <= 43; ++seed) run_differential(seed, true, 300, 2000, cfg);
  cfg = sync_cfg();
  cfg.bits_max_bytes = 4096;
  for (uint32_t seed = 44; seed <= 45; ++seed) run_differential(seed, true, 300, 2000, cfg);
}

// The trees alone while their rules go one by one and nothing is
// recompiled: every removal is read from the forest's slots, and a leaf
// whose best rank (kept on its node) cannot beat the answer in hand is
// passed without its entries; each lookup, single and batched, against
// the linear reference.
TEST(ClassifierV2, TreesAnswerWhileTheirRulesGoWithoutACompile) {
  for (uint32_t seed = 51; seed <= 53; ++seed) {
    RuleGen g(seed, true);
    ClassifierV2Config cfg = sync_cfg();
    cfg.bits_max_rules = 0;
    cfg.bits_sparse_max_rules = 0;
    ClassifierV2<int> c(cfg);
    RangeLinear ref;
    std::vector<RandomRule> pool;
    for (int i = 0; i < 400; ++i) {
      pool.push_back(g.rule());
      size_t before = ref.rules.size();
      ref.insert(pool.back(), i);
      ASSERT_EQ(c.insert(pool.back().match, pool.back().priority, i, pool.back().ranges),
                ref.rules.size() == before);
    }
    c.compile_now();
    uint64_t compiles = c.compiles();
    ASSERT_EQ(c.delta_size(), 0u);
    std::vector<uint32_t> order(pool.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    for (uint32_t i = static_cast<uint32_t>(order.size()); i > 1; --i)
      std::swap(order[i - 1], order[g.pick(i)]);
    for (uint32_t n = 0; n < order.size(); ++n) {
      const RandomRule& gone = pool[order[n]];
      ASSERT_EQ(c.remove(gone.match, gone.priority, gone.ranges), ref.remove(gone));
      FlowKey keys[8];
      for (auto& k : keys) k = g.key_near(pool[g.pick(static_cast<uint32_t>(pool.size()))]);
      keys[0] = g.key_near(gone);  // the key its removal should change
      const ClassifierV2<int>::Rule* batch[8];
      c.lookup_batch(std::span<const FlowKey>(keys, 8), batch);
      for (int k = 0; k < 8; ++k) {
        const auto* want = ref.lookup(keys[k]);
        const auto* got = c.lookup(keys[k]);
        ASSERT_EQ(got ? got->value : -1, want ? want->id : -1) << "seed " << seed << " n " << n;
        ASSERT_EQ(batch[k], got);
      }
    }
    EXPECT_EQ(c.compiles(), compiles);  // every answer above came from that one forest
    EXPECT_EQ(c.size(), ref.rules.size());
  }
}

TEST(ClassifierV2, MatchesLinearWithBackgroundCompiles) {
  ClassifierV2Config cfg;
  cfg.compile_min = 8;
  for (uint32_t seed = 31; seed <= 33; ++seed) run_differential(seed, true, 300, 3000, cfg);
}

TEST(ClassifierV2, SameApiAsLinearClassifier) {
  RuleGen g(99, false);
  ClassifierV2<int> c(sync_cfg());
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

TEST(ClassifierV2, ReplaceKeepsPlaceAcrossCompiles) {
  ClassifierV2<int> c(sync_cfg());
  FlowKey k;
  Match any(FlowKey{}, FlowKey{});
  c.insert(any, 5, 1);
  FlowKey m;
  m.nw_src = Be32{~0u};
  c.insert(Match(k, m), 5, 2);  // same priority, later: loses to the first
  c.compile_now();
  EXPECT_EQ(c.lookup(k)->value, 1);
  EXPECT_TRUE(c.insert(any, 5, 3));  // replaced in the delta, keeps its place
  EXPECT_EQ(c.lookup(k)->value, 3);
  c.compile_now();
  EXPECT_EQ(c.lookup(k)->value, 3);
  EXPECT_TRUE(c.remove(any, 5));
  EXPECT_EQ(c.lookup(k)->value, 2);
  c.compile_now();
  EXPECT_EQ(c.lookup(k)->value, 2);
  EXPECT_EQ(c.size(), 1u);
}

TEST(ClassifierV2, ReadersSeeOnlyRuleSetsThatExisted) {
  // Generation rules g = 1, 2, ... all match `key`, with priority g; the
  // writer inserts g + 1 before removing g, so every version has one and a
  // reader's answers never go back.  Filler rules keep background compiles
  // running (low compile_min) meanwhile.
  ClassifierV2Config cfg;
  cfg.compile_min = 4;
  ClassifierV2<int> c(cfg);
  RuleGen g(7);
  FlowKey key;
  key.nw_src = Be32{0x0a000001};
  FlowKey mm;
  mm.nw_src = Be32{~0u};
  Match gen(key, mm);
  c.insert(gen, 1, 1);
  std::vector<RandomRule> filler;
  for (int i = 0; i < 500; ++i) {
    filler.push_back(g.rule());
    c.insert(filler.back().match, filler.back().priority - 1000, 0, filler.back().ranges);
  }
  std::atomic<bool> stop{false};
  std::atomic<long> seen{0}, bad{0};
  auto reader = [&](bool batch) {
    int last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      rcu::ReadGuard guard;  // keeps the returned rule alive while it is read
      FlowMask wc{};
      const ClassifierV2<int>::Rule* r;
      if (batch)
        c.lookup_batch(std::span<const FlowKey>(&key, 1), &r);
      else
        r = c.lookup(key, seen % 2 ? &wc : nullptr);
      if (!r || r->value < last) bad.fetch_add(1);
      if (r) last = r->value;
      seen.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread r1(reader, false), r2(reader, true);
  // At least 4,000 generations, and on until the readers have made
  // progress and a compile has landed (the writer alone can finish first).
  int gnum = 1;
  auto more = [&] { return seen.load() < 200 || c.compiles() == 0; };
  for (; gnum < 4000 || (gnum < 1'000'000 && more()); ++gnum) {
    c.insert(gen, gnum + 1, gnum + 1);
    c.remove(gen, gnum);
    auto& f = filler[size_t(gnum) % filler.size()];
    c.remove(f.match, f.priority - 1000, f.ranges);
    c.insert(f.match, f.priority - 1000, 0, f.ranges);
  }
  stop = true;
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(seen.load(), 0);
  EXPECT_GT(c.compiles(), 0u);
  c.compile_now();
  EXPECT_EQ(c.lookup(key)->value, gnum);
}

TEST(ClassifierV2, ChurnedRuleKeepsOneDeadCopyInTheDelta) {
  // Without compiles, a rule replaced 1,000 times would leave 999 dead
  // copies in its delta bucket; an insert leaves quiesced ones out.
  ClassifierV2Config cfg;
  cfg.background = false;
  cfg.compile_min = ~0u;
  ClassifierV2<int> c(cfg);
  RuleGen g(11);
  RandomRule r = g.rule();
  for (int i = 0; i < 1000; ++i) c.insert(r.match, r.priority, i, r.ranges);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_LT(c.delta_size(), 100u);
  FlowKey k = r.match.value;
  if (const auto* hit = c.lookup(k)) {  // k may fall outside the rule's port ranges
    EXPECT_EQ(hit->value, 999);
  }
}

TEST(ClassifierV2, RemovedRulesLeaveTheDeltaWhenTheyQuiesce) {
  // 40 rules in one bucket key (same match, distinct priorities) are
  // removed and nothing is inserted there again: their dead copies must
  // still leave the delta once quiesced (swept by the grace runs that the
  // inserts of 2,000 other rules drive), not stay until a compile.  No
  // compiles: every live rule is in the delta, so delta_size() - size()
  // counts the dead copies left.
  ClassifierV2Config cfg;
  cfg.background = false;
  cfg.compile_min = ~0u;
  ClassifierV2<int> c(cfg);
  FlowKey k;
  k.nw_dst = Be32{0xcb007101u};  // 203.0.113.1
  FlowMask mm;
  mm.nw_dst = Be32{~0u};
  Match m(k, mm);
  for (int p = 0; p < 40; ++p) c.insert(m, p, p);
  for (int p = 0; p < 40; ++p) c.remove(m, p);
  FlowMask mm2;
  mm2.nw_src = Be32{~0u};
  for (uint32_t i = 0; i < 2000; ++i) {
    FlowKey k2;
    k2.nw_src = Be32{0xc6336400u + i};  // from 198.51.100.0 up
    c.insert(Match(k2, mm2), 1, int(i));
  }
  EXPECT_EQ(c.size(), 2000u);
  EXPECT_EQ(c.delta_size(), c.size()) << "dead copies left in the delta";
  EXPECT_EQ(c.lookup(k), nullptr);
}

/// A value counting its live copies: a rule's value lives as long as the
/// rule, so this counts the rules the classifier has not freed.
struct Counted {
  static inline int live = 0;
  int v;
  explicit Counted(int x) : v(x) { ++live; }
  Counted(const Counted& o) : v(o.v) { ++live; }
  Counted(Counted&& o) noexcept : v(o.v) { ++live; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) noexcept = default;
  ~Counted() { --live; }
};

TEST(ClassifierV2, RemovedRulesAreFreedAFewGraceRunsLater) {
  // Under churn without compiles, a removed rule must be freed a few grace
  // runs after it quiesces, not held until its limbo reached 1,000+ rules
  // (then thousands were freed at once, past what the rule pool keeps, and
  // the inserts that followed all went to malloc).
  ClassifierV2Config cfg;
  cfg.background = false;
  cfg.compile_min = ~0u;
  int peak = 0;
  {
    ClassifierV2<Counted> c(cfg);
    FlowMask mm;
    mm.nw_src = Be32{~0u};
    auto match = [&](uint32_t i) {
      FlowKey k;
      k.nw_src = Be32{0xc0000200u + i};  // 192.0.2.0/24
      return Match(k, mm);
    };
    for (uint32_t i = 0; i < 100; ++i) c.insert(match(i), 1, Counted(int(i)));
    for (uint32_t n = 0; n < 3000; ++n) {
      uint32_t i = n % 100;
      ASSERT_TRUE(c.remove(match(i), 1));
      c.insert(match(i), 1, Counted(int(n)));
      peak = std::max(peak, Counted::live);
    }
    EXPECT_EQ(c.size(), 100u);
    FlowKey k;
    k.nw_src = Be32{0xc0000200u + 7};
    ASSERT_NE(c.lookup(k), nullptr);
    EXPECT_EQ(c.lookup(k)->value.v, 2907);
  }
  EXPECT_LT(peak, 100 + 256) << "removed rules held back";
  EXPECT_EQ(Counted::live, 0);
}

TEST(ClassifierV2, ReplacedRulesNeverVanishAcrossGenerations) {
  // Rules at distinct addresses are replaced over and over (a replace is
  // atomic: every version holds each of them) while background compiles
  // seal and drop delta generations; readers must always find each rule,
  // with a value that never goes back.
  ClassifierV2Config cfg;
  cfg.compile_min = 8;
  cfg.compile_pause = 0;
  ClassifierV2<int> c(cfg);
  constexpr int kRules = 64;
  std::vector<Match> ms;
  FlowMask mm;
  mm.nw_dst = Be32{~0u};
  for (int i = 0; i < kRules; ++i) {
    FlowKey k;
    k.nw_dst = Be32{0xc6336400u + uint32_t(i)};  // 198.51.100.i
    ms.emplace_back(k, mm);
    c.insert(ms.back(), 10 + i, 0);
  }
  std::atomic<bool> stop{false};
  std::atomic<long> seen{0}, bad{0};
  std::thread reader([&] {
    std::vector<int> last(kRules, 0);
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < kRules; ++i) {
        rcu::ReadGuard guard;  // keeps the returned rule alive while read
        const auto* r = c.lookup(ms[size_t(i)].value);
        if (!r || r->value < last[size_t(i)]) {
          bad.fetch_add(1);
          continue;
        }
        last[size_t(i)] = r->value;
      }
      seen.fetch_add(1, std::memory_order_relaxed);
    }
  });
  // Until the reader has made 200 passes over several compiles (progress,
  // not time: the writer alone would finish before the reader starts).
  int round = 0;
  while (++round < 1'000'000 && (seen.load() < 200 || c.compiles() < 4))
    for (int i = 0; i < kRules; ++i) c.insert(ms[size_t(i)], 10 + i, round);
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(seen.load(), 0);
  EXPECT_GE(c.compiles(), 4u);
  c.compile_now();
  EXPECT_EQ(c.delta_size(), 0u);
  for (int i = 0; i < kRules; ++i) EXPECT_EQ(c.lookup(ms[size_t(i)].value)->value, round - 1);
}

}  // namespace classifier_v2_test
}  // namespace flowpath
