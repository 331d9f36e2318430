// New connections committed from both ends at once (the insert that keeps
// the lookup's shard lock, and drops it to take two shards in order), and
// a tracker destroyed while full: entries die with the pool, without a walk.
// Meant to run under ThreadSanitizer and AddressSanitizer too.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "conntrack/ct_support.hpp"

namespace flowpath::cttest {
namespace new_conn_race_test {

// kPairs flows; thread t sends flow f's original direction when (f + t) is
// even and its reply otherwise, in batches of 32, all threads released
// together: every flow is committed by two threads from opposite ends.
// Exactly one connection per flow survives, and each packet is either the
// creator (+new) or sees the other's entry (+est, +rpl for the reply side),
// or lost the insert race (+new, not counted as created).
TEST(ConntrackNewConnRace, BothEndsCommitAtOnceMakeOneConnectionEach) {
  constexpr int kThreads = 4, kPairs = 4096;
  // Few shards: the two keys of a flow often hash to shards in the wrong
  // order for the lock the lookup holds, and threads meet on the same ones.
  Conntrack ct(Conntrack::Config{.shard_bits = 3});
  std::vector<std::vector<PacketBuffer>> frames(kThreads);
  for (int t = 0; t < kThreads; ++t)
    for (int f = 0; f < kPairs; ++f) {
      const uint16_t cport = uint16_t(1024 + f % 60000);
      const char* client = f < 60000 ? "192.0.2.1" : "192.0.2.2";
      frames[size_t(t)].push_back(parsed(((f + t) & 1) ? udp4("198.51.100.2", client, 53, cport)
                                                       : udp4(client, "198.51.100.2", cport, 53)));
    }
  std::atomic<int> ready{0};
  std::atomic<uint64_t> bad{0};
  std::vector<std::thread> th;
  for (int t = 0; t < kThreads; ++t)
    th.emplace_back([&, t] {
      std::vector<Packet*> ptrs;
      for (auto& b : frames[size_t(t)]) ptrs.push_back(&b.packet());
      CtParams p{.zone = 2, .commit = true};
      CtResult out[32];
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (size_t i = 0; i < ptrs.size(); i += 32) {
        ct.execute(std::span<Packet* const>(ptrs.data() + i, 32), p, 1000, out);
        for (const CtResult& r : out) {
          const uint8_t s = r.state & ~kCsTracked;
          if (!(r.state & kCsTracked) ||
              (s != kCsNew && s != kCsEstablished && s != (kCsEstablished | kCsReplyDir)))
            ++bad;
        }
      }
    });
  for (auto& x : th) x.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(ct.n_conns(), uint32_t(kPairs));
  EXPECT_EQ(ct.zone_count(2), uint32_t(kPairs));
  EXPECT_EQ(ct.counters().created.load(), uint64_t(kPairs));
  // Each flow once, with a consistent reply key, in either orientation.
  const auto d = ct.dump(1000);
  ASSERT_EQ(d.size(), size_t(kPairs));
  std::map<uint32_t, int> seen;  // client port + 65536 * client, by flow
  for (const ConnEntry& e : d) {
    EXPECT_EQ(e.reply.src, e.orig.dst);
    EXPECT_EQ(e.reply.sport, e.orig.dport);
    const bool from_client = e.orig.dport == 53;
    const ConnKey& c = from_client ? e.orig : e.reply;
    ++seen[uint32_t(c.sport) + 65536u * c.src[3]];
  }
  EXPECT_EQ(seen.size(), size_t(kPairs));
  for (const auto& [flow, n] : seen) EXPECT_EQ(n, 1) << flow;
  // Both directions of every flow now find it.
  CtParams p{.zone = 2, .commit = true};
  for (int t = 0; t < 2; ++t)
    for (auto& b : frames[size_t(t)]) {
      const CtResult r = ct.execute(b.packet(), p, 1001);
      EXPECT_TRUE(r.state & kCsEstablished) << st(r.state);
    }
  EXPECT_EQ(ct.n_conns(), uint32_t(kPairs));
}

// A tracker destroyed with live entries, entries retired by a flush that no
// epoch advance has freed yet, and grown bucket arrays: the destructor frees
// the chunks and arrays, and retired callbacks run before the pool dies
// (AddressSanitizer checks the order).
TEST(ConntrackNewConnRace, DestroyedWhileFullAndWithRetiredEntries) {
  for (int round = 0; round < 3; ++round) {
    auto ct = std::make_unique<Conntrack>(Conntrack::Config{.shard_bits = 2});
    CtParams p{.zone = uint16_t(round), .commit = true};
    std::vector<PacketBuffer> frames;
    for (int f = 0; f < 3000; ++f)
      frames.push_back(parsed(udp4("192.0.2.7", "203.0.113.9", uint16_t(2000 + f), 443)));
    std::vector<Packet*> ptrs;
    for (auto& b : frames) ptrs.push_back(&b.packet());
    std::vector<CtResult> out(ptrs.size());
    ct->execute(ptrs, p, 1000, out.data());
    for (const CtResult& r : out) ASSERT_EQ(r.state, kCsTracked | kCsNew) << st(r.state);
    EXPECT_EQ(ct->n_conns(), 3000u);
    {
      rcu::ReadGuard reader;  // holds the epoch: the flush's entries stay retired
      EXPECT_EQ(ct->sweep(1000 + 61 * 1000), 3000u);
      ct->execute(std::span<Packet* const>(ptrs).subspan(0, 100), p, 62000, out.data());
    }
    EXPECT_EQ(ct->n_conns(), 100u);
    ct.reset();
  }
}

// The reply key's hash computed from the key's words is the hash of the
// reversed key, for IPv4, IPv6, ports and ICMP types, in any zone.
TEST(ConntrackNewConnRace, ReversedHashIsTheHashOfTheReversedKey) {
  uint64_t seed = 0x243f6a8885a308d3ull;
  auto next = [&] { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
  for (int i = 0; i < 10000; ++i) {
    ConnKey k;
    for (auto& b : k.src) b = uint8_t(next() >> 56);
    for (auto& b : k.dst) b = uint8_t(next() >> 56);
    k.sport = uint16_t(next() >> 48);
    k.dport = uint16_t(next() >> 48);
    k.zone = uint16_t(next() >> 48);
    k.proto = uint8_t(next() >> 56);
    k.v6 = uint8_t(next() >> 63);
    k.stype = uint8_t(next() >> 56);
    k.dtype = uint8_t(next() >> 56);
    k.code = uint8_t(next() >> 56);
    ASSERT_EQ(hash_key_reversed(k), hash_key(k.reversed())) << i;
  }
}

}  // namespace new_conn_race_test
}  // namespace flowpath::cttest
