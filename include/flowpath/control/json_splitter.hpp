// flowpath/control/json_splitter.hpp — cuts a byte stream into top-level
// JSON texts.  JSON-RPC 1.0 over a stream socket has no framing: objects
// come back to back, so the end of each is found by counting brackets
// outside strings (escapes honoured), as OVS's incremental parser
// effectively does.  A top-level scalar or a message beyond 16 MiB throws
// flowpath::Error.  Cost: one pass over the bytes.  Thread-safety: one
// stream per Splitter.
#pragma once

#include <optional>
#include <string>

#include "flowpath/core/error.hpp"

namespace flowpath::json {

/// Splits a byte stream into top-level JSON texts (objects or arrays).
class Splitter {
 public:
  static constexpr size_t kMaxMessage = 16 << 20;

  void feed(const char* data, size_t n) { buf_.append(data, n); }
  /// The next complete text, if the stream holds one.  Throws Error when
  /// the stream cannot be JSON-RPC (a top-level scalar, a runaway message).
  std::optional<std::string> next() {
    for (; scan_ < buf_.size(); ++scan_) {
      char c = buf_[scan_];
      if (depth_ == 0) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c != '{' && c != '[') throw Error("json: stream does not start with '{' or '['");
        start_ = scan_;
      }
      if (in_string_) {
        if (escaped_)
          escaped_ = false;
        else if (c == '\\')
          escaped_ = true;
        else if (c == '"')
          in_string_ = false;
        continue;
      }
      if (c == '"')
        in_string_ = true;
      else if (c == '{' || c == '[')
        ++depth_;
      else if ((c == '}' || c == ']') && --depth_ == 0) {
        std::string text = buf_.substr(start_, scan_ + 1 - start_);
        buf_.erase(0, scan_ + 1);
        scan_ = start_ = 0;
        return text;
      }
    }
    if (buf_.size() > kMaxMessage) throw Error("json: message larger than 16 MiB");
    return std::nullopt;
  }
  bool idle() const noexcept {
    return depth_ == 0 && buf_.find_first_not_of(" \r\n\t") == std::string::npos;
  }

 private:
  std::string buf_;
  size_t scan_ = 0, start_ = 0;
  int depth_ = 0;
  bool in_string_ = false, escaped_ = false;
};

}  // namespace flowpath::json
