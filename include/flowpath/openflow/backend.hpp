// flowpath/openflow/backend.hpp — what an OpenFlow connection
// (openflow/connection.hpp) asks of the switch it serves, as an interface,
// so the protocol core stays free of sockets and of the switch runtime;
// and split_stats_reply(), which cuts a stats reply into multipart
// messages that each fit the 16-bit length field.
//
// The switch's implementation is switch/openflow_service.hpp
// (OfprotoBackend: one bridge of an Ofproto, optionally of a running
// Switch).
//
// Thread-safety: an implementation's own; a connection calls it from its
// one thread.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "flowpath/openflow/codec.hpp"
#include "flowpath/openflow/flow_stats_stream.hpp"

namespace flowpath::openflow {

/// Why an atomic bundle commit failed: the error of its message `index`
/// (the table is as before the commit).
struct BundleFailure {
  size_t index = 0;
  OfpErrc errc = OfpErrc::kBundleMsgUnsup;
};

class SwitchBackend {
 public:
  virtual ~SwitchBackend() = default;
  virtual FeaturesReply features() = 0;
  /// Applies one flow-mod (table_id 255: all tables for modify/delete,
  /// table 0 for add); returns the error to answer with, if any.
  virtual std::optional<OfpErrc> flow_mod(const FlowMod& fm, uint8_t version) = 0;
  /// A bundle's commit (openflow/bundle.hpp): applies `fms` in order as
  /// flow_mod() would, atomically — all of them, or on the first error
  /// none (the tables as before, counters included) and that error with
  /// the message's index; no packet sees a state in between.  This default
  /// is for a backend that cannot: it refuses every commit (MSG_UNSUP).
  virtual std::optional<BundleFailure> flow_mod_bundle(std::span<const FlowMod> fms,
                                                       uint8_t version) {
    (void)version;
    if (fms.empty()) return std::nullopt;
    return BundleFailure{0, OfpErrc::kBundleMsgUnsup};
  }
  /// The whole reply to `rq` (the connection splits it).
  virtual StatsReply stats(const StatsRequest& rq) = 0;
  /// The flow stats reply to `rq` (type kFlow) appended to `out` as
  /// multipart messages of `version` with `xid` (flow_stats_stream.hpp).
  /// This default encodes stats(rq); a switch overrides it to encode its
  /// rules in place, without a FlowStats copy of each.
  virtual void append_flow_stats(const StatsRequest& rq, uint8_t version, uint32_t xid,
                                 std::vector<uint8_t>& out) {
    StatsReply rep = stats(rq);
    rep.type = StatsType::kFlow;
    rep.match_format = rq.match_format;
    append_flow_stats_replies(out, version, xid, rep);
  }
  virtual std::optional<OfpErrc> packet_out(const PacketOut& po) = 0;
  /// OFPT_PORT_MOD; a backend without ports refuses it (BAD_REQUEST/BAD_TYPE).
  virtual std::optional<OfpErrc> port_mod(const PortMod&) { return OfpErrc::kBadType; }
  /// Returns once every flow-mod applied before it is in effect in the
  /// datapath (no packet processed afterwards sees an older flow table).
  virtual void barrier() = 0;
};

namespace backend_detail {
template <class T>
std::vector<std::vector<T>> chunk(const std::vector<T>& items, uint8_t version, StatsReply shape,
                                  std::vector<T> StatsReply::*field) {
  // A reply's fixed part is well under 1 KiB; entries are measured one by one.
  constexpr size_t kBudget = kMaxMessageLen - 1024;
  std::vector<std::vector<T>> out(1);
  size_t used = 0;
  for (const T& item : items) {
    shape.*field = {item};
    size_t sz = encode(Message{version, 0, shape}).size();
    if (used + sz > kBudget && !out.back().empty()) out.emplace_back(), used = 0;
    out.back().push_back(item);
    used += sz;
  }
  return out;
}
template <class T>
std::vector<StatsReply> split(const StatsReply& r, uint8_t version,
                              std::vector<T> StatsReply::*field) {
  StatsReply shape = r;
  shape.*field = {};
  std::vector<StatsReply> out;
  for (auto& part : chunk(r.*field, version, shape, field)) {
    StatsReply m = shape;
    m.*field = std::move(part);
    m.flags = 1;  // OFPSF_REPLY_MORE, cleared on the last below
    out.push_back(std::move(m));
  }
  out.back().flags = 0;
  return out;
}
}  // namespace backend_detail

/// `r` as one or more replies, each at most 65535 bytes when encoded in
/// `version`; every one but the last has the "more" flag.
inline std::vector<StatsReply> split_stats_reply(const StatsReply& r, uint8_t version) {
  using backend_detail::split;
  switch (r.type) {
    case StatsType::kFlow:
      return split(r, version, &StatsReply::flows);
    case StatsType::kTable:
      return split(r, version, &StatsReply::tables);
    case StatsType::kPort:
      return split(r, version, &StatsReply::ports);
    case StatsType::kPortDesc:
      return split(r, version, &StatsReply::port_descs);
    case StatsType::kTableFeatures:
      return split(r, version, &StatsReply::table_features);
    default:
      return {r};
  }
}

}  // namespace flowpath::openflow
