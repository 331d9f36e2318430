// Framing and classification of JSON-RPC messages (ovsdb/jsonrpc.hpp).
#include "flowpath/ovsdb/jsonrpc.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace jsonrpc_test {

using flowpath::ovsdb::classify;
using flowpath::ovsdb::Framer;
using flowpath::ovsdb::Json;
using flowpath::ovsdb::Message;

// Feeds `bytes` in chunks of `chunk` and collects every message.
std::vector<Json> frame(const std::string& bytes, size_t chunk, std::string* error = nullptr) {
  Framer f;
  std::vector<Json> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    f.feed(bytes.substr(i, chunk));
    while (auto m = f.next()) {
      if (!m->ok()) {
        if (error) *error = m->error;
        return out;
      }
      out.push_back(m->json);
    }
  }
  return out;
}

TEST(OvsdbFramer, SplitAndConcatenatedMessagesAtEveryChunkSize) {
  // Brackets and quotes inside strings, escapes, whitespace between.
  std::string text = R"({"id":1,"result":{"a":"x}]\"[{"},"error":null} )"
                     R"([1,2,{"k":"\\"}])"
                     "\n"
                     R"({"method":"echo","params":[],"id":"e"})";
  for (size_t chunk : {1, 2, 3, 7, 64, 4096}) {
    auto msgs = frame(text, chunk);
    ASSERT_EQ(msgs.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(msgs[0]["result"]["a"], "x}]\"[{");
    EXPECT_EQ(msgs[1][2]["k"], "\\");
    EXPECT_EQ(msgs[2]["method"], "echo");
  }
}

TEST(OvsdbFramer, PartialMessageWaitsForMoreBytes) {
  Framer f;
  f.feed(R"({"id":1,"res)");
  EXPECT_FALSE(f.next());
  EXPECT_FALSE(f.idle());
  f.feed(R"(ult":[]})");
  auto m = f.next();
  ASSERT_TRUE(m && m->ok());
  EXPECT_TRUE(f.idle());
}

TEST(OvsdbFramer, SizeCapIsAnErrorNotAnAllocation) {
  Framer f(100);
  f.feed("[\"" + std::string(200, 'a'));
  auto m = f.next();
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ok());
  EXPECT_NE(m->error.find("size cap"), std::string::npos) << m->error;
  f.feed("\"]");  // sticky: the stream stays failed
  ASSERT_TRUE(f.next());
  EXPECT_FALSE(f.next()->ok());
}

TEST(OvsdbFramer, BadBytesNameTheOffset) {
  std::string err;
  auto msgs = frame(R"({"a":1} 42)", 1, &err);
  EXPECT_EQ(msgs.size(), 1u);
  EXPECT_NE(err.find("byte '4'"), std::string::npos) << err;
  EXPECT_NE(err.find("offset 8"), std::string::npos) << err;
  frame(R"({"a":tru})", 4, &err);
  EXPECT_NE(err.find("not valid JSON"), std::string::npos) << err;
  frame(std::string(100, '[') + std::string(100, ']'), 50, &err);
  EXPECT_NE(err.find("deeper"), std::string::npos) << err;
  frame("\x01", 1, &err);
  EXPECT_NE(err.find("\\x01"), std::string::npos) << err;
}

TEST(OvsdbMessage, ClassifiesRfc7047Shapes) {
  EXPECT_EQ(classify(Json::parse(R"({"method":"echo","params":[],"id":3})")).kind,
            Message::Kind::kRequest);
  EXPECT_EQ(classify(Json::parse(R"({"method":"update2","params":[1,{}],"id":null})")).kind,
            Message::Kind::kNotification);
  auto r = classify(Json::parse(R"({"id":4,"result":[{}],"error":null})"));
  EXPECT_EQ(r.kind, Message::Kind::kReply);
  EXPECT_EQ(r.id, 4);
  auto e = classify(Json::parse(R"({"id":4,"result":null,"error":{"error":"unknown method"}})"));
  EXPECT_EQ(e.kind, Message::Kind::kErrorReply);
  EXPECT_EQ(flowpath::ovsdb::describe_error(e.error), "unknown method");
  for (const char* bad : {R"([1])", R"({"method":1,"params":[]})", R"({"method":"x"})",
                          R"({"method":"x","params":{}})", R"({"result":1})", R"({"id":1})"}) {
    auto m = classify(Json::parse(bad));
    EXPECT_EQ(m.kind, Message::Kind::kInvalid) << bad;
    EXPECT_FALSE(m.invalid.empty());
  }
}

TEST(OvsdbMessage, EncodesRequestsAndReplies) {
  EXPECT_EQ(flowpath::ovsdb::encode_request("echo", Json::array({"x"}), 7),
            R"({"id":7,"method":"echo","params":["x"]})");
  EXPECT_EQ(flowpath::ovsdb::encode_reply(Json::array(), "e"),
            R"({"error":null,"id":"e","result":[]})");
}

}  // namespace jsonrpc_test
