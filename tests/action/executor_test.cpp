#include "flowpath/action/executor.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "action/test_frames.hpp"

namespace flowpath {
namespace executor_test {

using test::Bytes;

// Records every call; checks that each packet gets exactly one final call
// and copies the bytes of every output (what a real sink must do when
// last=false).
struct RecordingSink {
  struct Out {
    uint32_t port;
    Bytes bytes;
    bool last;
    const Packet* pkt;
  };
  std::vector<Out> outs;
  std::map<const Packet*, int> finals;
  std::vector<const Packet*> drops;

  void output(uint32_t port, Packet& p, bool last) {
    EXPECT_EQ(finals[&p], 0) << "output after the final call";
    outs.push_back({port, test::bytes_of(p), last, &p});
    if (last) ++finals[&p];
  }
  void drop(Packet& p) {
    EXPECT_EQ(finals[&p], 0) << "drop after the final call";
    ++finals[&p];
    drops.push_back(&p);
  }
};
static_assert(ActionSink<RecordingSink>);

struct NotASink {
  void output(uint32_t, Packet&, bool) {}
};
static_assert(!ActionSink<NotASink>);

struct Group {
  std::vector<std::unique_ptr<PacketBuffer>> bufs;
  std::vector<Packet*> ptrs;
  Group(size_t n, const Bytes& frame) {
    for (size_t i = 0; i < n; ++i) {
      bufs.push_back(std::make_unique<PacketBuffer>(frame));
      ptrs.push_back(&bufs.back()->packet());
    }
  }
};

Bytes frame() { return test::make_frame(test::FrameSpec{}); }

TEST(Executor, ConservationAtSeveralGroupSizes) {
  std::vector<DpActionList> lists = {
      {},
      {DpAction::output(1)},
      {DpAction::output(1), DpAction::output(2)},
      {DpAction::set_ipv4_ttl(9), DpAction::output(3)},
      {DpAction::output(1), DpAction::set_vlan_vid(5), DpAction::output(2)},
      {DpAction::set_eth_src({}), DpAction::pop_vlan()},      // no output: drop
      {DpAction::output(4), DpAction::push_vlan(0x8100, 1)},  // trailing action ignored
  };
  for (size_t n : {0u, 1u, 2u, 7u, 31u, 32u, 33u, 100u}) {
    for (size_t li = 0; li < lists.size(); ++li) {
      Group g(n, frame());
      RecordingSink sink;
      ActionExecutor exec(sink);
      exec.run(lists[li], g.ptrs);
      size_t outputs = 0;
      for (const auto& a : lists[li]) outputs += a.type == DpActionType::kOutput;
      EXPECT_EQ(sink.outs.size(), n * outputs) << "list " << li << " n " << n;
      EXPECT_EQ(sink.drops.size(), outputs ? 0 : n);
      EXPECT_EQ(sink.finals.size(), n);
      for (auto& [p, count] : sink.finals) EXPECT_EQ(count, 1);
      EXPECT_EQ(exec.stats().drops, sink.drops.size());
      EXPECT_EQ(exec.stats().outputs, sink.outs.size());
      if (li == 6) {
        for (Packet* p : g.ptrs) EXPECT_EQ(p->size(), frame().size());  // no push happened
      }
    }
  }
}

TEST(Executor, OutputBeforeModifySeesUnmodifiedFrame) {
  Bytes f = frame();
  Group g(3, f);
  RecordingSink sink;
  DpActionList acts = {DpAction::output(1), DpAction::set_vlan_vid(5), DpAction::output(2)};
  execute_actions(acts, g.ptrs, sink);
  ASSERT_EQ(sink.outs.size(), 6u);
  Bytes tagged(f.begin(), f.begin() + 12);
  tagged.insert(tagged.end(), {0x81, 0x00, 0x00, 0x05});
  tagged.insert(tagged.end(), f.begin() + 12, f.end());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.outs[i].port, 1u);
    EXPECT_FALSE(sink.outs[i].last);
    EXPECT_EQ(sink.outs[i].bytes, f);
    EXPECT_EQ(sink.outs[3 + i].port, 2u);
    EXPECT_TRUE(sink.outs[3 + i].last);
    EXPECT_EQ(sink.outs[3 + i].bytes, tagged);
  }
}

TEST(Executor, FailedPushDropsOnlyThatPacket) {
  Bytes f = frame();
  Group g(4, f);
  // Packet 2 lives in a buffer with no headroom.
  std::vector<uint8_t> tight(f.begin(), f.end());
  Packet no_room(tight.data(), uint32_t(tight.size()), 0, uint32_t(tight.size()));
  g.ptrs[2] = &no_room;
  RecordingSink sink;
  DpActionList acts = {DpAction::output(7), DpAction::push_vlan(0x88a8, 1000),
                       DpAction::set_ipv4_src(0xc0000299), DpAction::output(8)};
  ActionExecutor exec(sink);
  exec.run(acts, g.ptrs);
  EXPECT_EQ(exec.stats().failed, 1u);
  EXPECT_EQ(exec.stats().drops, 1u);
  ASSERT_EQ(sink.drops.size(), 1u);
  EXPECT_EQ(sink.drops[0], &no_room);
  EXPECT_EQ(sink.outs.size(), 4u + 3u);
  EXPECT_EQ(sink.finals.size(), 4u);
  for (auto& [p, count] : sink.finals) EXPECT_EQ(count, 1);
  for (size_t i = 4; i < sink.outs.size(); ++i) {
    EXPECT_EQ(sink.outs[i].port, 8u);
    EXPECT_NE(sink.outs[i].pkt, &no_room);
    EXPECT_EQ(test::get16(sink.outs[i].bytes.data() + 12), 0x88a8);
    PacketBuffer check(sink.outs[i].bytes);
    EXPECT_TRUE(test::checksums_ok(check.packet()));
  }
}

TEST(Executor, SkippedActionsAreCountedAndPacketContinues) {
  test::FrameSpec s;
  s.ethertype = 0x86dd;  // not IPv4: IPv4 rewrites do not apply
  Group g(5, test::make_frame(s));
  RecordingSink sink;
  DpActionList acts = {DpAction::set_ipv4_dst(1), DpAction::pop_vlan(), DpAction::output(1)};
  auto st = execute_actions(acts, g.ptrs, sink);
  EXPECT_EQ(st.skipped, 10u);
  EXPECT_EQ(st.outputs, 5u);
  EXPECT_EQ(sink.finals.size(), 5u);
}

// IPv6 TCP and UDP, untagged and tagged: VLAN ops and port rewrites in one
// list, compared with frames built from scratch with the final headers
// (test_frames.hpp computes every checksum itself).  The IPv4 rewrite in
// the list is skipped, as OVS never emits it for IPv6.
TEST(Executor, Ipv6PortRewritesUnderVlanOps) {
  for (uint8_t proto : {6, 17}) {
    for (bool tagged : {false, true}) {
      SCOPED_TRACE(testing::Message() << "proto " << int(proto) << " tagged " << tagged);
      test::FrameSpec in;
      in.ipv6 = true, in.proto = proto;
      if (tagged) in.vlans.push_back({0x8100, 0x2064});
      test::FrameSpec want = in;
      want.sport = 4000, want.dport = 8443;
      want.vlans = {{0x8100, tagged ? 0x2005 : 0x0005}};  // PCP kept, VID 5; untagged: pushed
      Group g(3, test::make_frame(in));
      RecordingSink sink;
      DpActionList acts = {DpAction::set_vlan_vid(5), DpAction::set_ipv4_dst(1),
                           DpAction::set_tp_src(4000), DpAction::set_tp_dst(8443),
                           DpAction::output(2)};
      auto st = execute_actions(acts, g.ptrs, sink);
      EXPECT_EQ(st.skipped, 3u);
      ASSERT_EQ(sink.outs.size(), 3u);
      for (const auto& o : sink.outs) EXPECT_EQ(o.bytes, test::make_frame(want));
    }
  }
}

// A sink with ct()/recirc: records each packet's calls in order, as
// "ct", "clear", "out<port>"/"OUT<port>" (last), "rec<id>"/"REC<id>"
// (last) and "drop".
struct CtRecordingSink {
  std::map<const Packet*, std::vector<std::string>> calls;
  void output(uint32_t port, Packet& p, bool last) {
    calls[&p].push_back((last ? "OUT" : "out") + std::to_string(port));
  }
  void drop(Packet& p) { calls[&p].push_back("drop"); }
  void conntrack(const DpCtSpec&, std::span<Packet*> g) {
    for (Packet* p : g) calls[p].push_back("ct");
  }
  void ct_clear(std::span<Packet*> g) {
    for (Packet* p : g) calls[p].push_back("clear");
  }
  void recirculate(uint32_t id, std::span<Packet*> g, bool last) {
    for (Packet* p : g) calls[p].push_back((last ? "REC" : "rec") + std::to_string(id));
  }
};
static_assert(ConntrackSink<CtRecordingSink>);

// The executor's plan: the packet's final use is its last output or
// recirc, unless a ct() follows that (then it is dropped after the ct());
// actions after the final use do not run.  A list that ends in its output
// or recirc takes a one-test path (session 18), the others the scan.
TEST(Executor, FinalUseWithCtAndRecirc) {
  static const DpCtSpec spec{};
  const DpAction ct = DpAction::conntrack(&spec), clear = DpAction::ct_clear();
  const DpAction out1 = DpAction::output(1), out2 = DpAction::output(2);
  const DpAction rec7 = DpAction::recirc(7), push = DpAction::push_vlan(0x8100, 1);
  using Calls = std::vector<std::string>;
  const std::vector<std::pair<DpActionList, Calls>> cases = {
      {{ct, rec7}, {"ct", "REC7"}},
      {{ct, out1}, {"ct", "OUT1"}},
      {{out1, ct, out2}, {"out1", "ct", "OUT2"}},
      {{rec7, out1}, {"rec7", "OUT1"}},
      {{out1, rec7}, {"out1", "REC7"}},
      {{out1, ct}, {"out1", "ct", "drop"}},
      {{rec7, ct, push}, {"rec7", "ct", "drop"}},
      {{out1, push}, {"OUT1"}},
      {{ct, push}, {"ct", "drop"}},
      {{clear, out1, push, ct, push}, {"clear", "out1", "ct", "drop"}},
      {{push}, {"drop"}},
      {{ct}, {"ct", "drop"}},
      {{}, {"drop"}},
  };
  for (size_t li = 0; li < cases.size(); ++li) {
    for (size_t n : {1u, 3u}) {
      Group g(n, frame());
      CtRecordingSink sink;
      ActionExecutor exec(sink);
      exec.run(cases[li].first, g.ptrs);
      for (Packet* p : g.ptrs) EXPECT_EQ(sink.calls[p], cases[li].second) << "list " << li;
    }
  }
}

}  // namespace executor_test
}  // namespace flowpath
