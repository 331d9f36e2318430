// flowpath/ovsdb/client.hpp — the thin poll()-based socket shell around
// ovsdb::Session: connects to "unix:PATH" or "tcp:IP:PORT" (IPv6 as
// "tcp:[ADDR]:PORT"), moves bytes, fires timers, reconnects when told.
//
//   ovsdb::Client c("unix:/run/openvswitch/db.sock");
//   for (;;)
//     for (auto& a : c.run_once(1000))           // waits at most 1000 ms
//       if (a.kind == ovsdb::Action::Kind::kReplicaUpdated) show(c.replica());
//
// run_once() waits for the socket or the session's next timer (at most
// max_wait_ms), hands what happened to the Session and performs its
// actions; it returns those the user cares about (kReplicaUpdated,
// kTransactReply, kError, kReconnect — the last two informational).  The
// socket is non-blocking (connect included: an unreachable TCP peer delays
// nothing); a failed connect or a closed connection goes back to the
// Session, which answers with the backoff delay.  fd() and
// next_wakeup_ms() let a caller fold the client into its own poll loop.
// Errors: a malformed remote throws flowpath::Error at construction;
// everything later is an action.  Thread-safety: one thread per Client.
#pragma once

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "flowpath/ovsdb/session.hpp"

namespace flowpath::ovsdb {

/// A parsed remote: unix:PATH or tcp:IP:PORT.
struct Remote {
  bool is_unix = true;
  std::string path;        // unix
  std::string host, port;  // tcp
  std::string text;

  static Remote parse(std::string_view s) {
    Remote r;
    r.text = std::string(s);
    if (s.starts_with("unix:")) {
      r.path = std::string(s.substr(5));
      if (r.path.empty() || r.path.size() >= sizeof(sockaddr_un::sun_path))
        throw Error("ovsdb remote '" + r.text + "': socket path empty or longer than 107 bytes");
      return r;
    }
    if (!s.starts_with("tcp:"))
      throw Error("ovsdb remote '" + r.text + "': expected unix:PATH or tcp:IP:PORT");
    r.is_unix = false;
    std::string_view rest = s.substr(4);
    size_t colon;
    if (rest.starts_with("[")) {
      size_t close = rest.find(']');
      if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
        throw Error("ovsdb remote '" + r.text + "': expected tcp:[IPV6]:PORT");
      r.host = std::string(rest.substr(1, close - 1));
      colon = close + 1;
    } else {
      colon = rest.rfind(':');
      if (colon == std::string_view::npos) throw Error("ovsdb remote '" + r.text + "': no port");
      r.host = std::string(rest.substr(0, colon));
    }
    r.port = std::string(rest.substr(colon + 1));
    bool digits = !r.port.empty() && r.port.size() <= 5 &&
                  r.port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoul(r.port) == 0 || std::stoul(r.port) > 65535)
      throw Error("ovsdb remote '" + r.text + "': bad port '" + r.port + "'");
    addrinfo hints{}, *ai = nullptr;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(r.host.c_str(), r.port.c_str(), &hints, &ai) != 0)
      throw Error("ovsdb remote '" + r.text + "': '" + r.host + "' is not an IP address");
    freeaddrinfo(ai);
    return r;
  }
};

class Client {
 public:
  explicit Client(const std::string& remote, Session::Config cfg = {})
      : remote_(Remote::parse(remote)), session_(std::move(cfg)) {}
  ~Client() { close_fd(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// One turn of the loop: waits at most max_wait_ms.
  std::vector<Action> run_once(int max_wait_ms) {
    std::vector<Action> user;
    int64_t now = now_ms();
    if (fd_ < 0 && now >= reconnect_at_) start_connect(now);
    perform(user);
    pollfd p{fd_, short(fd_ >= 0 ? POLLIN : 0), 0};
    if (fd_ >= 0 && (connecting_ || !out_.empty())) p.events |= POLLOUT;
    int64_t wake = now + max_wait_ms;
    if (int64_t t = next_wakeup_ms(); t >= 0) wake = std::min(wake, t);
    int rc = ::poll(&p, fd_ >= 0 ? 1 : 0, int(std::max<int64_t>(0, wake - now)));
    now = now_ms();
    if (rc > 0 && fd_ >= 0) on_ready(p.revents, now);
    if (int64_t t = session_.next_timer_ms(); t >= 0 && now >= t) session_.on_timer(now);
    perform(user);
    return user;
  }

  /// Sends a transaction now (see Session::transact); its reply comes out
  /// of run_once.
  uint64_t transact(const Json& ops) {
    uint64_t id = session_.transact(ops);
    std::vector<Action> dummy;
    perform(dummy);
    for (auto& a : dummy) deferred_.push_back(std::move(a));
    return id;
  }

  const Replica& replica() const noexcept { return session_.replica(); }
  const Session& session() const noexcept { return session_; }
  const Remote& remote() const noexcept { return remote_; }
  int fd() const noexcept { return fd_; }
  /// When run_once next has timed work (a reconnect, a probe), -1 if none.
  int64_t next_wakeup_ms() const noexcept {
    if (fd_ < 0) return reconnect_at_;
    return session_.next_timer_ms();
  }
  static int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
  /// steady_clock ns of the first recv() of the last read that got bytes:
  /// where a change's path starts inside us (the switch's --db trace).
  int64_t last_recv_ns() const noexcept { return last_recv_ns_; }

 private:
  void start_connect(int64_t now) {
    int family = AF_UNIX;
    sockaddr_storage sa{};
    socklen_t len = 0;
    if (remote_.is_unix) {
      auto* un = reinterpret_cast<sockaddr_un*>(&sa);
      un->sun_family = AF_UNIX;
      std::memcpy(un->sun_path, remote_.path.c_str(), remote_.path.size() + 1);
      len = sizeof(sockaddr_un);
    } else {
      addrinfo hints{}, *ai = nullptr;
      hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
      hints.ai_socktype = SOCK_STREAM;
      if (getaddrinfo(remote_.host.c_str(), remote_.port.c_str(), &hints, &ai) != 0)
        return session_.on_disconnected(remote_.text + ": bad address");
      family = ai->ai_family;
      std::memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
      len = ai->ai_addrlen;
      freeaddrinfo(ai);
    }
    fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      return session_.on_disconnected(remote_.text + ": socket: " + std::strerror(errno));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), len) == 0) return connected(now);
    if (errno == EINPROGRESS || errno == EAGAIN) {
      connecting_ = true;
      return;
    }
    lost(remote_.text + ": connect: " + std::strerror(errno));
  }

  void connected(int64_t now) {
    connecting_ = false;
    out_.clear();
    session_.on_connected(now);
  }
  void lost(const std::string& why) {
    close_fd();
    session_.on_disconnected(why);
  }

  void on_ready(short revents, int64_t now) {
    if (connecting_) {
      int err = 0;
      socklen_t l = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &l);
      if (err) return lost(remote_.text + ": connect: " + std::strerror(err));
      if (!(revents & (POLLOUT | POLLIN))) return;
      connected(now);
      return;
    }
    if (revents & POLLOUT) flush();
    if (fd_ >= 0 && (revents & (POLLIN | POLLHUP | POLLERR))) read_all(now);
  }

  void read_all(int64_t now) {
    char buf[65536];
    for (int i = 0; i < 64 && fd_ >= 0; ++i) {  // bounded: timers must run too
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        if (i == 0)
          last_recv_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
        session_.on_bytes(buf, size_t(n), now);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      return lost(remote_.text + (n == 0 ? ": connection closed by the server"
                                         : std::string(": recv: ") + std::strerror(errno)));
    }
  }

  void flush() {
    while (fd_ >= 0 && !out_.empty()) {
      ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.erase(0, size_t(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      return lost(remote_.text + ": send: " + std::strerror(errno));
    }
  }

  // Carries the session's actions out; hands the user's to `user`.
  void perform(std::vector<Action>& user) {
    for (auto& a : deferred_) user.push_back(std::move(a));
    deferred_.clear();
    for (;;) {
      auto acts = session_.take_actions();
      if (acts.empty()) return;
      for (auto& a : acts) {
        if (a.kind == Action::Kind::kSend) {
          if (fd_ >= 0 && !connecting_) out_ += a.bytes;
          continue;
        }
        if (a.kind == Action::Kind::kReconnect) {
          close_fd();
          reconnect_at_ = now_ms() + a.delay_ms;
        }
        user.push_back(std::move(a));
      }
      flush();  // may report a lost connection: loop for its actions
    }
  }

  void close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    connecting_ = false;
    out_.clear();
  }

  Remote remote_;
  Session session_;
  int fd_ = -1;
  bool connecting_ = false;
  std::string out_;
  int64_t reconnect_at_ = 0;
  int64_t last_recv_ns_ = 0;
  std::vector<Action> deferred_;
};

}  // namespace flowpath::ovsdb
