// flowpath/ovsdb/session.hpp — the OVSDB client's state machine, sans I/O:
// events in (connected, bytes received, timer, disconnected), actions out
// (bytes to send, replica updated, transact reply, reconnect after N ms,
// error to log).  No socket, no clock: `now` is given in milliseconds of
// any monotonic clock, so every exchange replays from recorded bytes.
//
//   Session s({.probe_interval_ms = 5000});
//   s.on_connected(now);                  // -> kSend get_schema
//   s.on_bytes(buf, n, now);              // -> kSend monitor_cond, then
//                                         //    kReplicaUpdated, ...
//   uint64_t id = s.transact(ops, now);   // -> kSend, later kTransactReply
//   for (Action& a : s.take_actions()) ...
//   s.on_timer(now) when now >= s.next_timer_ms()
//
// The exchange, as ovs-vswitchd's IDL does it: get_schema checks that the
// server has every monitored table and column; monitor_cond asks for them
// (update2 notation); a server that refuses monitor_cond gets plain
// monitor ("update" notation).  The monitor reply replaces the replica
// (so a reconnect resynchronises from scratch); each update/update2
// notification is applied atomically.  The server's "echo" requests are
// answered; when nothing arrives for probe_interval_ms the session sends
// its own echo, and when a second interval passes in silence it gives the
// connection up.  Giving up (silence, malformed or hostile input, a failed
// update, a refused schema) and the peer's disconnect both yield
// kReconnect with an exponential backoff (backoff_min_ms doubling up to
// backoff_max_ms, reset once a monitor reply has synchronised); pending
// transactions fail with "connection lost".  Every failure is an action
// carrying a message; no exception leaves an event function.
// Thread-safety: one thread drives a Session.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/ovsdb/jsonrpc.hpp"
#include "flowpath/ovsdb/replica.hpp"

namespace flowpath::ovsdb {

struct Action {
  enum class Kind { kSend, kReplicaUpdated, kTransactReply, kReconnect, kError };
  Kind kind = Kind::kError;
  std::string bytes;     // kSend
  uint64_t txn_id = 0;   // kTransactReply
  Json result;           // kTransactReply: one result object per operation
  std::string error;     // kTransactReply (empty = committed), kReconnect, kError
  int64_t delay_ms = 0;  // kReconnect
};

class Session {
 public:
  struct Config {
    std::string database = "Open_vSwitch";
    int64_t probe_interval_ms = 5000;  // 0: never probe
    int64_t backoff_min_ms = 1000;
    int64_t backoff_max_ms = 8000;
    size_t max_message = Framer::kDefaultMaxMessage;
  };
  enum class State { kDisconnected, kSchema, kMonitoring, kSynced };

  Session() : Session(Config{}) {}
  explicit Session(Config c)
      : cfg_(std::move(c)), backoff_(cfg_.backoff_min_ms), in_(cfg_.max_message) {}

  // ---- events --------------------------------------------------------
  void on_connected(int64_t now) {
    state_ = State::kSchema;
    in_ = Framer(cfg_.max_message);
    last_rx_ = now;
    probe_sent_ = false;
    send_request("get_schema", Json::array({cfg_.database}), Pending::kSchema);
  }
  void on_bytes(const char* data, size_t n, int64_t now) {
    if (state_ == State::kDisconnected) return;
    last_rx_ = now;
    probe_sent_ = false;
    in_.feed(data, n);
    while (state_ != State::kDisconnected) {
      auto f = in_.next();
      if (!f) break;
      if (!f->ok()) return give_up(f->error);
      try {
        handle(classify(std::move(f->json)));
      } catch (const std::exception& e) {  // a bug of ours must not kill the loop
        give_up(std::string("ovsdb: internal error: ") + e.what());
      }
    }
  }
  void on_timer(int64_t now) {
    if (state_ == State::kDisconnected || cfg_.probe_interval_ms <= 0) return;
    if (now - last_rx_ < cfg_.probe_interval_ms) return;
    if (!probe_sent_) {
      probe_sent_ = true;
      probe_at_ = now;
      send_request("echo", Json::array({"flowpath probe"}), Pending::kEcho);
    } else if (now - probe_at_ >= cfg_.probe_interval_ms) {
      give_up("ovsdb: no reply to the inactivity probe for " + std::to_string(now - last_rx_) +
              " ms");
    }
  }
  /// The connection closed, or an attempt to connect failed.
  void on_disconnected(const std::string& reason) {
    if (state_ != State::kDisconnected) fail_pending(reason);
    state_ = State::kDisconnected;
    push({Action::Kind::kReconnect, {}, 0, {}, reason, backoff_});
    backoff_ = std::min(backoff_ * 2, cfg_.backoff_max_ms);
  }

  /// Sends a transaction (`ops`: an array of RFC 7047 operations) and
  /// returns its id; the answer is a kTransactReply with that id.  Not
  /// synchronised: the reply comes at once, failed.
  uint64_t transact(const Json& ops) {
    uint64_t id = next_id_++;
    if (state_ != State::kSynced || !ops.is_array()) {
      push({Action::Kind::kTransactReply,
            {},
            id,
            {},
            !ops.is_array() ? "transact: operations must be a JSON array"
                            : "transact: not connected to the database"});
      return id;
    }
    Json params = Json::array({cfg_.database});
    for (const auto& op : ops) params.push_back(op);
    send(encode_request("transact", std::move(params), id));
    pending_[id] = Pending::kTransact;
    return id;
  }

  // ---- queries -------------------------------------------------------
  std::vector<Action> take_actions() { return std::exchange(out_, {}); }
  /// The next time on_timer has work (-1: none).
  int64_t next_timer_ms() const noexcept {
    if (state_ == State::kDisconnected || cfg_.probe_interval_ms <= 0) return -1;
    return probe_sent_ ? probe_at_ + cfg_.probe_interval_ms : last_rx_ + cfg_.probe_interval_ms;
  }
  State state() const noexcept { return state_; }
  bool synced() const noexcept { return state_ == State::kSynced; }
  /// True when the server refused monitor_cond and plain monitor is used.
  bool using_monitor_v1() const noexcept { return v1_; }
  const Replica& replica() const noexcept { return replica_; }
  const Config& config() const noexcept { return cfg_; }

 private:
  enum class Pending { kSchema, kMonitorCond, kMonitor, kEcho, kTransact };
  static constexpr const char* kMonitorId = "flowpath";

  void push(Action a) { out_.push_back(std::move(a)); }
  void push(Action::Kind k) {
    Action a;
    a.kind = k;
    push(std::move(a));
  }
  void send(std::string bytes) {
    Action a;
    a.kind = Action::Kind::kSend;
    a.bytes = std::move(bytes);
    push(std::move(a));
  }
  void send_request(const char* method, Json params, Pending p) {
    uint64_t id = next_id_++;
    pending_[id] = p;
    send(encode_request(method, std::move(params), id));
  }
  void error(std::string msg) { push({Action::Kind::kError, {}, 0, {}, std::move(msg)}); }

  void give_up(const std::string& why) {
    error(why);
    on_disconnected(why);
  }
  void fail_pending(const std::string& reason) {
    for (const auto& [id, p] : pending_)
      if (p == Pending::kTransact)
        push({Action::Kind::kTransactReply, {}, id, {}, "connection lost: " + reason});
    pending_.clear();
  }

  void handle(const Message& m) {
    switch (m.kind) {
      case Message::Kind::kInvalid:
        return give_up(m.invalid);
      case Message::Kind::kRequest:
        if (m.method == "echo") return send(encode_reply(m.params, m.id));
        return send(encode_reply_error("unknown method", m.id));
      case Message::Kind::kNotification:
        return on_notification(m);
      case Message::Kind::kReply:
      case Message::Kind::kErrorReply:
        return on_reply(m);
    }
  }

  static std::string encode_reply_error(const char* why, const Json& id) {
    Json j = {{"result", nullptr}, {"error", why}, {"id", id}};
    return j.dump();
  }

  void on_notification(const Message& m) {
    if (m.method == "update" || m.method == "update2") {
      if (state_ != State::kSynced)
        return give_up("ovsdb: " + m.method + " before the monitor reply");
      if ((m.method == "update2") == v1_)
        return give_up("ovsdb: " + m.method + " notification on a " +
                       (v1_ ? "monitor" : "monitor_cond") + " session");
      if (m.params.size() != 2 || m.params[0] != kMonitorId)
        return give_up("ovsdb: " + m.method + " params are not [\"flowpath\", table-updates]");
      std::string err =
          replica_.apply(m.params[1], v1_ ? UpdateFormat::kUpdate : UpdateFormat::kUpdate2);
      // A replica that missed an update is wrong: resynchronise.
      if (!err.empty()) return give_up(err);
      return push(Action::Kind::kReplicaUpdated);
    }
    if (m.method == "monitor_canceled") return give_up("ovsdb: the server canceled the monitor");
    // Other notifications (locked, stolen, ...) do not concern us.
  }

  void on_reply(const Message& m) {
    if (!m.id.is_number_unsigned())
      return error("ovsdb: reply with an id we never sent: " + m.id.dump());
    auto it = pending_.find(m.id.get<uint64_t>());
    if (it == pending_.end()) return error("ovsdb: reply with an id we never sent: " + m.id.dump());
    Pending p = it->second;
    pending_.erase(it);
    bool ok = m.kind == Message::Kind::kReply;
    switch (p) {
      case Pending::kSchema:
        if (!ok) return give_up("ovsdb: get_schema failed: " + describe_error(m.error));
        if (std::string e = check_schema(m.result); !e.empty()) return give_up(e);
        return send_monitor(/*v1=*/false);
      case Pending::kMonitorCond:
        if (!ok) return send_monitor(/*v1=*/true);  // an older server: plain monitor
        return on_monitor_reply(m.result);
      case Pending::kMonitor:
        if (!ok) return give_up("ovsdb: monitor failed: " + describe_error(m.error));
        return on_monitor_reply(m.result);
      case Pending::kEcho:
        return;
      case Pending::kTransact:
        return on_transact_reply(m, ok);
    }
  }

  void send_monitor(bool v1) {
    v1_ = v1;
    state_ = State::kMonitoring;
    send_request(v1 ? "monitor" : "monitor_cond",
                 Json::array({cfg_.database, kMonitorId, monitor_requests(v1)}),
                 v1 ? Pending::kMonitor : Pending::kMonitorCond);
  }

  void on_monitor_reply(const Json& result) {
    std::string err =
        replica_.apply(result, v1_ ? UpdateFormat::kUpdate : UpdateFormat::kUpdate2, true);
    if (!err.empty()) return give_up(err);
    state_ = State::kSynced;
    backoff_ = cfg_.backoff_min_ms;
    push(Action::Kind::kReplicaUpdated);
  }

  void on_transact_reply(const Message& m, bool ok) {
    Action a{Action::Kind::kTransactReply, {}, m.id.get<uint64_t>(), m.result, {}};
    if (!ok)
      a.error = "transact: " + describe_error(m.error);
    else if (!m.result.is_array())
      a.error = "transact: result is not an array";
    else
      for (const auto& r : m.result)  // RFC 7047 §4.1.3: a failed op carries "error"
        if (r.is_object() && r.contains("error")) {
          a.error = "transact: " + describe_error(r);
          break;
        }
    push(std::move(a));
  }

  Config cfg_;
  State state_ = State::kDisconnected;
  int64_t backoff_;
  Framer in_;
  Replica replica_;
  std::map<uint64_t, Pending> pending_;
  std::vector<Action> out_;
  uint64_t next_id_ = 1;
  int64_t last_rx_ = 0, probe_at_ = 0;
  bool probe_sent_ = false, v1_ = false;
};

}  // namespace flowpath::ovsdb
