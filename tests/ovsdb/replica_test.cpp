// Replica (ovsdb/replica.hpp): update2 and update rules, defaults of omitted
// columns, and malformed updates that must change nothing.
#include "flowpath/ovsdb/replica.hpp"

#include <gtest/gtest.h>

namespace replica_test {

using namespace flowpath::ovsdb;
const std::string kP = "00000000-0000-4000-8000-000000000001";
const std::string kI = "00000000-0000-4000-8000-000000000002";

Json port_update(const std::string& op, Json row) {
  return {{"Port", {{kP, {{op, std::move(row)}}}}}};
}

Replica with_port() {
  Replica r;
  EXPECT_EQ(r.apply(port_update("initial", {{"name", "vm1"}, {"interfaces", uuid_atom(kI)}}),
                    UpdateFormat::kUpdate2, true),
            "");
  return r;
}

TEST(OvsdbReplica, OmittedColumnsTakeTheirDefaults) {
  Replica r = with_port();
  const PortRow& p = r.ports().at(kP);
  EXPECT_EQ(p.name, "vm1");
  EXPECT_EQ(p.tag, std::nullopt);
  EXPECT_TRUE(p.trunks.empty());
  EXPECT_EQ(p.interfaces, std::vector<Uuid>{kI});
  EXPECT_EQ(r.row_count(), 1u);
}

TEST(OvsdbReplica, Update2ModifyScalarsReplaceCompositesDiff) {
  Replica r = with_port();
  ASSERT_EQ(r.apply(port_update("modify", {{"tag", 5}, {"trunks", make_set({1, 2})}}),
                    UpdateFormat::kUpdate2),
            "");
  ASSERT_EQ(r.apply(port_update("modify", {{"tag", 6}, {"trunks", make_set({2, 3})}}),
                    UpdateFormat::kUpdate2),
            "");
  EXPECT_EQ(r.ports().at(kP).tag, 6);
  EXPECT_EQ(r.ports().at(kP).trunks, (std::vector<int64_t>{1, 3}));
  ASSERT_EQ(r.apply(port_update("modify", {{"tag", make_set({})}, {"unmonitored", 1}}),
                    UpdateFormat::kUpdate2),
            "");
  EXPECT_EQ(r.ports().at(kP).tag, std::nullopt);
  ASSERT_EQ(r.apply(port_update("delete", nullptr), UpdateFormat::kUpdate2), "");
  EXPECT_TRUE(r.ports().empty());
  EXPECT_EQ(r.row_count(), 0u);
}

TEST(OvsdbReplica, MalformedUpdatesChangeNothingAndSayWhy) {
  const std::string bad = "ffffffff-0000-4000-8000-000000000009";
  struct Case {
    Json update;
    std::string error;
  } cases[] = {
      {port_update("initial", {{"name", "again"}}),
       "Port " + kP + ": initial of a row that exists"},
      {port_update("sideways", {}), "Port " + kP + ": unknown row update 'sideways'"},
      {port_update("modify", {{"name", 7}}),
       "Port " + kP + ": column name: expected a string, got 7"},
      {port_update("modify", {{"trunks", "x"}}),
       "Port " + kP + ": column trunks: expected an integer, got \"x\""},
      {{{"Port", {{bad, {{"delete", nullptr}}}}}}, "Port " + bad + ": delete of an unknown row"},
      {{{"Port", {{bad, {{"modify", Json::object()}}}}}},
       "Port " + bad + ": modify of an unknown row"},
      {{{"Port", {{kP, {{"modify", Json::object()}, {"delete", nullptr}}}}}},
       "Port " + kP + ": expected exactly one of initial/insert/delete/modify"},
      {{{"Port", {{kP, 3}}}}, "Port " + kP + ": row update is not an object"},
      {{{"Port", 3}}, "Port: expected an object of row updates"},
      {{{"Mirror", Json::object()}}, "table 'Mirror' was not monitored"},
      {Json::array(), "expected an object of table updates, got []"},
  };
  for (const auto& c : cases) {
    Replica r = with_port();
    uint64_t gen = r.generation();
    // A good change to another row in the same update must not survive either.
    Json u = c.update;
    if (u.is_object() && !u.contains("Interface"))
      u["Interface"][kI] = {{"insert", {{"name", "vm1"}}}};
    EXPECT_EQ(r.apply(u, UpdateFormat::kUpdate2), "ovsdb update: " + c.error) << c.update.dump();
    EXPECT_EQ(r.generation(), gen);
    EXPECT_EQ(r.ports().at(kP).name, "vm1");
    EXPECT_TRUE(r.interfaces().empty());
  }
}

// The modify of a set column moves the column's atoms into the new value:
// a later failure in the same update must still give the old column back.
TEST(OvsdbReplica, FailedUpdateRestoresAMovedSetColumn) {
  Replica r;
  ASSERT_EQ(r.apply(port_update("initial", {{"name", "vm1"}, {"trunks", make_set({1, 2, 3})}}),
                    UpdateFormat::kUpdate2, true),
            "");
  // Rows apply in UUID order: the unknown row after kP fails once kP's
  // trunks were moved.
  const std::string later = "ffffffff-0000-4000-8000-000000000009";
  Json u = port_update("modify", {{"trunks", make_set({4})}});
  u["Port"][later] = {{"delete", nullptr}};
  EXPECT_EQ(r.apply(u, UpdateFormat::kUpdate2),
            "ovsdb update: Port " + later + ": delete of an unknown row");
  EXPECT_EQ(r.ports().at(kP).trunks, (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(r.apply(port_update("modify", {{"trunks", make_set({4})}}), UpdateFormat::kUpdate2),
            "");
  EXPECT_EQ(r.ports().at(kP).trunks, (std::vector<int64_t>{1, 2, 3, 4}));
}

// A row's decoder names the table, row and column, also for a column the
// raw row lacks (the replica always fills every column; a direct caller may not).
TEST(OvsdbReplica, DecodeErrorsNameTheRowAndColumn) {
  RawRow raw = {{"name", "vm1"},
                {"interfaces", make_set({})},
                {"tag", make_set({})},
                {"trunks", make_set({})}};
  try {
    decode_port(kP, raw);
    ADD_FAILURE() << "no error";
  } catch (const flowpath::Error& e) {
    EXPECT_EQ(std::string(e.what()), "Port " + kP + ": column vlan_mode missing");
  }
  raw["vlan_mode"] = make_set({"access", "trunk"});
  try {
    decode_port(kP, raw);
    ADD_FAILURE() << "no error";
  } catch (const flowpath::Error& e) {
    EXPECT_EQ(std::string(e.what()), "Port " + kP +
                                         ": column vlan_mode: expected at most one string, got "
                                         "[\"set\",[\"access\",\"trunk\"]]");
  }
}

// config_generation stays only for the echo of the switch's own write-back
// (update2 modifies of Open_vSwitch cur_cfg and Interface ofport alone).
TEST(OvsdbReplica, ConfigGenerationIgnoresOnlyTheSwitchsOwnColumns) {
  const std::string kO = "00000000-0000-4000-8000-00000000000a";
  Replica r;
  ASSERT_EQ(r.apply({{"Open_vSwitch", {{kO, {{"initial", {{"next_cfg", 1}}}}}}},
                     {"Interface", {{kI, {{"initial", {{"name", "vm1"}}}}}}}},
                    UpdateFormat::kUpdate2, true),
            "");
  auto moves = [&](const Json& u) {
    uint64_t g = r.generation(), c = r.config_generation();
    EXPECT_EQ(r.apply(u, UpdateFormat::kUpdate2), "") << u.dump();
    EXPECT_EQ(r.generation(), g + 1) << u.dump();
    return r.config_generation() != c;
  };
  Json cur = {{"Open_vSwitch", {{kO, {{"modify", {{"cur_cfg", 1}}}}}}}};
  Json ofport = {{"Interface", {{kI, {{"modify", {{"ofport", 3}}}}}}}};
  Json both = cur;
  both["Interface"] = ofport["Interface"];
  EXPECT_FALSE(moves(cur));
  EXPECT_FALSE(moves(ofport));
  EXPECT_FALSE(moves(both));
  EXPECT_EQ(r.interfaces().at(kI).ofport, 3);
  EXPECT_TRUE(moves({{"Open_vSwitch", {{kO, {{"modify", {{"next_cfg", 2}}}}}}}}));
  EXPECT_TRUE(moves({{"Open_vSwitch", {{kO, {{"modify", {{"cur_cfg", 2}, {"next_cfg", 3}}}}}}}}));
  EXPECT_TRUE(moves({{"Interface", {{kI, {{"modify", {{"ofport_request", 5}}}}}}}}));
  EXPECT_TRUE(moves({{"Interface", {{kI, {{"modify", {{"ofport", 4}, {"type", "internal"}}}}}}}}));
  EXPECT_TRUE(moves(port_update("insert", {{"name", "vm1"}})));
  // A refused update moves neither; a reset and clear() move both.
  uint64_t c = r.config_generation();
  EXPECT_NE(r.apply({{"Interface", {{kP, {{"modify", {{"ofport", 1}}}}}}}}, UpdateFormat::kUpdate2),
            "");
  EXPECT_EQ(r.config_generation(), c);
  r.clear();
  EXPECT_GT(r.config_generation(), c);
}

TEST(OvsdbReplica, MonitorV1Notation) {
  Replica r;
  ASSERT_EQ(r.apply(port_update("new", {{"name", "a"}, {"tag", 1}}), UpdateFormat::kUpdate, true),
            "");
  // A modify's "new" is the whole row: a column left out is at its default.
  Json m = {{"Port", {{kP, {{"old", {{"tag", 1}}}, {"new", {{"name", "a"}}}}}}}};
  ASSERT_EQ(r.apply(m, UpdateFormat::kUpdate), "");
  EXPECT_EQ(r.ports().at(kP).tag, std::nullopt);
  EXPECT_EQ(r.apply({{"Port", {{kP, Json::object()}}}}, UpdateFormat::kUpdate),
            "ovsdb update: Port " + kP + ": neither \"old\" nor \"new\"");
  ASSERT_EQ(r.apply(port_update("old", {{"name", "a"}}), UpdateFormat::kUpdate), "");
  EXPECT_TRUE(r.ports().empty());
}

}  // namespace replica_test
