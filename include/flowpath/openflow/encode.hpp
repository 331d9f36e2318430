// flowpath/openflow/encode.hpp — a typed Message to OpenFlow bytes, in its
// version (1.0, 1.3 or 1.4).  In 1.0 a FlowMod/StatsRequest/StatsReply with
// match_format kNxm becomes the Nicira form (NXT_FLOW_MOD, NXST_FLOW,
// NXST_AGGREGATE); kOf10 uses ofp_match and throws when the match does
// not fit it (choose_of10_format() picks as ovs-ofctl does).
//
// Throws flowpath::Error when a value has no form in the version or the
// message would exceed 65535 bytes.
// Cost: linear.  Thread-safety: pure functions.
#pragma once

#include "flowpath/openflow/encode_stats.hpp"

namespace flowpath::openflow {

/// ovs-ofctl's choice in OpenFlow 1.0: the standard format when the match
/// (and cookie mask, and table id) allow it, else NXM.
inline MatchFormat choose_of10_format(const Match& m, uint64_t cookie_mask = 0) {
  return of10_expressible(m) && cookie_mask == 0 ? MatchFormat::kOf10 : MatchFormat::kNxm;
}

inline std::vector<uint8_t> encode(const Message& msg) {
  std::vector<uint8_t> out;
  Writer w(out);
  uint8_t v = msg.version;
  if (v != kOfp10 && v != kOfp13 && v != kOfp14 && !std::holds_alternative<Hello>(msg.body))
    throw Error("encode: OpenFlow version " + std::to_string(v) + " is not supported");
  w.u8(v);
  w.u8(0);  // type, patched below
  w.u16(0);
  w.u32(msg.xid);
  uint8_t type = std::visit([&](const auto& b) { return enc::body(w, v, b); }, msg.body);
  out[1] = type;
  if (out.size() > kMaxMessageLen)
    throw Error("encode: message of " + std::to_string(out.size()) + " bytes exceeds 65535");
  w.patch16(2, out.size());
  return out;
}

}  // namespace flowpath::openflow
