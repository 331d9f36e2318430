// OfprotoBackend::append_flow_stats selects and pins the rules under the
// Ofproto's mutex and encodes them after releasing it; that is safe only
// because a published rule never changes (OpenFlowTable::modify copies).
// Here: a modify keeps what OVS keeps (counters, age, order, cookie) and
// leaves a pinned rule as it was; and dumps run while another thread
// modifies, adds and deletes the same rules through the backend — every
// entry decodes with one of the action lists a rule ever had, each dump
// holds every rule that was never deleted, and (under ASan/TSan in CI)
// nothing is read after it was freed or while it was written.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "flowpath/openflow/framing.hpp"
#include "flowpath/switch/openflow_backend.hpp"
#include "openflow/backend_fixture.hpp"

namespace fp = flowpath;
namespace of = flowpath::openflow;

namespace dump_unlocked_test {

struct Fixture : fp::test::BackendFixture {
  fp::BridgeTables& tables() { return ofp.require_bridge("br0").tables(); }
  /// The flows of a dump in `v`, decoded.
  std::vector<of::FlowStats> dump(uint8_t v, of::MatchFormat f) {
    of::StatsRequest rq;
    rq.type = of::StatsType::kFlow;
    rq.table_id = fp::kOfTableAll;
    rq.match_format = f;
    std::vector<uint8_t> out;
    be.append_flow_stats(rq, v, 7, out);
    of::Framer fr;
    fr.feed(out);
    std::vector<of::FlowStats> flows;
    while (auto m = fr.next()) {
      auto msg = of::decode(m->bytes);
      auto& rep = std::get<of::StatsReply>(msg.body);
      flows.insert(flows.end(), rep.flows.begin(), rep.flows.end());
    }
    return flows;
  }
};

of::FlowMod flow_mod(of::FlowModCommand cmd, uint16_t port, uint32_t out, int32_t prio) {
  of::FlowMod fm;
  fm.command = cmd;
  fm.table_id = fp::kOfTableAll;
  fm.priority = prio;
  fm.cookie = 0x1;
  fm.match = fp::parse_flow("in_port=" + std::to_string(port) + " actions=drop").match;
  fm.instructions.actions = {fp::OfAction::output(out)};
  return fm;
}

uint32_t output_of(const of::FlowStats& f) {
  const auto& a = f.instructions.actions;
  return a.size() == 1 && a[0].type == fp::OfActionType::kOutput ? a[0].port : 0;
}


TEST(OpenflowDumpUnlocked, ModifyKeepsCountersAgeAndOrderAndLeavesPinnedRulesAlone) {
  Fixture fx;
  using C = of::FlowModCommand;
  for (uint16_t p = 1; p <= 3; ++p)
    ASSERT_FALSE(fx.be.flow_mod(flow_mod(C::kAdd, p, 10, 100), of::kOfp13));
  std::shared_ptr<const fp::OfRule> pinned;
  {
    std::lock_guard l(fx.ofp.mutex());
    auto rules =
        fx.tables().shared_rules_if(fp::kOfTableAll, [](const fp::OfRule&) { return true; });
    ASSERT_EQ(rules.size(), 3u);
    pinned = rules[1];
    pinned->stats->add(5, 300, 0);
  }
  fx.clock.advance_ms(4000);
  auto mod = flow_mod(C::kModifyStrict, uint16_t(pinned->match.value.in_port), 20, 100);
  ASSERT_FALSE(fx.be.flow_mod(mod, of::kOfp13));
  // The pinned rule is the one before the modify, whole.
  ASSERT_EQ(pinned->actions.size(), 1u);
  EXPECT_EQ(pinned->actions[0].port, 10u);
  auto flows = fx.dump(of::kOfp13, of::MatchFormat::kOxm);
  ASSERT_EQ(flows.size(), 3u);
  // Same order as before the modify (priority, then age), counters and
  // duration kept, new actions; the others untouched.
  EXPECT_EQ(output_of(flows[0]), 10u);
  EXPECT_EQ(output_of(flows[1]), 20u);
  EXPECT_EQ(output_of(flows[2]), 10u);
  EXPECT_EQ(flows[1].packet_count, 5u);
  EXPECT_EQ(flows[1].byte_count, 300u);
  EXPECT_EQ(flows[1].duration_sec, 4u);
  EXPECT_EQ(flows[1].cookie, 0x1u);
  EXPECT_EQ(flows[1].match, pinned->match);
}

TEST(OpenflowDumpUnlocked, DumpsWhileAnotherThreadChangesTheRules) {
  Fixture fx;
  using C = of::FlowModCommand;
  constexpr uint16_t kStable = 300, kChurn = 200;
  // Ports 1..300 are never deleted (only modified); 1001..1200 come and go.
  for (uint16_t p = 1; p <= kStable; ++p)
    ASSERT_FALSE(fx.be.flow_mod(flow_mod(C::kAdd, p, 1, 10), of::kOfp10));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint32_t round = 0; !stop.load(); ++round) {
      uint32_t out = 1 + round % 3;  // outputs 1, 2, 3 only
      for (uint16_t p = 1; p <= kStable; p += 7)
        fx.be.flow_mod(flow_mod(C::kModifyStrict, p, out, 10), of::kOfp10);
      for (uint16_t p = 1001; p < 1001 + kChurn; ++p)
        fx.be.flow_mod(flow_mod(round % 2 ? C::kDeleteStrict : C::kAdd, p, out, 20), of::kOfp10);
      if (round % 4 == 3) {
        std::lock_guard l(fx.ofp.mutex());
        fx.tables().reclaim();  // frees what the flow-mods retired, as run_periodic does
      }
    }
  });
  const std::pair<uint8_t, of::MatchFormat> forms[] = {{of::kOfp10, of::MatchFormat::kNxm},
                                                       {of::kOfp10, of::MatchFormat::kOf10},
                                                       {of::kOfp13, of::MatchFormat::kOxm}};
  for (int i = 0; i < 60; ++i) {
    auto [v, f] = forms[i % 3];
    auto flows = fx.dump(v, f);
    std::set<uint32_t> stable;
    for (const auto& fl : flows) {
      uint32_t out = output_of(fl);
      EXPECT_TRUE(out >= 1 && out <= 3) << "dump " << i << ": actions torn or stale";
      uint32_t port = fl.match.value.in_port;
      if (port <= kStable) {
        EXPECT_TRUE(stable.insert(port).second) << "dump " << i << " twice";
      }
    }
    EXPECT_EQ(stable.size(), kStable) << "dump " << i;
    EXPECT_LE(flows.size(), size_t(kStable + kChurn)) << "dump " << i;
  }
  stop = true;
  writer.join();
}

}  // namespace dump_unlocked_test
