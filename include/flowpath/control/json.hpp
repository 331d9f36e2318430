// flowpath/control/json.hpp — the little JSON the control socket needs.
//
//   json::Value v = json::parse(R"({"method":"show","params":[],"id":0})");
//   v.find("method")->str;                   // "show"
//   std::string text = json::write(v);       // compact, keys in order
//
//   json::Splitter s;                        // a byte stream of JSON texts
//   s.feed(bytes, n);                        // back to back, no framing
//   while (auto text = s.next()) handle(json::parse(*text));
//
// What it covers: null, true/false, numbers (kept as their text, so an
// id like 0 or 12345678901234567890 goes back exactly as it came), strings
// with every escape including \uXXXX and surrogate pairs (decoded to
// UTF-8), arrays and objects (members kept in order; duplicate keys: the
// first wins on lookup).  That is the subset Open vSwitch's jsonrpc.c
// exchanges on a unixctl socket.  The writer escapes '"', '\\' and the
// control characters (\b \f \n \r \t by name, others as \u00XX) and leaves
// other bytes (UTF-8) as they are, as OVS's json.c does.
//
// Files: json_value.hpp (Value, writer), json_splitter.hpp (Splitter),
// this one (the reader).  Framing: JSON-RPC 1.0 over a stream socket has
// none.  Splitter finds the end of each top-level object or array by
// counting brackets outside strings, as OVS's incremental parser
// effectively does.
//
// Errors: parse() throws flowpath::Error "json: WHAT at offset N".  Nesting
// deeper than 64 levels is refused (no recursion bombs from a socket).
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "flowpath/control/json_splitter.hpp"
#include "flowpath/control/json_value.hpp"
#include "flowpath/core/error.hpp"

namespace flowpath::json {

namespace detail {

inline constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Value document() {
    Value v = value(0);
    skip_ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("json: " + what + " at offset " + std::to_string(i_));
  }
  void skip_ws() noexcept {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  Value value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than 64");
    skip_ws();
    if (i_ >= s_.size()) fail("unexpected end of input");
    char c = s_[i_];
    Value v;
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Value::string(string());
    if (literal("null")) return v;
    if (literal("true") || literal("false")) {
      v.type = Type::kBool;
      v.boolean = s_[i_ - 1] == 'e' && s_[i_ - 2] == 'u';
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    fail(std::string("unexpected character '") + c + "'");
  }
  Value number() {
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    auto digits = [&] {
      size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == d) fail("bad number");
    };
    digits();
    if (i_ < s_.size() && s_[i_] == '.') ++i_, digits();
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      digits();
    }
    Value v;
    v.type = Type::kNumber;
    v.str = std::string(s_.substr(start, i_ - start));
    return v;
  }
  uint32_t hex4() {
    if (i_ + 4 > s_.size()) fail("truncated \\u escape");
    uint32_t u = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      u <<= 4;
      if (h >= '0' && h <= '9')
        u |= uint32_t(h - '0');
      else if (h >= 'a' && h <= 'f')
        u |= uint32_t(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        u |= uint32_t(h - 'A' + 10);
      else
        fail("bad hex digit in \\u escape");
    }
    return u;
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xc0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += char(0xe0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    } else {
      out += char(0xf0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3f));
      out += char(0x80 | ((cp >> 6) & 0x3f));
      out += char(0x80 | (cp & 0x3f));
    }
  }
  uint32_t unicode_escape() {
    uint32_t u = hex4();
    if (u >= 0xdc00 && u <= 0xdfff) fail("lone low surrogate in \\u escape");
    if (u < 0xd800 || u > 0xdbff) return u;
    if (!literal("\\u")) fail("high surrogate without its low half");
    uint32_t lo = hex4();
    if (lo < 0xdc00 || lo > 0xdfff) fail("bad low surrogate in \\u escape");
    return 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
  }
  std::string string() {
    ++i_;  // opening quote
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated escape");
      switch (char e = s_[i_++]) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          put_utf8(out, unicode_escape());
          break;
        default:
          fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }
  Value array(int depth) {
    ++i_;
    Value v = Value::array();
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') return ++i_, v;
    for (;;) {
      v.items.push_back(value(depth + 1));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, v;
      fail("expected ',' or ']'");
    }
  }
  Value object(int depth) {
    ++i_;
    Value v = Value::object();
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') return ++i_, v;
    for (;;) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') fail("expected a member name");
      std::string key = string();
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') fail("expected ':'");
      ++i_;
      v.members.emplace_back(std::move(key), value(depth + 1));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, v;
      fail("expected ',' or '}'");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace detail

inline Value parse(std::string_view text) { return detail::Parser(text).document(); }

}  // namespace flowpath::json
