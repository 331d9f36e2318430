// classify_burst (DatapathConfig::emc_burst): a batch whose first two keys
// are equal hashes and probes the EMC once per run of equal keys, the
// packets after the first of a run taking its hash and answer.  Each test
// sends the same batches through a datapath with it and one without and
// requires the same outputs (bytes and ports), drops, counters (EMC and
// megaflow hits, upcalls), EMC inserts, megaflows as dumped and packet
// hashes; the batches mix runs of one flow with other flows, a malformed
// frame, an upcall between two packets of a run, and a rule change.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../conntrack/ct_support.hpp"
#include "datapath/dp_test_util.hpp"
#include "flowpath/datapath/datapath.hpp"

namespace flowpath {
namespace emc_burst_test {

// Exact megaflows (all-ones mask): each flow its own entry; the port is
// `port` (changed by the test, with a new generation, to make the
// datapath revalidate).
struct Exact {
  uint32_t port = 2;
  uint64_t gen = 1;
  uint64_t upcalls = 0;
  void upcall(const FlowKey&, const Packet*, UpcallResult& r) {
    ++upcalls;
    std::memset(static_cast<void*>(&r.mask), 0xff, sizeof r.mask);
    r.actions = DpActionList{DpAction::output(port)};
  }
  uint64_t generation() const noexcept { return gen; }
};

struct Out {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint32_t> hashes;
  uint64_t drops = 0;
  void output(uint32_t port, Packet& p, bool) {
    std::vector<uint8_t> f(p.bytes().begin(), p.bytes().end());
    f.push_back(uint8_t(port));
    frames.push_back(std::move(f));
    hashes.push_back(p.meta.hash);
  }
  void drop(Packet&) { ++drops; }
};

struct Run {
  Exact up;
  Out out;
  std::unique_ptr<Datapath<Exact>> dp;
  Run(bool burst, uint32_t insert_inv_prob) {
    DatapathConfig cfg;
    cfg.emc_burst = burst;
    cfg.emc.insert_inv_prob = insert_inv_prob;
    cfg.invalidation = Invalidation::kRevalidate;
    dp = std::make_unique<Datapath<Exact>>(up, cfg);
  }
  void send(const std::vector<std::vector<uint8_t>>& frames) {
    test::process_frames(*dp, frames, out);
  }
};

void expect_same(Run& a, Run& b) {
  EXPECT_EQ(a.out.frames, b.out.frames);
  EXPECT_EQ(a.out.hashes, b.out.hashes);
  EXPECT_EQ(a.out.drops, b.out.drops);
  EXPECT_EQ(a.up.upcalls, b.up.upcalls);
  test::expect_same_counters(a.dp->stats(), b.dp->stats());
  EXPECT_EQ(a.dp->emc().inserts(), b.dp->emc().inserts());
  EXPECT_EQ(a.dp->megaflows().size(), b.dp->megaflows().size());
  // The dump without its `used:` times (the clock runs).
  auto strip = [](std::string s) {
    for (size_t p; (p = s.find("used:")) != std::string::npos;) {
      size_t e = s.find(',', p);
      s.erase(p, e == std::string::npos ? std::string::npos : e - p);
    }
    return s;
  };
  EXPECT_EQ(strip(a.dp->dpctl_dump_flows()), strip(b.dp->dpctl_dump_flows()));
}

std::vector<uint8_t> udp(int src_port) {
  return cttest::udp4("192.0.2.1", "198.51.100.1", uint16_t(src_port), 53).bytes();
}

void both(uint32_t insert_inv_prob) {
  Run with(true, insert_inv_prob), without(false, insert_inv_prob);
  const auto a = udp(1000), b = udp(1001), c = udp(1002);
  std::vector<uint8_t> cut = a;
  cut.resize(14 + 20 + 4);  // malformed: the UDP header cut short
  const std::vector<std::vector<std::vector<uint8_t>>> batches = {
      std::vector<std::vector<uint8_t>>(32, a),  // one flow, first seen here
      std::vector<std::vector<uint8_t>>(32, a),  // again: EMC or megaflow hits
      {a, a, b, b, b, a, c, c, cut, cut, a, a},  // runs of several flows
      {b, b, c, a, a, a, b},                     // c new inside a run
      {c, c, cut, a, a, cut, cut, b}};
  for (int round = 0; round < 3; ++round) {
    for (const auto& f : batches) {
      with.send(f);
      without.send(f);
    }
    // A rule change between rounds: every megaflow goes, the port changes.
    with.up.port = without.up.port = 3 + round;
    ++with.up.gen, ++without.up.gen;
  }
  expect_same(with, without);
  EXPECT_GT(with.dp->stats().emc_hits, 0u);
}

TEST(EmcBurst, SameAsWithoutAtTheDefaultInsertRate) { both(100); }
TEST(EmcBurst, SameAsWithoutWhenEveryHitInserts) { both(1); }

// Through the firewall (ct(), recirculation, ct(commit)): a burst notes its
// EMC slots as the per-packet probe does, so its recirculated pass is
// answered from the slots' remembered next-pass answers as often as
// without bursts (without the noting, a burst's second pass probes again
// and emc_next falls short), with the same outputs, counters and
// connections; replies make the connections established mid-run.
struct FwRun {
  DpCtSpec ct1, commit;
  test::CtFirewall fw{&ct1, &commit};
  ManualClock clock;
  test::FrameSink out;
  std::unique_ptr<Datapath<test::CtFirewall>> dp;
  explicit FwRun(bool burst) {
    ct1.params.zone = commit.params.zone = 1;
    commit.params.commit = true;
    ct1.text = "ct(zone=1)", commit.text = "ct(commit,zone=1)";
    DatapathConfig cfg;
    cfg.emc_burst = burst;
    cfg.emc.insert_inv_prob = 1;
    cfg.clock = &clock;
    dp = std::make_unique<Datapath<test::CtFirewall>>(fw, cfg);
  }
  void send(const std::vector<std::vector<uint8_t>>& frames, uint32_t in_port) {
    test::process_frames(*dp, frames, out, in_port);
    clock.advance_ms(1);
  }
};

TEST(EmcBurst, FirewallBurstsRecirculateFromRememberedAnswers) {
  FwRun with(true), without(false);
  const auto a = cttest::udp_conn(0), b = cttest::udp_conn(1);
  const auto ra = cttest::udp_conn(0, true);
  const std::vector<std::vector<std::vector<uint8_t>>> batches = {
      std::vector<std::vector<uint8_t>>(4, a), std::vector<std::vector<uint8_t>>(32, a),
      {a, a, b, b}, std::vector<std::vector<uint8_t>>(8, b)};
  for (int round = 0; round < 4; ++round) {
    for (const auto& f : batches) {
      with.send(f, 1);
      without.send(f, 1);
    }
    if (round == 1) {
      with.send({ra, ra}, 2);
      without.send({ra, ra}, 2);
    }
  }
  test::expect_same_run(*with.dp, with.out, *without.dp, without.out);
  EXPECT_GT(without.dp->recirc().emc_next, 0u);
  EXPECT_EQ(with.dp->recirc().emc_next, without.dp->recirc().emc_next);
  EXPECT_EQ(with.dp->recirc().keys_in_place, without.dp->recirc().keys_in_place);
  cttest::expect_same_connections(with.dp->conntrack(), without.dp->conntrack(), true);
}

}  // namespace emc_burst_test
}  // namespace flowpath
