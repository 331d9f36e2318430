// SplitForest internals: the wide node's path table against the three
// dependent tests it replaces, and the lookup cost counters against the
// shape of the forest they describe.
#include "flowpath/classify/split_forest.hpp"

#include <gtest/gtest.h>

#include "flowpath/classify/classifier_v2.hpp"
#include "support/classify_random.hpp"

namespace flowpath {
namespace split_forest_test {

TEST(SplitForest, WidePathIsTheThreeLevelWalk) {
  for (uint32_t bits = 0; bits < 128; ++bits) {
    auto test = [&](uint32_t j) { return (bits >> j) & 1; };  // test j said x >= t
    uint32_t p = test(0);
    p = 2 * p + test(1 + p);
    p = 2 * p + test(3 + p);
    EXPECT_EQ(classify_detail::kWidePath[bits], p) << "bits " << bits;
  }
}

TEST(SplitForest, CostCountersDescribeTheLookup) {
  testing::RuleGen g(7, true);
  ClassifierV2<int> c;
  std::vector<testing::RandomRule> pool;
  for (int i = 0; i < 500; ++i) {
    pool.push_back(g.rule());
    c.insert(pool.back().match, pool.back().priority, i, pool.back().ranges);
  }
  c.compile_now();
  const auto* f = c.forest();
  ASSERT_NE(f, nullptr);
  size_t total_entries = f->stats().entries, hits = 0;
  for (int i = 0; i < 2000; ++i) {
    FlowKey key = g.key_near(pool[g.pick(static_cast<uint32_t>(pool.size()))]);
    auto cost = f->lookup_cost(key, classify_detail::kNeverRemoved - 1);
    auto [nodes, ents] = f->path_cost(key);  // every tree, no early exit
    EXPECT_EQ(cost.trees, f->n_trees());     // nothing beats a tree before the first
    EXPECT_EQ(cost.nodes, nodes);
    EXPECT_LE(cost.entries, ents);
    EXPECT_LE(cost.entries, total_entries);
    hits += c.lookup(key) != nullptr;
  }
  EXPECT_GT(hits, 0u);
}

}  // namespace split_forest_test
}  // namespace flowpath
