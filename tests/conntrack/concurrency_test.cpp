// Threads executing on shared connections while a sweeper and flushes run:
// no crash, no lost or duplicated connection, counters consistent.  Meant
// to run under ThreadSanitizer too (only atomics and locks are shared).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "conntrack/ct_support.hpp"

namespace flowpath::cttest {
namespace concurrency_test {

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

// The batch path (its prefetch stages read chain heads lock-free) under
// churn: threads commit batches of new and repeated flows into a limited
// zone while a janitor sweeps and flushes; a SYN-flood-like stream of
// fresh keys meets the limit.  Counters must stay consistent.
TEST(ConntrackConcurrency, BatchesWithChurnFloodAndFlush) {
  Conntrack ct(Conntrack::Config{.shard_bits = 3});
  ct.set_zone_limit(5, 200);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0};
  std::vector<std::thread> th;
  for (int t = 0; t < 3; ++t)
    th.emplace_back([&, t] {
      CtParams p{.zone = 5, .commit = true};
      std::vector<PacketBuffer> frames;
      for (int i = 0; i < 64; ++i)
        frames.push_back(parsed(udp4("192.0.2.1", "198.51.100.2", uint16_t(i), uint16_t(t))));
      std::vector<Packet*> batch;
      CtResult out[32];
      for (int round = 0; round < 300; ++round) {
        batch.clear();
        for (int k = 0; k < 32; ++k) {
          PacketBuffer& b = frames[size_t((round * 7 + k * (1 + round % 3)) % 64)];
          batch.push_back(&b.packet());
        }
        ct.execute(batch, p, int64_t(round) * 10, out);
        for (const CtResult& r : out)
          if (!(r.state & kCsTracked) || (r.state & kCsInvalid)) ++bad;
        if (round % 50 == 49)  // fresh keys: the zone fills up
          for (int i = 0; i < 64; ++i)
            frames[size_t(i)] = parsed(
                udp4("192.0.2.1", "198.51.100.2", uint16_t(1000 * (round / 50) + i), uint16_t(t)));
      }
    });
  std::thread janitor([&] {
    for (int i = 0; !stop.load(); ++i) {
      ct.sweep(i * 5);
      if (i % 11 == 0) ct.flush(uint16_t(5));
    }
  });
  for (auto& x : th) x.join();
  stop = true;
  janitor.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_LE(ct.zone_count(5), 200u);
  EXPECT_EQ(ct.zone_count(5), ct.n_conns());
  EXPECT_EQ(ct.dump(0).size(), size_t(ct.n_conns()));  // nothing is expired at t=0
  ct.flush();
  EXPECT_EQ(ct.n_conns(), 0u);
  EXPECT_EQ(ct.zone_count(5), 0u);
}

}  // namespace concurrency_test
}  // namespace flowpath::cttest
