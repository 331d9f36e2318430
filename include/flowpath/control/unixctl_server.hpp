// flowpath/control/unixctl_server.hpp — a control socket speaking Open
// vSwitch's unixctl protocol, so `flowpath ctl` and Debian's real
// `ovs-appctl -t SOCKET COMMAND ARGS...` both drive it.
//
//   UnixctlServer srv("/run/flowpath/flowpath.123.ctl");
//   srv.add_command("fdb/show", 1, 1, "bridge", [&](const Args& a) {
//     return fdb_show(of, a[0]);             // throw Error to reply an error
//   });
//   srv.set_periodic([&] { of.run_periodic(); }, 1000);
//   srv.start();                             // the control thread
//
// Protocol (JSON-RPC 1.0 over a unix stream socket, OVS lib/unixctl.c):
// a request is {"method":"NAME","params":["arg",...],"id":ID}, objects
// back to back with no length prefix; the reply is
// {"id":ID,"error":null,"result":"TEXT"} or {"id":ID,"error":"MESSAGE",
// "result":null}.  Built in: `list-commands` (OVS's layout: "The available
// commands are:" then one line per command with its usage) and `version`.
// Unknown commands and wrong argument counts get OVS's error texts.
//
// Thread: start() runs one thread that poll()s the listening socket and
// every client, serves requests one at a time (handlers run on this
// thread, so they must lock whatever they read) and calls the periodic
// function on time.  stop() (and the destructor) joins it, closes every
// client and removes the socket file.  A client that stops reading gets
// its replies cut after a 2 s send timeout and is dropped.
// Errors: the constructor throws flowpath::Error naming the path (too
// long, in use by a live server, bind/listen failure, no permission).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "flowpath/control/json.hpp"
#include "flowpath/core/error.hpp"

namespace flowpath {

using UnixctlArgs = std::vector<std::string>;
using UnixctlHandler = std::function<std::string(const UnixctlArgs&)>;

namespace unixctl_detail {

inline sockaddr_un address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path)
    throw Error("control socket '" + path + "': path empty or longer than " +
                std::to_string(sizeof a.sun_path - 1) + " bytes");
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

/// Writes all of s (MSG_NOSIGNAL: a vanished peer is an error, not SIGPIPE).
inline bool send_all(int fd, std::string_view s) noexcept {
  while (!s.empty()) {
    ssize_t n = send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(size_t(n));
  }
  return true;
}

}  // namespace unixctl_detail

class UnixctlServer {
 public:
  static constexpr const char* kDefaultVersion = "flowpath 0.1.0";

  explicit UnixctlServer(std::string path, std::string version = kDefaultVersion)
      : path_(std::move(path)), version_(std::move(version)) {
    sockaddr_un a = unixctl_detail::address(path_);
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) fail("socket");
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
      int err = errno;
      if (err != EADDRINUSE || in_use(a)) {
        errno = err;
        fail("bind");
      }
      unlink(path_.c_str());  // a stale file from a process that died
      if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fail("bind");
    }
    bound_ = true;
    if (listen(listen_fd_, 16) < 0) fail("listen");
    add_command("list-commands", 0, 0, "", [this](const UnixctlArgs&) { return list(); });
    add_command("version", 0, 0, "", [this](const UnixctlArgs&) { return version_ + "\n"; });
  }
  UnixctlServer(const UnixctlServer&) = delete;
  UnixctlServer& operator=(const UnixctlServer&) = delete;
  ~UnixctlServer() {
    stop();
    if (listen_fd_ >= 0) close(listen_fd_);
    if (bound_) unlink(path_.c_str());
  }

  /// Registers NAME taking min..max arguments (max < 0: no limit).
  void add_command(std::string name, int min_args, int max_args, std::string usage,
                   UnixctlHandler fn) {
    commands_[std::move(name)] = Command{min_args, max_args, std::move(usage), std::move(fn)};
  }
  void set_periodic(std::function<void()> fn, int interval_ms) {
    periodic_ = std::move(fn);
    interval_ms_ = interval_ms > 0 ? interval_ms : 1000;
  }

  void start() {
    if (thread_.joinable()) return;
    stop_.store(false);
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) < 0) throw Error("control socket: pipe failed");
    thread_ = std::thread([this] { run(); });
  }
  void stop() noexcept {
    if (!thread_.joinable()) return;
    stop_.store(true);
    char c = 1;
    (void)!write(wake_[1], &c, 1);
    thread_.join();
    for (auto& c2 : clients_) close(c2.fd);
    clients_.clear();
    close(wake_[0]);
    close(wake_[1]);
  }

  /// One turn of the control loop on the caller's own thread, instead of
  /// start(): polls the socket, its clients and the caller's `extra` fds
  /// (their revents are filled in) for at most timeout_ms and serves the
  /// requests that arrived.  The caller runs its periodic work itself.
  void serve_once(int timeout_ms, std::span<pollfd> extra = {}) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (auto& c : clients_) fds.push_back({c.fd, POLLIN, 0});
    const size_t base = fds.size();
    fds.insert(fds.end(), extra.begin(), extra.end());
    int r = poll(fds.data(), fds.size(), timeout_ms);
    for (size_t i = 0; i < extra.size(); ++i) extra[i].revents = r > 0 ? fds[base + i].revents : 0;
    if (r <= 0) return;
    std::vector<Client> keep;
    for (size_t i = 0; i + 1 < base; ++i) {
      bool ok = true;
      if (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) ok = serve(clients_[i]);
      if (ok)
        keep.push_back(std::move(clients_[i]));
      else
        close(clients_[i].fd);
    }
    clients_ = std::move(keep);
    if (fds[0].revents & POLLIN) accept_client();
  }

  /// Runs one request as a client would see it: the reply object's text.
  std::string handle_request(const std::string& text) {
    json::Value reply = json::Value::object();
    json::Value id;
    std::string result, error;
    try {
      json::Value req = json::parse(text);
      if (const json::Value* i = req.find("id")) id = *i;
      error = dispatch(req, result);
    } catch (const std::exception& e) {
      error = e.what();
    }
    reply.set("id", id);
    reply.set("error", error.empty() ? json::Value::null() : json::Value::string(error));
    reply.set("result", error.empty() ? json::Value::string(result) : json::Value::null());
    return json::write(reply);
  }

  const std::string& path() const noexcept { return path_; }

 private:
  struct Command {
    int min_args = 0, max_args = 0;
    std::string usage;
    UnixctlHandler fn;
  };
  struct Client {
    int fd;
    json::Splitter in;
  };

  [[noreturn]] void fail(const char* what) {
    int err = errno;
    std::string msg = "control socket " + path_ + ": " + what + " failed: " + std::strerror(err);
    if (err == EACCES || err == EPERM) msg += " (no permission to create it there)";
    if (err == ENOENT) msg += " (does its directory exist?)";
    if (err == EADDRINUSE) msg += " (another process is serving it)";
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    throw Error(msg);
  }
  static bool in_use(const sockaddr_un& a) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = fd >= 0 && connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) close(fd);
    return live;
  }

  // Returns "" on success (result set) or the error text.
  std::string dispatch(const json::Value& req, std::string& result) {
    const json::Value* m = req.find("method");
    const json::Value* p = req.find("params");
    if (!m || !m->is_string() || !p || p->type != json::Type::kArray)
      return "request is not a JSON-RPC request (needs method and params)";
    auto it = commands_.find(m->str);
    if (it == commands_.end())
      return "\"" + m->str +
             "\" is not a valid command (use \"list-commands\" to see a list of "
             "valid commands)";
    const Command& c = it->second;
    int n = int(p->items.size());
    if (n < c.min_args)
      return "\"" + m->str + "\" command requires at least " + std::to_string(c.min_args) +
             " arguments";
    if (c.max_args >= 0 && n > c.max_args)
      return "\"" + m->str + "\" command takes at most " + std::to_string(c.max_args) +
             " arguments";
    UnixctlArgs args;
    for (const auto& v : p->items) {
      if (!v.is_string()) return "\"" + m->str + "\" command has non-string argument";
      args.push_back(v.str);
    }
    try {
      result = c.fn(args);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      return msg.empty() ? "failed" : msg;
    }
    return "";
  }

  std::string list() const {
    std::string out = "The available commands are:\n";
    for (const auto& [name, c] : commands_) {
      char line[256];
      std::snprintf(line, sizeof line, "  %-23s %s\n", name.c_str(), c.usage.c_str());
      out += line;
    }
    return out;
  }

  void accept_client() {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    clients_.push_back(Client{fd, {}});
  }
  // false: drop the client.
  bool serve(Client& c) {
    char buf[4096];
    ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
    if (n < 0) return true;
    try {
      c.in.feed(buf, size_t(n));
      while (auto text = c.in.next())
        if (!unixctl_detail::send_all(c.fd, handle_request(*text))) return false;
    } catch (const std::exception&) {
      return false;  // not JSON: OVS drops such a connection too
    }
    return true;
  }

  // start()'s thread: serve_once with the wake pipe as the one extra fd,
  // and the periodic work every interval_ms_.
  void run() {
    using clock = std::chrono::steady_clock;
    auto next_tick = clock::now() + std::chrono::milliseconds(interval_ms_);
    while (!stop_.load()) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - clock::now()).count();
      pollfd wake{wake_[0], POLLIN, 0};
      serve_once(int(left < 0 ? 0 : left), {&wake, 1});
      if (clock::now() < next_tick) continue;
      if (periodic_) {
        try {
          periodic_();
        } catch (...) {
        }
      }
      next_tick = clock::now() + std::chrono::milliseconds(interval_ms_);
    }
  }

  std::string path_, version_;
  int listen_fd_ = -1;
  bool bound_ = false;
  int wake_[2] = {-1, -1};
  std::map<std::string, Command> commands_;
  std::function<void()> periodic_;
  int interval_ms_ = 1000;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<Client> clients_;
};

}  // namespace flowpath
