// SplitForest internals: the wide node's path table against the three
// dependent tests it replaces, and the lookup cost counters against the
// shape of the forest they describe.
#include "flowpath/classify/split_forest.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <numeric>

#include "flowpath/classify/cache_size.hpp"
#include "flowpath/classify/classifier_v2.hpp"
#include "flowpath/classify/huge_pages.hpp"
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
  ClassifierV2Config cfg;
  cfg.first_tree_alone = 0;  // every tree in lock step (alone: the test after next)
  ClassifierV2<int> c(cfg);
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

// A tree's key extraction (one widened load and shift per dimension, no
// test per dimension) gives each dimension's big-endian value and 0 for
// the eight lanes past the tree's dimensions, whatever the key's first
// bytes (the unused lanes read offset 0).
TEST(SplitForest, ExtractReadsEachDimensionAndZeroesTheRest) {
  testing::RuleGen g(11, true);
  ClassifierV2<int> c;
  std::vector<testing::RandomRule> pool;
  for (int i = 0; i < 400; ++i) {
    testing::RandomRule r = g.rule();  // to a 5-tuple rule: trees of fewer than 8 dimensions
    FlowKey v = r.match.value, m = r.match.mask;
    m.in_port = 0;
    m.dl_dst = {};
    m.vlans[0].tci = Be16{0};
    m.ipv6_src = {};
    m.nw_tos = 0;
    r.match = Match(v, m);
    pool.push_back(r);
    c.insert(r.match, r.priority, i, r.ranges);
  }
  c.compile_now();
  const auto* f = c.forest();
  ASSERT_NE(f, nullptr);
  size_t narrow = 0;  // trees with lanes past their dimensions
  for (size_t t = 0; t < f->n_trees(); ++t)
    narrow += f->tree(t).n_dims < classify_detail::kSplitMaxDims;
  ASSERT_GT(narrow, 0u);
  for (int i = 0; i < 2000; ++i) {
    FlowKey key = g.key_near(pool[g.pick(static_cast<uint32_t>(pool.size()))]);
    uint8_t* kb = reinterpret_cast<uint8_t*>(&key);
    for (int b = 0; b < 4; ++b) kb[b] = static_cast<uint8_t>(0x5a + 37 * i + b);
    for (size_t t = 0; t < f->n_trees(); ++t) {
      const classify_detail::SplitTree& tree = f->tree(t);
      uint32_t x[classify_detail::kSplitMaxDims];
      std::fill(std::begin(x), std::end(x), 0xa5a5a5a5u);
      tree.extract(key, x);
      for (uint32_t d = 0; d < classify_detail::kSplitMaxDims; ++d)
        EXPECT_EQ(x[d], d < tree.n_dims ? classify_detail::dim_read(kb, tree.dims[d]) : 0u)
            << "tree " << t << " dimension " << d << " of " << tree.n_dims;
    }
  }
}

// Deep trees answer every lookup: no bit index, two rules per leaf,
// compiles in the caller's thread.
ClassifierV2Config deep_trees_only() {
  ClassifierV2Config cfg;
  cfg.background = false;
  cfg.leaf_size = 2;
  cfg.bits_max_rules = 0;
  cfg.bits_sparse_max_rules = 0;
  return cfg;
}

// Deep trees over random rules (leaves of at most 2 rules) meet leaves
// at the first and second levels of their wide nodes: each is stored once
// (no copy per path), every node is reached from the roots, many leaves
// are direct (their entries placed by their parent, where the walk
// without a mask stops), and lookups (single from direct leaves and leaf
// nodes, batched and with a mask from leaf nodes) agree with the linear
// reference while rules come and go across compiles.
TEST(SplitForest, LeavesMetEarlyAreStoredOnce) {
  ClassifierV2Config cfg = deep_trees_only();
  cfg.compile_min = 16;
  cfg.compile_fraction = 4;
  for (uint32_t seed = 61; seed <= 63; ++seed) {
    testing::RuleGen g(seed, true);
    ClassifierV2<int> c(cfg);
    testing::RangeLinear ref;
    std::vector<testing::RandomRule> pool;
    for (int i = 0; i < 400; ++i) {
      pool.push_back(g.rule());
      ref.insert(pool.back(), i);
      c.insert(pool.back().match, pool.back().priority, i, pool.back().ranges);
    }
    int next_id = 400;
    for (int round = 0; round < 4; ++round) {
      c.compile_now();
      const auto* f = c.forest();
      ASSERT_NE(f, nullptr);
      auto st = f->stats();
      EXPECT_GT(st.shared_paths, 0u) << "seed " << seed;  // leaves met early exist
      EXPECT_GT(st.direct, 0u) << "seed " << seed;  // walks that stop at a leaf's parent exist
      EXPECT_EQ(st.reached, st.nodes) << "seed " << seed;  // no node unreachable
      EXPECT_EQ(st.nodes, f->n_trees() + 8 * st.inner - st.shared_paths)
          << "seed " << seed;  // each node the child of one parent's paths
      for (int k = 0; k < 300; ++k) {
        FlowKey keys[8];
        for (auto& key : keys) key = g.key_near(pool[g.pick(static_cast<uint32_t>(pool.size()))]);
        const ClassifierV2<int>::Rule* batch[8];
        c.lookup_batch(std::span<const FlowKey>(keys, 8), batch);
        for (int j = 0; j < 8; ++j) {
          const auto* want = ref.lookup(keys[j]);
          FlowMask wc{};
          const auto* got = c.lookup(keys[j]);
          ASSERT_EQ(got ? got->value : -1, want ? want->id : -1) << "seed " << seed;
          ASSERT_EQ(batch[j], got);
          ASSERT_EQ(c.lookup(keys[j], &wc), got);
        }
        const testing::RandomRule& r = pool[g.pick(static_cast<uint32_t>(pool.size()))];
        if (g.coin(2)) {
          ASSERT_EQ(c.remove(r.match, r.priority, r.ranges), ref.remove(r));
        } else {
          testing::RandomRule n = g.rule();
          pool.push_back(n);
          size_t before = ref.rules.size();
          ref.insert(n, next_id);
          ASSERT_EQ(c.insert(n.match, n.priority, next_id++, n.ranges), ref.rules.size() == before);
        }
      }
    }
  }
}

// lookup() walks the forest's trees in lock step with the number of
// trees a constant (one walk per count, 1 to 3), and a walk that stopped
// steps on with the others until all stopped.  Forests of one, two and
// three trees (the subsets: no address prefix, a destination prefix, a
// source prefix), trees of every depth (leaf_size 2), direct leaves:
// every answer is the reference's, and the cost counters still count only
// the steps of walks that had not stopped (path_cost, a plain walk of
// each tree).
void lock_step_walks(int alone);

// With first_tree_alone 0 every tree walks in lock step (the cost
// counters say every tree, every node of path_cost); with 1 the first tree
// goes alone and the rest only when they can beat its answer (fewer trees
// for some keys, never more).  Both answer as the reference.
TEST(SplitForest, LockStepWalksOfOneTwoAndThreeTreesAnswerAsTheReference) {
  for (int alone : {0, 1}) {
    SCOPED_TRACE(alone ? "first tree alone" : "all in lock step");
    lock_step_walks(alone);
  }
}

void lock_step_walks(int alone) {
  ClassifierV2Config cfg = deep_trees_only();
  cfg.first_tree_alone = alone;
  auto no_src = [](const testing::RandomRule& r) { return r.match.mask.nw_src.host() == 0; };
  auto no_addr = [&](const testing::RandomRule& r) {
    return no_src(r) && r.match.mask.nw_dst.host() == 0;
  };
  for (size_t want_trees = 1; want_trees <= 3; ++want_trees) {
    testing::RuleGen g(90 + static_cast<uint32_t>(want_trees), true);
    ClassifierV2<int> c(cfg);
    testing::RangeLinear ref;
    std::vector<testing::RandomRule> pool;
    for (int i = 0; pool.size() < 300 && i < 100000; ++i) {
      testing::RandomRule r = g.rule();
      if ((want_trees == 1 && !no_addr(r)) || (want_trees == 2 && !no_src(r))) continue;
      ref.insert(r, static_cast<int>(pool.size()));
      c.insert(r.match, r.priority, static_cast<int>(pool.size()), r.ranges);
      pool.push_back(r);
    }
    c.compile_now();
    const auto* f = c.forest();
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(f->n_trees(), want_trees);
    EXPECT_GT(f->stats().max_depth, 1u) << want_trees << " trees";
    ASSERT_EQ(f->first_tree_alone(), alone == 1);
    size_t hits = 0, fewer = 0;
    for (int k = 0; k < 3000; ++k) {
      FlowKey key = g.key_near(pool[g.pick(static_cast<uint32_t>(pool.size()))]);
      const auto* want = ref.lookup(key);
      const auto* got = c.lookup(key);
      ASSERT_EQ(got ? got->value : -1, want ? want->id : -1) << want_trees << " trees";
      hits += got != nullptr;
      auto cost = f->lookup_cost(key, classify_detail::kNeverRemoved - 1);
      if (!alone) {
        EXPECT_EQ(cost.trees, want_trees);
        EXPECT_EQ(cost.nodes, f->path_cost(key).first) << want_trees << " trees";
      }
      EXPECT_LE(cost.trees, want_trees);
      EXPECT_LE(cost.nodes, f->path_cost(key).first) << want_trees << " trees";
      fewer += cost.trees < want_trees;
    }
    EXPECT_GT(hits, 1000u) << want_trees << " trees";
    if (alone && want_trees > 1) EXPECT_GT(fewer, 0u) << want_trees << " trees";
  }
}

// The default (-1) walks the first tree alone when keys sampled inside the
// rules mostly get their answer there.  Small-source rules (the first
// subset) with /24 sources, the wildcard rules (the last subset) over one
// destination port each: the tree with the best rule goes first, and the
// choice follows whether the other tree's rules rank above or below.
TEST(SplitForest, FirstTreeGoesAloneWhenSampledKeysGetTheirAnswerThere) {
  for (bool small_first : {true, false}) {
    ClassifierV2Config cfg = deep_trees_only();
    ClassifierV2<int> c(cfg);
    testing::RangeLinear ref;
    int id = 0;
    auto add = [&](const FlowKey& v, const FlowMask& m, int32_t priority) {
      testing::RandomRule r{Match(v, m), priority, PortRanges{}};
      ref.insert(r, id);
      c.insert(r.match, priority, id++, r.ranges);
    };
    for (uint32_t i = 0; i < 400; ++i) {  // 400 disjoint /24 sources
      FlowKey v;
      FlowMask m;
      v.nw_src = Be32{0x0a000000u + (i << 8)}, m.nw_src = Be32{0xffffff00u};
      add(v, m, small_first ? 1000 : 10);
    }
    for (uint16_t i = 0; i < 8; ++i) {  // any source, one destination port
      FlowKey v;
      FlowMask m;
      v.tp_dst = Be16{static_cast<uint16_t>(1000 + i)}, m.tp_dst = Be16{0xffff};
      add(v, m, small_first ? 10 : 1000);
    }
    c.compile_now();
    const auto* f = c.forest();
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(f->n_trees(), 2u);
    // Keys inside the /24 rules: their tree answers them, so it goes alone
    // when it ranks first; ranked second, the port rules' tree first
    // answers none of those keys and both trees walk in lock step.
    EXPECT_EQ(f->first_tree_alone(), small_first) << small_first;
    uint64_t seed = 7;
    for (int k = 0; k < 2000; ++k) {
      const auto& r = ref.rules[static_cast<size_t>(k) % ref.rules.size()].r;
      FlowKey key = classify_detail::key_inside(r.match, r.ranges, &seed);
      ASSERT_TRUE(r.match.matches(key));
      const auto* want = ref.lookup(key);
      const auto* got = c.lookup(key);
      ASSERT_EQ(got ? got->value : -1, want ? want->id : -1) << small_first;
    }
  }
}

// Over a set big enough for sparse parts (more than 4096 rules) whose
// trees fit in SplitForestConfig::batch_trees_max_bytes, single lookups
// ask the bit-vector parts and batches walk the trees in lock step
// (SplitForest::lookup_batch): both answer as the reference.
TEST(SplitForest, BatchesOverSparsePartsAnswerAsSingleLookups) {
  for (size_t max_bytes : {size_t{0}, size_t{1} << 30}) {  // the parts, then the trees
    testing::RuleGen g(73, true);
    ClassifierV2Config cfg;
    cfg.background = false;
    cfg.batch_trees_max_bytes = max_bytes;
    ClassifierV2<int> c(cfg);
    testing::RangeLinear ref;
    std::vector<testing::RandomRule> pool;
    for (int i = 0; i < 5000; ++i) {
      pool.push_back(g.rule());
      ref.insert(pool.back(), i);
      c.insert(pool.back().match, pool.back().priority, i, pool.back().ranges);
    }
    c.compile_now();
    const auto* f = c.forest();
    ASSERT_NE(f, nullptr);
    ASSERT_NE(f->bits(), nullptr);
    ASSERT_EQ(f->bits()->whole(), nullptr);  // parts, not the one dense index
    ASSERT_EQ(f->batches_walk_trees(), max_bytes != 0);
    for (int k = 0; k < 60; ++k) {
      FlowKey keys[32];
      for (auto& key : keys) key = g.key_near(pool[g.pick(static_cast<uint32_t>(pool.size()))]);
      const ClassifierV2<int>::Rule* batch[32];
      c.lookup_batch(std::span<const FlowKey>(keys, 32), batch);
      for (int j = 0; j < 32; ++j) {
        const auto* want = ref.lookup(keys[j]);
        const auto* got = c.lookup(keys[j]);
        ASSERT_EQ(got ? got->value : -1, want ? want->id : -1) << "batch " << k << " key " << j;
        ASSERT_EQ(batch[j], got) << max_bytes << " batch " << k << " key " << j;
      }
    }
  }
}

// The batches' size limit defaults to kBatchTreesPerL2 times the L2's
// size as sysconf reports it, the fallback's when the system reports none
// (0 or -1).
TEST(SplitForest, BatchTreesLimitDefaultsToTheReportedL2) {
  using classify_detail::cache_bytes_or;
  EXPECT_EQ(cache_bytes_or(2 << 20, 7), size_t{2} << 20);
  EXPECT_EQ(cache_bytes_or(0, 7), 7u);
  EXPECT_EQ(cache_bytes_or(-1, 7), 7u);
  size_t want = classify_detail::kL2Fallback;
#ifdef _SC_LEVEL2_CACHE_SIZE
  if (long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE); l2 > 0) want = static_cast<size_t>(l2);
#endif
  EXPECT_EQ(classify_detail::l2_cache_bytes(), want);
  want *= classify_detail::kBatchTreesPerL2;
  EXPECT_EQ(ClassifierV2Config{}.batch_trees_max_bytes, want);
  EXPECT_EQ(classify_detail::SplitForestConfig{}.batch_trees_max_bytes, want);
}

bool huge_aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % classify_detail::kHugePage == 0;
}
// A madvise that refuses, as a kernel without THP (or an old one) would.
int refuse_madvise(void*, size_t, int) {
  errno = EINVAL;
  return -1;
}
// Fills a HugeVector past kHugeMin by push_back (growth copies through
// several mappings), then copies and moves it; contents must survive each.
void check_huge_vector() {
  using classify_detail::HugeVector;
  const uint32_t n = 3 * (classify_detail::kHugeMin / 4) + 123;  // ~3 MB of uint32_t
  HugeVector<uint32_t> v;
  for (uint32_t i = 0; i < n; ++i) v.push_back(i * 2654435761u);
  ASSERT_EQ(v.size(), n);
  EXPECT_TRUE(huge_aligned(v.data()));
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(v[i], i * 2654435761u) << "index " << i;
  HugeVector<uint32_t> c = v;  // copy: its own mapping, same contents
  EXPECT_NE(c.data(), v.data());
  EXPECT_TRUE(huge_aligned(c.data()));
  EXPECT_EQ(c, v);
  const uint32_t* before = v.data();
  HugeVector<uint32_t> m = std::move(v);  // move: the same storage
  EXPECT_EQ(m.data(), before);
  EXPECT_EQ(m, c);
  m.resize(n / 3);  // shrink_to_fit reallocates below kHugeMin: operator new
  m.shrink_to_fit();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.data()) % 64, 0u);
  for (uint32_t i = 0; i < n / 3; ++i) ASSERT_EQ(m[i], c[i]) << "index " << i;
  classify_detail::HugeVector<uint8_t> small(100, 7);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data()) % 64, 0u);
}

TEST(HugePages, VectorAlignsAndKeepsContents) {
  const auto& hc = classify_detail::huge_counts;
  size_t asked = hc.advised.load() + hc.refused.load();  // refused: a kernel without THP
  size_t live = hc.live.load();
  check_huge_vector();
  EXPECT_GT(hc.advised.load() + hc.refused.load(), asked);  // the big ones were mapped
  EXPECT_EQ(hc.live.load(), live);                          // every mapping unmapped
}

TEST(HugePages, RefusedAdviceFallsBackToSmallPages) {
  auto* saved = classify_detail::huge_madvise;
  classify_detail::huge_madvise = refuse_madvise;
  size_t refused = classify_detail::huge_counts.refused.load();
  size_t advised = classify_detail::huge_counts.advised.load();
  check_huge_vector();
  auto slots =
      classify_detail::huge_array<std::atomic<uint64_t>>(classify_detail::kHugeMin / 8 + 1);
  EXPECT_TRUE(huge_aligned(slots.get()));
  for (size_t i = 0; i < classify_detail::kHugeMin / 8 + 1; ++i) ASSERT_EQ(slots[i].load(), 0u);
  classify_detail::huge_madvise = saved;
  EXPECT_GT(classify_detail::huge_counts.refused.load(), refused);
  EXPECT_EQ(classify_detail::huge_counts.advised.load(), advised);
}

TEST(HugePages, LengthRoundsUpOnlyAMostlyFullLastHugePage) {
  using classify_detail::huge_length;
  constexpr size_t k2 = classify_detail::kHugePage;
  EXPECT_EQ(huge_length(k2 / 2), k2);                        // half a huge page: one huge page
  EXPECT_EQ(huge_length(k2 + 1), k2 + 4096);                 // a byte over: a 4 KiB tail
  EXPECT_EQ(huge_length(2 * k2 - 1), 2 * k2);                // nearly two: two
  EXPECT_EQ(huge_length(3 * k2 + k2 / 4), 3 * k2 + k2 / 4);  // a quarter tail stays small pages
}

}  // namespace split_forest_test
}  // namespace flowpath
