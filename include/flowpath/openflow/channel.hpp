// flowpath/openflow/channel.hpp — the socket shell around Connection
// (openflow/connection.hpp) for one bridge: its listeners (ptcp:, punix:)
// with their accepted connections, and its active targets (tcp:, unix:)
// that reconnect with backoff.  Non-blocking, driven by the owner's
// poll() loop:
//
//   Channel ch(backend, {Target::parse("punix:/run/br0.mgmt")});
//   for (;;) {
//     std::vector<pollfd> fds; ch.add_pollfds(fds);
//     poll(fds.data(), fds.size(), ch.timeout_ms(now_ms()));
//     ch.handle(fds, now_ms());
//   }
//
// Active targets: a non-blocking connect; on failure or disconnection the
// next attempt waits 1 s, doubling to 8 s (OVS's rconn), reset by a
// connection that reaches the active state.  punix: unlinks a stale socket
// file before binding and removes its file when the Channel goes.
// Writes are non-blocking; what the kernel does not take waits for POLLOUT.
// Backpressure: while over 1 MiB waits, the connection's input is neither
// read nor handled, so a flow dump of any size is served at the peer's
// pace; a peer that lets asynchronous messages pile up beyond 1 MiB is
// dropped.
//
// Errors: the constructor throws flowpath::Error naming the target when a
// listener cannot be created (address in use, no permission, ...).
// Thread-safety: none; the owner's control thread drives it.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "flowpath/openflow/connection.hpp"
#include "flowpath/openflow/target.hpp"

namespace flowpath::openflow {

struct ChannelOptions {
  int64_t probe_interval_ms = 5000;  // active targets (controllers)
  int64_t passive_probe_interval_ms = 60000;
  int64_t max_backoff_ms = 8000;
};

class Channel {
 public:
  Channel(SwitchBackend& be, std::vector<Target> targets, ChannelOptions opt = {})
      : be_(be), opt_(opt) {
    for (auto& t : targets) {
      Endpoint e;
      e.target = std::move(t);
      if (e.target.passive()) listen_on(e);
      eps_.push_back(std::move(e));
    }
  }
  ~Channel() {
    for (auto& e : eps_) {
      if (e.fd >= 0) ::close(e.fd);
      if (e.target.kind == Target::Kind::kPunix && e.fd >= 0) unlink(e.target.path.c_str());
      if (e.conn) ::close(e.conn->fd);
    }
    for (auto& c : accepted_) ::close(c->fd);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Appends this channel's descriptors with the events it waits for.
  void add_pollfds(std::vector<pollfd>& fds) const {
    for (const auto& e : eps_) {
      if (e.target.passive())
        fds.push_back({e.fd, POLLIN, 0});
      else if (e.conn)
        fds.push_back({e.conn->fd, short(e.connecting ? POLLOUT : events(*e.conn)), 0});
    }
    for (const auto& c : accepted_) fds.push_back({c->fd, events(*c), 0});
  }
  /// Milliseconds until the next timer (probe, reconnect); -1: none.
  int timeout_ms(int64_t now) const {
    int64_t next = INT64_MAX;
    for (const auto& e : eps_) {
      if (!e.target.passive() && !e.conn) next = std::min(next, e.retry_at);
      if (e.conn && !e.connecting) next = std::min(next, e.conn->conn.next_deadline());
    }
    for (const auto& c : accepted_) next = std::min(next, c->conn.next_deadline());
    auto held = [](const Conn& c) { return c.unsent() < kHighWater && c.conn.has_pending_input(); };
    for (const auto& e : eps_)
      if (e.conn && !e.connecting && held(*e.conn)) return 0;
    for (const auto& c : accepted_)
      if (held(*c)) return 0;
    if (next == INT64_MAX) return -1;
    return int(std::clamp<int64_t>(next - now, 0, 60000));
  }
  /// Serves the ready descriptors among `fds` (others are ignored) and the timers.
  void handle(const std::vector<pollfd>& fds, int64_t now);

  /// Sends an asynchronous message to every connection that wants it.
  void broadcast_async(const MessageBody& body) {
    for (auto& e : eps_)
      if (e.conn && !e.connecting) e.conn->conn.send_async(body), flush(*e.conn, true);
    for (auto& c : accepted_) c->conn.send_async(body), flush(*c, true);
  }

  /// Sends, to every connection that wants asynchronous messages, what
  /// `make(connection)` returns for it (std::nullopt: nothing), so a
  /// message can depend on the connection's version.
  template <class F>
  void broadcast_async_by(F&& make) {
    auto one = [&](Conn& c) {
      if (!c.conn.wants_async()) return;
      if (std::optional<MessageBody> m = make(std::as_const(c.conn))) {
        c.conn.send_async(std::move(*m));
        flush(c);
      }
    };
    for (auto& e : eps_)
      if (e.conn && !e.connecting) one(*e.conn);
    for (auto& c : accepted_) one(*c);
  }
  /// True when a connection that takes asynchronous messages speaks
  /// OpenFlow 1.0: OVS then sends implicit table misses to the controller.
  bool wants_implicit_miss() const {
    auto old = [](const Conn& c) { return c.conn.wants_async() && c.conn.version() < kOfp13; };
    for (const auto& e : eps_)
      if (e.conn && !e.connecting && old(*e.conn)) return true;
    for (const auto& c : accepted_)
      if (old(*c)) return true;
    return false;
  }

  /// The port a ptcp: target is bound to (useful with port 0).
  uint16_t bound_port(size_t target) const { return eps_.at(target).bound_port; }
  /// Outgoing (controller) connections in the active state.
  size_t num_active_controllers() const {
    size_t n = 0;
    for (const auto& e : eps_) n += e.conn && e.conn->conn.state() == Connection::State::kActive;
    return n;
  }
  bool has_active_targets() const {
    for (const auto& e : eps_)
      if (!e.target.passive()) return true;
    return false;
  }
  const ChannelOptions& options() const noexcept { return opt_; }
  /// Connections in the active state (accepted and outgoing).
  size_t num_active() const {
    size_t n = 0;
    for (const auto& e : eps_) n += e.conn && e.conn->conn.state() == Connection::State::kActive;
    for (const auto& c : accepted_) n += c->conn.state() == Connection::State::kActive;
    return n;
  }

 private:
  struct Conn {
    int fd;
    Connection conn;
    std::vector<uint8_t> pending;  // output the kernel has not taken yet,
    size_t sent = 0;               // from pending[sent] on
    size_t unsent() const noexcept { return pending.size() - sent; }
  };
  // Backpressure: above kHighWater unsent bytes a connection's input is
  // not read or handled (its replies wait for the peer to read), so the
  // replies queued are bounded by one request's (a dump of every flow).
  // Asynchronous messages cannot wait: a peer that lets them pile up
  // beyond kHighWater is dropped.
  static constexpr size_t kHighWater = 1u << 20;
  struct Endpoint {
    Target target;
    int fd = -1;  // listeners
    uint16_t bound_port = 0;
    std::unique_ptr<Conn> conn;  // active targets
    bool connecting = false;
    int64_t retry_at = 0, backoff = 0;
  };

  static short events(const Conn& c) {
    return short((c.unsent() < kHighWater ? POLLIN : 0) | (c.unsent() ? POLLOUT : 0));
  }
  [[noreturn]] static void fail(const Target& t, const char* what) {
    throw Error("OpenFlow target " + t.str() + ": " + what + ": " + std::strerror(errno));
  }

  void listen_on(Endpoint& e);
  void try_connect(Endpoint& e, int64_t now);
  void disconnect(Endpoint& e, int64_t now) {
    ::close(e.conn->fd);
    e.conn.reset();
    e.connecting = false;
    e.backoff = e.backoff ? std::min(e.backoff * 2, opt_.max_backoff_ms) : 1000;
    e.retry_at = now + e.backoff;
  }
  /// Reads and answers; false when the connection is to be closed.
  bool serve(Conn& c, short revents, int64_t now);
  /// Writes what the kernel takes; false when the connection is to be
  /// closed (error, closed and drained, or async output over kHighWater).
  bool flush(Conn& c, bool async = false) {
    if (c.pending.empty()) {
      c.pending = c.conn.take_output();
      c.sent = 0;
    } else if (c.conn.has_output()) {
      auto out = c.conn.take_output();
      c.pending.insert(c.pending.end(), out.begin(), out.end());
    }
    while (c.unsent()) {
      ssize_t n = ::send(c.fd, c.pending.data() + c.sent, c.unsent(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) return false;
      c.sent += size_t(n);
    }
    if (!c.unsent()) {
      c.pending.clear();
      c.sent = 0;
    } else if (c.sent > kHighWater && c.sent * 2 > c.pending.size()) {  // amortized O(1)
      c.pending.erase(c.pending.begin(), c.pending.begin() + std::ptrdiff_t(c.sent));
      c.sent = 0;
    }
    if (async && c.unsent() > kHighWater) return false;
    return !(c.conn.closed() && !c.unsent());
  }
  Connection make_conn(bool passive, int64_t now) {
    ConnectionConfig cc;
    cc.passive = passive;
    cc.probe_interval_ms = passive ? opt_.passive_probe_interval_ms : opt_.probe_interval_ms;
    return Connection(be_, cc, now);
  }

  SwitchBackend& be_;
  ChannelOptions opt_;
  std::vector<Endpoint> eps_;
  std::vector<std::unique_ptr<Conn>> accepted_;
};

inline void Channel::listen_on(Endpoint& e) {
  const Target& t = e.target;
  int fd = socket(t.is_unix() ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) fail(t, "socket");
  e.fd = fd;
  int rc;
  if (t.is_unix()) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, t.path.c_str(), t.path.size() + 1);
    unlink(t.path.c_str());  // a stale file from an earlier run
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(t.port);
    if (!t.ip.empty()) inet_pton(AF_INET, t.ip.c_str(), &sa.sin_addr);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    if (rc == 0 && getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
      e.bound_port = ntohs(sa.sin_port);
  }
  if (rc < 0 || listen(fd, 16) < 0) {
    int err = errno;
    ::close(fd);
    e.fd = -1;
    errno = err;
    fail(t, "cannot listen");
  }
}

inline void Channel::try_connect(Endpoint& e, int64_t now) {
  const Target& t = e.target;
  int fd = socket(t.is_unix() ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return (void)(e.retry_at = now + 1000);
  int rc;
  if (t.is_unix()) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, t.path.c_str(), t.path.size() + 1);
    rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(t.port);
    inet_pton(AF_INET, t.ip.c_str(), &sa.sin_addr);
    rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  e.conn = std::make_unique<Conn>(Conn{fd, make_conn(false, now), {}});
  e.connecting = rc < 0 && errno == EINPROGRESS;
  if (rc < 0 && !e.connecting) return disconnect(e, now);
  if (!e.connecting && !flush(*e.conn)) disconnect(e, now);
}

inline bool Channel::serve(Conn& c, short revents, int64_t now) {
  if (!flush(c)) return false;
  if (c.unsent() >= kHighWater) return true;  // input waits (backpressure)
  c.conn.resume();                            // what the budget held back
  if (revents & POLLIN) {
    if (c.conn.has_pending_input()) return flush(c);  // read more once these are handled
    uint8_t buf[65536];
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
    if (n > 0) c.conn.receive(std::span(buf, size_t(n)), now);
  } else if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
    return false;
  }
  return flush(c);
}

inline void Channel::handle(const std::vector<pollfd>& fds, int64_t now) {
  auto revents_of = [&](int fd) -> short {
    for (const pollfd& p : fds)
      if (p.fd == fd) return p.revents;
    return 0;
  };
  for (auto& e : eps_) {
    if (e.target.passive()) {
      if (!(revents_of(e.fd) & POLLIN)) continue;
      for (int fd; (fd = accept4(e.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;) {
        accepted_.push_back(std::make_unique<Conn>(Conn{fd, make_conn(true, now), {}}));
        if (!flush(*accepted_.back())) ::close(fd), accepted_.pop_back();
      }
      continue;
    }
    if (!e.conn) {
      if (now >= e.retry_at) try_connect(e, now);
      continue;
    }
    short rev = revents_of(e.conn->fd);
    if (e.connecting) {
      if (!rev) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(e.conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) {
        disconnect(e, now);
        continue;
      }
      e.connecting = false;
      rev = 0;
    }
    e.conn->conn.tick(now);
    bool was_active = e.conn->conn.state() == Connection::State::kActive;
    if (!serve(*e.conn, rev, now))
      disconnect(e, now);
    else if (!was_active && e.conn->conn.state() == Connection::State::kActive)
      e.backoff = 0;
  }
  for (size_t i = 0; i < accepted_.size();) {
    Conn& c = *accepted_[i];
    c.conn.tick(now);
    if (serve(c, revents_of(c.fd), now)) {
      ++i;
      continue;
    }
    ::close(c.fd);
    accepted_.erase(accepted_.begin() + std::ptrdiff_t(i));
  }
}

}  // namespace flowpath::openflow
