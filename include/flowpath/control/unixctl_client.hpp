// flowpath/control/unixctl_client.hpp — the client side of the control
// socket (what `flowpath ctl` and `ovs-appctl -t` do).
//
//   UnixctlReply r = unixctl_call("/run/flowpath/flowpath.123.ctl",
//                                 "dump-flows", {"br-int"});
//   if (r.ok) fputs(r.result.c_str(), stdout); else fputs(r.error...)
//
// One request per connection (as ovs-appctl): connect, send
// {"method":...,"params":[...],"id":0}, read until one complete JSON
// object arrived, close.  Connection and protocol failures throw
// flowpath::Error naming the socket; a command's own failure is a reply
// with ok == false.  find_control_socket(dir) returns the only *.ctl file
// in dir (errors: none, several).
// Thread-safety: reentrant.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "flowpath/control/json.hpp"
#include "flowpath/control/unixctl_server.hpp"
#include "flowpath/core/error.hpp"

namespace flowpath {

struct UnixctlReply {
  bool ok = false;
  std::string result;  // ok
  std::string error;   // !ok
};

inline UnixctlReply unixctl_call(const std::string& path, const std::string& method,
                                 const std::vector<std::string>& params, int timeout_s = 30) {
  sockaddr_un a = unixctl_detail::address(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error("control socket " + path + ": socket failed");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    int err = errno;
    std::string hint = err == ENOENT || err == ECONNREFUSED ? " (is `flowpath switch` running?)"
                       : err == EACCES                      ? " (no permission: try sudo)"
                                                            : "";
    throw Error("cannot connect to " + path + ": " + std::strerror(err) + hint);
  }
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  json::Value req = json::Value::object();
  req.set("method", json::Value::string(method));
  json::Value& ps = req.set("params", json::Value::array());
  for (const auto& p : params) ps.items.push_back(json::Value::string(p));
  req.set("id", json::Value::number(0));
  if (!unixctl_detail::send_all(fd, json::write(req)))
    throw Error("control socket " + path + ": sending the request failed");
  json::Splitter in;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw Error("control socket " + path + ": connection closed before a reply" +
                  (n < 0 ? std::string(" (") + std::strerror(errno) + ")" : ""));
    in.feed(buf, size_t(n));
    if (auto text = in.next()) {
      json::Value r = json::parse(*text);
      UnixctlReply out;
      const json::Value* err = r.find("error");
      const json::Value* res = r.find("result");
      if (err && !err->is_null()) {
        out.error = err->is_string() ? err->str : json::write(*err);
        return out;
      }
      out.ok = true;
      if (res && res->is_string())
        out.result = res->str;
      else if (res && !res->is_null())
        out.result = json::write(*res);
      return out;
    }
  }
}

/// The only `*.ctl` socket in dir.
inline std::string find_control_socket(const std::string& dir = "/run/flowpath") {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".ctl") found.push_back(e.path().string());
  if (found.empty())
    throw Error("no control socket in " + dir +
                " (is `flowpath switch` running? else give --socket PATH)");
  if (found.size() > 1) {
    std::string list;
    for (const auto& f : found) list += " " + f;
    throw Error("several control sockets in " + dir + ", choose one with --socket:" + list);
  }
  return found[0];
}

}  // namespace flowpath
