// The tracker's per-packet connection cache (meta.ct_node,
// Conntrack::try_cached, as OVS's pkt->md.conn): a packet's second ct() in
// one Datapath::process() starts from the connection its first ct() found.
// Each test fails if the cache answers where a lookup would answer
// otherwise: a flushed or expired connection, another zone, a rewritten
// tuple, a mark written since; and the datapath's counters and results are
// those of the uncached path.
#include <gtest/gtest.h>

#include "../conntrack/ct_support.hpp"
#include "flowpath/bridge/ofproto.hpp"
#include "flowpath/datapath/datapath.hpp"

namespace flowpath {
namespace conntrack_cache_test {

using namespace flowpath::cttest;

constexpr const char* kA = "192.0.2.1";
constexpr const char* kB = "198.51.100.1";

// ---- the tracker alone -------------------------------------------------

struct Cache : ::testing::Test {
  Conntrack ct;
  CtParams p{.zone = 1, .commit = true};
  int64_t now = 1000;
  CtResult track(PacketBuffer& b, const CtParams& q) {
    CtResult r;
    Packet* pk = &b.packet();
    ct.execute(std::span<Packet* const>(&pk, 1), q, now, &r);
    return r;
  }
  // A UDP connection in its steady one-way state (first, then multiple),
  // and a packet of it whose ct_node the last execute() set.
  PacketBuffer steady() {
    PacketBuffer b = parsed(udp4(kA, kB, 1000, 53));
    track(b, p);
    track(b, p);
    EXPECT_EQ(st(track(b, p).state), st(kCsNew | kCsTracked));
    EXPECT_NE(b->meta.ct_node, nullptr);
    return b;
  }
};

TEST_F(Cache, AnswersAsTheLookup) {
  rcu::ReadGuard g;
  PacketBuffer b = steady();
  CtResult cached;
  ASSERT_TRUE(ct.try_cached(b.packet(), p, now, cached));
  PacketBuffer copy = parsed(udp4(kA, kB, 1000, 53));
  CtResult looked = track(copy, p);
  EXPECT_EQ(st(cached.state), st(looked.state));
  EXPECT_EQ(cached.zone, looked.zone);
  EXPECT_EQ(cached.mark, looked.mark);
  // The reply makes it bidirectional: the cache sees the new state.
  PacketBuffer rpl = parsed(udp4(kB, kA, 53, 1000));
  EXPECT_EQ(st(track(rpl, p).state), st(kCsEstablished | kCsReplyDir | kCsTracked));
  ASSERT_TRUE(ct.try_cached(b.packet(), p, now, cached));
  EXPECT_EQ(st(cached.state), st(kCsEstablished | kCsTracked));
}

TEST_F(Cache, FlushedOrExpiredConnectionIsNotUsed) {
  rcu::ReadGuard g;  // keeps the flushed Conn's memory, as the datapath does
  PacketBuffer b = steady();
  CtResult r;
  ASSERT_TRUE(ct.try_cached(b.packet(), p, now, r));
  EXPECT_FALSE(ct.try_cached(b.packet(), p, now + 3'600'000, r));  // expired by then
  EXPECT_EQ(ct.flush(uint16_t{1}), 1u);
  EXPECT_FALSE(ct.try_cached(b.packet(), p, now, r));
  // The lookup commits a new connection, as without the cache.
  EXPECT_EQ(st(track(b, p).state), st(kCsNew | kCsTracked));
  EXPECT_EQ(ct.dump(now, uint16_t{1}).size(), 1u);
}

TEST_F(Cache, OtherZoneForceMarkLabelOrNatAreNotCached) {
  rcu::ReadGuard g;
  PacketBuffer b = steady();
  CtResult r;
  CtParams q = p;
  q.zone = 2;
  EXPECT_FALSE(ct.try_cached(b.packet(), q, now, r));
  q = p, q.force = true;
  EXPECT_FALSE(ct.try_cached(b.packet(), q, now, r));
  q = p, q.set_mark = true, q.mark = 5, q.mark_mask = ~0u;
  EXPECT_FALSE(ct.try_cached(b.packet(), q, now, r));
  track(b, q);
  EXPECT_EQ(b->meta.ct_node, nullptr) << "a mark write takes the locked path: no cache";
}

TEST_F(Cache, MarkWrittenSinceIsSeen) {
  rcu::ReadGuard g;
  PacketBuffer b = steady();
  PacketBuffer other = parsed(udp4(kA, kB, 1000, 53));
  CtParams q = p;
  q.set_mark = true, q.mark = 7, q.mark_mask = ~0u;
  track(other, q);
  CtResult r;
  ASSERT_TRUE(ct.try_cached(b.packet(), p, now, r));
  EXPECT_EQ(r.mark, 7u);
}

TEST_F(Cache, TcpAndFirstPacketsLeaveNoCache) {
  PacketBuffer syn = parsed(tcp4(kA, kB, 1000, 80, kSyn, 1, 0));
  track(syn, p);
  EXPECT_EQ(syn->meta.ct_node, nullptr);
  PacketBuffer u = parsed(udp4(kA, kB, 2000, 53));
  track(u, p);  // created: the locked path
  EXPECT_EQ(u->meta.ct_node, nullptr);
  track(u, p);  // first -> multiple: a state change, locked
  EXPECT_EQ(u->meta.ct_node, nullptr);
  track(u, p);  // steady: lock-free, cached
  EXPECT_NE(u->meta.ct_node, nullptr);
  CtParams uncommitted = p;
  uncommitted.commit = false;
  PacketBuffer none = parsed(udp4(kA, kB, 3000, 53));
  track(none, uncommitted);
  EXPECT_EQ(none->meta.ct_node, nullptr);
}

// ---- through the datapath ----------------------------------------------

// in_port=1: ct(zone=1) then, after recirculation, a rewrite of the UDP
// source port and ct(commit,zone=1): the second ct() must track the new
// tuple.  in_port=2: ct(zone=1), then ct(commit,zone=2): another zone.
// in_port=3: ct(zone=1), then ct(commit,zone=1) as Neutron's egress rule
// for +new-est: the cached case.  in_port=4: commits zone 1 (the setup).
constexpr const char* kConfig = R"(add-br br
add-port br a ofport=1 type=memory
add-port br b ofport=2 type=memory
add-port br c ofport=3 type=memory
add-port br d ofport=4 type=memory
add-port br out ofport=5 type=memory
add-flow br table=0,priority=10,udp,in_port=1 actions=ct(table=1,zone=1)
add-flow br table=0,priority=10,udp,in_port=2 actions=ct(table=2,zone=1)
add-flow br table=0,priority=10,udp,in_port=3 actions=ct(table=3,zone=1)
add-flow br table=0,priority=10,udp,in_port=4 actions=ct(commit,zone=1),output:5
add-flow br table=1,priority=10,udp actions=mod_tp_src:2000,ct(commit,zone=1),output:5
add-flow br table=2,priority=10,udp actions=ct(commit,zone=2),output:5
add-flow br table=3,priority=10,ct_state=+new-est+trk,udp actions=ct(commit,zone=1),output:5
add-flow br table=3,priority=10,ct_state=+est+trk,udp actions=output:5
)";

struct OutSink {
  std::vector<uint8_t> states;
  int drops = 0;
  void output(uint32_t, Packet& p, bool) { states.push_back(p.meta.ct_state); }
  void drop(Packet&) { ++drops; }
};

class CacheDatapath : public ::testing::Test {
 protected:
  CacheDatapath()
      : of_(SwitchConfig::parse(kConfig), Ofproto::Options{&clock_, {}}), dp_(of_, cfg()) {}
  DatapathConfig cfg() {
    DatapathConfig c;
    c.clock = &clock_;
    return c;
  }
  static std::vector<uint8_t> udp(uint16_t sport) {
    return (Eth{mac("02:00:00:00:00:02"), mac("02:00:00:00:00:01")} / IPv4{.src = kA, .dst = kB} /
            UDP{.sport = sport, .dport = 53} / Payload{.n = 8})
        .bytes();
  }
  /// `n` copies of the frame in one batch through `port`.
  OutSink send(const std::vector<uint8_t>& frame, std::string_view port, uint32_t n = 1) {
    std::vector<PacketBuffer> bufs(n, PacketBuffer(frame, of_.find_port(port)->dp_port));
    Batch b;
    for (auto& x : bufs) b.push(&x.packet());
    OutSink s;
    dp_.process(b, s);
    return s;
  }
  size_t conns(uint16_t zone) { return dp_.conntrack().dump(clock_.now_ms(), zone).size(); }
  // The one-way connection 192.0.2.1:1000 -> :53 committed in zone 1 and
  // steady (a second packet), so the first ct() of a later packet caches it.
  void steady_zone1() {
    send(udp(1000), "d");
    send(udp(1000), "d");
    ASSERT_EQ(conns(1), 1u);
  }

  ManualClock clock_{1000};
  Ofproto of_;
  Datapath<Ofproto> dp_;
};

TEST_F(CacheDatapath, RewrittenTupleIsTrackedAsItself) {
  steady_zone1();
  OutSink s = send(udp(1000), "a");
  ASSERT_EQ(s.states.size(), 1u);
  // The commit after mod_tp_src:2000 created 192.0.2.1:2000 -> :53.
  auto c = dp_.conntrack().dump(clock_.now_ms(), uint16_t{1});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TRUE(c[0].orig.sport == 2000 || c[1].orig.sport == 2000);
}

TEST_F(CacheDatapath, SecondCtInAnotherZoneLooksUp) {
  steady_zone1();
  send(udp(1000), "b");
  EXPECT_EQ(conns(2), 1u);
  EXPECT_EQ(conns(1), 1u);
}

TEST_F(CacheDatapath, CachedSecondCtGivesTheLookupsResultAndCounts) {
  steady_zone1();
  OutSink s = send(udp(1000), "c", 32);
  ASSERT_EQ(s.states.size(), 32u);
  for (uint8_t x : s.states) EXPECT_EQ(st(x), st(kCsNew | kCsTracked));
  EXPECT_EQ(conns(1), 1u);
  EXPECT_EQ(dp_.recirc().ct_packets, 2u + 64u);  // the setup's 2, then two ct() per packet
  // A flush between two batches: the next batch's first ct() finds nothing,
  // and its commit creates the connection again (no stale cache survives
  // a batch: ct_node is cleared on receive).
  dp_.conntrack().flush(uint16_t{1});
  s = send(udp(1000), "c", 4);
  ASSERT_EQ(s.states.size(), 4u);
  EXPECT_EQ(conns(1), 1u);
  // Both megaflows counted every packet: 32 + 4 (and the setup's in_port=4 flow 2).
  std::string flows = dp_.dpctl_dump_flows();
  const std::string in_c =
      "recirc_id(0),in_port(" + std::to_string(of_.find_port("c")->dp_port) + ")";
  EXPECT_NE(flows.find(in_c), std::string::npos) << flows;
  size_t n36 = 0;
  for (size_t at = 0; (at = flows.find("packets:36,", at)) != std::string::npos; ++at) ++n36;
  EXPECT_EQ(n36, 2u) << flows;
}

}  // namespace conntrack_cache_test
}  // namespace flowpath
