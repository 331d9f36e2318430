// OpenFlow tables: add/replace/modify/delete, stats, timeouts, dump-flows.
#include "flowpath/bridge/openflow_table.hpp"

#include <gtest/gtest.h>

#include "flowpath/classify/classifier.hpp"

namespace flowpath {
namespace openflow_table_test {

FlowKey key(uint32_t in_port, uint16_t vlan = 0) {
  FlowKey k;
  k.in_port = in_port;
  if (vlan) k.vlans[0] = VlanHeader{Be16(kEthTypeVlan), Be16(uint16_t(kVlanCfi | vlan))};
  k.dl_type = Be16(kEthTypeIpv4);
  k.nw_src = Be32(0x0a000001);
  return k;
}

OfFlowFilter filter(const std::string& text, bool strict) {
  return OfFlowFilter::from(parse_flow(text, {}, FlowTextMode::kFilter), strict);
}

struct OpenFlowTableTest : ::testing::Test {
  ManualClock clock{1'000'000};
  OpenFlowTable<> t{&clock};
};

TEST_F(OpenFlowTableTest, LookupPicksHighestPriorityPerTable) {
  t.add(parse_flow("priority=1 actions=drop"));
  t.add(parse_flow("priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL"));
  t.add(parse_flow("table=1,priority=5,ip,nw_src=10.0.0.0/8 actions=output:2"));
  FlowMask wc{};
  const OfRule* r = t.lookup(0, key(1, 1000), &wc);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->priority, 3);
  EXPECT_EQ(wc.in_port, 0xffffffffu);
  EXPECT_EQ(t.lookup(0, key(2))->priority, 1);
  EXPECT_EQ(t.lookup(1, key(2))->priority, 5);
  EXPECT_EQ(t.lookup(2, key(2)), nullptr);
  EXPECT_EQ(t.size(), 3u);
}

TEST_F(OpenFlowTableTest, AddSameMatchAndPriorityReplacesAndResetsStats) {
  const OfRule& a = t.add(parse_flow("priority=3,in_port=1 actions=output:2"));
  a.stats->add(5, 500, clock.now_ms());
  uint64_t g = t.generation();
  clock.advance_s(10);
  t.add(parse_flow("priority=3,in_port=1 actions=output:3"));
  EXPECT_GT(t.generation(), g);
  EXPECT_EQ(t.size(), 1u);
  const OfRule* r = t.lookup(0, key(1));
  EXPECT_EQ(format_actions(r->actions), "output:3");
  EXPECT_EQ(r->stats->packets(), 0u);
  EXPECT_EQ(r->created_ms, clock.now_ms());
  t.add(parse_flow("priority=4,in_port=1 actions=output:4"));  // different priority: new rule
  EXPECT_EQ(t.size(), 2u);
}

TEST_F(OpenFlowTableTest, ModifyStrictAndNonStrictKeepStats) {
  const OfRule& a = t.add(parse_flow("priority=3,in_port=1,ip actions=output:2"));
  t.add(parse_flow("priority=4,in_port=1,tcp actions=output:2"));
  t.add(parse_flow("priority=5,in_port=2 actions=output:2"));
  a.stats->add(7, 700, clock.now_ms());
  EXPECT_EQ(t.modify(filter("priority=3,in_port=1", true), parse_actions("output:9")), 0u);
  EXPECT_EQ(t.modify(filter("priority=3,in_port=1,ip", true), parse_actions("output:9")), 1u);
  EXPECT_EQ(a.stats->packets(), 7u);
  // A published rule never changes: modify installs a copy (same counters)
  // and retires `a`, which stays readable until reclaim().
  EXPECT_EQ(format_actions(a.actions), "output:2");
  const OfRule* now = t.find(0, a.match, 3);
  ASSERT_NE(now, nullptr);
  EXPECT_EQ(format_actions(now->actions), "output:9");
  EXPECT_EQ(now->stats, a.stats);
  EXPECT_EQ(t.modify(filter("in_port=1", false), parse_actions("NORMAL")), 2u);
  EXPECT_EQ(t.modify(filter("", false), parse_actions("FLOOD")), 3u);
  EXPECT_EQ(t.modify(filter("tcp", false), parse_actions("drop")), 1u);
  EXPECT_EQ(t.size(), 3u);
}

TEST_F(OpenFlowTableTest, DeleteStrictNonStrictCookieOutPortTable) {
  t.add(parse_flow("cookie=0x11,priority=3,in_port=1 actions=output:2"));
  t.add(parse_flow("cookie=0x12,priority=4,in_port=1,ip actions=output:3"));
  t.add(parse_flow("cookie=0x21,priority=5,in_port=2 actions=output:2"));
  t.add(parse_flow("table=3,cookie=0x22,priority=5,in_port=2 actions=output:2"));
  EXPECT_EQ(t.remove(filter("priority=4,in_port=1", true)), 0u);
  EXPECT_EQ(t.remove(filter("cookie=0x20/0xf0,out_port=3", false)), 0u);
  EXPECT_EQ(t.remove(filter("table=3", false)), 1u);
  EXPECT_EQ(t.remove(filter("out_port=3", false)), 1u);
  EXPECT_EQ(t.remove(filter("cookie=0x20/0xf0", false)), 1u);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.remove(filter("priority=3,in_port=1", true)), 1u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.lookup(0, key(1)), nullptr);
}

TEST_F(OpenFlowTableTest, TimeoutsExpireWithTheClock) {
  t.add(parse_flow("idle_timeout=10,priority=1,in_port=1 actions=drop"));
  const OfRule& h = t.add(parse_flow("hard_timeout=30,priority=1,in_port=2 actions=drop"));
  t.add(parse_flow("priority=1,in_port=3 actions=drop"));
  clock.advance_s(9);
  t.lookup(0, key(1))->stats->add(1, 60, clock.now_ms());  // keeps the idle rule alive
  h.stats->add(1, 60, clock.now_ms());
  clock.advance_s(9);
  EXPECT_EQ(t.expire(), 0u);
  clock.advance_s(2);
  std::vector<OfRulePtr> removed;
  EXPECT_EQ(t.expire(&removed), 1u);  // idle: 11 s since the hit
  EXPECT_EQ(removed.at(0)->idle_timeout, 10);
  clock.advance_s(9);
  uint64_t g = t.generation();
  EXPECT_EQ(t.expire(), 0u);
  EXPECT_EQ(t.generation(), g);
  clock.advance_s(1);
  EXPECT_EQ(t.expire(), 1u);  // hard: 30 s since creation despite hits
  EXPECT_GT(t.generation(), g);
  EXPECT_EQ(t.size(), 1u);
}

TEST_F(OpenFlowTableTest, DumpFlowsLikeOvsOfctl) {
  const OfRule& a =
      t.add(parse_flow("priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL"));
  t.add(parse_flow("table=2,idle_timeout=60,hard_timeout=120,cookie=0xab,ip actions=drop"));
  t.add(parse_flow("priority=10 actions=LOCAL"));
  clock.advance_ms(718'544);
  a.stats->add(70, 9976, clock.now_ms());
  clock.advance_ms(17'000);
  EXPECT_EQ(t.format_rule(a),
            "cookie=0x0, duration=735.544s, table=0, n_packets=70, n_bytes=9976, idle_age=17, "
            "priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL");
  EXPECT_EQ(t.dump_flows(),
            " cookie=0x0, duration=735.544s, table=0, n_packets=0, n_bytes=0, idle_age=735, "
            "priority=10 actions=LOCAL\n"
            " cookie=0x0, duration=735.544s, table=0, n_packets=70, n_bytes=9976, idle_age=17, "
            "priority=3,in_port=1,dl_vlan=1000 actions=mod_vlan_vid:1,NORMAL\n"
            " cookie=0xab, duration=735.544s, table=2, n_packets=0, n_bytes=0, idle_timeout=60, "
            "hard_timeout=120, idle_age=735, ip actions=drop\n");
  clock.advance_ms(456);
  t.modify(filter("priority=3,in_port=1,dl_vlan=1000", true), parse_actions("output:2"));
  clock.advance_s(5);
  EXPECT_EQ(
      t.format_rule(*t.find(0, a.match, 3)),  // modify installed a copy of `a`
      "cookie=0x0, duration=741s, table=0, n_packets=70, n_bytes=9976, idle_age=22, hard_age=5, "
      "priority=3,in_port=1,dl_vlan=1000 actions=output:2");
  PortNamer namer = [](uint32_t p) -> std::optional<std::string> {
    if (p == 1) return "eth1";
    return std::nullopt;
  };
  EXPECT_NE(t.dump_flows(0, &namer).find("in_port=eth1"), std::string::npos);
  t.add(parse_flow("actions=drop"));
  EXPECT_NE(t.dump_flows(0).find("idle_age=0, actions=drop"), std::string::npos);
}

TEST_F(OpenFlowTableTest, ManyRulesReplaceAndDeleteConsistently) {
  for (int round = 0; round < 2; ++round)
    for (uint32_t p = 0; p < 200; ++p)
      t.add(0, MatchBuilder().set(FieldId::kInPort, p).build(), int32_t(p % 7),
            parse_actions("output:1"));
  EXPECT_EQ(t.size(), 200u);
  for (uint32_t p = 0; p < 200; ++p) ASSERT_NE(t.lookup(0, key(p)), nullptr);
  EXPECT_EQ(t.remove(filter("", false)), 200u);
  EXPECT_EQ(t.rules().size(), 0u);
}

// A delete that takes most of a big table rebuilds it from the rules that
// stay (OpenFlowTable::remove): the same survivors, the same lookups, and
// equal-priority ties still go to the rule added first; the change hook
// hears of the bulk delete once, with the catch-all match.  With both
// classifiers.
template <class Table>
void check_bulk_delete(Table& t) {
  size_t hooked = 0;
  t.set_change_hook([&](uint8_t, const Match&) { ++hooked; });
  auto in_port = [](uint32_t p) { return MatchBuilder().set(FieldId::kInPort, p).build(); };
  t.add(0, in_port(7), 5, parse_actions("output:1"), /*cookie=*/0);  // the older of a tie
  for (uint32_t p = 0; p < 3000; ++p)
    t.add(0, in_port(p + 100), int32_t(p % 9), parse_actions("output:2"), 1);
  t.add(0, Match{}, 5, parse_actions("output:3"), 0);  // ties with the first on in_port 7
  t.add(0, in_port(8), 4, parse_actions("output:4"), 0);
  t.add(1, in_port(9), 4, parse_actions("output:5"), 1);  // other table: below the threshold
  uint64_t g = t.generation();
  hooked = 0;  // adds call it too
  EXPECT_EQ(t.remove(filter("cookie=0x1/0xffffffffffffffff", false)), 3001u);
  EXPECT_GT(t.generation(), g);
  EXPECT_EQ(hooked, 2u);  // table 0: once, catch-all (bulk); table 1: its one rule
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.max_priority(), 5);
  auto out = [&](uint32_t p) -> uint32_t {
    const OfRule* r = t.lookup(0, key(p));
    return r ? r->actions.at(0).port : 0;
  };
  EXPECT_EQ(out(7), 1u);  // the tie still goes to the rule added first
  EXPECT_EQ(out(8), 3u);
  EXPECT_EQ(out(150), 3u);
  EXPECT_EQ(t.lookup(1, key(9)), nullptr);
  t.add(0, in_port(150), 6, parse_actions("output:6"));  // the rebuilt table takes more
  EXPECT_EQ(out(150), 6u);
  EXPECT_EQ(t.remove(filter("in_port=8", true)), 0u);  // strict: the default priority is not 4
  EXPECT_EQ(t.remove(filter("priority=4,in_port=8", true)), 1u);
  EXPECT_EQ(out(8), 3u);
}

TEST_F(OpenFlowTableTest, BulkDeleteRebuildsTheTableKeepingOrder) {
  check_bulk_delete(t);
  OpenFlowTable<Classifier<OfRulePtr>> c{&clock};
  check_bulk_delete(c);
}

// A full cookie mask selects through the cookie index: the same rules as a
// scan would (table and match still narrow it), and the index follows
// replacements (a re-add with another cookie), deletes and expiry.
TEST_F(OpenFlowTableTest, FullCookieMaskSelectsThroughTheCookieIndex) {
  t.add(parse_flow("cookie=0x1,priority=3,in_port=1 actions=output:2"));
  t.add(parse_flow("cookie=0x1,table=2,priority=3,in_port=1 actions=output:2"));
  t.add(parse_flow("cookie=0x1,priority=3,in_port=2 actions=output:2"));
  t.add(parse_flow("cookie=0x2,priority=3,in_port=3 actions=output:2"));
  t.add(parse_flow("cookie=0x3,priority=3,in_port=4,hard_timeout=5 actions=output:2"));
  const std::string all = "/0xffffffffffffffff";
  EXPECT_EQ(t.remove(filter("cookie=0x1" + all + ",table=2", false)), 1u);
  EXPECT_EQ(t.remove(filter("cookie=0x1" + all + ",in_port=2", false)), 1u);
  t.add(parse_flow("cookie=0x2,priority=3,in_port=1 actions=output:5"));  // replaces, new cookie
  EXPECT_EQ(t.remove(filter("cookie=0x1" + all, false)), 0u);
  EXPECT_EQ(t.remove(filter("cookie=0x9" + all, false)), 0u);
  clock.advance_s(6);
  EXPECT_EQ(t.expire(), 1u);
  t.add(parse_flow("cookie=0x3,priority=3,in_port=4 actions=output:2"));
  EXPECT_EQ(t.remove(filter("cookie=0x3" + all, false)), 1u);
  EXPECT_EQ(t.remove(filter("cookie=0x2" + all + ",out_port=5", false)), 1u);
  EXPECT_EQ(t.remove(filter("cookie=0x2" + all, false)), 1u);
  EXPECT_EQ(t.size(), 0u);
  t.reclaim();
}

// A delete of a whole cookie (OpenFlowTable::remove_cookie: the cookie's
// index entry taken whole, tables rebuilt from survivors found through
// the other cookies or by a scan, small shares erased one by one) leaves
// the same tables as the general selection: checked against a cookie mask
// that selects the same rules but takes the general path.
TEST_F(OpenFlowTableTest, WholeCookieDeleteMatchesTheGeneralSelection) {
  OpenFlowTable<Classifier<OfRulePtr>> fast{&clock}, slow{&clock};
  size_t fast_hooks = 0;
  fast.set_change_hook([&](uint8_t, const Match&) { ++fast_hooks; });
  auto fill = [](auto& t, uint32_t others) {
    for (uint32_t i = 0; i < 5000; ++i) {  // cookie 1: most of table 0, a bit of 3
      uint8_t table = i % 50 == 0 ? 3 : 0;
      t.add(table, MatchBuilder().set(FieldId::kInPort, i).build(), int32_t(i % 11),
            parse_actions("output:1"), 1);
    }
    for (uint32_t i = 0; i < others; ++i)  // other cookies, tables 0 and 3
      t.add(uint8_t(i % 4 ? 3 : 0), MatchBuilder().set(FieldId::kInPort, 100000 + i).build(),
            int32_t(i % 5), parse_actions("output:2"), 2 + i % 3);
  };
  for (uint32_t others : {7u, 8000u}) {  // survivors via the index; via a scan
    fast.remove(filter("", false)), slow.remove(filter("", false));
    fill(fast, others), fill(slow, others);
    fast_hooks = 0;
    size_t n = fast.remove(filter("cookie=0x1/0xffffffffffffffff", false));
    EXPECT_EQ(n, slow.remove(filter("cookie=0x1/0x7fffffffffffffff", false)));
    EXPECT_EQ(n, 5000u);
    EXPECT_EQ(fast.size(), slow.size());
    EXPECT_EQ(fast.max_priority(), slow.max_priority());
    EXPECT_EQ(fast.dump_flows(), slow.dump_flows());
    EXPECT_EQ(fast_hooks, 2u);  // one catch-all per table (both have >= kBulkChange)
    std::vector<uint32_t> ports;
    for (uint32_t p = 0; p < 5050; p += 17) ports.push_back(p), ports.push_back(100000 + p);
    for (uint32_t p : ports)
      for (uint8_t table : {0, 3}) {
        const OfRule* a = fast.lookup(table, key(p));
        const OfRule* b = slow.lookup(table, key(p));
        ASSERT_EQ(a == nullptr, b == nullptr) << p;
        if (a) {
          EXPECT_EQ(a->seq, b->seq) << p;
        }
      }
    fast.reclaim(), slow.reclaim();
  }
  // A table given: only when the cookie lives in that table alone.
  fast.add(5, Match{}, 1, parse_actions("drop"), 9);
  EXPECT_EQ(fast.remove(filter("table=5,cookie=0x9/0xffffffffffffffff", false)), 1u);
  EXPECT_EQ(fast.find(5, Match{}, 1), nullptr);
}

}  // namespace openflow_table_test
}  // namespace flowpath
