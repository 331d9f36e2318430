// flowpath/control/json_value.hpp — a JSON value and the writer (see
// json.hpp for the whole picture: reader, writer, stream splitter).
//
// Numbers are kept as their text, so an id goes back exactly as it came.
// The writer escapes '"', '\\' and the control characters (\b \f \n \r \t
// by name, others as \u00XX) and leaves other bytes (UTF-8) as they are,
// as Open vSwitch's json.c does.  Objects keep their members in order.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowpath::json {

enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

struct Value {
  Type type = Type::kNull;
  bool boolean = false;
  std::string str;  // kString: the text; kNumber: the number as written
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;

  static Value null() { return {}; }
  static Value string(std::string s) {
    Value v;
    v.type = Type::kString;
    v.str = std::move(s);
    return v;
  }
  static Value number(long long n) {
    Value v;
    v.type = Type::kNumber;
    v.str = std::to_string(n);
    return v;
  }
  static Value array(std::vector<Value> items = {}) {
    Value v;
    v.type = Type::kArray;
    v.items = std::move(items);
    return v;
  }
  static Value object() {
    Value v;
    v.type = Type::kObject;
    return v;
  }

  bool is_null() const noexcept { return type == Type::kNull; }
  bool is_string() const noexcept { return type == Type::kString; }
  /// Member lookup; nullptr when absent or not an object.
  const Value* find(std::string_view key) const noexcept {
    if (type != Type::kObject) return nullptr;
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
  Value& set(std::string key, Value v) {
    type = Type::kObject;
    members.emplace_back(std::move(key), std::move(v));
    return members.back().second;
  }
};

/// Appends s as a JSON string literal.
inline void write_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

inline void write(std::string& out, const Value& v) {
  switch (v.type) {
    case Type::kNull:
      out += "null";
      break;
    case Type::kBool:
      out += v.boolean ? "true" : "false";
      break;
    case Type::kNumber:
      out += v.str.empty() ? "0" : v.str;
      break;
    case Type::kString:
      write_string(out, v.str);
      break;
    case Type::kArray:
      out += '[';
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ',';
        write(out, v.items[i]);
      }
      out += ']';
      break;
    case Type::kObject:
      out += '{';
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i) out += ',';
        write_string(out, v.members[i].first);
        out += ':';
        write(out, v.members[i].second);
      }
      out += '}';
      break;
  }
}
inline std::string write(const Value& v) {
  std::string out;
  write(out, v);
  return out;
}

}  // namespace flowpath::json
