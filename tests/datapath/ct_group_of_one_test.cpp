// A ct() over a group of one packet (RecircSink::conntrack_one: every
// group of a one-packet batch, a PMD's usual poll when it keeps up) answers
// as the path of larger groups: the same traffic in batches of 1 and of 32
// sends the same frames to the same ports (as a multiset: a batch of 32 is
// regrouped per flow), and leaves the same connections, tracker counters
// and ct() count.  The traffic takes every way a group of one can go: the
// tracker's lookup (a new connection; the hints off), a connection hint,
// the packet's connection from its first ct() (the commit), a commit that
// writes a mark (never cached: the lookup), replies (+est), a bad IPv4
// header checksum (+inv), a flush and expiry.  Skipping the result of the
// lookup in conntrack_one (set_result after execute) or its hint
// (remember) makes it fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "../conntrack/ct_support.hpp"
#include "datapath/dp_test_util.hpp"
#include "flowpath/datapath/datapath.hpp"

namespace flowpath {
namespace ct_group_of_one_test {

using Fw = test::CtFirewall;

struct CtRun {
  DpCtSpec ct1 = test::ct_spec(false), commit;
  Fw fw{&ct1, &commit};
  ManualClock clock;
  test::FrameSink out;
  std::unique_ptr<Datapath<Fw>> dp;
  int batch;
  CtRun(int batch_size, bool hints, uint32_t mark)
      : commit(test::ct_spec(true, mark)), batch(batch_size) {
    DatapathConfig cfg;
    cfg.ct_hints = hints;
    cfg.emc.insert_inv_prob = 1;  // every megaflow hit enters the EMC
    cfg.clock = &clock;
    dp = std::make_unique<Datapath<Fw>>(fw, cfg);
  }
  // frames in batches of `batch`, one ms apart.
  void send(const std::vector<std::vector<uint8_t>>& frames, uint32_t in_port = 1) {
    for (size_t first = 0; first < frames.size(); first += size_t(batch)) {
      const size_t end = std::min(frames.size(), first + size_t(batch));
      std::vector<std::vector<uint8_t>> part(frames.begin() + long(first),
                                             frames.begin() + long(end));
      test::process_frames(*dp, part, out, in_port);
      clock.advance_ms(1);
    }
  }
};

std::vector<std::vector<uint8_t>> conns(int n, bool reply = false, bool bad_csum = false) {
  std::vector<std::vector<uint8_t>> f;
  for (int i = 0; i < n; ++i) {
    f.push_back(cttest::udp_conn(i, reply));
    if (bad_csum && i % 2 == 0) f.back()[14 + 10] ^= 0x5a;  // IPv4 header checksum
  }
  return f;
}

// The same traffic through both runs, phase by phase.
void traffic(CtRun& r) {
  for (int round = 0; round < 3; ++round) r.send(conns(32));  // new, then hinted
  r.send(conns(16, true), 2);                                 // replies: +est
  for (int round = 0; round < 2; ++round) r.send(conns(32));
  r.send(conns(32, false, true));  // half with a bad checksum: +inv
  r.dp->conntrack().flush(uint16_t(1));
  r.send(conns(32));
  r.clock.advance_ms(10 * 60 * 1000);  // every connection expires
  for (int round = 0; round < 2; ++round) r.send(conns(32));
}

void expect_same(CtRun& one, CtRun& group) {
  auto a = one.out.frames, b = group.out.frames;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
  EXPECT_EQ(one.out.drops, group.out.drops);
  EXPECT_EQ(one.dp->recirc().ct_packets, group.dp->recirc().ct_packets);
  cttest::expect_same_connections(one.dp->conntrack(), group.dp->conntrack(), false);
  const ct::CtCounters &x = one.dp->conntrack().counters(), &y = group.dp->conntrack().counters();
  EXPECT_EQ(x.created.load(), y.created.load());
  EXPECT_EQ(x.invalid.load(), y.invalid.load());
  EXPECT_EQ(one.dp->conntrack().n_conns(), group.dp->conntrack().n_conns());
}

TEST(CtGroupOfOne, AnswersAsALargerGroup) {
  for (bool hints : {true, false})
    for (uint32_t mark : {0u, 7u}) {
      SCOPED_TRACE(::testing::Message() << "hints " << hints << " mark " << mark);
      CtRun one(1, hints, mark), group(32, hints, mark);
      traffic(one);
      traffic(group);
      expect_same(one, group);
      EXPECT_EQ(one.dp->recirc().ct_hinted > 0, hints);
      EXPECT_EQ(group.dp->recirc().ct_hinted > 0, hints);
    }
}

}  // namespace ct_group_of_one_test
}  // namespace flowpath
