// flowpath/openflow/flow_stats_stream.hpp — a flow dump straight to bytes:
// the flow stats reply (OFPST_FLOW in 1.0, NXST_FLOW, OFPMP_FLOW in 1.3)
// as a run of multipart messages, each as full as 65535 bytes allow, all
// but the last flagged "more".
//
//   std::vector<uint8_t> out;
//   append_flow_stats_replies(out, kOfp13, xid, reply);   // reply.flows
//
// Why not encode(Message{..., StatsReply}) after split_stats_reply(): that
// copies the whole reply to split it and encodes every entry twice (once
// to measure it); a dump of 100,000 flows is ~15 MB of replies, and each
// entry is encoded here once, into its message.  The bytes of each
// message are what encode() gives for the same entries.
//
// Cost: linear in the entries.  Thread-safety: a pure function.
#pragma once

#include "flowpath/openflow/encode.hpp"

namespace flowpath::openflow {

/// Appends the flow stats reply to `rep` (rep.type == kFlow; rep.flags is
/// ignored) to `out` as messages of version `v` with `xid`.
inline void append_flow_stats_replies(std::vector<uint8_t>& out, uint8_t v, uint32_t xid,
                                      const StatsReply& rep) {
  const bool nx = enc::nx_stats(v, rep.match_format, StatsType::kFlow);
  Writer w(out);
  size_t at = 0, first_entry = 0;
  auto start = [&] {
    at = out.size();
    w.u8(v), w.u8(enc::v10(v) ? 17 : 19), w.u16(0), w.u32(xid);
    enc::stats_header(w, v, StatsType::kFlow, /*more=*/1, nx);
    first_entry = out.size();
  };
  auto finish = [&](bool last) {
    w.patch16(at + 2, out.size() - at);
    if (last) w.patch16(at + 10, 0);  // flags, after the 8-byte header and the type
  };
  std::vector<uint8_t> entry;  // an entry that overflowed its message, moved to the next
  start();
  for (const FlowStats& f : rep.flows) {
    size_t mark = out.size();
    enc::flow_stats(w, v, f, nx);  // in place: the common case copies nothing
    if (out.size() - at <= kMaxMessageLen) continue;
    size_t n = out.size() - mark;
    if (mark == first_entry)
      throw Error("encode: a flow stats entry of " + std::to_string(n) +
                  " bytes does not fit a message");
    entry.assign(out.begin() + std::ptrdiff_t(mark), out.end());
    out.resize(mark);
    finish(false);
    start();
    out.insert(out.end(), entry.begin(), entry.end());
  }
  finish(true);
}

}  // namespace flowpath::openflow
