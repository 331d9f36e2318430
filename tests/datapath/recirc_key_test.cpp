// A recirculated packet's key taken from its previous pass instead of a
// new parse (DatapathConfig::recirc_key_reuse, recirc_keeps_key in recirc_sink.hpp):
// the key every later pass is translated with equals a fresh parse of the
// frame as it is then (plus its recirc_id/ct_* metadata), for every action
// the shortcut lets run before the recirc (output, ct() without nat,
// ct_clear, a recirc that is not the last action); any rewrite before the
// last recirc makes the datapath parse again; and the tracker's
// connections, the datapath's counters and the packets out are the same
// with and without the shortcut.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "../conntrack/ct_support.hpp"
#include "datapath/dp_test_util.hpp"
#include "flowpath/datapath/datapath.hpp"

namespace flowpath {
namespace recirc_key_test {

// A slow path that answers recirc_id 0 with the test's actions and every
// later pass with `after[recirc_id]` (default output:2), each megaflow exact
// (so a cache hit implies the key the upcall saw) unless `wide` (then it
// matches in_port and recirc_id only: every packet of a pass takes one
// flow, as the firewall's do); it records each key it is asked with beside
// a fresh parse of the packet's frame.
struct Scripted {
  DpActionList first;
  std::map<uint32_t, DpActionList> after;
  bool wide = false;
  std::vector<std::pair<FlowKey, FlowKey>> seen;  // (datapath's key, fresh parse)
  void upcall(const FlowKey& key, const Packet* pkt, UpcallResult& r) {
    if (pkt) {
      PacketBuffer copy(pkt->bytes(), pkt->in_port);
      FlowKey fresh;
      parse_packet(copy.packet(), fresh);
      const PacketMeta& m = pkt->meta;
      fresh.recirc_id = m.recirc_id;
      fresh.ct_state = m.ct_state;
      fresh.ct_zone = Be16{m.ct_zone};
      fresh.ct_mark = Be32{m.ct_mark};
      fresh.ct_label_id = m.ct_label_id;
      seen.emplace_back(key, fresh);
    }
    std::memset(static_cast<void*>(&r.mask), wide ? 0 : 0xff, sizeof r.mask);
    if (wide) r.mask.in_port = ~0u, r.mask.recirc_id = ~0u;
    if (key.recirc_id == 0) {
      r.actions = first;
    } else {
      auto it = after.find(key.recirc_id);
      r.actions = it == after.end() ? DpActionList{DpAction::output(2)} : it->second;
    }
  }
  uint64_t generation() const noexcept { return 1; }
};

using Out = test::FrameSink;

struct Run {
  Scripted up;
  Out out;
  std::unique_ptr<Datapath<Scripted>> dp;
  Run(DpActionList first, bool reuse, std::map<uint32_t, DpActionList> after = {},
      bool in_place = true, bool wide = false) {
    up.first = std::move(first);
    up.after = std::move(after);
    up.wide = wide;
    DatapathConfig cfg;
    cfg.recirc_key_reuse = reuse;
    cfg.recirc_in_place = in_place;
    dp = std::make_unique<Datapath<Scripted>>(up, cfg);
  }
  // `rounds` batches of the same frames (two UDP connections, a packet of
  // each twice, a truncated frame when `bad`), so later rounds hit the caches.
  void send(int rounds, bool bad = false) {
    using namespace cttest;
    std::vector<std::vector<uint8_t>> frames = {
        udp4("192.0.2.1", "198.51.100.1", 1000, 53).bytes(),
        udp4("192.0.2.2", "198.51.100.1", 1001, 53).bytes(),
        udp4("192.0.2.1", "198.51.100.1", 1000, 53).bytes(),
        udp4("192.0.2.2", "198.51.100.1", 1001, 53).bytes()};
    if (bad) {
      std::vector<uint8_t> cut = frames[0];
      cut.resize(14 + 20 + 4);  // the UDP header cut short: malformed
      frames.push_back(cut);
    }
    for (int r = 0; r < rounds; ++r) test::process_frames(*dp, frames, out);
  }
  uint64_t reused() const { return dp->recirc().keys_reused; }
  uint64_t in_place() const { return dp->recirc().keys_in_place; }
};

DpCtSpec spec(uint16_t zone, bool commit) {
  DpCtSpec s;
  s.params.zone = zone;
  s.params.commit = commit;
  s.text = "ct()";
  return s;
}

void expect_keys_fresh(const Run& r) {
  for (const auto& [key, fresh] : r.up.seen) {
    EXPECT_TRUE(key == fresh) << "recirc_id " << key.recirc_id << " nw_src " << key.nw_src.host()
                              << " vs " << fresh.nw_src.host();
  }
}

// With and without the shortcut: the same outputs (bytes and ports), drops,
// connections and counters.
void expect_same_as_without(Run& with, Run& without) {
  EXPECT_EQ(with.out.frames, without.out.frames);
  EXPECT_EQ(with.out.drops, without.out.drops);
  test::expect_same_counters(with.dp->stats(), without.dp->stats());
  EXPECT_EQ(with.dp->megaflows().size(), without.dp->megaflows().size());
  EXPECT_EQ(with.dp->dpctl_dump_flows().size(), without.dp->dpctl_dump_flows().size());
  EXPECT_EQ(with.dp->recirc().ct_packets, without.dp->recirc().ct_packets);
  if (with.dp->recirc().ct_packets) {
    cttest::expect_same_connections(with.dp->conntrack(), without.dp->conntrack(), false);
    const auto& x = with.dp->conntrack().counters();
    const auto& y = without.dp->conntrack().counters();
    EXPECT_EQ(x.created.load(), y.created.load());
    EXPECT_EQ(x.invalid.load(), y.invalid.load());
  }
}

// Runs `first` with and without the shortcut; returns the keys reused.
uint64_t check(const DpActionList& first, std::map<uint32_t, DpActionList> after = {},
               bool bad = false) {
  Run with(first, true, after), without(first, false, after);
  with.send(3, bad);
  without.send(3, bad);
  EXPECT_FALSE(with.up.seen.empty());
  expect_keys_fresh(with);
  expect_keys_fresh(without);
  expect_same_as_without(with, without);
  EXPECT_EQ(without.reused(), 0u);
  // Exact megaflows split the batch's two connections into two groups,
  // so no second pass has the received order to classify in place.
  EXPECT_EQ(with.in_place(), 0u);
  return with.reused();
}

constexpr uint64_t kPerRound = 4;  // well-formed packets a round recirculates

TEST(RecircKey, CtWithoutNatThenRecircReusesTheKey) {
  const DpCtSpec ct1 = spec(1, false), commit = spec(1, true);
  EXPECT_EQ(check({DpAction::conntrack(&ct1), DpAction::recirc(1)}), 3 * kPerRound);
  // The Neutron shape: ct(zone=1),recirc then ct(commit,zone=1),output.
  EXPECT_EQ(check({DpAction::conntrack(&ct1), DpAction::recirc(1)},
                  {{1, {DpAction::conntrack(&commit), DpAction::output(2)}}}),
            3 * kPerRound);
}

TEST(RecircKey, OutputCtClearAndANotLastRecircReuseTheKey) {
  const DpCtSpec commit = spec(1, true);
  EXPECT_EQ(check({DpAction::output(3), DpAction::conntrack(&commit), DpAction::recirc(1)}),
            3 * kPerRound);
  EXPECT_EQ(check({DpAction::conntrack(&commit), DpAction::ct_clear(), DpAction::recirc(1)}),
            3 * kPerRound);
  // A recirc followed by more actions recirculates a copy: its key too.
  EXPECT_EQ(check({DpAction::conntrack(&commit), DpAction::recirc(1), DpAction::output(3)}),
            3 * kPerRound);
  // Two recirculations: the third pass takes the second's key (copied out
  // of the recirculated batch before that batch is refilled).
  EXPECT_EQ(
      check({DpAction::conntrack(&commit), DpAction::recirc(1)}, {{1, {DpAction::recirc(2)}}}),
      2 * 3 * kPerRound);
}

TEST(RecircKey, RewriteBeforeTheRecircParsesAgain) {
  const DpCtSpec commit = spec(1, true);
  const std::vector<DpAction> rewrites = {DpAction::push_vlan(0x8100, 5),
                                          DpAction::set_vlan_vid(7),
                                          DpAction::set_eth_src(EthAddr{{2, 0, 0, 0, 0, 9}}),
                                          DpAction::set_ipv4_src(0xc0000263),
                                          DpAction::set_ipv4_ttl(9),
                                          DpAction::set_tp_dst(54)};
  for (const DpAction& rw : rewrites) {
    SCOPED_TRACE(int(rw.type));
    EXPECT_EQ(check({rw, DpAction::conntrack(&commit), DpAction::recirc(1)}), 0u);
    EXPECT_EQ(check({DpAction::conntrack(&commit), rw, DpAction::recirc(1)}), 0u);
  }
  // A rewrite between two recircs: the key would be stale for the second.
  EXPECT_EQ(check({DpAction::conntrack(&commit), DpAction::recirc(1), DpAction::set_tp_dst(54),
                   DpAction::recirc(2)}),
            0u);
}

TEST(RecircKey, CtWithNatParsesAgain) {
  DpCtSpec nat = spec(1, true);
  nat.params.nat.present = true;
  nat.params.nat.kind = ct::NatSpec::kSrc;
  nat.params.nat.has_addr = true;
  nat.params.nat.addr_min = nat.params.nat.addr_max = ct::CtAddr{203, 0, 113, 7};
  EXPECT_EQ(check({DpAction::conntrack(&nat), DpAction::recirc(1)}), 0u);
}

TEST(RecircKey, MalformedFrameIsParsedAndCountedAgain) {
  const DpCtSpec commit = spec(1, true);
  // The truncated frame recirculates too, parsed again (counted malformed
  // in both passes, as without the shortcut); the others reuse their key.
  EXPECT_EQ(check({DpAction::conntrack(&commit), DpAction::recirc(1)}, {}, true), 3 * kPerRound);
}

// `rounds` batches of `frames`; after each process() the batch's keys
// must still be the received frames' (the first pass's: XdpOffload::offer
// reads them after process()), whatever the later passes classified.
void send_checking_keys(Run& r, int rounds, const std::vector<std::vector<uint8_t>>& frames) {
  for (int round = 0; round < rounds; ++round) {
    std::vector<PacketBuffer> bufs;
    bufs.reserve(frames.size());
    std::vector<FlowKey> received(frames.size());
    Batch b;
    for (size_t i = 0; i < frames.size(); ++i) {
      PacketBuffer copy(frames[i], 1);
      parse_packet(copy.packet(), received[i]);
      bufs.emplace_back(frames[i], 1);
      b.push(&bufs.back().packet());
    }
    r.dp->process(b, r.out);
    for (size_t i = 0; i < frames.size(); ++i)
      EXPECT_TRUE(b.keys[i] == received[i]) << "round " << round << " packet " << i;
  }
}

// The firewall's usual second pass: every packet of the batch took one
// flow's ct(),recirc, so the pass runs exactly the received packets in
// their order, and (DatapathConfig::recirc_in_place) classifies their keys
// where the first pass left them instead of copying them.  Outputs, drops,
// counters, connections, megaflows and EMC inserts are those of the copy;
// the received batch's keys are the first pass's afterwards; a third pass
// in the same order runs in place too; a malformed packet (no key kept) or
// a rewrite before the recirc (keys not kept) makes the pass copy.
TEST(RecircKey, APassOfTheWholeBatchInItsOrderClassifiesInPlace) {
  using namespace cttest;
  const DpCtSpec ct1 = spec(1, false), commit = spec(1, true);
  const std::vector<std::vector<uint8_t>> good = {
      udp4("192.0.2.1", "198.51.100.1", 1000, 53).bytes(),
      udp4("192.0.2.2", "198.51.100.1", 1001, 53).bytes(),
      udp4("192.0.2.3", "198.51.100.2", 1002, 53).bytes(),
      udp4("192.0.2.1", "198.51.100.1", 1000, 53).bytes()};
  std::vector<std::vector<uint8_t>> bad = good;
  bad.push_back(good[0]);
  bad.back().resize(14 + 20 + 4);  // the UDP header cut short: malformed
  struct Shape {
    const char* name;
    DpActionList first;
    std::map<uint32_t, DpActionList> after;
    const std::vector<std::vector<uint8_t>>* frames;
    uint64_t in_place_per_round;
  };
  const std::vector<Shape> shapes = {
      // Neutron's: ct(zone=1),recirc then ct(commit,zone=1),output.
      {"neutron",
       {DpAction::conntrack(&ct1), DpAction::recirc(1)},
       {{1, {DpAction::conntrack(&commit), DpAction::output(2)}}},
       &good,
       4},
      // The second pass rewrites the frame: the batch's keys stay the first's.
      {"rewrite after",
       {DpAction::conntrack(&ct1), DpAction::recirc(1)},
       {{1, {DpAction::conntrack(&commit), DpAction::push_vlan(0x8100, 5), DpAction::output(2)}}},
       &good,
       4},
      {"three passes",
       {DpAction::conntrack(&commit), DpAction::recirc(1)},
       {{1, {DpAction::recirc(2)}}},
       &good,
       2 * 4},
      {"malformed", {DpAction::conntrack(&commit), DpAction::recirc(1)}, {}, &bad, 0},
      {"rewrite before",
       {DpAction::set_tp_dst(54), DpAction::conntrack(&commit), DpAction::recirc(1)},
       {},
       &good,
       0},
  };
  for (const Shape& sh : shapes) {
    SCOPED_TRACE(sh.name);
    recirc_key_test::Run with(sh.first, true, sh.after, true, true);
    recirc_key_test::Run without(sh.first, true, sh.after, false, true);
    send_checking_keys(with, 3, *sh.frames);
    send_checking_keys(without, 3, *sh.frames);
    EXPECT_FALSE(with.up.seen.empty());
    expect_keys_fresh(with);
    expect_same_as_without(with, without);
    EXPECT_EQ(with.dp->emc().inserts(), without.dp->emc().inserts());
    EXPECT_EQ(with.dp->emc().size(), without.dp->emc().size());
    EXPECT_EQ(with.reused(), without.reused());
    EXPECT_EQ(with.in_place(), 3 * sh.in_place_per_round);
    EXPECT_EQ(without.in_place(), 0u);
    EXPECT_EQ(with.dp->stats().batches, without.dp->stats().batches);
  }
}

}  // namespace recirc_key_test
}  // namespace flowpath
