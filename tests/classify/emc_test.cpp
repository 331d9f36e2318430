// Exact-match cache: hits, dead megaflows never served, probability.
#include "flowpath/classify/emc.hpp"

#include <gtest/gtest.h>

#include "flowpath/classify/megaflow_cache.hpp"
#include "flowpath/simd/hash.hpp"

namespace flowpath {
namespace emc_test {

TEST(Emc, HitsOnlyTheExactKeyAndNeverADeadFlow) {
  MegaflowCache<simd::Scalar> mf;
  Emc emc(EmcConfig{.insert_inv_prob = 1});
  FlowMask m;
  m.in_port = 0xffffffffu;
  FlowKey k;
  k.in_port = 3;
  k.tp_dst = Be16(80);
  uint32_t h = simd::hash_words<simd::Scalar, FlowKey::kWords>(k.words(), 0);
  MegaflowEntry* e = mf.install(k, m, {DpAction::output(1)}, {});
  emc.maybe_insert(k, h, e);
  EXPECT_EQ(emc.lookup(k, h), e);
  FlowKey other = k;
  other.tp_dst = Be16(81);
  EXPECT_EQ(emc.lookup(other, h), nullptr) << "full-key compare";
  mf.remove(e);
  EXPECT_EQ(emc.lookup(k, h), nullptr) << "dead megaflow served from the EMC";
  MegaflowEntry* reused = mf.install(other, m, {DpAction::output(2)}, {});
  EXPECT_EQ(reused, e) << "test expects the pooled entry to be recycled";
  EXPECT_EQ(emc.lookup(k, h), nullptr) << "recycled entry served to the old key";
}

TEST(Emc, InsertionProbabilityIsRoughlyOneInN) {
  MegaflowCache<simd::Scalar> mf;
  FlowMask m;
  m.in_port = 0xffffffffu;
  FlowKey k;
  MegaflowEntry* e = mf.install(k, m, {}, {});
  Emc emc;  // default 1/100
  for (uint32_t i = 0; i < 100'000; ++i) {
    k.nw_src = Be32(i);
    emc.maybe_insert(k, simd::hash_words<simd::Scalar, FlowKey::kWords>(k.words(), 0), e);
  }
  EXPECT_GT(emc.inserts(), 800u);
  EXPECT_LT(emc.inserts(), 1200u);
  EXPECT_EQ(emc.capacity(), 8192u);
  Emc never(EmcConfig{.insert_inv_prob = 0});
  never.maybe_insert(k, 1, e);
  EXPECT_EQ(never.inserts(), 0u);
}

}  // namespace emc_test
}  // namespace flowpath
