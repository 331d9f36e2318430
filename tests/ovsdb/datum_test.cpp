// OVSDB JSON notation (ovsdb/datum.hpp): atoms, sets, maps, update2 diffs,
// and errors that name the column.
#include "flowpath/ovsdb/datum.hpp"

#include <gtest/gtest.h>

namespace datum_test {

using namespace flowpath::ovsdb;
const char* kU = "550e8400-e29b-41d4-a716-446655440000";

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const flowpath::Error& e) {
    return e.what();
  }
  return "";
}

TEST(OvsdbDatum, Atoms) {
  EXPECT_EQ(as_string(Json("br-int"), "c"), "br-int");
  EXPECT_EQ(as_integer(Json(-5), "c"), -5);
  EXPECT_EQ(as_uuid(Json::array({"uuid", kU}), "c"), kU);
  EXPECT_TRUE(is_uuid(kU));
  EXPECT_FALSE(is_uuid("550e8400-e29b-41d4-a716-44665544000g"));
  EXPECT_FALSE(is_uuid("550e8400e29b-41d4-a716-4466554400000"));
  EXPECT_EQ(error_of([] { as_string(Json(1), "Port x: column name"); }),
            "Port x: column name: expected a string, got 1");
  EXPECT_NE(error_of([] { as_integer(Json(1.5), "c"); }).find("an integer"), std::string::npos);
  EXPECT_NE(error_of([] { as_integer(Json(UINT64_MAX), "c"); }).find("64-bit"), std::string::npos);
  EXPECT_NE(error_of([] {
              as_uuid(Json::array({"uuid", "nope"}), "c");
            }).find("[\"uuid\""),
            std::string::npos);
}

TEST(OvsdbDatum, SetsAndOptionalValues) {
  EXPECT_EQ(integer_set(Json::parse("[\"set\",[1,2,3]]"), "c"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(integer_set(Json(5), "c"), (std::vector<int64_t>{5}));  // a bare atom: a set of one
  EXPECT_EQ(optional_integer(Json::parse("[\"set\",[]]"), "c"), std::nullopt);
  EXPECT_EQ(optional_string(Json("secure"), "c"), "secure");
  auto one = uuid_set(Json::array({"uuid", kU}), "c");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], kU);
  EXPECT_NE(error_of([] {
              optional_integer(Json::parse("[\"set\",[1,2]]"), "tag");
            }).find("tag: expected at most one integer"),
            std::string::npos);
  EXPECT_NE(error_of([] { integer_set(Json::parse("[\"set\",{}]"), "c"); }), "");
  EXPECT_NE(error_of([] { integer_set(Json::parse("[\"set\",[[1,2]]]"), "c"); }), "");
  EXPECT_NE(error_of([] { integer_set(Json::parse("{\"a\":1}"), "c"); }), "");
  EXPECT_NE(error_of([] { integer_set(Json(), "c"); }), "");
}

TEST(OvsdbDatum, Maps) {
  auto m =
      string_map(Json::parse(R"(["map",[["peer","x"],["a","b"]]])"), "Interface i: column options");
  EXPECT_EQ(m.at("peer"), "x");
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(error_of([] { string_map(Json::parse(R"(["map",[["k",1]]])"), "options"); }),
            "options[k]: expected a string, got 1");
  EXPECT_NE(error_of([] {
              string_map(Json::parse(R"(["map",[["k","1"],["k","2"]]])"), "o");
            }).find("duplicate key 'k'"),
            std::string::npos);
  EXPECT_NE(error_of([] { string_map(Json::parse(R"(["map",[["k"]]])"), "o"); }), "");
  EXPECT_NE(error_of([] { string_map(Json::parse(R"(["set",[]])"), "o"); }), "");
}

// The rules below are ovsdb-server 3.1's, as recorded in
// recorded/monitor_cond_session.bin (trunks 10,20 -> 20,30 arrives as the
// diff [10,30]; other_config a=1 -> a=2 arrives as [["a","2"]]).
TEST(OvsdbDatum, Update2Differences) {
  Json s = apply_set_diff(Json::parse("[\"set\",[10,20]]"), Json::parse("[\"set\",[10,30]]"), "c");
  EXPECT_EQ(integer_set(s, "c"), (std::vector<int64_t>{20, 30}));
  s = apply_set_diff(Json::parse("[\"set\",[20,30]]"), Json::parse("[\"set\",[20,30]]"), "c");
  EXPECT_TRUE(integer_set(s, "c").empty());
  Json m = apply_map_diff(Json::parse(R"(["map",[["a","1"],["b","2"]]])"),
                          Json::parse(R"(["map",[["a","2"],["b","2"],["c","3"]]])"), "c");
  auto mm = string_map(m, "c");
  EXPECT_EQ(mm, (std::map<std::string, std::string>{{"a", "2"}, {"c", "3"}}));
}

// The replica hands its column over (an rvalue: atoms moved, not copied);
// a const column is left as it was; both give the same set, a bare atom is
// a set of one, and a malformed diff names the column as before.
TEST(OvsdbDatum, SetDiffMovesOrCopiesTheSameWay) {
  const Json old = Json::parse(R"(["set",[["uuid","00000000-0000-4000-8000-000000000001"],)"
                               R"(["uuid","00000000-0000-4000-8000-000000000002"]]])");
  const Json diff = Json::parse(R"(["uuid","00000000-0000-4000-8000-000000000003"])");
  Json copied = apply_set_diff(old, diff, "ports");
  EXPECT_EQ(old.at(1).size(), 2u);  // untouched
  Json moved = apply_set_diff(Json(old), diff, "ports");
  EXPECT_EQ(copied, moved);
  EXPECT_EQ(uuid_set(moved, "ports").size(), 3u);
  Json bare = apply_set_diff(Json::parse(R"(["uuid","00000000-0000-4000-8000-000000000001"])"),
                             diff, "ports");
  EXPECT_EQ(uuid_set(bare, "ports").size(), 2u);
  EXPECT_EQ(error_of([&] {
              apply_set_diff(Json(old), Json::parse("[\"set\",[{}]]"), "Port p: column trunks");
            }),
            "Port p: column trunks (diff) element: expected an atom, got {}");
  EXPECT_EQ(error_of([&] { apply_set_diff(Json(old), Json::object(), "c"); }),
            "c (diff): expected an atom or [\"set\", [atoms]], got {}");
  EXPECT_EQ(error_of([&] { apply_set_diff(Json::object(), diff, "c"); }),
            "c: expected an atom or [\"set\", [atoms]], got {}");
}

}  // namespace datum_test
