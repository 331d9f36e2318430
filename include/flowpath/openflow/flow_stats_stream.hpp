// flowpath/openflow/flow_stats_stream.hpp — a flow dump straight to bytes:
// the flow stats reply (OFPST_FLOW in 1.0, NXST_FLOW, OFPMP_FLOW in 1.3)
// as a run of multipart messages, each as full as 65535 bytes allow, all
// but the last flagged "more".
//
//   FlowStatsStream s(out, kOfp13, xid, MatchFormat::kOxm);
//   for (...) s.add(head, rule.match, rule.actions);   // or s.add(flow_stats)
//   s.finish();
//   append_flow_stats_replies(out, kOfp13, xid, reply);   // the same, from reply.flows
//
// Why not encode(Message{..., StatsReply}) after split_stats_reply(): that
// copies the whole reply to split it and encodes every entry twice (once
// to measure it); a dump of 100,000 flows is ~10 MB of replies, and each
// entry is encoded here once, into its message.  add() with parts lets a
// switch encode its rules where they are, with no FlowStats copy (a Match
// and an action vector each) per flow.  The bytes of each message are what
// encode() gives for the same entries; matches are encoded through a
// TlvPlanCache (openflow/tlv_plan.hpp: the field walk once per mask shape).
//
// Cost: linear in the entries.  Thread-safety: none; one stream per output.
#pragma once

#include "flowpath/openflow/encode.hpp"

namespace flowpath::openflow {

class FlowStatsStream {
 public:
  FlowStatsStream(std::vector<uint8_t>& out, uint8_t v, uint32_t xid, MatchFormat format)
      : out_(out), w_(out), v_(v), xid_(xid), nx_(enc::nx_stats(v, format, StatsType::kFlow)) {
    start();
  }

  /// One entry: `head`'s fields but its match and instructions, which are
  /// `match` and `actions` (apply-actions and goto_table).
  void add(const FlowStats& head, const Match& match, const OfActionList& actions) {
    size_t mark = out_.size();
    enc::flow_stats(w_, v_, head, match, actions, {}, false, nx_, &plans_);  // in place
    if (out_.size() - at_ > kMaxMessageLen) overflow(mark);
  }
  void add(const FlowStats& f) {
    size_t mark = out_.size();
    enc::flow_stats(w_, v_, f, nx_, &plans_);
    if (out_.size() - at_ > kMaxMessageLen) overflow(mark);
  }
  /// Closes the last message (flag "more" cleared).  Call once.
  void finish() {
    w_.patch16(at_ + 2, out_.size() - at_);
    w_.patch16(at_ + 10, 0);  // flags, after the 8-byte header and the type
  }

 private:
  void start() {
    at_ = out_.size();
    w_.u8(v_), w_.u8(enc::v10(v_) ? 17 : 19), w_.u16(0), w_.u32(xid_);
    enc::stats_header(w_, v_, StatsType::kFlow, /*more=*/1, nx_);
    first_entry_ = out_.size();
  }
  /// The entry at [mark, end) made its message too long: close the message
  /// without it and open the next one with it (rare: once per ~64 KiB).
  void overflow(size_t mark) {
    size_t n = out_.size() - mark;
    if (mark == first_entry_)
      throw Error("encode: a flow stats entry of " + std::to_string(n) +
                  " bytes does not fit a message");
    std::vector<uint8_t> entry(out_.begin() + std::ptrdiff_t(mark), out_.end());
    out_.resize(mark);
    w_.patch16(at_ + 2, out_.size() - at_);
    start();
    out_.insert(out_.end(), entry.begin(), entry.end());
  }

  std::vector<uint8_t>& out_;
  Writer w_;
  uint8_t v_;
  uint32_t xid_;
  bool nx_;
  size_t at_ = 0, first_entry_ = 0;
  TlvPlanCache plans_;  // the dump's match shapes (openflow/tlv_plan.hpp)
};

/// Appends the flow stats reply to `rep` (rep.type == kFlow; rep.flags is
/// ignored) to `out` as messages of version `v` with `xid`.
inline void append_flow_stats_replies(std::vector<uint8_t>& out, uint8_t v, uint32_t xid,
                                      const StatsReply& rep) {
  FlowStatsStream s(out, v, xid, rep.match_format);
  for (const FlowStats& f : rep.flows) s.add(f);
  s.finish();
}

}  // namespace flowpath::openflow
