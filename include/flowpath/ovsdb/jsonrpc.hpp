// flowpath/ovsdb/jsonrpc.hpp — JSON-RPC 1.0 framing and codec for OVSDB
// (RFC 7047 §4), sans I/O.
//
//   ovsdb::Framer in;                       // one per connection
//   in.feed(bytes, n);
//   while (auto m = in.next()) {            // FrameResult: message or error
//     if (!m->ok()) { ...m->error... }      // the stream is unusable after it
//     ovsdb::Message msg = ovsdb::classify(m->json); ...
//   }
//   std::string out = ovsdb::encode_request("echo", json::array(), 7);
//
// JSON-RPC over a stream socket has no length prefix: messages come back to
// back (ovsdb-server sends no separator), and one read may hold half a
// message or several.  The Framer finds each top-level value's end by
// counting brackets outside strings (escapes honoured), then hands that
// slice to nlohmann's parser, so a message is parsed once, when whole.  A
// message larger than the cap (default 64 MiB, OVS's own limit is none; a
// vswitch database of 10k ports is ~10 MiB) or bytes that cannot start a
// JSON-RPC message are an error value naming the offset, never an
// exception; after an error the framer stays failed (the connection must
// be dropped: a byte stream cannot be resynchronised).  Nesting deeper than
// 64 is refused too.
//
// classify() names what a parsed message is (request, notification,
// reply, error reply) and checks the shape RFC 7047 gives each; malformed
// shapes are an error value with the reason.
// Cost: each byte is scanned once and parsed once.  Thread-safety: one
// Framer per connection; the free functions are reentrant.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace flowpath::ovsdb {

using Json = nlohmann::json;

struct FrameResult {
  Json json;          // the message, when error is empty
  std::string error;  // why the stream is unusable
  bool ok() const noexcept { return error.empty(); }
};

/// Cuts a byte stream into JSON values, at most `max_message` bytes each.
class Framer {
 public:
  static constexpr size_t kDefaultMaxMessage = size_t(64) << 20;
  static constexpr size_t kMaxDepth = 64;
  explicit Framer(size_t max_message = kDefaultMaxMessage) : max_(max_message) {}

  void feed(const char* data, size_t n) {
    if (failed_.empty()) buf_.append(data, n);
  }
  void feed(std::string_view s) { feed(s.data(), s.size()); }

  /// The next complete message, an error (sticky), or nullopt (need bytes).
  std::optional<FrameResult> next() {
    if (!failed_.empty()) return FrameResult{Json(), failed_};
    for (; scan_ < buf_.size(); ++scan_) {
      if (auto r = step(buf_[scan_])) return r;
    }
    if (depth_ > 0 && scan_ - start_ > max_) return fail("message exceeds the size cap");
    if (depth_ == 0) compact();
    return std::nullopt;
  }
  /// No partial message buffered (a clean place for the peer to stop).
  bool idle() const noexcept { return failed_.empty() && depth_ == 0 && start_ >= buf_.size(); }
  size_t consumed() const noexcept { return consumed_; }
  void reset() { *this = Framer(max_); }

 private:
  std::optional<FrameResult> step(char c) {
    if (depth_ == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        start_ = scan_ + 1;
        return std::nullopt;
      }
      if (c != '{' && c != '[')
        return fail("byte '" + printable(c) + "' cannot start a JSON-RPC message");
      start_ = scan_;
    }
    if (scan_ - start_ >= max_) return fail("message exceeds the size cap");
    if (in_string_) {
      if (escaped_)
        escaped_ = false;
      else if (c == '\\')
        escaped_ = true;
      else if (c == '"')
        in_string_ = false;
      return std::nullopt;
    }
    if (c == '"')
      in_string_ = true;
    else if (c == '{' || c == '[') {
      // OVSDB nests ~8 deep; a deeper message is hostile (recursion in
      // dump/compare would follow it).
      if (++depth_ > kMaxDepth) return fail("message nests deeper than 64");
    } else if ((c == '}' || c == ']') && --depth_ == 0)
      return cut();
    return std::nullopt;
  }

  std::optional<FrameResult> cut() {
    size_t end = scan_ + 1;
    std::string_view text(buf_.data() + start_, end - start_);
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return fail("message is not valid JSON");
    scan_ = end;
    start_ = end;
    return FrameResult{std::move(j), {}};
  }

  std::optional<FrameResult> fail(const std::string& why) {
    failed_ = "json-rpc: " + why + " (stream offset " + std::to_string(consumed_ + scan_) + ")";
    buf_.clear();
    return FrameResult{Json(), failed_};
  }

  // Drop consumed bytes so the buffer holds only the partial message.
  void compact() {
    consumed_ += start_;
    buf_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }

  static std::string printable(char c) {
    if (c >= 0x20 && c < 0x7f) return std::string(1, c);
    static const char* hex = "0123456789abcdef";
    return std::string("\\x") + hex[(unsigned char)c >> 4] + hex[c & 15];
  }

  size_t max_;
  std::string buf_;
  size_t scan_ = 0, start_ = 0, depth_ = 0, consumed_ = 0;
  bool in_string_ = false, escaped_ = false;
  std::string failed_;
};

/// What a JSON-RPC 1.0 message is (RFC 7047 §4.1).
struct Message {
  enum class Kind { kRequest, kNotification, kReply, kErrorReply, kInvalid };
  Kind kind = Kind::kInvalid;
  std::string method;   // requests and notifications
  Json params;          // requests and notifications: an array
  Json id;              // requests and replies
  Json result;          // replies
  Json error;           // error replies
  std::string invalid;  // why, for kInvalid
};

/// Names a parsed message's kind, checking its shape; never throws.  The
/// message is taken by value: a caller that moves it in (the session) has
/// its params, result or error moved out, not copied (an update2 of a big
/// change is most of the message).
inline Message classify(Json j) {
  Message m;
  auto bad = [&](std::string why) {
    m.kind = Message::Kind::kInvalid;
    m.invalid = "json-rpc: " + why;
    return m;
  };
  if (!j.is_object()) return bad("message is not a JSON object");
  auto method = j.find("method");
  auto id = j.find("id");
  if (method != j.end()) {
    if (!method->is_string()) return bad("\"method\" is not a string");
    auto params = j.find("params");
    if (params == j.end() || !params->is_array())
      return bad("request \"" + method->get<std::string>() + "\" has no \"params\" array");
    m.method = method->get<std::string>();
    m.params = std::move(*params);
    m.id = id != j.end() ? std::move(*id) : Json();
    m.kind = m.id.is_null() ? Message::Kind::kNotification : Message::Kind::kRequest;
    return m;
  }
  if (id == j.end()) return bad("message has neither \"method\" nor \"id\"");
  m.id = std::move(*id);
  auto result = j.find("result");
  auto error = j.find("error");
  if (error != j.end() && !error->is_null()) {
    m.kind = Message::Kind::kErrorReply;
    m.error = std::move(*error);
    return m;
  }
  if (result == j.end()) return bad("reply without \"result\" or \"error\"");
  m.kind = Message::Kind::kReply;
  m.result = std::move(*result);
  return m;
}

/// A request; `id` null makes it a notification.
inline std::string encode_request(std::string_view method, Json params, Json id) {
  Json j = {{"method", method}, {"params", std::move(params)}, {"id", std::move(id)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}
inline std::string encode_reply(Json result, Json id) {
  Json j = {{"result", std::move(result)}, {"error", nullptr}, {"id", std::move(id)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/// A short description of an error reply's "error" member for messages.
inline std::string describe_error(const Json& e) {
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object()) {
    std::string s;
    if (auto it = e.find("error"); it != e.end() && it->is_string()) s = it->get<std::string>();
    if (auto it = e.find("details"); it != e.end() && it->is_string())
      s += (s.empty() ? "" : ": ") + it->get<std::string>();
    if (!s.empty()) return s;
  }
  return e.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace flowpath::ovsdb
