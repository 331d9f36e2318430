// The EMC's remembered next-pass answer (DatapathConfig::recirc_emc_next,
// Emc::next_of): an in-place pass that takes a packet's megaflow from the
// answer its previous pass's slot remembered, instead of hashing and
// probing, forwards, drops and counts exactly as the probe, and leaves the
// same megaflows, EMC and connections, across what can make a remembered
// answer wrong: the connection's state changing (ct_state in the key), a
// flow-table change removing the second pass's megaflows (the answer's
// liveness), and EMC slots overwritten by other keys (the EMC's epoch).
// Each of those checks, removed, makes one of these tests fail.
#include <gtest/gtest.h>

#include <vector>

#include "../conntrack/ct_support.hpp"
#include "datapath/dp_test_util.hpp"
#include "flowpath/datapath/datapath.hpp"

namespace flowpath {
namespace recirc_emc_next_test {

using Fw = test::CtFirewall;

using Out = test::FrameSink;

DpCtSpec spec(uint16_t zone, bool commit) {
  DpCtSpec s;
  s.params.zone = zone;
  s.params.commit = commit;
  s.text = commit ? "ct(commit,zone=1)" : "ct(zone=1)";
  return s;
}

struct FwRun {
  DpCtSpec ct1 = spec(1, false), commit = spec(1, true);
  Fw fw{&ct1, &commit};
  ManualClock clock;
  Out out;
  std::unique_ptr<Datapath<Fw>> dp;
  FwRun(bool next, uint32_t emc_entries) {
    DatapathConfig cfg;
    cfg.recirc_emc_next = next;
    cfg.emc.entries = emc_entries;
    cfg.emc.insert_inv_prob = 1;  // every megaflow hit enters the EMC
    cfg.clock = &clock;
    dp = std::make_unique<Datapath<Fw>>(fw, cfg);
  }
  void send(const std::vector<std::vector<uint8_t>>& frames, uint32_t in_port) {
    test::process_frames(*dp, frames, out, in_port);
    clock.advance_ms(1);
  }
};

// `n` connections 192.0.2.(1+i):1000+i -> 198.51.100.1:53, one packet
// each; replies reversed.
std::vector<std::vector<uint8_t>> forward(int n, int first = 0) {
  std::vector<std::vector<uint8_t>> f;
  for (int i = first; i < first + n; ++i) f.push_back(cttest::udp_conn(i));
  return f;
}
std::vector<std::vector<uint8_t>> replies(int n, int first = 0) {
  std::vector<std::vector<uint8_t>> f;
  for (int i = first; i < first + n; ++i) f.push_back(cttest::udp_conn(i, true));
  return f;
}

// served: whether remembered answers must have been served (not where
// every batch writes an EMC slot: then none may be).
void expect_same(const FwRun& with, const FwRun& without, bool served = true) {
  test::expect_same_run(*with.dp, with.out, *without.dp, without.out);
  EXPECT_EQ(with.dp->stats().batches, without.dp->stats().batches);
  EXPECT_EQ(with.dp->recirc().keys_in_place, without.dp->recirc().keys_in_place);
  if (served) {
    EXPECT_GT(with.dp->recirc().emc_next, 0u);
  }
  EXPECT_EQ(without.dp->recirc().emc_next, 0u);
  cttest::expect_same_connections(const_cast<FwRun&>(with).dp->conntrack(),
                                  const_cast<FwRun&>(without).dp->conntrack(), true);
}

// Steady traffic, then replies (the connections become established: the
// second pass's key changes in ct_state only), then steady again.
TEST(RecircEmcNext, ConnectionStateChangeIsProbedAgain) {
  for (uint32_t batch : {1u, 4u, 32u}) {
    SCOPED_TRACE(batch);
    FwRun with(true, 8192), without(false, 8192);
    for (FwRun* r : {&with, &without}) {
      for (int round = 0; round < 4; ++round)
        for (int first = 0; first < 32; first += int(batch)) r->send(forward(int(batch), first), 1);
      for (int first = 0; first < 16; first += int(batch))
        r->send(replies(std::min(int(batch), 16), first), 2);
      for (int round = 0; round < 4; ++round)
        for (int first = 0; first < 32; first += int(batch)) r->send(forward(int(batch), first), 1);
    }
    expect_same(with, without);
  }
}

// A flow-table change (generation) removes the second pass's megaflows:
// a remembered answer naming one must not be served.
TEST(RecircEmcNext, RemovedMegaflowIsNotServed) {
  FwRun with(true, 8192), without(false, 8192);
  for (FwRun* r : {&with, &without}) {
    for (int round = 0; round < 4; ++round) r->send(forward(8), 1);
    r->fw.version = 1;
    for (int round = 0; round < 4; ++round) r->send(forward(8), 1);
  }
  expect_same(with, without);
  // The new version's ports (100 + ...) came out after the change.
  EXPECT_EQ(with.out.frames.back().back(), uint8_t(100 + 20 + 8));
}

// A tiny EMC: its slots keep being overwritten by other connections'
// keys, whose second pass takes another megaflow (the output port follows
// the source address), so an answer remembered for a slot's old key must
// not serve its new one.
TEST(RecircEmcNext, OverwrittenSlotIsNotServed) {
  for (uint32_t batch : {1u, 4u}) {
    SCOPED_TRACE(batch);
    FwRun with(true, 2), without(false, 2);
    for (FwRun* r : {&with, &without})
      for (int round = 0; round < 6; ++round)
        for (int first = 0; first < 12; first += int(batch)) r->send(forward(int(batch), first), 1);
    // Every batch inserts (12 connections, 2 slots), so the epoch refuses
    // every remembered answer: without that check this fails.
    expect_same(with, without, false);
    EXPECT_EQ(with.dp->recirc().emc_next, 0u);
  }
}

// The EMC off: nothing is remembered; the same as without.
TEST(RecircEmcNext, EmcOff) {
  DpCtSpec ct1 = spec(1, false), commit = spec(1, true);
  Fw a{&ct1, &commit}, b{&ct1, &commit};
  DatapathConfig on, off;
  on.emc_enabled = off.emc_enabled = false;
  off.recirc_emc_next = false;
  Datapath<Fw> da(a, on), db(b, off);
  Out oa, ob;
  for (int round = 0; round < 3; ++round) {
    test::process_frames(da, forward(8), oa, 1);
    test::process_frames(db, forward(8), ob, 1);
  }
  EXPECT_EQ(oa.frames, ob.frames);
  test::expect_same_counters(da.stats(), db.stats());
  EXPECT_EQ(da.stats().emc_hits, 0u);
}

}  // namespace recirc_emc_next_test
}  // namespace flowpath
