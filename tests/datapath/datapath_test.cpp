// Datapath: fast path vs slow path, conservation, change, churn, limits.
#include "flowpath/datapath/datapath.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "datapath/dp_test_util.hpp"

namespace flowpath {
namespace datapath_test {

using test::RecordingSink;

// Sends frames through dp in batches of `batch_size` and checks each
// packet's outputs against a fresh upcall.  Returns packets checked.
template <class DP, class H>
size_t run_and_compare(DP& dp, H& handler, std::mt19937& rng, size_t n_packets,
                       uint32_t batch_size) {
  size_t checked = 0;
  while (checked < n_packets) {
    std::vector<PacketBuffer> bufs(batch_size);
    std::vector<PacketBuffer> originals(batch_size);
    Batch batch;
    for (uint32_t i = 0; i < batch_size; ++i) {
      uint32_t in_port;
      auto frame = test::random_frame(rng, &in_port);
      bufs[i] = PacketBuffer(frame, in_port);
      originals[i] = bufs[i];
      batch.push(&bufs[i].packet());
    }
    RecordingSink sink;
    dp.process(batch, sink);
    for (uint32_t i = 0; i < batch_size; ++i) {
      const auto& got = sink.rec[&bufs[i].packet()];
      EXPECT_EQ(got.finals, 1) << "packet " << checked + i << " not conserved";
      auto want = test::reference_outputs(handler, originals[i]);
      EXPECT_EQ(got.outs, want.outs) << "packet " << checked + i;
      EXPECT_EQ(got.dropped, want.dropped);
    }
    checked += batch_size;
  }
  return checked;
}

template <class B>
class DatapathTyped : public ::testing::Test {};
using Backends = ::testing::Types<simd::Scalar, simd::Highway, simd::Xsimd>;
TYPED_TEST_SUITE(DatapathTyped, Backends);

TYPED_TEST(DatapathTyped, FastPathEqualsSlowPathOnRandomTables) {
  for (uint32_t batch_size : {1u, 7u, 32u}) {
    std::mt19937 rng(42 + batch_size);
    TableUpcall<> table;
    for (int r = 0; r < 12; ++r) test::add_random_rule(table, rng);
    DatapathConfig cfg;
    cfg.emc.insert_inv_prob = 2;
    Datapath<TableUpcall<>, TypeParam> dp(table, cfg);
    run_and_compare(dp, table, rng, 640, batch_size);
    const PmdStats& s = dp.stats();
    EXPECT_EQ(s.packets, s.emc_hits + s.megaflow_hits + s.upcall_ok + s.lost);
    EXPECT_GT(s.emc_hits + s.megaflow_hits, s.upcall_ok) << "caches never hit";
  }
}

TYPED_TEST(DatapathTyped, ChurnBetweenBatches) {
  for (Invalidation inv :
       {Invalidation::kIndexed, Invalidation::kRevalidate, Invalidation::kFlush}) {
    std::mt19937 rng(7);
    TableUpcall<> table;
    std::vector<std::pair<Match, int32_t>> rules;
    DatapathConfig cfg;
    cfg.emc.insert_inv_prob = 1;
    cfg.invalidation = inv;
    Datapath<TableUpcall<>, TypeParam> dp(table, cfg);
    for (int round = 0; round < 40; ++round) {
      test::add_random_rule(table, rng);
      auto& all = table.classifier().rules();
      if (all.size() > 6) {
        const auto& victim = all[rng() % all.size()];
        table.remove_flow(victim.match, victim.priority);
      }
      run_and_compare(dp, table, rng, 64, 32);
    }
    EXPECT_GT(dp.stats().revalidations, 30u);
  }
}

// Modify a flow while its megaflow and EMC entry are hot: the very next
// packet must follow the new flow.
TYPED_TEST(DatapathTyped, HotFlowChangeIsSeenByTheNextPacket) {
  TableUpcall<> table;
  FlowMask m;
  m.in_port = 0xffffffffu;
  FlowKey v;
  v.in_port = 1;
  Match match(v, m);
  table.add_flow(match, 10, {DpAction::output(2)});
  DatapathConfig cfg;
  cfg.emc.insert_inv_prob = 1;
  Datapath<TableUpcall<>, TypeParam> dp(table, cfg);
  auto frame = (test::Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
                test::IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
                test::UDP{.sport = 1, .dport = 2} / test::Payload{.n = 18})
                   .bytes();
  auto send = [&] {
    PacketBuffer buf(frame, 1);
    Batch b;
    b.push(&buf.packet());
    RecordingSink sink;
    dp.process(b, sink);
    auto rec = sink.rec[&buf.packet()];
    return rec.outs.empty() ? 0u : rec.outs.back().first;
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(send(), 2u);
  EXPECT_GE(dp.stats().emc_hits, 3u);
  table.add_flow(match, 10, {DpAction::output(3)});  // modify
  EXPECT_EQ(send(), 3u);
  table.add_flow(match, 20, {DpAction::output(4)});  // higher priority
  EXPECT_EQ(send(), 4u);
  table.remove_flow(match, 20);
  EXPECT_EQ(send(), 3u);
  table.remove_flow(match, 10);
  EXPECT_EQ(send(), 0u);  // table miss: drop
}

TYPED_TEST(DatapathTyped, LimitsAreHonouredAndPacketsStillForwarded) {
  std::mt19937 rng(3);
  TableUpcall<> table;
  for (int r = 0; r < 12; ++r) test::add_random_rule(table, rng);
  DatapathConfig cfg;
  cfg.megaflow.max_flows = 5;
  cfg.megaflow.max_subtables = 1;
  Datapath<TableUpcall<>, TypeParam> dp(table, cfg);
  run_and_compare(dp, table, rng, 320, 32);
  EXPECT_LE(dp.megaflows().size(), 5u);
  EXPECT_LE(dp.megaflows().n_subtables(), 1u);
  const auto& c = dp.megaflows().counters();
  EXPECT_GT(c.install_refused_flow_limit, 0u);
  EXPECT_EQ(dp.stats().uncached, c.install_refused_flow_limit + c.install_refused_subtable_limit);

  // Many masks: the subtable limit is what refuses.
  TableUpcall<> wide;
  for (int r = 0; r < 30; ++r) test::add_random_rule(wide, rng);
  DatapathConfig cfg2;
  cfg2.megaflow.max_subtables = 2;
  Datapath<TableUpcall<>, TypeParam> dp2(wide, cfg2);
  for (int round = 0; round < 10; ++round) {
    test::add_random_rule(wide, rng);  // changes the union mask
    run_and_compare(dp2, wide, rng, 64, 32);
    EXPECT_LE(dp2.megaflows().n_subtables(), 2u);
  }
}

struct FailingHandler {
  TableUpcall<> inner;
  int calls = 0;
  void upcall(const FlowKey& k, const Packet* p, UpcallResult& r) {
    if (++calls % 2) throw std::runtime_error("boom");
    inner.upcall(k, p, r);
    r.failed = k.in_port == 4;
  }
  uint64_t generation() const { return inner.generation(); }
};

TEST(Datapath, FailedUpcallsAreLostAndDropped) {
  FailingHandler h;
  h.inner.add_flow(Match(), 0, {DpAction::output(9)});
  Datapath<FailingHandler, simd::Scalar> dp(h);
  std::mt19937 rng(1);
  std::vector<PacketBuffer> bufs(32);
  Batch b;
  for (auto& buf : bufs) {
    uint32_t port;
    auto frame = test::random_frame(rng, &port);
    buf = PacketBuffer(frame, port);
    b.push(&buf.packet());
  }
  RecordingSink sink;
  dp.process(b, sink);
  uint64_t dropped = 0;
  for (auto& buf : bufs) {
    EXPECT_EQ(sink.rec[&buf.packet()].finals, 1);
    dropped += sink.rec[&buf.packet()].dropped;
  }
  EXPECT_GT(dp.stats().lost, 0u);
  EXPECT_EQ(dropped, dp.stats().lost);
  EXPECT_EQ(dp.stats().packets, dp.stats().megaflow_hits + dp.stats().upcall_ok + dp.stats().lost);
}

// A batch whose packets all take one flow runs its group from a copy of
// batch.pkts (execute's one-group path): a push that fails on a packet
// with no headroom drops only that packet, and batch.pkts[i] stays
// keys[i]'s packet (the executor compacts the group's span, not the batch).
TEST(Datapath, OneGroupBatchWithAFailedActionKeepsItsPackets) {
  TableUpcall<> table;
  table.add_flow(Match(), 0, {DpAction::push_vlan(0x8100, 7), DpAction::output(9)});
  const auto f = (test::Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
                  test::IPv4{.src = Be32(0xc0000201u), .dst = Be32(0xc6336401u)} /
                  test::UDP{.sport = 1000, .dport = 53} / test::Payload{.n = 18})
                     .bytes();
  for (uint32_t n : {1u, 2u, 4u, 32u}) {
    Datapath<TableUpcall<>, simd::Scalar> dp(table);
    for (int round = 0; round < 3; ++round) {  // upcall, then cached passes
      std::vector<PacketBuffer> bufs(n, PacketBuffer(f, 1));
      std::vector<uint8_t> tight(f);  // no headroom: the push fails
      Packet no_room(tight.data(), uint32_t(tight.size()), 0, uint32_t(tight.size()));
      no_room.in_port = 1;
      Batch b;
      for (uint32_t i = 0; i < n; ++i) b.push(&bufs[i].packet());
      const uint32_t bad = n / 2;
      b.pkts[bad] = &no_room;
      const Batch before = b;
      RecordingSink sink;
      dp.process(b, sink);
      for (uint32_t i = 0; i < n; ++i) {
        EXPECT_EQ(b.pkts[i], before.pkts[i]) << "n=" << n << " i=" << i;
        const auto& r = sink.rec[b.pkts[i]];
        EXPECT_EQ(r.finals, 1) << "n=" << n << " i=" << i;
        EXPECT_EQ(r.dropped, i == bad) << "n=" << n << " i=" << i;
        EXPECT_EQ(r.outs.size(), i == bad ? 0u : 1u);
      }
      EXPECT_EQ(dp.stats().groups, uint64_t(round + 1));
    }
    EXPECT_EQ(dp.stats().action_drops, 3u);
    EXPECT_EQ(dp.stats().outputs, 3u * (n - 1));
  }
}

// An upcall handler that answers from its table but fails every packet
// from in_port 4: that packet is lost (dropped and counted).
struct LosesPort4 {
  TableUpcall<> inner;
  void upcall(const FlowKey& k, const Packet* p, UpcallResult& r) {
    inner.upcall(k, p, r);
    r.failed = k.in_port == 4;
  }
  uint64_t generation() const { return inner.generation(); }
};

// A batch of one flow's packets and a lost one (a failed upcall) is one
// group that is not the whole batch: the lost packet is dropped once and
// never output, the others are output once each.
TEST(Datapath, OneGroupAndALostPacketAreEachFinishedOnce) {
  LosesPort4 h;
  h.inner.add_flow(Match(), 0, {DpAction::output(9)});
  Datapath<LosesPort4, simd::Scalar> dp(h);
  const auto f = (test::Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
                  test::IPv4{.src = Be32(0xc0000201u), .dst = Be32(0xc6336401u)} /
                  test::UDP{.sport = 1000, .dport = 53} / test::Payload{.n = 18})
                     .bytes();
  for (uint32_t lost_at : {0u, 1u, 2u}) {
    std::vector<PacketBuffer> bufs;
    for (uint32_t i = 0; i < 3; ++i) bufs.emplace_back(f, i == lost_at ? 4 : 1);
    Batch b;
    for (auto& buf : bufs) b.push(&buf.packet());
    RecordingSink sink;
    dp.process(b, sink);
    for (uint32_t i = 0; i < 3; ++i) {
      const auto& r = sink.rec[&bufs[i].packet()];
      EXPECT_EQ(r.finals, 1) << "lost_at=" << lost_at << " i=" << i;
      EXPECT_EQ(r.dropped, i == lost_at);
      EXPECT_EQ(r.outs.size(), i == lost_at ? 0u : 1u);
    }
  }
  EXPECT_EQ(dp.stats().lost, 3u);
  EXPECT_EQ(dp.stats().outputs, 6u);
}

// A batch of one takes execute's own path (no batch tag, no regrouping):
// its flow is credited with the packet, its bytes and its TCP flags, and a
// lost packet alone in its batch is dropped once and never output.
TEST(Datapath, BatchOfOneCreditsItsFlowAndDropsALostPacket) {
  LosesPort4 h;
  h.inner.add_flow(Match(), 0, {DpAction::push_vlan(0x8100, 7), DpAction::output(9)});
  Datapath<LosesPort4, simd::Scalar> dp(h);
  const auto syn = (test::Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
                    test::IPv4{.src = Be32(0xc0000201u), .dst = Be32(0xc6336401u)} /
                    test::TCP{.sport = 1000, .dport = 80, .flags = 0x002})
                       .bytes();
  auto ack = syn;
  ack[14 + 20 + 13] = 0x10;  // the TCP flags byte: ACK
  for (int i = 0; i < 3; ++i) {  // upcall, megaflow, EMC
    RecordingSink sink;
    PacketBuffer buf(i == 2 ? ack : syn, 1);
    Batch b;
    b.push(&buf.packet());
    dp.process(b, sink);
    const auto& r = sink.rec[&buf.packet()];
    EXPECT_EQ(r.finals, 1);
    ASSERT_EQ(r.outs.size(), 1u);
    EXPECT_EQ(r.outs[0].second.size(), syn.size() + 4);  // tagged
  }
  size_t flows = 0;
  dp.megaflows().for_each([&](const MegaflowEntry& e) {
    ++flows;
    EXPECT_EQ(e.packets, 3u);
    EXPECT_EQ(e.bytes, 3u * syn.size());
    EXPECT_EQ(e.tcp_flags, 0x012);
  });
  EXPECT_EQ(flows, 1u);
  RecordingSink sink;
  PacketBuffer lost(syn, 4);
  Batch b;
  b.push(&lost.packet());
  dp.process(b, sink);
  EXPECT_EQ(sink.rec[&lost.packet()].finals, 1);
  EXPECT_TRUE(sink.rec[&lost.packet()].dropped);
  EXPECT_TRUE(sink.rec[&lost.packet()].outs.empty());
  EXPECT_EQ(dp.stats().lost, 1u);
  EXPECT_EQ(dp.stats().groups, 3u);
  EXPECT_EQ(dp.stats().group_packets, 3u);
  EXPECT_EQ(dp.stats().outputs, 3u);
}

// process(batch, sink) reads the system clock again only after
// kClockReuseCycles: a batch's time is the clock's or at most 1 ms behind,
// and a batch ~20 ms later moves the megaflow's "used" (not a stale read).
TEST(Datapath, SystemClockIsReusedForUnderAMillisecondOnly) {
  TableUpcall<> table;
  table.add_flow(Match(), 0, {DpAction::output(9)});
  Datapath<TableUpcall<>, simd::Scalar> dp(table);
  ASSERT_EQ(dp.config().clock, Clock::system());
  const auto f = (test::Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
                  test::IPv4{.src = Be32(0xc0000201u), .dst = Be32(0xc6336401u)} /
                  test::UDP{.sport = 1000, .dport = 53} / test::Payload{.n = 18})
                     .bytes();
  auto used = [&] {
    int64_t u = -1;
    dp.megaflows().for_each([&](const MegaflowEntry& e) { u = e.used_ms; });
    return u;
  };
  for (int round = 0; round < 4; ++round) {
    test::FrameSink sink;
    const int64_t before = Clock::system()->now_ms();
    for (int i = 0; i < 50; ++i) test::process_frames(dp, {f}, sink);
    const int64_t after = Clock::system()->now_ms();
    EXPECT_GE(used(), before - 1) << "round " << round;
    EXPECT_LE(used(), after) << "round " << round;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A manual (test) clock is read for every batch: a 1 ms step shows at once.
TEST(Datapath, ManualClockIsReadEveryBatch) {
  TableUpcall<> table;
  table.add_flow(Match(), 0, {DpAction::output(9)});
  ManualClock clock;
  DatapathConfig cfg;
  cfg.clock = &clock;
  Datapath<TableUpcall<>, simd::Scalar> dp(table, cfg);
  const auto f = (test::Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
                  test::IPv4{.src = Be32(0xc0000201u), .dst = Be32(0xc6336401u)} /
                  test::UDP{.sport = 1000, .dport = 53} / test::Payload{.n = 18})
                     .bytes();
  for (int i = 0; i < 5; ++i) {
    test::FrameSink sink;
    test::process_frames(dp, {f}, sink);
    int64_t u = -1;
    dp.megaflows().for_each([&](const MegaflowEntry& e) { u = e.used_ms; });
    EXPECT_EQ(u, clock.now_ms());
    clock.advance_ms(1);
  }
}

TEST(Datapath, MalformedPacketsAreClassifiedAndCounted) {
  TableUpcall<> table;
  table.add_flow(Match(), 0, {DpAction::output(5)});
  Datapath<TableUpcall<>, simd::Scalar> dp(table);
  auto frame = (test::Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
                test::IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / test::UDP{})
                   .bytes();
  frame.resize(20);  // cut inside the IPv4 header
  PacketBuffer buf(frame, 1);
  Batch b;
  b.push(&buf.packet());
  RecordingSink sink;
  dp.process(b, sink);
  EXPECT_EQ(dp.stats().malformed, 1u);
  ASSERT_EQ(sink.rec[&buf.packet()].outs.size(), 1u);
  EXPECT_EQ(sink.rec[&buf.packet()].outs[0].first, 5u);
}

TEST(Datapath, EmptyBatchIsANoOp) {
  TableUpcall<> table;
  Datapath<TableUpcall<>, simd::Scalar> dp(table);
  Batch b;
  RecordingSink sink;
  dp.process(b, sink);
  EXPECT_EQ(dp.stats().packets, 0u);
}

// Two datapaths (two PMD threads) on one table credit the same rule: the
// first to hit owns the rule's counters and adds without a lock, the other
// adds to the shared ones (core/stats.hpp).  The rule counts every packet
// of both, at batch sizes 1, 4 and 32; each datapath's megaflow only its own.
TEST(Datapath, TwoDatapathsOnThreadsCreditOneRuleExactly) {
  const auto f = (test::Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} /
                  test::IPv4{.src = Be32(0xc0000201u), .dst = Be32(0xc6336401u)} /
                  test::UDP{.sport = 1000, .dport = 53} / test::Payload{.n = 18})
                     .bytes();
  for (uint32_t n : {1u, 4u, 32u}) {
    TableUpcall<> table;
    auto rule = table.add_flow(Match(), 0, {DpAction::output(9)});
    Datapath<TableUpcall<>, simd::Scalar> a(table), b(table);
    const std::vector<std::vector<uint8_t>> frames(n, f);
    test::FrameSink warm;
    test::process_frames(a, frames, warm);  // the upcalls, on this thread:
    test::process_frames(b, frames, warm);  // the threads only hit
    constexpr uint64_t kBatches = 3000;
    auto run = [&frames](Datapath<TableUpcall<>, simd::Scalar>& dp, uint64_t* out) {
      test::FrameSink sink;
      for (uint64_t i = 0; i < kBatches; ++i) test::process_frames(dp, frames, sink);
      *out = sink.frames.size();
    };
    uint64_t out_a = 0, out_b = 0;
    std::thread ta(run, std::ref(a), &out_a), tb(run, std::ref(b), &out_b);
    ta.join(), tb.join();
    const uint64_t total = 2 * (kBatches + 1) * n;
    EXPECT_EQ(out_a + out_b + warm.frames.size(), total);
    EXPECT_EQ(rule->packets(), total) << "batch " << n;
    EXPECT_EQ(rule->bytes(), total * f.size());
    EXPECT_NE(rule->owner(), 0u);
  }
}

}  // namespace datapath_test
}  // namespace flowpath
