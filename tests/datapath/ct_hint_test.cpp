// Connection hints (DatapathConfig::ct_hints, RecircState's hint table,
// Conntrack::try_hint): a ct() that starts a packet from the connection
// its flow's last ct() found, instead of hashing and walking a chain,
// forwards, drops and counts exactly as the lookup, and leaves the same
// megaflows, EMC, connections and tracker counters, at batches of 1, 4
// and 32, across what can make a hint wrong: the connection changing state
// (replies), being flushed (all, or its zone), expiring, a packet of the
// flow with a bad IPv4 header checksum (+inv: not in the flow key, so the
// EMC still hits), a mark written by a commit, a flow-table change, and
// the EMC off (no hints), and TCP (the state machine and windows run from
// the hint under the connection's lock).  Removing the liveness check
// (expiry, flush) or the packet's own header checks from try_hint makes
// one of these fail; so does removing try_hint_tcp's liveness test under
// the lock (TcpStateAndWindows: the expired established connections) or
// zeroing the segment's window it passes on (TcpStateAndWindows: max_win).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "../conntrack/ct_support.hpp"
#include "datapath/dp_test_util.hpp"
#include "flowpath/datapath/datapath.hpp"

namespace flowpath {
namespace ct_hint_test {

using Fw = test::CtFirewall;

using test::ct_spec;

struct FwRun {
  DpCtSpec ct1 = ct_spec(false), commit;
  Fw fw{&ct1, &commit};
  ManualClock clock;
  test::FrameSink out;
  std::unique_ptr<Datapath<Fw>> dp;
  FwRun(bool hints, uint32_t mark = 0, bool emc = true, bool nat = false)
      : commit(ct_spec(true, mark, nat)) {
    DatapathConfig cfg;
    cfg.ct_hints = hints;
    cfg.emc_enabled = emc;
    cfg.emc.insert_inv_prob = 1;  // every megaflow hit enters the EMC
    cfg.clock = &clock;
    dp = std::make_unique<Datapath<Fw>>(fw, cfg);
  }
  void send(const std::vector<std::vector<uint8_t>>& frames, uint32_t in_port = 1) {
    test::process_frames(*dp, frames, out, in_port);
    clock.advance_ms(1);
  }
  // Every connection's packets in batches of `batch`, `rounds` times.
  void steady(int conns, int batch, int rounds);
};

void FwRun::steady(int conns, int batch, int rounds) {
  for (int r = 0; r < rounds; ++r)
    for (int first = 0; first < conns; first += batch) {
      std::vector<std::vector<uint8_t>> f;
      for (int i = first; i < std::min(conns, first + batch); ++i) f.push_back(cttest::udp_conn(i));
      send(f);
    }
}

void expect_same(FwRun& with, FwRun& without, bool hinted = true) {
  test::expect_same_run(*with.dp, with.out, *without.dp, without.out);
  EXPECT_EQ(with.dp->recirc().ct_packets, without.dp->recirc().ct_packets);
  if (hinted) {
    EXPECT_GT(with.dp->recirc().ct_hinted, 0u);
  }
  EXPECT_EQ(without.dp->recirc().ct_hinted, 0u);
  cttest::expect_same_connections(with.dp->conntrack(), without.dp->conntrack(), true);
  const ct::CtCounters &a = with.dp->conntrack().counters(),
                       &b = without.dp->conntrack().counters();
  EXPECT_EQ(a.created.load(), b.created.load());
  EXPECT_EQ(a.expired.load(), b.expired.load());
  EXPECT_EQ(a.invalid.load(), b.invalid.load());
  EXPECT_EQ(with.dp->conntrack().n_conns(), without.dp->conntrack().n_conns());
}

constexpr int kBatches[] = {1, 4, 32};

// Steady traffic, replies (the connections become established), steady.
TEST(CtHint, StateChange) {
  for (int batch : kBatches) {
    SCOPED_TRACE(batch);
    FwRun with(true), without(false);
    for (FwRun* r : {&with, &without}) {
      r->steady(32, batch, 3);
      for (int i = 0; i < 16; ++i) r->send({cttest::udp_conn(i, true)}, 2);
      r->steady(32, batch, 3);
    }
    expect_same(with, without);
  }
}

// dpctl/flush-conntrack (all; then zone 1, then another zone) between
// rounds: the hinted connections are gone and are created again.
TEST(CtHint, Flush) {
  for (int batch : kBatches) {
    SCOPED_TRACE(batch);
    FwRun with(true), without(false);
    for (FwRun* r : {&with, &without}) {
      r->steady(32, batch, 3);
      r->dp->conntrack().flush();
      r->steady(32, batch, 3);
      r->dp->conntrack().flush(uint16_t(1));
      r->steady(32, batch, 3);
      r->dp->conntrack().flush(uint16_t(2));  // not theirs: hints stay
      r->steady(32, batch, 3);
    }
    expect_same(with, without);
  }
}

// The connections expire (no sweep: the lookup skips an expired entry and
// a commit replaces it).
TEST(CtHint, Expiry) {
  for (int batch : kBatches) {
    SCOPED_TRACE(batch);
    FwRun with(true), without(false);
    for (FwRun* r : {&with, &without}) {
      r->steady(32, batch, 3);
      r->clock.advance_ms(10 * 60 * 1000);
      r->steady(32, batch, 3);
      r->dp->conntrack().sweep(r->clock.now_ms());
      r->steady(32, batch, 2);
    }
    expect_same(with, without);
  }
}

// A flush while a reader holds the epoch (another PMD in its batch): the
// flushed connections are claimed but not yet freed, so their memory
// still holds their keys; only the dead flag and the generation tell a
// hint it is gone (with both removed, this test fails: the hint answers
// from the flushed connection).
TEST(CtHint, FlushWhileAReaderHoldsTheEpoch) {
  for (int batch : kBatches) {
    SCOPED_TRACE(batch);
    FwRun with(true), without(false);
    for (FwRun* r : {&with, &without}) {
      r->steady(32, batch, 3);
      for (int i = 0; i < 8; ++i) r->send({cttest::udp_conn(i, true)}, 2);  // some +est
      {
        rcu::ReadGuard reader;
        r->dp->conntrack().flush();
        r->steady(32, batch, 2);
      }
      r->steady(32, batch, 2);
    }
    expect_same(with, without);
  }
}

// TCP connection i's segment: 192.0.2.(1+i):2000+i -> 198.51.100.1:80
// (orig, port 1, with `payload` bytes) or the reverse (reply, port 2).
std::vector<uint8_t> tcp_seg(int i, bool reply, uint16_t flags, uint32_t seq, uint32_t ack,
                             size_t payload = 0) {
  const std::string a = "192.0.2." + std::to_string(1 + i);
  const char* b = "198.51.100.1";
  return reply
             ? cttest::tcp4(b, a.c_str(), 80, uint16_t(2000 + i), flags, seq, ack, payload).bytes()
             : cttest::tcp4(a.c_str(), b, uint16_t(2000 + i), 80, flags, seq, ack, payload).bytes();
}

// One phase of TCP traffic in both runs of an A/B: seg(i) for connections
// [0, conns) in batches of `batch`, orig segments on port 1 and replies on
// port 2; then the two trackers' connections (TCP states and windows)
// must be the same, so a difference that later traffic would wipe out
// (a flush, a pickup) is seen where it happens.
template <class Seg>
void tcp_phase(FwRun& a, FwRun& b, int conns, int batch, bool reply, Seg seg) {
  for (FwRun* r : {&a, &b})
    for (int first = 0; first < conns; first += batch) {
      std::vector<std::vector<uint8_t>> f;
      for (int i = first; i < std::min(conns, first + batch); ++i) f.push_back(seg(i));
      r->send(f, reply ? 2 : 1);
    }
  cttest::expect_same_connections(a.dp->conntrack(), b.dp->conntrack(), true);
}

// TCP, hinted (the tracker's update under the connection's lock from the
// flow's hint): handshakes, data both ways with the windows moving,
// retransmissions, expiry of established hinted connections, a segment
// far outside the window, invalid flags, FIN and RST, a SYN reopening a
// closed connection, expiry (picked up again mid-stream) and a flush;
// UDP connections in the same batches.  After every phase each
// connection's TCP state and windows must be the lookup's.
TEST(CtHint, TcpStateAndWindows) {
  using cttest::kAck, cttest::kFin, cttest::kRst, cttest::kSyn;
  constexpr int kConns = 16;
  for (int batch : kBatches) {
    SCOPED_TRACE(batch);
    FwRun w(true), wo(false);
    auto phase = [&](bool reply, auto seg) { tcp_phase(w, wo, kConns, batch, reply, seg); };
    auto advance = [&](int64_t ms) {
      w.clock.advance_ms(ms);
      wo.clock.advance_ms(ms);
    };
    phase(false, [](int i) { return tcp_seg(i, false, kSyn, 100, 0); });
    phase(true, [](int i) { return tcp_seg(i, true, kSyn | kAck, 500, 101); });
    for (uint32_t k = 0; k < 4; ++k) {  // data out, ACKs back, retransmitted once
      for (int again = 0; again < 2; ++again)
        phase(false, [k](int i) { return tcp_seg(i, false, kAck, 101 + 10 * k, 501, 10); });
      phase(true, [k](int i) { return tcp_seg(i, true, kAck, 501, 111 + 10 * k); });
    }
    // Established and hinted, then expired (no sweep: the lookup skips the
    // expired entries, so the hints must refuse them): picked up again
    // mid-stream.
    advance(int64_t(25) * 3600 * 1000);
    for (int round = 0; round < 2; ++round)
      phase(false, [](int i) { return tcp_seg(i, false, kAck, 141, 501); });
    // Mixed: UDP connections, TCP data, a far segment and bad flags.
    phase(false, [](int i) {
      if (i % 4 == 0) return cttest::udp_conn(i);
      if (i % 4 == 1) return tcp_seg(i, false, kAck, 0x80000000u, 501);
      if (i % 4 == 2) return tcp_seg(i, false, 0, 141, 501);  // no flags: +inv
      return tcp_seg(i, false, kAck, 141, 501, 20);
    });
    phase(false, [](int i) {
      return tcp_seg(i, false, i % 2 ? kFin | kAck : kRst, 141 + (i % 4 == 3 ? 20 : 0), 501);
    });
    phase(true, [](int i) {
      return tcp_seg(i, true, i % 2 ? kFin | kAck : kAck, 501, 142 + (i % 4 == 3 ? 20 : 0));
    });
    // A SYN on each reset connection (reopens it), then the closing ones'
    // last ACKs.
    phase(false, [](int i) {
      return i % 2 ? tcp_seg(i, false, kAck, 142 + (i % 4 == 3 ? 20 : 0), 502)
                   : tcp_seg(i, false, kSyn, 9000, 0);
    });
    phase(true, [](int i) {
      return i % 2 ? tcp_seg(i, true, kAck, 502, 142) : tcp_seg(i, true, kSyn | kAck, 700, 9001);
    });
    advance(10 * 60 * 1000);  // expired: picked up mid-stream
    for (int round = 0; round < 2; ++round)
      phase(false, [](int i) { return tcp_seg(i, false, kAck, 9001, 701); });
    w.dp->conntrack().flush(uint16_t(1));
    wo.dp->conntrack().flush(uint16_t(1));
    for (int round = 0; round < 2; ++round)
      phase(false, [](int i) { return tcp_seg(i, false, kAck, 9001, 701, 5); });
    expect_same(w, wo);
    EXPECT_GT(w.dp->conntrack().counters().invalid.load(), 0u);
  }
}

// The commit translates the source (SNAT): such connections are never
// hinted (their packets are rewritten), UDP or not.
TEST(CtHint, NatIsNotHinted) {
  for (int batch : kBatches) {
    SCOPED_TRACE(batch);
    FwRun with(true, 0, true, true), without(false, 0, true, true);
    for (FwRun* r : {&with, &without}) {
      r->steady(16, batch, 3);
      for (int i = 0; i < 4; ++i) r->send({cttest::udp_conn(i, true)}, 2);
      r->steady(16, batch, 3);
    }
    expect_same(with, without, false);
    EXPECT_EQ(with.dp->recirc().ct_hinted, 0u);
  }
}

// A packet of an established flow with a bad IPv4 header checksum: the
// same flow key (the EMC hits), but +inv.
TEST(CtHint, BadChecksumIsInvalid) {
  for (int batch : kBatches) {
    SCOPED_TRACE(batch);
    FwRun with(true), without(false);
    for (FwRun* r : {&with, &without}) {
      r->steady(32, batch, 3);
      std::vector<std::vector<uint8_t>> f;
      for (int i = 0; i < batch; ++i) {
        f.push_back(cttest::udp_conn(i));
        if (i % 2 == 0) f.back()[14 + 10] ^= 0x5a;  // IPv4 header checksum
      }
      r->send(f);
      r->steady(32, batch, 1);
    }
    expect_same(with, without);
    EXPECT_GT(with.dp->conntrack().counters().invalid.load(), 0u);
  }
}

// The second pass commits with a mark (exec(set_field:7->ct_mark)): the
// first ct() of the next packets reports it (+ 350 in the port).
TEST(CtHint, MarkWrittenByCommit) {
  for (int batch : kBatches) {
    SCOPED_TRACE(batch);
    FwRun with(true, 7), without(false, 7);
    for (FwRun* r : {&with, &without}) r->steady(32, batch, 4);
    expect_same(with, without);
  }
}

// A flow-table change removes the megaflows; traffic goes on.
TEST(CtHint, FlowTableChange) {
  FwRun with(true), without(false);
  for (FwRun* r : {&with, &without}) {
    r->steady(16, 8, 3);
    r->fw.version = 1;
    r->steady(16, 8, 3);
  }
  expect_same(with, without);
}

// The EMC off: no flow hash, no hints; the same as without.
TEST(CtHint, EmcOff) {
  FwRun with(true, 0, false), without(false, 0, false);
  for (FwRun* r : {&with, &without}) r->steady(16, 8, 3);
  expect_same(with, without, false);
  EXPECT_EQ(with.dp->recirc().ct_hinted, 0u);
}

// Two PMD threads with hints on, each its own datapath over one shared
// tracker, the same connections from both (one sends their replies too),
// while a third thread flushes the zone and sweeps: every packet leaves
// once, each verdict is one the lookup can give (`ok`), and no hint is used
// across a flush (under ThreadSanitizer, the shared state is only atomics
// and locks; tests run it in the TSan stage).  conn(i, reply): connection
// i's frame.
template <class Conn, class Ok>
void two_pmds_with_flushes(Conn conn, Ok ok, bool invalid_ok) {
  ct::Conntrack shared;
  constexpr int kConns = 32, kRounds = 150;
  struct Pmd {
    DpCtSpec ct1 = ct_spec(false), commit = ct_spec(true);
    Fw fw{&ct1, &commit};
    ManualClock clock;
    test::FrameSink out;
    std::unique_ptr<Datapath<Fw>> dp;
    uint64_t sent = 0;
  };
  Pmd pmd[2];
  for (Pmd& m : pmd) {
    DatapathConfig cfg;
    cfg.emc.insert_inv_prob = 1;
    cfg.clock = &m.clock;
    cfg.conntrack = &shared;
    m.dp = std::make_unique<Datapath<Fw>>(m.fw, cfg);
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> th;
  for (int t = 0; t < 2; ++t)
    th.emplace_back([&, t] {
      Pmd& m = pmd[t];
      for (int r = 0; r < kRounds; ++r)
        for (int first = 0; first < kConns; first += 4) {
          std::vector<std::vector<uint8_t>> f;
          for (int i = first; i < first + 4; ++i) f.push_back(conn(i, false));
          test::process_frames(*m.dp, f, m.out, 1);
          m.sent += f.size();
          if (t == 1 && r % 3 == 0) {
            test::process_frames(*m.dp, {conn(first, true)}, m.out, 2);
            ++m.sent;
          }
          m.clock.advance_ms(1);
        }
    });
  std::thread flusher([&] {
    while (!stop.load()) {
      shared.flush(uint16_t(1));
      shared.sweep(0);
      std::this_thread::yield();
    }
  });
  for (auto& x : th) x.join();
  stop = true;
  flusher.join();
  for (Pmd& m : pmd) {
    EXPECT_EQ(m.out.frames.size() + m.out.drops, m.sent);
    for (const auto& f : m.out.frames) {
      const int verdict = int(f.back()) - int(f[14 + 15]);  // port - source's last byte
      EXPECT_TRUE(ok(verdict)) << verdict;
    }
  }
  EXPECT_GT(pmd[0].dp->recirc().ct_hinted + pmd[1].dp->recirc().ct_hinted, 0u);
  if (!invalid_ok) {
    EXPECT_EQ(shared.counters().invalid.load(), 0u);
  }
}

TEST(CtHint, TwoPmdsWithFlushes) {
  two_pmds_with_flushes([](int i, bool reply) { return cttest::udp_conn(i, reply); },
                        [](int v) { return v == 10 || v == 20; }, false);
}

// The same with TCP: the hinted update takes the connection's shard
// locks while the other PMD updates it and the flusher claims it.  The
// same ACK again and again, picked up mid-stream after each flush; +inv is
// a verdict the lookup can give too (the other PMD's reply may come first
// and be picked up as the connection's originator).
TEST(CtHint, TwoPmdsWithFlushesTcp) {
  two_pmds_with_flushes(
      [](int i, bool reply) {
        return tcp_seg(i, reply, cttest::kAck, reply ? 501 : 101, reply ? 101 : 501);
      },
      [](int v) { return v == 10 || v == 20 || v == 30; }, true);
}

}  // namespace ct_hint_test
}  // namespace flowpath
