// RuleStats (core/stats.hpp): the first writer with an id owns a rule and
// adds without locked instructions; every other writer takes the shared
// counters.  Readers see the exact sums, and the later `used`, either way,
// with writers on real threads (run under ThreadSanitizer too).
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "flowpath/core/stats.hpp"

namespace flowpath {
namespace rule_stats_test {

TEST(RuleStats, FirstWriterWithAnIdOwnsTheRule) {
  RuleStats s;
  const StatsWriter a = StatsWriter::unique(), b = StatsWriter::unique();
  EXPECT_NE(a.id, b.id);
  s.add(3, 300, 10);  // the shared writer never claims
  EXPECT_EQ(s.owner(), 0u);
  s.add(a, 2, 120, 20);
  EXPECT_EQ(s.owner(), a.id);
  s.add(b, 1, 60, 15);  // not the owner: the shared counters
  EXPECT_EQ(s.owner(), a.id);
  EXPECT_EQ(s.packets(), 6u);
  EXPECT_EQ(s.bytes(), 480u);
  EXPECT_EQ(s.used_ms(), 20);  // the later of the owner's and the shared
  s.add(b, 1, 60, 30);
  EXPECT_EQ(s.used_ms(), 30);
}

TEST(RuleStats, NeverHitIsZero) {
  RuleStats s;
  EXPECT_EQ(s.packets(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
  EXPECT_EQ(s.used_ms(), 0);
}

// Four writers with ids and one without, each on its own thread, all on
// one rule: one of them owns it, the rest add under the lock; no add is
// lost.
TEST(RuleStats, ConcurrentWritersLoseNoAdd) {
  constexpr uint64_t kAdds = 200'000;
  RuleStats s;
  std::vector<std::thread> threads;
  for (int t = 0; t < 5; ++t)
    threads.emplace_back([&s, t] {
      const StatsWriter w = t == 4 ? StatsWriter::shared() : StatsWriter::unique();
      for (uint64_t i = 1; i <= kAdds; ++i) s.add(w, 1, uint64_t(t + 1), int64_t(i));
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(s.packets(), 5 * kAdds);
  EXPECT_EQ(s.bytes(), (1 + 2 + 3 + 4 + 5) * kAdds);
  EXPECT_EQ(s.used_ms(), int64_t(kAdds));
  EXPECT_NE(s.owner(), 0u);
}

}  // namespace rule_stats_test
}  // namespace flowpath
