// flowpath/openflow/target.hpp — OpenFlow connection targets in
// ovs-vsctl's syntax (set-controller BRIDGE TARGET...):
//
//   tcp:IP[:PORT]      active: connect to a controller (default port 6653)
//   unix:PATH          active, over a unix socket
//   ptcp:[PORT][:IP]   passive: listen (default port 6653, all addresses;
//                      port 0 = any free port)
//   punix:PATH         passive: listen on that path
//
// IPv4 addresses only; parse() throws flowpath::Error naming the target.
// Thread-safety: plain values.
#pragma once

#include <arpa/inet.h>

#include <charconv>
#include <string>
#include <string_view>

#include "flowpath/core/error.hpp"

namespace flowpath::openflow {

inline constexpr uint16_t kDefaultOfPort = 6653;

struct Target {
  enum class Kind { kTcp, kUnix, kPtcp, kPunix };
  Kind kind = Kind::kTcp;
  std::string ip;  // tcp/ptcp: dotted quad ("" = any, ptcp only)
  uint16_t port = kDefaultOfPort;
  std::string path;  // unix/punix

  bool passive() const noexcept { return kind == Kind::kPtcp || kind == Kind::kPunix; }
  bool is_unix() const noexcept { return kind == Kind::kUnix || kind == Kind::kPunix; }

  std::string str() const {
    switch (kind) {
      case Kind::kTcp:
        return "tcp:" + ip + ":" + std::to_string(port);
      case Kind::kPtcp:
        return "ptcp:" + std::to_string(port) + (ip.empty() ? "" : ":" + ip);
      case Kind::kUnix:
        return "unix:" + path;
      case Kind::kPunix:
        return "punix:" + path;
    }
    return "";
  }

  static Target parse(std::string_view s) {
    auto bad = [&](const std::string& why) {
      return Error("OpenFlow target '" + std::string(s) + "': " + why +
                   " (expected tcp:IP[:PORT], unix:PATH, ptcp:[PORT][:IP] or punix:PATH)");
    };
    size_t colon = s.find(':');
    if (colon == std::string_view::npos) throw bad("no method");
    std::string_view method = s.substr(0, colon), rest = s.substr(colon + 1);
    Target t;
    auto parse_port = [&](std::string_view p) {
      unsigned v = 0;
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
      if (p.empty() || ec != std::errc() || end != p.data() + p.size() || v > 65535)
        throw bad("bad port '" + std::string(p) + "'");
      return uint16_t(v);
    };
    auto check_ip = [&](std::string_view ip) {
      in_addr a{};
      if (inet_pton(AF_INET, std::string(ip).c_str(), &a) != 1)
        throw bad("bad IPv4 address '" + std::string(ip) + "'");
    };
    if (method == "tcp") {
      size_t c = rest.find(':');
      t.ip = std::string(rest.substr(0, c));
      check_ip(t.ip);
      if (c != std::string_view::npos) t.port = parse_port(rest.substr(c + 1));
    } else if (method == "ptcp") {
      t.kind = Target::Kind::kPtcp;
      size_t c = rest.find(':');
      if (c != 0 && !rest.empty()) t.port = parse_port(rest.substr(0, c));
      if (c != std::string_view::npos) {
        t.ip = std::string(rest.substr(c + 1));
        check_ip(t.ip);
      }
    } else if (method == "unix" || method == "punix") {
      t.kind = method == "unix" ? Target::Kind::kUnix : Target::Kind::kPunix;
      if (rest.empty()) throw bad("no path");
      if (rest.size() >= 108) throw bad("path longer than 107 bytes");
      t.path = std::string(rest);
    } else {
      throw bad("unknown method '" + std::string(method) + "'");
    }
    return t;
  }
};

}  // namespace flowpath::openflow
