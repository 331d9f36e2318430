// MacTable under a learning storm: the per-port learning rate, fair
// eviction keeping other ports' hosts, and the change hook that tells the
// datapath exactly which entries changed.
#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "flowpath/l2/mac_table.hpp"

namespace flowpath {
namespace mac_flood_test {

EthAddr mac(uint64_t v) {
  EthAddr m;
  for (int i = 0; i < 6; ++i) m.b[i] = uint8_t(v >> (40 - 8 * i));
  return m;
}

TEST(MacFlood, LearningRateIsHonouredPerPort) {
  ManualClock clock;
  MacTable t({.capacity = 4096, .learn_rate = 100, .learn_burst = 10}, &clock);
  uint64_t learned = 0;
  for (uint64_t i = 0; i < 1000; ++i)
    learned += t.learn(1, mac(0x020000000000 + i), 1) == LearnResult::kLearned;
  EXPECT_EQ(learned, 10u);  // the burst
  EXPECT_EQ(t.refused(), 990u);
  EXPECT_EQ(t.port_entries(1), 10u);
  // Another port has its own bucket.
  EXPECT_EQ(t.learn(1, mac(0x525400000001), 2), LearnResult::kLearned);
  // Refreshing a known entry takes no token, even with none left.
  EXPECT_EQ(t.learn(1, mac(0x020000000000), 1), LearnResult::kRefreshed);
  // 250 ms at 100/s: 25 tokens, capped by the burst (10).
  clock.advance_ms(250);
  learned = 0;
  for (uint64_t i = 1000; i < 2000; ++i)
    learned += t.learn(1, mac(0x020000000000 + i), 1) == LearnResult::kLearned;
  EXPECT_EQ(learned, 10u);
  // 50 ms: 5 tokens.
  clock.advance_ms(50);
  learned = 0;
  for (uint64_t i = 2000; i < 3000; ++i)
    learned += t.learn(1, mac(0x020000000000 + i), 1) == LearnResult::kLearned;
  EXPECT_EQ(learned, 5u);
  EXPECT_EQ(t.port_entries(1), 25u);
  EXPECT_EQ(t.refused(), 990u + 990u + 995u);
}

TEST(MacFlood, MovesTakeTokensOfTheNewPort) {
  ManualClock clock;
  MacTable t({.capacity = 64, .learn_rate = 1, .learn_burst = 1}, &clock);
  const EthAddr a = mac(0x525400000001);
  EXPECT_EQ(t.learn(1, a, 1), LearnResult::kLearned);
  EXPECT_EQ(t.learn(1, mac(0x525400000002), 2), LearnResult::kLearned);  // port 2's token
  EXPECT_EQ(t.learn(1, a, 2), LearnResult::kRefused);                    // flapping a to 2
  EXPECT_EQ(t.lookup(1, a), 1u);                                         // unchanged
  clock.advance_ms(1000);
  EXPECT_EQ(t.learn(1, a, 2), LearnResult::kMoved);
  EXPECT_EQ(t.lookup(1, a), 2u);
}

TEST(MacFlood, HostsOfOtherPortsSurviveAFlood) {
  ManualClock clock;
  MacTable t({.capacity = 256}, &clock);
  std::vector<EthAddr> hosts;
  for (uint32_t p = 2; p <= 5; ++p) {
    hosts.push_back(mac(0x525400000000 + p));
    t.learn(1, hosts.back(), p);
  }
  for (uint64_t i = 0; i < 100'000; ++i) t.learn(1, mac(0x020000000000 + i), 1);
  for (uint32_t p = 2; p <= 5; ++p) EXPECT_EQ(t.lookup(1, hosts[p - 2]), p);
  EXPECT_EQ(t.size(), 256u);
  EXPECT_EQ(t.port_entries(1), 252u);
  EXPECT_EQ(t.evictions(), 100'000u + 4u - 256u);  // exact: every eviction hit port 1
}

TEST(MacFlood, ChangeHookNamesEveryChangedEntry) {
  ManualClock clock;
  MacTable t({.capacity = 2, .aging_ms = 1000}, &clock);
  std::vector<std::pair<uint16_t, uint64_t>> seen;  // (vlan, mac) or (0, ~0) for a flush
  t.set_change_hook([&](uint16_t vlan, const EthAddr* m) {
    uint64_t v = ~0ull;
    if (m) {
      v = 0;
      for (int i = 0; i < 6; ++i) v = v << 8 | m->b[i];
    }
    seen.emplace_back(vlan, v);
  });
  auto take = [&] { return std::exchange(seen, {}); };
  using V = std::vector<std::pair<uint16_t, uint64_t>>;
  t.learn(1, mac(0xa), 1);
  EXPECT_EQ(take(), (V{{1, 0xa}}));  // learned
  t.learn(1, mac(0xa), 1);
  EXPECT_EQ(take(), V{});  // refreshed: no change
  t.learn(1, mac(0xa), 2);
  EXPECT_EQ(take(), (V{{1, 0xa}}));  // moved
  t.learn(2, mac(0xb), 3);
  t.learn(2, mac(0xc), 3);  // full: evicts the oldest of the busiest port
  EXPECT_EQ(take(), (V{{2, 0xb}, {1, 0xa}, {2, 0xc}}));  // b learned, a evicted, c learned
  t.remove(2, mac(0xc));
  EXPECT_EQ(take(), (V{{2, 0xc}}));
  clock.advance_ms(1000);
  EXPECT_EQ(t.expire(), 1u);
  EXPECT_EQ(take(), (V{{2, 0xb}}));  // aged out
  t.learn(1, mac(0xd), 1);
  take();
  t.flush();
  EXPECT_EQ(take(), (V{{0, ~0ull}}));  // one flush, not one per entry
}

TEST(MacFlood, LookupLogRecordsWhatWasConsulted) {
  MacTable t;
  std::vector<uint64_t> log;
  t.lookup(1, mac(0x1));
  t.set_lookup_log(&log);
  t.lookup(7, mac(0x2));
  t.lookup(7, mac(0x3));
  t.set_lookup_log(nullptr);
  t.lookup(1, mac(0x4));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], uint64_t(7) << 48 | 0x2);
  EXPECT_EQ(log[1], uint64_t(7) << 48 | 0x3);
}

TEST(MacFlood, BadRateIsRejected) {
  EXPECT_THROW(MacTable({.learn_rate = -1}), std::invalid_argument);
}

}  // namespace mac_flood_test
}  // namespace flowpath
