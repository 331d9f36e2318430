// Connection tracker state machines: TCP (handshake, teardown, windows, RST,
// mid-stream pickup), UDP, ICMP echo and related errors, IPv6, fragments,
// zones, marks and labels, limits and expiry with a fake clock.
#include "flowpath/conntrack/conntrack.hpp"

#include <gtest/gtest.h>

#include "conntrack/ct_support.hpp"

namespace flowpath::cttest {
namespace conntrack_test {

struct Tracker {
  Conntrack ct;
  int64_t now = 1'000'000;
  CtParams p{.zone = 0, .commit = true};
  CtResult run(const Stack& s) {
    PacketBuffer b = parsed(s);
    return ct.execute(b.packet(), p, now);
  }
  uint8_t state(const Stack& s) { return run(s).state; }
};

constexpr uint8_t kNewT = kCsTracked | kCsNew;
constexpr uint8_t kEstT = kCsTracked | kCsEstablished;
constexpr uint8_t kRplT = kCsTracked | kCsEstablished | kCsReplyDir;
constexpr uint8_t kInvT = kCsTracked | kCsInvalid;

const char* A = "192.0.2.1";
const char* B = "198.51.100.2";

TEST(ConntrackTcp, HandshakeDataAndTeardown) {
  Tracker t;
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kSyn, 100, 0))), st(kNewT));
  EXPECT_EQ(st(t.state(tcp4(B, A, 80, 1000, kSyn | kAck, 5000, 101))), st(kRplT));
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kAck, 101, 5001))), st(kEstT));
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kAck | kPsh, 101, 5001, 100))), st(kEstT));
  EXPECT_EQ(st(t.state(tcp4(B, A, 80, 1000, kAck, 5001, 201))), st(kRplT));
  auto d = t.ct.dump(t.now);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].tcp_state[0], kTcpEstablished);
  EXPECT_EQ(d[0].timeout_s, 24u * 3600);
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kFin | kAck, 201, 5001))), st(kEstT));
  EXPECT_EQ(st(t.state(tcp4(B, A, 80, 1000, kFin | kAck, 5001, 202))), st(kRplT));
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kAck, 202, 5002))), st(kEstT));
  d = t.ct.dump(t.now);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].tcp_state[0], kTcpFinWait2);
  EXPECT_EQ(d[0].timeout_s, 30u);  // tcp_close
  // A new SYN on the closed connection replaces it.
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kSyn, 9000, 0))), st(kNewT));
  EXPECT_EQ(t.ct.n_conns(), 1u);
  EXPECT_EQ(t.ct.dump(t.now)[0].tcp_state[0], kTcpSynSent);
}

TEST(ConntrackTcp, SynRetransmitStaysNew) {
  Tracker t;
  EXPECT_EQ(t.state(tcp4(A, B, 1000, 80, kSyn, 100, 0)), kNewT);
  EXPECT_EQ(t.state(tcp4(A, B, 1000, 80, kSyn, 100, 0)), kNewT);
}

TEST(ConntrackTcp, OutOfTheBlueSynAckIsInvalid) {
  Tracker t;
  EXPECT_EQ(st(t.state(tcp4(B, A, 80, 1000, kSyn | kAck, 5000, 101))), st(kInvT));
  EXPECT_EQ(t.ct.n_conns(), 0u);
  // Bad flag combinations are invalid too (SYN+RST, no flags at all).
  EXPECT_EQ(t.state(tcp4(A, B, 1, 2, kSyn | kRst, 1, 0)), kInvT);
  EXPECT_EQ(t.state(tcp4(A, B, 1, 2, 0, 1, 0)), kInvT);
}

TEST(ConntrackTcp, MidStreamSegmentIsPickedUpAsNew) {
  Tracker t;
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kAck, 777777, 999, 50))), st(kNewT));
  EXPECT_EQ(st(t.state(tcp4(B, A, 80, 1000, kAck, 999, 777827, 10))), st(kRplT));
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kAck, 777827, 1009, 50))), st(kEstT));
  auto d = t.ct.dump(t.now);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].tcp_flags[0], 0x08);  // BE_LIBERAL: window scale unknown
}

TEST(ConntrackTcp, SegmentFarOutsideTheWindowIsInvalid) {
  Tracker t;
  t.state(tcp4(A, B, 1000, 80, kSyn, 100, 0));
  t.state(tcp4(B, A, 80, 1000, kSyn | kAck, 5000, 101));
  t.state(tcp4(A, B, 1000, 80, kAck, 101, 5001));
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kAck, 101 + 50'000'000, 5001, 10))), st(kInvT));
  EXPECT_EQ(st(t.state(tcp4(B, A, 80, 1000, kAck, 5001 - 10'000'000, 101, 10))), st(kInvT));
  // ACK of data never sent (far ahead of the peer's seqlo).
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kAck, 101, 5001 + 3'000'000))), st(kInvT));
  // The connection itself is intact.
  EXPECT_EQ(st(t.state(tcp4(A, B, 1000, 80, kAck, 101, 5001, 10))), st(kEstT));
}

TEST(ConntrackTcp, RstMustHitTheSequence) {
  Tracker t;
  t.state(tcp4(A, B, 1000, 80, kSyn, 100, 0));
  t.state(tcp4(B, A, 80, 1000, kSyn | kAck, 5000, 101));
  t.state(tcp4(A, B, 1000, 80, kAck, 101, 5001));
  EXPECT_EQ(st(t.state(tcp4(B, A, 80, 1000, kRst, 5001 + 20000, 0))), st(kInvT));
  EXPECT_EQ(st(t.state(tcp4(B, A, 80, 1000, kRst, 5001, 0))), st(kRplT));
  auto d = t.ct.dump(t.now);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].tcp_state[0], kTcpTimeWait);
  EXPECT_EQ(d[0].timeout_s, 30u);  // both >= FIN_WAIT_2: tcp_close
}

TEST(ConntrackUdp, FirstMultipleBidirAndTimeouts) {
  Tracker t;
  EXPECT_EQ(t.state(udp4(A, B, 5000, 53)), kNewT);
  EXPECT_EQ(t.ct.dump(t.now)[0].timeout_s, 60u);
  EXPECT_EQ(t.state(udp4(A, B, 5000, 53)), kNewT);  // still one-way
  EXPECT_EQ(t.state(udp4(B, A, 53, 5000)), kRplT);
  EXPECT_EQ(t.state(udp4(A, B, 5000, 53)), kEstT);
  EXPECT_EQ(t.ct.dump(t.now)[0].timeout_s, 30u);  // udp_multiple
  t.now += 29'000;
  EXPECT_EQ(t.state(udp4(A, B, 5000, 53)), kEstT);
  t.now += 31'000;                                  // past the timeout
  EXPECT_EQ(t.state(udp4(B, A, 53, 5000)), kNewT);  // a new connection, the other way
}

TEST(ConntrackUdp, UncommittedLeavesNoStateAndNoMark) {
  Tracker t;
  t.p.commit = false;
  t.p.set_mark = true;
  t.p.mark = 7;
  t.p.mark_mask = ~0u;
  CtResult r = t.run(udp4(A, B, 1, 2));
  EXPECT_EQ(r.state, kNewT);
  EXPECT_EQ(r.mark, 0u);
  EXPECT_EQ(t.ct.n_conns(), 0u);
}

TEST(ConntrackIcmp, EchoAndRelatedErrors) {
  Tracker t;
  auto echo = [](const char* s, const char* d, uint8_t type) {
    return Eth{} / IPv4{.src = s, .dst = d} / ICMP{.type = type, .id = 42, .seq = 1};
  };
  EXPECT_EQ(st(t.state(echo(A, B, 0))), st(kInvT));  // reply without request
  EXPECT_EQ(st(t.state(echo(A, B, 8))), st(kNewT));
  EXPECT_EQ(st(t.state(echo(B, A, 0))), st(kRplT));
  EXPECT_EQ(st(t.state(echo(A, B, 8))), st(kEstT));
  // A UDP flow, then a port-unreachable for it from B (quotes A -> B).
  t.state(udp4(A, B, 4000, 7));
  auto quoted = IPv4{.src = A, .dst = B} / UDP{.sport = 4000, .dport = 7} / Payload{.n = 8};
  auto err = Eth{} / IPv4{.src = B, .dst = A} / ICMP{.type = 3, .code = 3} / Raw{quoted.bytes()};
  EXPECT_EQ(st(t.state(err)), st(kCsTracked | kCsRelated | kCsReplyDir));
  // An error quoting no tracked connection is invalid, and creates nothing.
  auto other = IPv4{.src = A, .dst = B} / UDP{.sport = 4001, .dport = 7} / Payload{.n = 8};
  auto err2 = Eth{} / IPv4{.src = B, .dst = A} / ICMP{.type = 3, .code = 3} / Raw{other.bytes()};
  EXPECT_EQ(st(t.state(err2)), st(kInvT));
  EXPECT_EQ(t.ct.n_conns(), 2u);
}

TEST(ConntrackIpv6, TcpAndIcmpv6) {
  Tracker t;
  const char* a6 = "2001:db8::1";
  const char* b6 = "2001:db8::2";
  auto tcp6 = [](const char* s, const char* d, uint16_t sp, uint16_t dp, uint16_t f, uint32_t seq,
                 uint32_t ack) {
    return Eth{} / IPv6{.src = s, .dst = d} /
           TCP{.sport = sp, .dport = dp, .flags = f, .seq = seq, .ack = ack};
  };
  EXPECT_EQ(t.state(tcp6(a6, b6, 1, 22, kSyn, 1, 0)), kNewT);
  EXPECT_EQ(t.state(tcp6(b6, a6, 22, 1, kSyn | kAck, 9, 2)), kRplT);
  EXPECT_EQ(t.state(tcp6(a6, b6, 1, 22, kAck, 2, 10)), kEstT);
  auto e6 = [](const char* s, const char* d, uint8_t type) {
    return Eth{} / IPv6{.src = s, .dst = d} / ICMPv6{.type = type, .body = {0, 5, 0, 1}};
  };
  EXPECT_EQ(t.state(e6(a6, b6, 128)), kNewT);
  EXPECT_EQ(t.state(e6(b6, a6, 129)), kRplT);
  auto quoted = IPv6{.src = a6, .dst = b6} / TCP{.sport = 1, .dport = 22, .flags = kAck};
  std::vector<uint8_t> body = {0, 0, 0, 0};
  auto q = quoted.bytes();
  body.insert(body.end(), q.begin(), q.end());
  auto err = Eth{} / IPv6{.src = b6, .dst = a6} / ICMPv6{.type = 1, .code = 4, .body = body};
  EXPECT_EQ(st(t.state(err)), st(kCsTracked | kCsRelated | kCsReplyDir));
}

TEST(ConntrackFragments, AreInvalidAndCounted) {
  Tracker t;
  auto f4 = Eth{} / IPv4{.src = A, .dst = B, .frag = 0x2000} / UDP{.sport = 1, .dport = 2};
  auto f4b = Eth{} / IPv4{.src = A, .dst = B, .proto = 17, .frag = 0x0010} / Payload{.n = 16};
  auto f6 = Eth{} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} / Ipv6Frag{.more = true} /
            UDP{.sport = 1, .dport = 2};
  EXPECT_EQ(t.state(f4), kInvT);
  EXPECT_EQ(t.state(f4b), kInvT);
  EXPECT_EQ(t.state(f6), kInvT);
  EXPECT_EQ(t.ct.counters().fragments.load(), 3u);
  EXPECT_EQ(t.ct.n_conns(), 0u);
}

TEST(ConntrackZones, AreSeparateAndCarryMarksAndLabels) {
  Tracker t;
  t.p.zone = 1;
  t.p.set_mark = true;
  t.p.mark = 0x10;
  t.p.mark_mask = 0xff;
  t.p.set_label = true;
  t.p.label = {1, 2};
  t.p.label_mask = {~0ull, ~0ull};
  CtResult r = t.run(udp4(A, B, 9, 9));
  EXPECT_EQ(r.state, kNewT);
  EXPECT_EQ(r.zone, 1);
  EXPECT_EQ(r.mark, 0x10u);
  EXPECT_EQ(r.label, (CtLabel{1, 2}));
  t.p = CtParams{.zone = 2, .commit = true};
  EXPECT_EQ(t.run(udp4(B, A, 9, 9)).state, kNewT);  // zone 2 knows nothing
  t.p = CtParams{.zone = 1};
  r = t.run(udp4(B, A, 9, 9));
  EXPECT_EQ(r.state, kRplT);
  EXPECT_EQ(r.mark, 0x10u);
  EXPECT_EQ(t.ct.flush(uint16_t(1)), 1u);
  EXPECT_EQ(t.ct.n_conns(), 1u);
}

TEST(ConntrackLimits, FullZoneRefusesTheCommitAndCountsIt) {
  Tracker t;
  t.p.zone = 7;
  t.ct.set_zone_limit(7, 2);
  EXPECT_EQ(t.state(udp4(A, B, 1, 1)), kNewT);
  EXPECT_EQ(t.state(udp4(A, B, 2, 1)), kNewT);
  EXPECT_EQ(t.state(udp4(A, B, 3, 1)), kNewT);  // +new, but not committed
  EXPECT_EQ(t.ct.zone_count(7), 2u);
  EXPECT_EQ(t.ct.counters().zone_limit_refused.load(), 1u);
  EXPECT_EQ(t.state(udp4(B, A, 1, 3)), kNewT);  // no state for the third
  EXPECT_EQ(t.state(udp4(B, A, 1, 1)), kRplT);  // established ones still work
  t.p.zone = 8;                                 // other zones follow the default (unlimited)
  EXPECT_EQ(t.state(udp4(A, B, 3, 1)), kNewT);
  EXPECT_EQ(t.ct.zone_count(8), 1u);
  t.ct.set_default_limit(1);
  EXPECT_EQ(t.state(udp4(A, B, 4, 1)), kNewT);
  EXPECT_EQ(t.ct.zone_count(8), 1u);
  t.ct.del_zone_limit(7);  // now follows the default limit of 1
  EXPECT_FALSE(t.ct.zone_limit(7));
}

TEST(ConntrackExpiry, SweepRemovesExpiredOnlyWithAFakeClock) {
  Tracker t;
  t.state(udp4(A, B, 1, 1));                    // 60 s
  t.state(tcp4(A, B, 1000, 80, kSyn, 100, 0));  // 30 s
  EXPECT_EQ(t.ct.sweep(t.now + 29'999), 0u);
  EXPECT_EQ(t.ct.sweep(t.now + 30'000), 1u);
  EXPECT_EQ(t.ct.n_conns(), 1u);
  EXPECT_EQ(t.ct.sweep(t.now + 60'000), 1u);
  EXPECT_EQ(t.ct.n_conns(), 0u);
  EXPECT_EQ(t.ct.counters().expired.load(), 2u);
}

TEST(ConntrackExpiry, ExpiredEntryIsReplacedWithoutSweep) {
  Tracker t;
  t.state(udp4(A, B, 1, 1));
  t.now += 61'000;
  EXPECT_EQ(t.state(udp4(A, B, 1, 1)), kNewT);
  EXPECT_EQ(t.ct.n_conns(), 1u);
  EXPECT_EQ(t.ct.dump(t.now).size(), 1u);
}

TEST(ConntrackTruncated, NeverReadsPastTheFrame) {
  Tracker t;
  auto bytes = tcp4(A, B, 1, 2, kSyn, 1, 0, 20).bytes();
  for (size_t n = 14; n < bytes.size(); ++n) {
    PacketBuffer b(std::span<const uint8_t>(bytes.data(), n));
    FlowKey key;
    parse_packet(b.packet(), key);
    CtResult r = t.ct.execute(b.packet(), t.p, t.now);
    EXPECT_TRUE(r.state & kCsTracked);
  }
}

}  // namespace conntrack_test
}  // namespace flowpath::cttest

namespace flowpath::cttest {
namespace conntrack_test {

// The batch API (two passes, prefetch) must give exactly what packet-by-
// packet calls give, on a mix of new, established, reply and invalid
// packets, at several batch sizes.
TEST(ConntrackBatch, MatchesPacketByPacket) {
  std::vector<Stack> frames;
  for (int i = 0; i < 40; ++i) {
    frames.push_back(udp4("192.0.2.1", "198.51.100.2", uint16_t(100 + i % 7), 53));
    frames.push_back(udp4("198.51.100.2", "192.0.2.1", 53, uint16_t(100 + i % 5)));
    frames.push_back(tcp4("192.0.2.1", "198.51.100.2", uint16_t(2000 + i % 3), 80,
                          i % 4 ? kAck : kSyn, uint32_t(1000 + i), 0));
  }
  for (size_t batch : {1u, 7u, 32u, 33u, 120u}) {
    Conntrack single, batched;
    CtParams p{.zone = 3, .commit = true};
    for (size_t base = 0; base < frames.size(); base += batch) {
      const size_t n = std::min(batch, frames.size() - base);
      std::vector<PacketBuffer> a, b;
      for (size_t i = 0; i < n; ++i) {
        a.push_back(parsed(frames[base + i]));
        b.push_back(parsed(frames[base + i]));
      }
      std::vector<Packet*> ptrs;
      for (auto& x : b) ptrs.push_back(&x.packet());
      std::vector<CtResult> out(n);
      batched.execute(ptrs, p, 1000, out.data());
      for (size_t i = 0; i < n; ++i) {
        const CtResult r = single.execute(a[i].packet(), p, 1000);
        ASSERT_EQ(st(r.state), st(out[i].state)) << "batch " << batch << " packet " << base + i;
      }
    }
    EXPECT_EQ(single.n_conns(), batched.n_conns());
  }
}

}  // namespace conntrack_test
}  // namespace flowpath::cttest
