// Threads executing on shared connections while a sweeper and flushes run:
// no crash, no lost or duplicated connection, counters consistent.  Meant
// to run under ThreadSanitizer too (only atomics and locks are shared).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "conntrack/ct_support.hpp"

namespace flowpath::cttest {
namespace {

TEST(ConntrackConcurrency, SharedConnectionsFromManyThreads) {
  Conntrack ct(Conntrack::Config{.shard_bits = 4});
  constexpr int kThreads = 4, kFlows = 64, kRounds = 200;
  std::vector<PacketBuffer> fwd, rev;
  for (int f = 0; f < kFlows; ++f) {
    fwd.push_back(parsed(udp4("192.0.2.1", "198.51.100.2", uint16_t(1000 + f), 53)));
    rev.push_back(parsed(udp4("198.51.100.2", "192.0.2.1", 53, uint16_t(1000 + f))));
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0};
  std::vector<std::thread> th;
  for (int t = 0; t < kThreads; ++t)
    th.emplace_back([&, t] {
      std::vector<PacketBuffer> f = fwd, r = rev;  // own copies of the frames
      CtParams p{.zone = 0, .commit = true};
      for (int i = 0; i < kRounds; ++i)
        for (int k = 0; k < kFlows; ++k) {
          PacketBuffer& b = ((i + t) & 1) ? r[k] : f[k];
          CtResult res = ct.execute(b.packet(), p, 1000 + i);
          if (!(res.state & kCsTracked) || (res.state & kCsInvalid)) ++bad;
        }
    });
  std::thread sweeper([&] {
    while (!stop.load()) {
      ct.sweep(500);  // nothing has expired at t=500: must remove nothing
      ct.dump(1000);
    }
  });
  for (auto& x : th) x.join();
  stop = true;
  sweeper.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(ct.n_conns(), uint32_t(kFlows));
  EXPECT_EQ(ct.dump(1000).size(), size_t(kFlows));
  EXPECT_EQ(ct.counters().created.load(), uint64_t(kFlows));
  EXPECT_EQ(ct.zone_count(0), uint32_t(kFlows));
}

TEST(ConntrackConcurrency, ChurnWithFlushAndExpiry) {
  Conntrack ct(Conntrack::Config{.shard_bits = 3});
  ct.set_zone_limit(3, 100);
  std::atomic<bool> stop{false};
  std::vector<std::thread> th;
  for (int t = 0; t < 3; ++t)
    th.emplace_back([&, t] {
      CtParams p{.zone = 3, .commit = true};
      for (int i = 0; i < 3000; ++i) {
        PacketBuffer b = parsed(udp4("192.0.2.1", "198.51.100.2", uint16_t(i % 500), uint16_t(t)));
        ct.execute(b.packet(), p, i * 100);  // time moves: entries expire
      }
    });
  std::thread janitor([&] {
    for (int i = 0; !stop.load(); ++i) {
      ct.sweep(i * 50);
      if (i % 7 == 0) ct.flush(uint16_t(3));
    }
  });
  for (auto& x : th) x.join();
  stop = true;
  janitor.join();
  EXPECT_LE(ct.zone_count(3), 100u);
  EXPECT_EQ(ct.zone_count(3), ct.n_conns());
  ct.flush();
  EXPECT_EQ(ct.n_conns(), 0u);
  EXPECT_EQ(ct.zone_count(3), 0u);
}

}  // namespace
}  // namespace flowpath::cttest
