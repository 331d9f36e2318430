// flowpath/openflow/connection.hpp — one OpenFlow connection, sans-I/O:
// bytes and clock ticks in, bytes out (and "close"), with the switch side
// behind the SwitchBackend interface (openflow/backend.hpp).
//
//   Connection c(backend, {.passive = true}, now_ms);   // queues our hello
//   c.receive(bytes, now_ms);      // whatever the socket read, any split
//   c.tick(now_ms);                // at next_deadline(): probes, timeouts
//   send(c.take_output());         // everything to write, in order
//   if (c.closed()) close(fd);     // after writing the output
//
// States: kHelloWait (our hello sent, waiting for the peer's) → kActive
// (version negotiated by the hello bitmap, negotiate_version()) →
// kClosed.  A first message that is not a hello, or a hello with no
// common version, gets HELLO_FAILED and closes; a broken frame (length
// field below 8 or above the cap) gets BAD_LEN and closes.
//
// Messages (as Open vSwitch answers them): echo → echo reply; features,
// get-config, desc/flow/aggregate/table/table-features/port/port-desc
// stats → replies from the backend, split into several multipart replies
// (flag "more") when one would exceed 65535 bytes; set-config stores
// flags and miss_send_len; barrier → backend.barrier() then the reply;
// flow-mod → backend.flow_mod() (error reply on failure); packet-out →
// backend.packet_out(); Nicira set-flow-format / flow-mod-table-id are
// per-connection state; set-packet-in-format accepts only the standard
// format (OVS's ovs-ofctl tolerates the error).  Messages that only a
// switch sends (replies, packet-in, port-status, flow-removed) get
// BAD_REQUEST/BAD_TYPE.  If the switch side throws (a reply that cannot be
// encoded), the connection closes with that reason rather than leave the
// peer waiting.
//
// OpenFlow 1.0 table ids: without NXT_FLOW_MOD_TABLE_ID the command's
// high byte is not a table, so the flow-mod is for table 255 ("all" for
// modify and delete; table 0 for add), as OVS's ofputil_decode_flow_mod.
//
// Inactivity (OVS's rconn): after probe_interval_ms without receiving
// anything an echo request goes out; after as long again still nothing,
// the connection closes.  0 disables probing.
//
// miss_send_len: 128 for active connections (to a controller), 0 for
// passive ones (OVS: a service connection gets no asynchronous messages
// until it sets a non-zero miss_send_len); wants_async() tells the owner.
//
// Bundles (OpenFlow 1.3 through OVS's ONF extension, as `ovs-ofctl -O
// OpenFlow13 --bundle` sends them): bundle control and add messages keep
// flow-mods per bundle id (openflow/bundle.hpp, OVS's rules and error
// codes); a commit hands them to backend.flow_mod_bundle() (all or
// none), then backend.barrier(), then the reply, so after a commit reply
// the changes are in effect in the datapath.  A failed commit sends the
// failing message's error (its xid, the add message as data), then
// OFPBFC_MSG_FAILED for the commit, as OVS.  Only flow-mods may go into a
// bundle (others: MSG_UNSUP).  A message the decoder does not know inside
// an add gets MSG_UNSUP too (OVS); a flow-mod that does not decode gets
// its own error.  Idle bundles go after 10 s (tick()), and all of them
// with the connection.
//
// Flow stats replies are encoded straight into full multipart messages
// (openflow/flow_stats_stream.hpp).  Backpressure: receive() handles
// messages only while the output is below cfg.output_budget; the rest
// waits in the framer (has_pending_input()) until the owner has taken the
// output and calls resume().
//
// Cost: linear in the bytes; stats replies as the backend's.
// Thread-safety: none; one thread owns a connection.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "flowpath/openflow/backend.hpp"
#include "flowpath/openflow/bundle.hpp"
#include "flowpath/openflow/flow_stats_stream.hpp"
#include "flowpath/openflow/framing.hpp"

namespace flowpath::openflow {

struct ConnectionConfig {
  bool passive = false;              // accepted by a ptcp:/punix: listener
  int64_t probe_interval_ms = 5000;  // 0: no echo probes, no inactivity close
  size_t max_message_len = kMaxMessageLen;
  size_t output_budget = 1u << 20;  // stop handling input above this much output
};

class Connection {
 public:
  enum class State { kHelloWait, kActive, kClosed };

  Connection(SwitchBackend& backend, ConnectionConfig cfg, int64_t now_ms)
      : be_(&backend), cfg_(cfg), framer_(cfg.max_message_len), last_rx_(now_ms) {
    miss_send_len_ = cfg.passive ? 0 : 128;
    append(make_hello());
  }

  /// Feeds bytes read from the socket; handles whole messages until the
  /// output holds cfg.output_budget bytes (the rest waits: resume()).
  void receive(std::span<const uint8_t> bytes, int64_t now_ms) {
    if (state_ == State::kClosed) return;
    last_rx_ = now_ms;
    now_ = now_ms;
    probe_sent_ = false;
    framer_.feed(bytes);
    resume();
  }
  /// Handles buffered messages (after take_output() made room); the
  /// owner's backpressure: a peer that sends requests faster than it
  /// reads the replies gets no more than one budget's worth queued here.
  void resume() {
    while (state_ != State::kClosed && out_.size() < cfg_.output_budget) {
      auto f = framer_.next();
      if (!f) break;
      if (f->error) {
        close_with(*f->error, "bad message length");
        break;
      }
      handle_frame(f->bytes);
    }
  }

  /// Echo probe / inactivity close; call at next_deadline() or later.
  void tick(int64_t now_ms) {
    now_ = now_ms;
    if (bundles_.size()) bundles_.expire(now_ms);
    if (state_ == State::kClosed || cfg_.probe_interval_ms <= 0) return;
    if (now_ms - last_rx_ < cfg_.probe_interval_ms) return;
    if (!probe_sent_) {
      probe_sent_ = true;
      probe_at_ = now_ms;
      send(EchoRequest{});
    } else if (now_ms - probe_at_ >= cfg_.probe_interval_ms) {
      state_ = State::kClosed;
      why_ = "inactivity probe timed out";
    }
  }
  /// When tick() next has work (INT64_MAX: none).
  int64_t next_deadline() const noexcept {
    if (state_ == State::kClosed) return INT64_MAX;
    int64_t bundles = bundles_.size() ? bundles_.next_expiry() : INT64_MAX;
    if (cfg_.probe_interval_ms <= 0) return bundles;
    return std::min(bundles, probe_sent_ ? probe_at_ + cfg_.probe_interval_ms
                                         : last_rx_ + cfg_.probe_interval_ms);
  }
  /// The connection's open bundles (tests, diagnostics).
  const BundleSet& bundles() const noexcept { return bundles_; }

  /// Whole messages received but not handled yet (output budget reached).
  bool has_pending_input() const noexcept { return state_ != State::kClosed && framer_.ready(); }
  /// The bytes to write, in order; the buffer is handed over.
  std::vector<uint8_t> take_output() { return std::exchange(out_, {}); }
  bool has_output() const noexcept { return !out_.empty(); }

  /// Sends an asynchronous message (packet-in, port-status, flow-removed)
  /// if the connection is active and wants them.
  void send_async(MessageBody body) {
    if (wants_async()) send(std::move(body));
  }
  bool wants_async() const noexcept { return state_ == State::kActive && miss_send_len_ > 0; }

  State state() const noexcept { return state_; }
  bool closed() const noexcept { return state_ == State::kClosed; }
  const std::string& close_reason() const noexcept { return why_; }
  uint8_t version() const noexcept { return version_; }
  uint16_t miss_send_len() const noexcept { return miss_send_len_; }
  uint16_t config_flags() const noexcept { return flags_; }
  uint32_t flow_format() const noexcept { return flow_format_; }
  bool flow_mod_table_id() const noexcept { return table_id_ext_; }
  /// NXT_SET_PACKET_IN_FORMAT: 0 standard, 1 NXT_PACKET_IN, 2 NXT_PACKET_IN2.
  uint8_t packet_in_format() const noexcept { return packet_in_format_; }

 private:
  void append(const std::vector<uint8_t>& b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void send(MessageBody body, uint32_t xid = 0) {
    append(encode(Message{version_ ? version_ : kOfp13, xid, std::move(body)}));
  }
  void close_with(const std::vector<uint8_t>& err, std::string why) {
    append(err);
    state_ = State::kClosed;
    why_ = std::move(why);
  }

  void handle_frame(const std::vector<uint8_t>& bytes) {
    auto r = decode_or_error(bytes, DecodeOptions{cfg_.max_message_len});
    if (state_ == State::kHelloWait) return handle_hello(r, bytes);
    if (r.error) return append(*r.error);
    if (r.message.version != version_ && !std::holds_alternative<Hello>(r.message.body))
      return append(make_error_reply(OfpErrc::kBadVersion, bytes));
    try {
      dispatch(r.message, bytes);  // may move out of r.message
    } catch (const std::exception& e) {
      // The switch side failed (e.g. a rule whose actions have no form in
      // this version): the stream is consistent up to here, but the answer
      // is lost, so the peer must not wait for it.
      state_ = State::kClosed;
      why_ = std::string("cannot answer: ") + e.what();
    }
  }

  void handle_hello(const DecodeResult& r, const std::vector<uint8_t>& bytes) {
    const Hello* h = r.error ? nullptr : std::get_if<Hello>(&r.message.body);
    if (!h) {
      uint8_t v = bytes.empty() ? kOfp13 : bytes[0];
      ErrorMsg e{0, 0, false, {}};
      std::string text = "expected a hello first";
      e.data.assign(text.begin(), text.end());
      return close_with(encode(Message{reply_version(v), 0, e}), text);
    }
    Negotiated n = negotiate_version(r.message.version, h->version_bitmap);
    if (n.error) return close_with(*n.error, "no common OpenFlow version");
    version_ = n.version;
    state_ = State::kActive;
  }

  void dispatch(Message& m, const std::vector<uint8_t>& raw);
  void flow_mod(FlowMod fm, const std::vector<uint8_t>& raw);
  void bundle_control(const BundleControl& bc, uint32_t xid, const std::vector<uint8_t>& raw);
  void bundle_add(BundleAdd& ba, const std::vector<uint8_t>& raw);
  void stats(const StatsRequest& rq, uint32_t xid);

  SwitchBackend* be_;
  ConnectionConfig cfg_;
  Framer framer_;
  State state_ = State::kHelloWait;
  std::string why_;
  std::vector<uint8_t> out_;
  uint8_t version_ = 0;
  int64_t last_rx_ = 0, probe_at_ = 0;
  bool probe_sent_ = false;
  uint16_t miss_send_len_ = 128, flags_ = 0;
  uint32_t flow_format_ = 0;  // NXT_SET_FLOW_FORMAT: 0 OpenFlow 1.0, 2 NXM
  bool table_id_ext_ = false;
  uint8_t packet_in_format_ = 0;
  int64_t now_ = 0;
  BundleSet bundles_;
};

inline void Connection::dispatch(Message& m, const std::vector<uint8_t>& raw) {
  const MessageBody& b = m.body;
  if (std::holds_alternative<Hello>(b) || std::holds_alternative<ErrorMsg>(b) ||
      std::holds_alternative<EchoReply>(b))
    return;  // activity only (recorded in receive())
  if (auto* e = std::get_if<EchoRequest>(&b)) return send(EchoReply{e->data}, m.xid);
  if (std::holds_alternative<FeaturesRequest>(b)) {
    FeaturesReply f = be_->features();
    // OFPC14_BUNDLES: the connection's bundles (openflow/bundle.hpp), a
    // capability bit from 1.4 on (OVS masks it out before)
    if (version_ >= kOfp14) f.capabilities |= kCapBundles;
    return send(std::move(f), m.xid);
  }
  if (std::holds_alternative<GetConfigRequest>(b))
    return send(SwitchConfig{false, flags_, miss_send_len_}, m.xid);
  if (auto* c = std::get_if<SwitchConfig>(&b)) {
    if (!c->is_set) return append(make_error_reply(OfpErrc::kBadType, raw));
    flags_ = c->flags;
    miss_send_len_ = c->miss_send_len;
    return;
  }
  if (std::holds_alternative<BarrierRequest>(b)) {
    be_->barrier();
    return send(BarrierReply{}, m.xid);
  }
  // moved, not copied: a flow-mod holds a ~600-byte match and an action list
  if (auto* fm = std::get_if<FlowMod>(&m.body)) return flow_mod(std::move(*fm), raw);
  if (auto* rq = std::get_if<StatsRequest>(&b)) return stats(*rq, m.xid);
  if (auto* bc = std::get_if<BundleControl>(&b)) return bundle_control(*bc, m.xid, raw);
  if (auto* ba = std::get_if<BundleAdd>(&m.body)) return bundle_add(*ba, raw);
  if (auto* pm = std::get_if<PortMod>(&b)) {
    if (auto err = be_->port_mod(*pm)) append(make_error_reply(*err, raw));
    return;
  }
  if (auto* po = std::get_if<PacketOut>(&b)) {
    if (auto err = be_->packet_out(*po)) append(make_error_reply(*err, raw));
    return;
  }
  if (auto* f = std::get_if<SetFlowFormat>(&b)) {
    if (f->format != 0 && f->format != 2)
      return append(make_error_reply(OfpErrc::kBadSubtype, raw));
    flow_format_ = f->format;
    return;
  }
  if (auto* t = std::get_if<FlowModTableId>(&b)) {
    table_id_ext_ = t->enable;
    return;
  }
  if (auto* p = std::get_if<SetPacketInFormat>(&b)) {
    if (p->format > 2) return append(make_error_reply(OfpErrc::kBadSubtype, raw));
    packet_in_format_ = uint8_t(p->format);  // PacketIn::format
    return;
  }
  append(make_error_reply(OfpErrc::kBadType, raw));  // a switch-to-controller message
}

inline void Connection::flow_mod(FlowMod fm, const std::vector<uint8_t>& raw) {
  if (version_ == kOfp10 && !table_id_ext_) fm.table_id = kOfTableAll;
  if (auto err = be_->flow_mod(fm, version_)) append(make_error_reply(*err, raw));
}

inline void Connection::bundle_add(BundleAdd& ba, const std::vector<uint8_t>& raw) {
  // The inner message's error is about the add message (same xid, its
  // bytes as data); a message we do not know is MSG_UNSUP (OVS).
  auto refuse = [&](OfpErrc e) { append(make_error_reply(e, raw)); };
  Message inner;
  try {
    inner = decode(ba.message, DecodeOptions{cfg_.max_message_len});
  } catch (const DecodeError& e) {
    using E = OfpErrc;
    bool unknown = e.errc == E::kBadType || e.errc == E::kBadSubtype || e.errc == E::kBadVendor ||
                   e.errc == E::kBadStat;
    return refuse(unknown ? E::kBundleMsgUnsup : e.errc);
  }
  auto* fm = std::get_if<FlowMod>(&inner.body);
  if (!fm) return refuse(OfpErrc::kBundleMsgUnsup);
  if (version_ == kOfp10 && !table_id_ext_) fm->table_id = kOfTableAll;
  if (auto e = bundles_.add(ba.bundle_id, ba.flags, std::move(*fm), raw, now_)) refuse(*e);
}

inline void Connection::bundle_control(const BundleControl& bc, uint32_t xid,
                                       const std::vector<uint8_t>& raw) {
  using T = BundleCtrlType;
  std::optional<OfpErrc> err;
  T reply = T(uint16_t(bc.type) + 1);
  switch (bc.type) {
    case T::kOpenRequest:
      err = bundles_.open(bc.bundle_id, bc.flags, now_);
      break;
    case T::kCloseRequest:
      err = bundles_.close(bc.bundle_id, bc.flags, now_);
      break;
    case T::kDiscardRequest:
      err = bundles_.discard(bc.bundle_id);
      break;
    case T::kCommitRequest: {
      OfpErrc e{};
      auto b = bundles_.take_for_commit(bc.bundle_id, bc.flags, e);
      if (!b) {
        err = e;
        break;
      }
      if (auto fail = be_->flow_mod_bundle(b->fms, version_)) {
        append(make_error_reply(fail->errc, b->raws.at(fail->index)));
        err = OfpErrc::kBundleMsgFailed;
        break;
      }
      be_->barrier();
      break;
    }
    default:  // a reply
      err = OfpErrc::kBundleBadType;
  }
  if (err) return append(make_error_reply(*err, raw));
  send(BundleControl{bc.bundle_id, reply, 0}, xid);
}

inline void Connection::stats(const StatsRequest& rq, uint32_t xid) {
  if (rq.type == StatsType::kFlow) {  // the big one: streamed, no copies
    size_t mark = out_.size();
    try {
      return be_->append_flow_stats(rq, version_, xid, out_);
    } catch (...) {
      out_.resize(mark);  // no half reply: the caller closes with the reason
      throw;
    }
  }
  StatsReply full = be_->stats(rq);
  full.type = rq.type;
  full.match_format = rq.match_format;
  for (const StatsReply& part : split_stats_reply(full, version_)) send(part, xid);
}

}  // namespace flowpath::openflow
