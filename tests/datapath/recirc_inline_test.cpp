// The inline next pass (DatapathConfig::recirc_inline): a received batch
// taken whole by one flow's ct(),recirc whose next pass runs at the recirc,
// from the EMC's remembered answers, instead of being queued, forwards,
// drops and counts exactly as the queued pass (outputs in the same order),
// and leaves the same megaflows, EMC and connections, at batches of 1, 4
// and 32, across what must send it back to the queue: connections changing
// state (replies: ct_state), a mark written by the commit (ct_mark), a
// batch whose next pass takes two megaflows, a flow-table change removing
// the next pass's megaflow, EMC slots overwritten, a NAT ct() before the
// recirc, a clone (an output after the recirc) and a next pass that
// recirculates again.
#include <gtest/gtest.h>

#include <vector>

#include "../conntrack/ct_support.hpp"
#include "datapath/dp_test_util.hpp"
#include "flowpath/datapath/datapath.hpp"

namespace flowpath {
namespace recirc_inline_test {

using Fw = test::CtFirewall;

using test::ct_spec;

struct Shape {
  bool per_source = false, clone = false, third = false, nat = false;
  uint32_t mark = 0, emc_entries = 8192;
  uint16_t commit_zone = 1;
};

struct FwRun {
  DpCtSpec ct1, commit;
  Fw fw{&ct1, &commit};
  ManualClock clock;
  test::FrameSink out;
  std::unique_ptr<Datapath<Fw>> dp;
  FwRun(bool inline_pass, const Shape& s)
      : ct1(ct_spec(false, 0, s.nat)), commit(ct_spec(true, s.mark, false, s.commit_zone)) {
    fw.per_source = s.per_source, fw.clone = s.clone, fw.third = s.third;
    DatapathConfig cfg;
    cfg.recirc_inline = inline_pass;
    cfg.emc.entries = s.emc_entries;
    cfg.emc.insert_inv_prob = 1;  // every megaflow hit enters the EMC
    cfg.clock = &clock;
    dp = std::make_unique<Datapath<Fw>>(fw, cfg);
  }
  // Connections [first, first + n) in batches of `batch`, `rounds` times.
  void send(int first, int n, int batch, int rounds = 1, bool reply = false) {
    for (int r = 0; r < rounds; ++r)
      for (int b = first; b < first + n; b += batch) {
        std::vector<std::vector<uint8_t>> f;
        for (int i = b; i < std::min(first + n, b + batch); ++i)
          f.push_back(cttest::udp_conn(i, reply));
        test::process_frames(*dp, f, out, reply ? 2 : 1);
        clock.advance_ms(1);
      }
  }
  uint64_t inlined() const { return dp->recirc().inlined; }
};

void expect_same(FwRun& with, FwRun& without) {
  test::expect_same_run(*with.dp, with.out, *without.dp, without.out);
  EXPECT_EQ(with.dp->stats().batches, without.dp->stats().batches);
  EXPECT_EQ(with.dp->stats().groups, without.dp->stats().groups);
  EXPECT_EQ(with.dp->recirc().keys_in_place, without.dp->recirc().keys_in_place);
  EXPECT_EQ(with.dp->recirc().emc_next, without.dp->recirc().emc_next);
  EXPECT_EQ(with.dp->recirc().ct_hinted, without.dp->recirc().ct_hinted);
  EXPECT_EQ(without.inlined(), 0u);
  cttest::expect_same_connections(with.dp->conntrack(), without.dp->conntrack(), true);
}

// Steady traffic (inline), replies to half the connections (their packets
// become +est: a batch of both verdicts takes two megaflows, queued), then
// steady again (one verdict per batch where the halves do not mix).
TEST(RecircInline, ConnectionStateChangeIsQueued) {
  for (int batch : {1, 4, 32}) {
    SCOPED_TRACE(batch);
    FwRun with(true, {}), without(false, {});
    for (FwRun* r : {&with, &without}) {
      r->send(0, 64, batch, 4);
      r->send(0, 32, batch, 1, true);
      r->send(0, 64, batch, 4);
    }
    expect_same(with, without);
    EXPECT_GT(with.inlined(), 0u);
  }
}

// The commit writes a mark: the connections' next packets carry it in
// ct_mark, so the remembered answers of the unmarked key do not serve them.
TEST(RecircInline, MarkChangeIsQueued) {
  for (int batch : {1, 4}) {
    SCOPED_TRACE(batch);
    FwRun with(true, {.mark = 3}), without(false, {.mark = 3});
    for (FwRun* r : {&with, &without}) r->send(0, 16, batch, 5);
    expect_same(with, without);
    EXPECT_GT(with.inlined(), 0u);
  }
}

// Each connection its own next-pass megaflow (the port follows the source
// address): only a batch of one packet runs inline.
TEST(RecircInline, BatchOfTwoMegaflowsIsQueued) {
  for (int batch : {1, 4, 32}) {
    SCOPED_TRACE(batch);
    FwRun with(true, {.per_source = true}), without(false, {.per_source = true});
    for (FwRun* r : {&with, &without}) r->send(0, 32, batch, 4);
    expect_same(with, without);
    if (batch == 1)
      EXPECT_GT(with.inlined(), 0u);
    else
      EXPECT_EQ(with.inlined(), 0u);
  }
}

// The commit in another zone: the packets' connections there are not
// the first ct()'s, so the second ct() starts from its flow's connection
// hints, kept by the next pass's flow hash, which the inline pass must
// set as the queued pass does.
TEST(RecircInline, NextPassHashKeysHints) {
  for (int batch : {1, 4}) {
    SCOPED_TRACE(batch);
    FwRun with(true, {.commit_zone = 2}), without(false, {.commit_zone = 2});
    for (FwRun* r : {&with, &without}) r->send(0, 16, batch, 6);
    expect_same(with, without);
    EXPECT_GT(with.inlined(), 0u);
    EXPECT_GT(with.dp->recirc().ct_hinted, 0u);
  }
}

// A flow-table change removes the next pass's megaflow: the new version's
// port must come out.
TEST(RecircInline, RemovedMegaflowIsNotRun) {
  FwRun with(true, {}), without(false, {});
  for (FwRun* r : {&with, &without}) {
    r->send(0, 8, 8, 4);
    r->fw.version = 1;
    r->send(0, 8, 8, 4);
  }
  expect_same(with, without);
  EXPECT_GT(with.inlined(), 0u);
  EXPECT_EQ(with.out.frames.back().back(), uint8_t(100 + 20));
}

// A two-slot EMC overwritten by every batch: no remembered answer is of
// the current epoch, nothing runs inline.
TEST(RecircInline, OverwrittenSlotsAreQueued) {
  FwRun with(true, {.emc_entries = 2}), without(false, {.emc_entries = 2});
  for (FwRun* r : {&with, &without}) r->send(0, 12, 4, 6);
  expect_same(with, without);
  EXPECT_EQ(with.inlined(), 0u);
}

// What the queue must keep: a NAT ct() before the recirc (the frame
// changes), a clone (an output after the recirc), a next pass that
// recirculates again (its third pass keeps its depth).
TEST(RecircInline, NatCloneAndThirdPassAreQueued) {
  for (Shape s : {Shape{.nat = true}, Shape{.clone = true}, Shape{.third = true}}) {
    SCOPED_TRACE(int(s.nat) + 2 * int(s.clone) + 4 * int(s.third));
    FwRun with(true, s), without(false, s);
    for (FwRun* r : {&with, &without}) r->send(0, 16, 4, 4);
    expect_same(with, without);
    EXPECT_EQ(with.inlined(), 0u);
  }
}

}  // namespace recirc_inline_test
}  // namespace flowpath
