#include "flowpath/l2/mac_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <unordered_map>

namespace flowpath {
namespace mac_table_test {

EthAddr mac(uint64_t v) {
  EthAddr m;
  for (int i = 0; i < 6; ++i) m.b[i] = uint8_t(v >> (40 - 8 * i));
  return m;
}

TEST(MacTable, LearnLookupPerVlan) {
  ManualClock clock;
  MacTable t({}, &clock);
  EXPECT_EQ(t.capacity(), 8192u);
  EXPECT_EQ(t.config().aging_ms, 300'000);
  EthAddr a = mac(0x525400123456);
  EXPECT_FALSE(t.lookup(1, a));
  EXPECT_EQ(t.learn(1, a, 3), LearnResult::kLearned);
  EXPECT_EQ(t.lookup(1, a), 3u);
  EXPECT_FALSE(t.lookup(2, a));  // other VLAN: unknown
  EXPECT_EQ(t.learn(2, a, 4), LearnResult::kLearned);
  EXPECT_EQ(t.lookup(1, a), 3u);
  EXPECT_EQ(t.lookup(2, a), 4u);
  EXPECT_EQ(t.learn(1, a, 3), LearnResult::kRefreshed);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_TRUE(t.remove(1, a));
  EXPECT_FALSE(t.remove(1, a));
  EXPECT_FALSE(t.lookup(1, a));
  EXPECT_EQ(t.size(), 1u);
}

TEST(MacTable, AgingWithManualClock) {
  ManualClock clock;
  MacTable t({.capacity = 16, .aging_ms = 10'000}, &clock);
  t.learn(0, mac(1), 1);
  clock.advance_s(5);
  t.learn(0, mac(2), 2);
  clock.advance_s(4);
  EXPECT_EQ(t.learn(0, mac(1), 1), LearnResult::kRefreshed);  // age restarts
  clock.advance_s(6);                                         // mac(2) is 10 s old, mac(1) 6 s
  EXPECT_FALSE(t.lookup(0, mac(2)));
  EXPECT_EQ(t.lookup(0, mac(1)), 1u);
  uint64_t g = t.generation();
  EXPECT_EQ(t.expire(), 1u);
  EXPECT_GT(t.generation(), g);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.expire(), 0u);
  clock.advance_s(4);
  // Aged out but not yet reclaimed: learning it again is a fresh learn.
  g = t.generation();
  EXPECT_EQ(t.learn(0, mac(1), 1), LearnResult::kLearned);
  EXPECT_GT(t.generation(), g);
  EXPECT_EQ(t.size(), 1u);
}

TEST(MacTable, ExplicitTimeOverloads) {
  ManualClock clock;
  MacTable t({.capacity = 8, .aging_ms = 1000}, &clock);
  int64_t now = clock.now_ms();
  EXPECT_EQ(t.learn(0, mac(1), 4, now), LearnResult::kLearned);
  EXPECT_EQ(t.lookup(0, mac(1), now + 999), 4u);
  EXPECT_FALSE(t.lookup(0, mac(1), now + 1000));
  EXPECT_EQ(t.learn(0, mac(1), 4, now + 1000), LearnResult::kLearned);
}

TEST(MacTable, DefaultAgingIs300s) {
  ManualClock clock;
  MacTable t({}, &clock);
  t.learn(0, mac(1), 1);
  clock.advance_s(299);
  EXPECT_TRUE(t.lookup(0, mac(1)));
  clock.advance_s(1);
  EXPECT_FALSE(t.lookup(0, mac(1)));
}

TEST(MacTable, MovesChangeGeneration) {
  ManualClock clock;
  MacTable t({}, &clock);
  t.learn(1, mac(7), 1);
  uint64_t g = t.generation();
  EXPECT_EQ(t.learn(1, mac(7), 1), LearnResult::kRefreshed);
  EXPECT_EQ(t.generation(), g);  // refresh: answers unchanged
  EXPECT_EQ(t.learn(1, mac(7), 2), LearnResult::kMoved);
  EXPECT_GT(t.generation(), g);
  EXPECT_EQ(t.lookup(1, mac(7)), 2u);
  EXPECT_EQ(t.port_entries(1), 0u);
  EXPECT_EQ(t.port_entries(2), 1u);
  EXPECT_EQ(t.size(), 1u);
}

TEST(MacTable, StaticEntries) {
  ManualClock clock;
  MacTable t({.capacity = 4, .aging_ms = 1000}, &clock);
  t.learn(1, mac(5), 9);
  uint64_t g = t.generation();
  t.add_static(1, mac(5), 3);  // replaces the learned entry
  EXPECT_GT(t.generation(), g);
  EXPECT_EQ(t.lookup(1, mac(5)), 3u);
  EXPECT_EQ(t.learn(1, mac(5), 4), LearnResult::kUnchanged);  // does not move
  EXPECT_EQ(t.lookup(1, mac(5)), 3u);
  clock.advance_s(1000);
  EXPECT_EQ(t.expire(), 0u);
  EXPECT_EQ(t.lookup(1, mac(5)), 3u);
  // Fill the table: statics are never evicted.
  for (int i = 0; i < 100; ++i) t.learn(1, mac(100 + i), 1 + i % 3);
  EXPECT_EQ(t.lookup(1, mac(5)), 3u);
  EXPECT_EQ(t.size(), 4u);
  t.flush();
  EXPECT_EQ(t.lookup(1, mac(5)), 3u);
  EXPECT_EQ(t.size(), 1u);
  for (int i = 0; i < 3; ++i) t.add_static(2, mac(i), 1);
  EXPECT_THROW(t.add_static(2, mac(50), 1), std::length_error);
  EXPECT_EQ(t.learn(2, mac(60), 1), LearnResult::kUnchanged);  // full of statics
  EXPECT_FALSE(t.lookup(2, mac(60)));
  t.flush_port(1, /*include_static=*/true);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.remove(1, mac(5)));
  EXPECT_EQ(t.size(), 0u);
}

TEST(MacTable, BadConfigThrows) {
  EXPECT_THROW(MacTable({.capacity = 0}), std::invalid_argument);
  EXPECT_THROW(MacTable({.capacity = 8, .aging_ms = 0}), std::invalid_argument);
  EXPECT_THROW(MacTable({}, nullptr), std::invalid_argument);
}

TEST(MacTable, EvictionPicksBusiestPortsOldest) {
  ManualClock clock;
  MacTable t({.capacity = 6}, &clock);
  t.learn(0, mac(1), 1);
  clock.advance_ms(1);
  t.learn(0, mac(2), 2);
  clock.advance_ms(1);
  t.learn(0, mac(3), 2);
  clock.advance_ms(1);
  t.learn(0, mac(4), 3);
  clock.advance_ms(1);
  t.learn(0, mac(5), 3);
  clock.advance_ms(1);
  t.learn(0, mac(6), 3);
  clock.advance_ms(1);
  t.learn(0, mac(4), 3);  // refresh: mac(5) is now port 3's oldest
  uint64_t g = t.generation();
  EXPECT_EQ(t.learn(0, mac(7), 1), LearnResult::kLearned);
  EXPECT_EQ(t.evictions(), 1u);
  EXPECT_GT(t.generation(), g);
  EXPECT_FALSE(t.lookup(0, mac(5)));
  EXPECT_TRUE(t.lookup(0, mac(1)) && t.lookup(0, mac(4)) && t.lookup(0, mac(6)));
  // Now ports 1, 2, 3 hold 2 each; the next eviction takes from one of them
  // and never leaves any port with more than the others plus one.
  t.learn(0, mac(8), 4);
  EXPECT_EQ(t.size(), 6u);
  EXPECT_EQ(t.port_entries(1) + t.port_entries(2) + t.port_entries(3), 5u);
  EXPECT_EQ(t.port_entries(4), 1u);
}

TEST(MacTable, FloodFromOnePortKeepsOtherHosts) {
  ManualClock clock;
  MacTable t({}, &clock);
  for (uint32_t p = 1; p <= 10; ++p) t.learn(1, mac(0x020000000000 + p), p);
  std::mt19937_64 rng(99);
  for (int i = 0; i < 100'000; ++i) {
    t.learn(1, mac(rng() & 0xfeffffffffff), 11);
    ASSERT_LE(t.size(), t.capacity());
    if (i % 1000 == 0) clock.advance_ms(10);
  }
  EXPECT_EQ(t.size(), t.capacity());
  EXPECT_EQ(t.port_entries(11), t.capacity() - 10);
  EXPECT_GE(t.evictions(), 100'000u - t.capacity());
  for (uint32_t p = 1; p <= 10; ++p) EXPECT_EQ(t.lookup(1, mac(0x020000000000 + p)), p);
}

// Differential: random operations against a std::map model.
TEST(MacTable, MatchesModelUnderChurn) {
  ManualClock clock;
  MacTable t({.capacity = 64, .aging_ms = 50}, &clock);
  struct M {
    uint32_t port;
    int64_t used;
  };
  std::map<std::pair<uint16_t, uint64_t>, M> model;
  std::mt19937 rng(5);
  for (int i = 0; i < 200'000; ++i) {
    uint16_t vlan = uint16_t(rng() % 3);
    uint64_t m = rng() % 200;
    uint32_t port = rng() % 4;
    int op = rng() % 10;
    int64_t now = clock.now_ms();
    auto it = model.find({vlan, m});
    bool live = it != model.end() && now - it->second.used < 50;
    if (op < 6) {
      // The table may have evicted a live entry (capacity 64 < 600 keys);
      // what it still answers must agree with the model.
      auto cur = t.lookup(vlan, mac(m));
      if (cur) {
        ASSERT_TRUE(live);
        EXPECT_EQ(*cur, it->second.port);
      } else if (live) {
        EXPECT_GT(t.evictions(), 0u);
      }
      LearnResult r = t.learn(vlan, mac(m), port);
      if (cur) {
        EXPECT_EQ(r, *cur == port ? LearnResult::kRefreshed : LearnResult::kMoved);
      } else {
        EXPECT_EQ(r, LearnResult::kLearned);
      }
      EXPECT_EQ(t.lookup(vlan, mac(m)), port);
      model[{vlan, m}] = {port, now};
    } else if (op < 9) {
      auto got = t.lookup(vlan, mac(m));
      if (got) {
        ASSERT_TRUE(live);  // never a stale or invented answer
        EXPECT_EQ(*got, it->second.port);
      }
    } else {
      t.remove(vlan, mac(m));
      model.erase({vlan, m});
    }
    if (rng() % 50 == 0) clock.advance_ms(rng() % 20);
    if (rng() % 500 == 0) t.expire();
    ASSERT_LE(t.size(), 64u);
    // Every live entry the table holds, the model agrees with.
    if (i % 5000 == 0) {
      t.for_each([&](uint16_t v, const EthAddr& a, uint32_t p, int64_t, bool) {
        uint64_t k = 0;
        for (int b = 0; b < 6; ++b) k = k << 8 | a.b[b];
        auto mi = model.find({v, k});
        ASSERT_NE(mi, model.end());
        EXPECT_EQ(mi->second.port, p);
      });
    }
  }
}

TEST(MacTable, FdbShowGolden) {
  ManualClock clock;
  MacTable t({}, &clock);
  t.learn(1, mac(0x525400123456), 1);
  clock.advance_s(3);
  t.learn(1000, mac(0xfa163e4d9de8), 65534);
  clock.advance_s(2);
  t.learn(0, mac(0x0a0000000001), 12);
  t.add_static(2, mac(0x02aabbccddee), 3);
  auto name = [](uint32_t p) { return p == 65534 ? std::string("LOCAL") : std::to_string(p); };
  EXPECT_EQ(t.show(name),
            " port  VLAN  MAC                Age\n"
            "    3     2  02:aa:bb:cc:dd:ee  static\n"
            "    1     1  52:54:00:12:34:56    5\n"
            "LOCAL  1000  fa:16:3e:4d:9d:e8    2\n"
            "   12     0  0a:00:00:00:00:01    0\n");
  clock.advance_s(400);
  EXPECT_EQ(t.show(),
            " port  VLAN  MAC                Age\n"
            "    3     2  02:aa:bb:cc:dd:ee  static\n");
}

TEST(MacTable, FlushAndFlushPort) {
  ManualClock clock;
  MacTable t({}, &clock);
  for (int i = 0; i < 10; ++i) t.learn(0, mac(i), i % 2);
  uint64_t g = t.generation();
  t.flush_port(1);
  EXPECT_GT(t.generation(), g);
  EXPECT_EQ(t.size(), 5u);
  EXPECT_EQ(t.port_entries(1), 0u);
  EXPECT_EQ(t.lookup(0, mac(2)), 0u);
  t.flush();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.lookup(0, mac(2)));
  // The table is fully usable after a flush.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(t.learn(0, mac(i), 5), LearnResult::kLearned);
  EXPECT_EQ(t.port_entries(5), 10u);
}

}  // namespace mac_table_test
}  // namespace flowpath
