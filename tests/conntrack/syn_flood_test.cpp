// A SYN flood into a zone with a limit (dpctl/ct-set-limits semantics):
// the flood is refused once the zone is full and counted, connection
// memory stays bounded (the pool does not grow past the limit), and
// established connections of that zone and of another zone keep passing
// (+est) during and after the flood.  The flood goes through the batch
// path with established packets mixed into the same batches, as a PMD
// would see it.  Controls: the same flood into an unlimited zone is
// admitted and grows the pool (so the memory check can fail).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "conntrack/ct_support.hpp"
#include "flowpath/conntrack/conntrack.hpp"

namespace flowpath::cttest {
namespace syn_flood_test {

constexpr uint8_t kNewT = kCsTracked | kCsNew;
constexpr uint8_t kEstT = kCsTracked | kCsEstablished;
constexpr uint8_t kRplT = kCsTracked | kCsEstablished | kCsReplyDir;

constexpr uint16_t kFloodZone = 7, kOtherZone = 9;
constexpr int kEstPerZone = 8;
const char* kServer = "198.51.100.2";

std::string host(const char* net, int i) {
  char b[32];
  std::snprintf(b, sizeof b, "%s.%d", net, i);
  return b;
}

// `n` SYNs from distinct random sources (203.0.113.1-254, random ports),
// fixed seed.
std::vector<PacketBuffer> syn_flood(uint32_t n, uint32_t seed) {
  std::vector<uint32_t> idx(254u * 200u);
  std::iota(idx.begin(), idx.end(), 0u);
  std::mt19937 rng(seed);
  std::shuffle(idx.begin(), idx.end(), rng);
  std::vector<PacketBuffer> v;
  v.reserve(n);
  for (uint32_t i = 0; i < n && i < idx.size(); ++i) {
    const std::string src = host("203.0.113", int(1 + idx[i] % 254));
    const uint16_t sport = uint16_t(20000 + idx[i] / 254);
    v.push_back(parsed(tcp4(src.c_str(), kServer, sport, 80, kSyn, rng(), 0)));
  }
  return v;
}

struct Client {
  std::string addr;
  uint16_t zone;
  PacketBuffer data, reply;  // in-window packets of an established connection
};

struct FloodFixture : ::testing::Test {
  Conntrack ct;
  int64_t now = 1'000'000;
  std::vector<Client> clients;

  uint8_t one(PacketBuffer b, uint16_t zone) {
    return ct.execute(b.packet(), CtParams{.zone = zone, .commit = true}, now).state;
  }
  // Three-way handshakes from 192.0.2.x in both zones.
  void establish() {
    for (uint16_t zone : {kFloodZone, kOtherZone})
      for (int i = 1; i <= kEstPerZone; ++i) {
        const std::string a = host("192.0.2", i);
        ASSERT_EQ(st(one(parsed(tcp4(a.c_str(), kServer, 1000, 80, kSyn, 100, 0)), zone)),
                  st(kNewT));
        ASSERT_EQ(st(one(parsed(tcp4(kServer, a.c_str(), 80, 1000, kSyn | kAck, 5000, 101)), zone)),
                  st(kRplT));
        ASSERT_EQ(st(one(parsed(tcp4(a.c_str(), kServer, 1000, 80, kAck, 101, 5001)), zone)),
                  st(kEstT));
        clients.push_back({a, zone, parsed(tcp4(a.c_str(), kServer, 1000, 80, kAck, 101, 5001)),
                           parsed(tcp4(kServer, a.c_str(), 80, 1000, kAck, 5001, 101))});
      }
  }
  // The flood in batches of 32 of the flood zone, an established packet of
  // each zone in every batch; returns how many SYNs were +new.
  uint32_t flood(std::vector<PacketBuffer>& syns, uint16_t zone) {
    uint32_t n_new = 0;
    size_t k = 0;
    std::vector<Packet*> batch;
    std::vector<CtResult> out(32);
    for (size_t i = 0; i < syns.size(); i += 30, ++k) {
      batch.clear();
      for (size_t j = i; j < std::min(syns.size(), i + 30); ++j) batch.push_back(&syns[j].packet());
      Client& c = clients[k % clients.size()];
      if (c.zone == zone) batch.push_back(&c.data.packet());
      ct.execute(batch, CtParams{.zone = zone, .commit = true}, now, out.data());
      for (size_t j = 0; j < batch.size(); ++j) {
        if (j + i < syns.size() && batch[j] == &syns[i + j].packet()) {
          EXPECT_EQ(st(out[j].state), st(kNewT)) << "SYN " << i + j;
          ++n_new;
        } else {
          EXPECT_EQ(st(out[j].state), st(kEstT)) << "established " << c.addr << " during the flood";
        }
      }
      // The other zone's established traffic, one packet at a time.
      Client& o = clients[(k + 3) % clients.size()];
      EXPECT_EQ(st(one(std::move(o.reply), o.zone)), st(kRplT)) << o.addr;
      o.reply = parsed(tcp4(kServer, o.addr.c_str(), 80, 1000, kAck, 5001, 101));
    }
    return n_new;
  }
  void expect_established_pass() {
    for (Client& c : clients) {
      EXPECT_EQ(st(one(parsed(tcp4(c.addr.c_str(), kServer, 1000, 80, kAck, 101, 5001)), c.zone)),
                st(kEstT))
          << c.addr << " zone " << c.zone;
      EXPECT_EQ(st(one(parsed(tcp4(kServer, c.addr.c_str(), 80, 1000, kAck, 5001, 101)), c.zone)),
                st(kRplT))
          << c.addr << " zone " << c.zone;
    }
  }
};

TEST_F(FloodFixture, LimitedZoneRefusesTheFloodKeepsEstablishedAndBoundsMemory) {
  const uint32_t limit = 1000, n_flood = 40000;
  ct.set_zone_limit(kFloodZone, limit);
  establish();
  const size_t mem_before = ct.conn_memory_bytes();
  auto syns = syn_flood(n_flood, 1);
  EXPECT_EQ(flood(syns, kFloodZone), n_flood);  // every SYN is +new, committed or not
  const uint32_t admitted = limit - kEstPerZone;
  EXPECT_EQ(ct.zone_count(kFloodZone), limit);
  EXPECT_EQ(ct.zone_count(kOtherZone), uint32_t(kEstPerZone));
  EXPECT_EQ(ct.n_conns(), limit + kEstPerZone);
  EXPECT_EQ(ct.counters().zone_limit_refused.load(), n_flood - admitted);
  EXPECT_EQ(ct.counters().created.load(), 2u * kEstPerZone + admitted);
  // Bounded: the pool holds what the admitted entries need, nothing for
  // the refused ones (40,000 entries would take several chunks).
  const size_t per = ct.conns_per_chunk();
  const size_t bound = (limit + kEstPerZone + per - 1) / per * (size_t(2) << 20);
  EXPECT_LE(ct.conn_memory_bytes(), bound);
  EXPECT_EQ(ct.conn_memory_bytes(), mem_before);
  expect_established_pass();
  // The half-open entries expire (SYN_SENT: 30 s); the zone admits again,
  // a second flood is refused the same way and memory does not grow.
  now += 31'000;
  EXPECT_EQ(ct.sweep(now), admitted);
  EXPECT_EQ(ct.zone_count(kFloodZone), uint32_t(kEstPerZone));
  auto again = syn_flood(n_flood, 2);
  EXPECT_EQ(flood(again, kFloodZone), n_flood);
  EXPECT_EQ(ct.zone_count(kFloodZone), limit);
  EXPECT_EQ(ct.counters().zone_limit_refused.load(), 2 * (n_flood - admitted));
  EXPECT_EQ(ct.conn_memory_bytes(), mem_before);
  expect_established_pass();
}

TEST_F(FloodFixture, ControlTheSameFloodIntoAnUnlimitedZoneIsAdmittedAndGrowsThePool) {
  const uint32_t n_flood = 40000;
  establish();
  const size_t mem_before = ct.conn_memory_bytes();
  auto syns = syn_flood(n_flood, 1);
  EXPECT_EQ(flood(syns, kFloodZone), n_flood);
  EXPECT_EQ(ct.zone_count(kFloodZone), n_flood + kEstPerZone);
  EXPECT_EQ(ct.counters().zone_limit_refused.load(), 0u);
  EXPECT_GT(ct.conn_memory_bytes(), mem_before);
  EXPECT_GE(ct.conn_memory_bytes(),
            (n_flood + 2 * kEstPerZone) / ct.conns_per_chunk() * (size_t(2) << 20));
  expect_established_pass();
}

TEST_F(FloodFixture, DefaultLimitAppliesToZonesWithoutTheirOwn) {
  // ct-set-limits default=N: a zone without its own limit follows it; a
  // zone with its own (here: unlimited, 0) does not.
  ct.set_default_limit(100);
  ct.set_zone_limit(kOtherZone, 0);
  establish();
  auto syns = syn_flood(2000, 3);
  EXPECT_EQ(flood(syns, kFloodZone), 2000u);
  EXPECT_EQ(ct.zone_count(kFloodZone), 100u);
  EXPECT_EQ(ct.counters().zone_limit_refused.load(), 2000u - (100u - kEstPerZone));
  auto more = syn_flood(500, 4);
  EXPECT_EQ(flood(more, kOtherZone), 500u);
  EXPECT_EQ(ct.zone_count(kOtherZone), 500u + kEstPerZone);
  expect_established_pass();
}

}  // namespace syn_flood_test
}  // namespace flowpath::cttest
