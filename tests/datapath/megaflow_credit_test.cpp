// MegaflowEntry::credit and the rule counters' owner (core/stats.hpp): an
// entry whose rules all belong to its writer credits them without the
// owner test (rules_owned); a rule owned by another writer, a new rule
// list (revalidation) or the shared writer (the XDP offload's collector)
// take RuleStats::add again, and the counts stay exact either way.
#include <gtest/gtest.h>

#include <memory>

#include "flowpath/classify/megaflow_entry.hpp"

namespace flowpath {
namespace megaflow_credit_test {

TEST(MegaflowCredit, OwnedRulesSkipTheOwnerTestUntilTheRulesChange) {
  const StatsWriter mine = StatsWriter::unique(), other = StatsWriter::unique();
  auto r1 = std::make_shared<RuleStats>(), r2 = std::make_shared<RuleStats>();
  r2->add(other, 1, 60, 1);  // r2 belongs to another datapath
  MegaflowEntry e;
  e.set_rule_stats({r1});
  EXPECT_FALSE(e.rules_owned);
  e.credit(mine, 2, 120, 10, 0);
  EXPECT_TRUE(e.rules_owned);
  EXPECT_EQ(r1->owner(), mine.id);
  e.credit(StatsWriter::shared(), 1, 60, 11, 0);  // the collector: shared counters
  EXPECT_TRUE(e.rules_owned);
  e.credit(mine, 1, 60, 12, 0);
  EXPECT_EQ(r1->packets(), 4u);
  EXPECT_EQ(r1->bytes(), 240u);
  EXPECT_EQ(r1->used_ms(), 12);

  e.set_rule_stats({r1, r2});  // revalidation gave the entry other rules
  EXPECT_FALSE(e.rules_owned);
  e.credit(mine, 3, 180, 20, 0);
  EXPECT_FALSE(e.rules_owned) << "r2 is not this writer's";
  EXPECT_EQ(r2->owner(), other.id);
  EXPECT_EQ(r2->packets(), 4u);
  EXPECT_EQ(r1->packets(), 7u);
  EXPECT_EQ(e.packets, 7u);
}

}  // namespace megaflow_credit_test
}  // namespace flowpath
