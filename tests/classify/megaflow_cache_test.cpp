// Megaflow cache against a brute-force scan of the installed megaflows.
#include "flowpath/classify/megaflow_cache.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <random>

namespace flowpath {
namespace megaflow_cache_test {

template <class B>
class MegaflowCacheTest : public ::testing::Test {};
using Backends = ::testing::Types<simd::Scalar, simd::Highway, simd::Xsimd>;
TYPED_TEST_SUITE(MegaflowCacheTest, Backends);

FlowKey random_key(std::mt19937_64& rng) {
  FlowKey k;
  for (size_t w = 0; w < FlowKey::kWords; ++w) k.words()[w] = rng() % 4;  // small pools: overlaps
  return k;
}
// A mask touching 1..15 words (covers every specialisation and the
// generic fallback).
FlowMask random_mask(std::mt19937_64& rng) {
  FlowMask m;
  size_t n = 1 + rng() % FlowKey::kWords;
  for (size_t j = 0; j < n; ++j) m.words()[rng() % FlowKey::kWords] = 3;
  return m;
}

TYPED_TEST(MegaflowCacheTest, BatchLookupAgreesWithBruteForce) {
  std::mt19937_64 rng(11);
  MegaflowCache<TypeParam> cache(MegaflowConfig{.resort_interval = 7});
  std::vector<FlowMask> masks;
  for (int i = 0; i < 12; ++i) masks.push_back(random_mask(rng));
  std::vector<MegaflowEntry*> live;
  for (int round = 0; round < 300; ++round) {
    FlowKey k = random_key(rng);
    const FlowMask& m = masks[rng() % masks.size()];
    InstallStatus st;
    MegaflowEntry* e = cache.install(k, m, {DpAction::output(uint32_t(round))}, {}, &st);
    ASSERT_NE(e, nullptr);
    if (st == InstallStatus::kInstalled) live.push_back(e);
    if (round % 5 == 4 && !live.empty()) {  // churn
      size_t victim = rng() % live.size();
      cache.remove(live[victim]);
      live.erase(live.begin() + long(victim));
    }
    FlowKey keys[32];
    MegaflowEntry* out[32] = {};
    for (auto& key : keys) key = random_key(rng);
    uint32_t found = cache.lookup_batch(keys, 0xffffffffu, out);
    for (int i = 0; i < 32; ++i) {
      bool any = false;
      for (MegaflowEntry* x : live) any |= x->match.matches(keys[i]);
      ASSERT_EQ(bool(found >> i & 1), any) << "round " << round << " key " << i;
      if (any) {
        EXPECT_TRUE(out[i]->match.matches(keys[i]));
      }
    }
  }
  EXPECT_EQ(cache.size(), live.size());
  EXPECT_GT(cache.counters().resorts, 0u);
}

TYPED_TEST(MegaflowCacheTest, LimitsRefuseAndCount) {
  MegaflowCache<TypeParam> cache(MegaflowConfig{.max_flows = 3, .max_subtables = 2});
  FlowMask a, b, c;
  a.in_port = 0xffffffffu;
  b.nw_src = Be32(0xffffffffu);
  c.tp_dst = Be16(0xffff);
  FlowKey k;
  InstallStatus st;
  k.in_port = 1;
  EXPECT_NE(cache.install(k, a, {}, {}, &st), nullptr);
  EXPECT_EQ(cache.install(k, a, {}, {}, &st), cache.lookup(k));
  EXPECT_EQ(st, InstallStatus::kExists);
  k.nw_src = Be32(1);
  EXPECT_NE(cache.install(k, b, {}, {}, &st), nullptr);
  EXPECT_EQ(cache.install(k, c, {}, {}, &st), nullptr);
  EXPECT_EQ(st, InstallStatus::kSubtableLimit);
  k.in_port = 2;
  EXPECT_NE(cache.install(k, a, {}, {}, &st), nullptr);
  k.in_port = 3;
  EXPECT_EQ(cache.install(k, a, {}, {}, &st), nullptr);
  EXPECT_EQ(st, InstallStatus::kFlowLimit);
  EXPECT_EQ(cache.counters().install_refused_flow_limit, 1u);
  EXPECT_EQ(cache.counters().install_refused_subtable_limit, 1u);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.n_subtables(), 2u);
}

TYPED_TEST(MegaflowCacheTest, RemovalKillsPointersAndEmptySubtables) {
  MegaflowCache<TypeParam> cache;
  FlowMask m;
  m.in_port = 0xffffffffu;
  FlowKey k;
  k.in_port = 7;
  MegaflowEntry* e = cache.install(k, m, {DpAction::output(1)}, {});
  uint32_t serial = e->serial;
  EXPECT_TRUE(e->alive(serial));
  cache.remove(e);
  EXPECT_FALSE(e->alive(serial));
  EXPECT_EQ(cache.lookup(k), nullptr);
  EXPECT_EQ(cache.n_subtables(), 0u);
  MegaflowEntry* again = cache.install(k, m, {DpAction::output(2)}, {});
  EXPECT_FALSE(again->alive(serial)) << "a recycled entry must not look alive to old holders";
}

TYPED_TEST(MegaflowCacheTest, RankingPutsTheBusiestSubtableFirst) {
  MegaflowCache<TypeParam> cache;
  FlowMask a, b;
  a.in_port = 0xffffffffu;
  b.tp_dst = Be16(0xffff);
  FlowKey ka, kb;
  ka.in_port = 1;
  kb.tp_dst = Be16(80);
  kb.in_port = 99;
  cache.install(ka, a, {}, {});
  cache.install(kb, b, {}, {});
  for (int i = 0; i < 100; ++i) cache.lookup(kb);
  cache.resort();
  EXPECT_EQ(cache.subtables()[0]->mask(), b);
  uint64_t probes = 0;
  MegaflowEntry* out[1];
  cache.lookup_batch(&kb, 1u, out, &probes);
  EXPECT_EQ(probes, 1u);
}

// The pre-filter (bits all masks share) must never hide a match: masks
// that share in_port + dl_type + part of nw_src, added one at a time (the
// shared bits narrow as they come), heavy churn (filter rebuilds), and
// every key that should hit checked against brute force.
TYPED_TEST(MegaflowCacheTest, PreFilterNeverHidesAMatch) {
  std::mt19937_64 rng(5);
  MegaflowCache<TypeParam> cache;
  std::vector<MegaflowEntry*> live;
  std::vector<FlowKey> installed_keys;
  auto shaped_mask = [&](uint32_t shape) {
    FlowMask m;
    m.in_port = 0xffffffffu;
    m.dl_type = Be16(0xffff);
    m.nw_src = Be32(0xffffff00u << (shape % 3 * 4));  // narrows with new shapes
    if (shape & 1) m.tp_dst = Be16(0xffff);
    if (shape & 2) m.nw_dst = Be32(0xffffffffu);
    if (shape & 4) m.dl_src.b.fill(0xff);
    return m;
  };
  auto key_for = [&](uint32_t i) {
    FlowKey k;
    k.in_port = 1 + i % 3;
    k.dl_type = Be16(kEthTypeIpv4);
    k.nw_src = Be32(0x0a000000u + uint32_t(rng() % 4096));
    k.nw_dst = Be32(uint32_t(rng() % 64));
    k.tp_dst = Be16(uint16_t(rng() % 16));
    k.dl_src.b[5] = uint8_t(rng() % 8);
    return k;
  };
  for (uint32_t round = 0; round < 1200; ++round) {
    FlowKey k = key_for(round);
    InstallStatus st;
    MegaflowEntry* e = cache.install(k, shaped_mask(round / 150), {}, {}, &st);
    ASSERT_NE(e, nullptr);
    if (st == InstallStatus::kInstalled) live.push_back(e), installed_keys.push_back(k);
    if (round % 3 == 2 && live.size() > 8) {  // churn: triggers filter rebuilds
      size_t victim = rng() % live.size();
      cache.remove(live[victim]);
      live.erase(live.begin() + long(victim));
      installed_keys.erase(installed_keys.begin() + long(victim));
    }
    if (round % 10 != 0) continue;
    FlowKey keys[32];
    MegaflowEntry* out[32] = {};
    for (uint32_t i = 0; i < 32; ++i)  // half from installed flows: hits
      keys[i] = i % 2 && !installed_keys.empty() ? installed_keys[rng() % installed_keys.size()]
                                                 : key_for(i);
    uint64_t probes = 0;
    uint32_t found = cache.lookup_batch(keys, 0xffffffffu, out, &probes);
    for (int i = 0; i < 32; ++i) {
      bool any = false;
      for (MegaflowEntry* x : live) any |= x->match.matches(keys[i]);
      ASSERT_EQ(bool(found >> i & 1), any) << "round " << round << " key " << i;
      if (any) {
        EXPECT_TRUE(out[i]->match.matches(keys[i]));
      }
    }
    EXPECT_GE(probes, uint64_t(std::popcount(found)));
  }
  EXPECT_GT(cache.n_subtables(), 4u);
}

}  // namespace megaflow_cache_test
}  // namespace flowpath
