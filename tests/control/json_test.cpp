// JSON reader/writer and stream splitter of the control socket.
#include "flowpath/control/json.hpp"

#include <gtest/gtest.h>

namespace flowpath::json {
namespace json_test {

TEST(Json, RoundTripsARequest) {
  std::string text =
      R"({"method":"add-flow","params":["br-int","priority=10,in_port=vm1 actions=drop"],"id":0})";
  Value v = parse(text);
  ASSERT_EQ(v.type, Type::kObject);
  EXPECT_EQ(v.find("method")->str, "add-flow");
  ASSERT_EQ(v.find("params")->items.size(), 2u);
  EXPECT_EQ(v.find("params")->items[1].str, "priority=10,in_port=vm1 actions=drop");
  EXPECT_EQ(write(v), text);
}

TEST(Json, ScalarsAndWhitespace) {
  Value v = parse(" [ null , true , false , -12.5e3 , 12345678901234567890 , {} , [] ] ");
  ASSERT_EQ(v.items.size(), 7u);
  EXPECT_TRUE(v.items[0].is_null());
  EXPECT_TRUE(v.items[1].boolean);
  EXPECT_FALSE(v.items[2].boolean);
  EXPECT_EQ(v.items[2].type, Type::kBool);
  EXPECT_EQ(v.items[3].str, "-12.5e3");
  EXPECT_EQ(write(v), "[null,true,false,-12.5e3,12345678901234567890,{},[]]");
}

TEST(Json, StringEscapes) {
  Value v = parse(R"("a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00")");
  EXPECT_EQ(v.str, "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // Written back: named escapes, other controls as \u00XX, UTF-8 raw.
  EXPECT_EQ(write(Value::string("x\n\x01\"\\\xc3\xa9")), R"("x\n\u0001\"\\)"
                                                         "\xc3\xa9\"");
  EXPECT_EQ(parse(write(Value::string(v.str))).str, v.str);
}

TEST(Json, RejectsBadInput) {
  for (const char* bad :
       {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
        "tru", "01x", "[1] 2", "\"a\nb\"", "{1:2}", "-", "1."}) {
    EXPECT_THROW(parse(bad), Error) << bad;
  }
  std::string deep(100, '[');
  EXPECT_THROW(parse(deep + std::string(100, ']')), Error);
  try {
    parse("[1,]");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("offset 3"), std::string::npos) << e.what();
  }
}

TEST(Json, FindAndSet) {
  Value o = Value::object();
  o.set("id", Value::number(7));
  o.set("error", Value::null());
  o.set("result", Value::string("ok\n"));
  EXPECT_EQ(write(o), R"({"id":7,"error":null,"result":"ok\n"})");
  EXPECT_EQ(o.find("missing"), nullptr);
  EXPECT_EQ(Value::string("x").find("id"), nullptr);
}

TEST(JsonSplitter, SplitsBackToBackObjectsAcrossArbitraryChunks) {
  std::string stream =
      R"({"id":1,"method":"a","params":["}{\"]"]} {"id":2,"method":"b","params":[]})"
      "\n"
      R"([{"x":[1,2]}])";
  for (size_t chunk : {1u, 2u, 3u, 7u, 1000u}) {
    Splitter s;
    std::vector<std::string> got;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      s.feed(stream.data() + i, std::min(chunk, stream.size() - i));
      while (auto t = s.next()) got.push_back(*t);
    }
    ASSERT_EQ(got.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(parse(got[0]).find("params")->items[0].str, "}{\"]");
    EXPECT_EQ(parse(got[1]).find("id")->str, "2");
    EXPECT_EQ(got[2], R"([{"x":[1,2]}])");
    EXPECT_TRUE(s.idle());
  }
}

TEST(JsonSplitter, RejectsTopLevelScalars) {
  Splitter s;
  s.feed("42", 2);
  EXPECT_THROW(s.next(), Error);
}

}  // namespace json_test
}  // namespace flowpath::json
