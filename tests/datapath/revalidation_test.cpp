// Revalidation by dependency (Invalidation::kIndexed) on the compute node:
// under random interleavings of packets and changes (flow-mods, learned,
// moved, removed and aged-out MACs, fdb flushes, port changes), every
// packet is forwarded exactly as the slow path would forward it at that
// moment, and changes touch only the flows that depend on them.
#include <gtest/gtest.h>

#include <random>

#include "datapath/compute_node_util.hpp"
#include "datapath/dp_test_util.hpp"

namespace flowpath {
namespace revalidation_test {

using test::RecordingSink;

struct Harness {
  ManualClock clock;
  std::unique_ptr<Ofproto> of;
  std::unique_ptr<Datapath<Ofproto, simd::Scalar>> dp;
  std::vector<uint32_t> ports;  // vm1, vm2, vm3, eth2 (datapath numbers)

  explicit Harness(Invalidation inv, MacTableConfig mac = {.capacity = 64, .aging_ms = 10'000}) {
    clock.set_ms(1'000);
    of = test::make_compute_node(&clock, mac);
    DatapathConfig cfg;
    cfg.emc.insert_inv_prob = 1;
    cfg.clock = &clock;
    cfg.invalidation = inv;
    dp = std::make_unique<Datapath<Ofproto, simd::Scalar>>(*of, cfg);
    for (const char* p : {"vm1", "vm2", "vm3", "eth2"}) ports.push_back(of->find_port(p)->dp_port);
  }

  /// Sends one frame; checks it against a fresh slow-path translation made
  /// just before (learning aside, the same decision).  Returns false on a
  /// mismatch.
  bool send_and_check(const std::vector<uint8_t>& frame, uint32_t in_port) {
    PacketBuffer buf(frame, in_port);
    auto want = test::reference_outputs(*of, buf);
    Batch b;
    b.push(&buf.packet());
    RecordingSink sink;
    dp->process(b, sink);
    const auto& got = sink.rec[&buf.packet()];
    EXPECT_EQ(got.finals, 1);
    return got.outs == want.outs && got.dropped == want.dropped;
  }
};

struct AddedRule {
  std::string bridge, match;
};

// One random change; returns a short name of what it did (for messages).
std::string random_change(Harness& h, std::mt19937& rng, std::vector<AddedRule>& added) {
  auto pick = [&](uint32_t n) { return uint32_t(rng() % n); };
  const char* bridges[] = {"br-int", "br-eth2"};
  const uint32_t r = pick(100);
  if (r < 40 || added.empty()) {
    std::string br = bridges[pick(2)];
    std::string prio = "priority=" + std::to_string(pick(2) ? 5 + pick(5) : 0);
    std::string m;
    switch (pick(5)) {
      case 0:
        m = "dl_dst=" + ofctl::format_eth(test::host_mac(pick(6)));
        break;
      case 1:
        m = "dl_src=" + ofctl::format_eth(test::host_mac(pick(6)));
        break;
      case 2:
        m = "udp,tp_dst=" + std::to_string(53 + pick(2));
        break;
      case 3:
        m = "dl_vlan=" + std::to_string(pick(2) ? 1000 : 1);
        break;
      default:
        m = "udp,nw_dst=198.51.100." + std::to_string(1 + pick(2));
        break;
    }
    const char* acts[] = {"drop", "NORMAL", "mod_vlan_vid:7,NORMAL", "output:LOCAL"};
    h.of->add_flow(br, prio + "," + m + " actions=" + acts[pick(4)]);
    added.push_back({br, prio + "," + m});
    return "add-flow " + br + " " + added.back().match;
  }
  if (r < 60) {
    size_t i = pick(uint32_t(added.size()));
    AddedRule a = added[i];
    added.erase(added.begin() + long(i));
    h.of->del_flows(a.bridge, a.match, /*strict=*/true);
    return "del-flows --strict " + a.bridge + " " + a.match;
  }
  if (r < 75) {
    const AddedRule& a = added[pick(uint32_t(added.size()))];
    h.of->mod_flows(a.bridge, a.match + " actions=" + (pick(2) ? "drop" : "NORMAL"), true);
    return "mod-flows " + a.bridge + " " + a.match;
  }
  if (r < 80) {
    h.of->fdb_flush(bridges[pick(2)]);
    return "fdb/flush";
  }
  if (r < 85) {
    h.clock.advance_ms(11'000);  // past aging: every entry goes
    h.of->run_periodic();
    return "aging";
  }
  if (r < 88) {
    h.of->port_changed();
    return "port changed";
  }
  std::lock_guard lock(h.of->mutex());
  Bridge& b = *h.of->bridges()[pick(2)];
  b.macs().remove(uint16_t(pick(2) ? 1 : 1000), test::host_mac(pick(6)));
  return "fdb remove";
}

std::vector<uint8_t> random_packet(std::mt19937& rng, const Harness& h, uint32_t* in_port) {
  auto pick = [&](uint32_t n) { return uint32_t(rng() % n); };
  uint32_t port = pick(4);
  *in_port = h.ports[port];
  uint32_t src = pick(6), dst = pick(7);
  if (dst == src) dst = 6;
  EthAddr d = dst == 6 ? EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} : test::host_mac(dst);
  int tag = port == 3 ? (pick(3) == 0 ? -1 : pick(2) ? 1000 : 1001) : -1;
  return test::udp_frame(test::host_mac(src), d, tag, 1000, uint16_t(53 + pick(2)));
}

TEST(Revalidation, IndexedForwardsAsTheSlowPathUnderRandomInterleavings) {
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    std::mt19937 rng(seed);
    Harness h(Invalidation::kIndexed);
    std::vector<AddedRule> added;
    std::string last_change = "none";
    int mismatches = 0;
    for (int step = 0; step < 4000 && mismatches < 5; ++step) {
      if (rng() % 100 < 6) {
        last_change = random_change(h, rng, added);
        continue;
      }
      uint32_t in_port;
      auto frame = random_packet(rng, h, &in_port);
      if (!h.send_and_check(frame, in_port)) {
        ++mismatches;
        ADD_FAILURE() << "seed " << seed << " step " << step << ": fast path differs from the "
                      << "slow path; last change: " << last_change;
      }
    }
    const PmdStats& s = h.dp->stats();
    EXPECT_EQ(s.packets, s.emc_hits + s.megaflow_hits + s.upcall_ok + s.lost);
    EXPECT_EQ(s.lost, 0u);
    EXPECT_GT(s.emc_hits + s.megaflow_hits, s.packets / 5) << "caches hardly hit";
    EXPECT_GT(s.changes, 100u);
    EXPECT_GT(s.full_flushes, 0u);     // fdb flushes, port changes
    EXPECT_GT(s.revalidated_out, 0u);  // and targeted removals
  }
}

// A learned MAC touches only the flows that consulted it: a flow between
// two known hosts stays cached while new hosts come and go elsewhere.
TEST(Revalidation, NewMacsDoNotTouchUnrelatedFlows) {
  Harness h(Invalidation::kIndexed, {.capacity = 4096});
  const EthAddr vm2 = test::host_mac(2), remote = test::host_mac(100);
  ASSERT_TRUE(h.send_and_check(test::udp_frame(remote, vm2, 1000), h.ports[3]));
  ASSERT_TRUE(h.send_and_check(test::udp_frame(vm2, remote), h.ports[1]));
  ASSERT_TRUE(h.send_and_check(test::udp_frame(vm2, remote), h.ports[1]));
  const uint64_t upcalls = h.dp->stats().upcall_ok;
  const uint64_t out_before = h.dp->stats().revalidated_out;
  for (uint32_t i = 0; i < 500; ++i) {
    auto bcast = EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    ASSERT_TRUE(h.send_and_check(test::udp_frame(test::host_mac(1000 + i), bcast), h.ports[0]));
    ASSERT_TRUE(h.send_and_check(test::udp_frame(vm2, remote), h.ports[1]));
  }
  // One upcall per new MAC, none for the known flow, nothing invalidated.
  EXPECT_EQ(h.dp->stats().upcall_ok - upcalls, 500u);
  EXPECT_EQ(h.dp->stats().revalidated_out, out_before);
  EXPECT_GE(h.dp->stats().changes, 500u);
}

// Full batches: every host sends from its own port and is learned first,
// so no packet of a batch changes what another one sees; flow-mods and
// port changes come between batches.  Each packet is checked against the
// slow path's answer computed before its batch.
TEST(Revalidation, IndexedForwardsAsTheSlowPathInFullBatches) {
  std::mt19937 rng(11);
  Harness h(Invalidation::kIndexed, {.capacity = 64});
  auto home = [&](uint32_t host) { return h.ports[host % 4]; };
  auto bcast = EthAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  for (uint32_t host = 0; host < 6; ++host)  // learn everyone where they live
    for (int tag : {-1, 1000, 1001})
      h.send_and_check(test::udp_frame(test::host_mac(host), bcast, host % 4 == 3 ? tag : -1),
                       home(host));
  std::vector<AddedRule> added;
  for (int round = 0; round < 400; ++round) {
    if (rng() % 3 == 0) {
      if (rng() % 20 == 0) {
        h.of->port_changed();
      } else if (added.empty() || rng() % 2) {
        std::string br = rng() % 2 ? "br-int" : "br-eth2";
        std::string match = "priority=" + std::to_string(5 + rng() % 5) +
                            ",udp,tp_dst=" + std::to_string(53 + rng() % 2) +
                            ",dl_dst=" + ofctl::format_eth(test::host_mac(rng() % 6));
        h.of->add_flow(br, match + (rng() % 2 ? " actions=drop" : " actions=output:LOCAL"));
        added.push_back({br, match});
      } else {
        size_t i = rng() % added.size();
        h.of->del_flows(added[i].bridge, added[i].match, true);
        added.erase(added.begin() + long(i));
      }
    }
    std::vector<PacketBuffer> bufs;
    bufs.reserve(32);
    std::vector<RecordingSink::Rec> want;
    for (int i = 0; i < 32; ++i) {
      uint32_t src = rng() % 6, dst = rng() % 7;
      if (dst == src) dst = 6;
      int tag = home(src) == h.ports[3] ? 1000 + int(rng() % 2) : -1;
      auto d = dst == 6 ? bcast : test::host_mac(dst);
      bufs.emplace_back(
          test::udp_frame(test::host_mac(src), d, tag, 1000, uint16_t(53 + rng() % 2)), home(src));
      want.push_back(test::reference_outputs(*h.of, bufs.back()));
    }
    Batch batch;
    for (auto& b : bufs) batch.push(&b.packet());
    RecordingSink sink;
    h.dp->process(batch, sink);
    for (size_t i = 0; i < bufs.size(); ++i) {
      const auto& got = sink.rec[&bufs[i].packet()];
      EXPECT_EQ(got.finals, 1);
      EXPECT_EQ(got.outs, want[i].outs) << "round " << round << " packet " << i;
    }
  }
  const PmdStats& s = h.dp->stats();
  EXPECT_EQ(s.lost, 0u);
  EXPECT_GT(s.emc_hits + s.megaflow_hits, s.upcall_ok);
  EXPECT_GT(s.revalidated_out, 0u);
}

// A datapath that fell further behind than the journal holds cannot know
// what changed: it flushes once, and forwards correctly afterwards.
TEST(Revalidation, LaggingReaderFlushesOnce) {
  TableUpcall<> table;
  FlowKey v;
  FlowMask m;
  m.in_port = 0xffffffffu;
  v.in_port = 1;
  table.add_flow(Match(v, m), 10, {DpAction::output(2)});
  Datapath<TableUpcall<>, simd::Scalar> dp(table);
  std::vector<uint8_t> frame(64, 0);
  frame[12] = 0x88, frame[13] = 0xb5;
  auto send = [&] {
    PacketBuffer b(frame, 1);
    Batch batch;
    batch.push(&b.packet());
    RecordingSink sink;
    dp.process(batch, sink);
    auto rec = sink.rec[&b.packet()];
    return rec.outs.empty() ? 0u : rec.outs.back().first;
  };
  EXPECT_EQ(send(), 2u);
  EXPECT_EQ(dp.megaflows().size(), 1u);
  FlowKey other = v;
  other.in_port = 9;
  for (size_t i = 0; i < ChangeJournal::kDefaultCapacity; ++i) {  // 2x capacity changes
    table.add_flow(Match(other, m), 10, {DpAction::output(3)});
    table.remove_flow(Match(other, m), 10);
  }
  table.add_flow(Match(v, m), 20, {DpAction::output(4)});  // lost in the overflow
  EXPECT_EQ(send(), 4u);
  EXPECT_EQ(dp.stats().full_flushes, 1u);
  EXPECT_EQ(send(), 4u);
  EXPECT_EQ(dp.stats().full_flushes, 1u);
}

}  // namespace revalidation_test
}  // namespace flowpath

namespace flowpath {
namespace revalidation_test {

// A bulk delete (OpenFlowTable::kBulkChange rules or more) journals one
// catch-all change for the table: the megaflow a removed rule installed
// must not forward by it afterwards, in every invalidation mode.
TEST(Revalidation, BulkDeleteDropsMegaflowsOfRemovedRules) {
  for (Invalidation inv : {Invalidation::kIndexed, Invalidation::kRevalidate}) {
    Harness h(inv, {.capacity = 4096});
    const EthAddr vm2 = test::host_mac(2), remote = test::host_mac(100);
    auto frame = test::udp_frame(vm2, remote);
    ASSERT_TRUE(h.send_and_check(frame, h.ports[1]));
    h.of->add_flow("br-int",
                   "cookie=0x7,priority=50,dl_src=" + ofctl::format_eth(vm2) + " actions=drop");
    for (uint32_t i = 0; i < 2 * OpenFlowTable<>::kBulkChange; ++i)
      h.of->add_flow("br-int", "cookie=0x7,priority=40,dl_src=" +
                                   ofctl::format_eth(test::host_mac(5000 + i)) + " actions=drop");
    ASSERT_TRUE(h.send_and_check(frame, h.ports[1]));  // dropped, cached as such
    ASSERT_TRUE(h.send_and_check(frame, h.ports[1]));
    EXPECT_EQ(h.of->del_flows("br-int", "cookie=0x7/0xffffffffffffffff"),
              2 * OpenFlowTable<>::kBulkChange + 1);
    ASSERT_TRUE(h.send_and_check(frame, h.ports[1]));  // forwarded again
    ASSERT_TRUE(h.send_and_check(frame, h.ports[1]));
  }
}

}  // namespace revalidation_test
}  // namespace flowpath
