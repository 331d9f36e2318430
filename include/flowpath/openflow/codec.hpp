// flowpath/openflow/codec.hpp — the OpenFlow codec's front door: decode a
// whole message or get the OFPT_ERROR to send back; encode a message; and
// the sans-I/O pieces a connection is built from (framing.hpp, version
// negotiation in negotiate.hpp).
//
//   auto r = decode_or_error(bytes);          // DecodeResult
//   if (r.error) send(*r.error);               // OFPT_ERROR, peer's xid
//   else handle(r.message);
//   send(encode(Message{kOfp13, xid, BarrierReply{}}));
//
// Error replies follow Open vSwitch: the type/code of the failure in the
// message's version (openflow/wire.hpp), Nicira vendor errors in 1.0 where
// the standard has none, and data = the first 64 bytes of the offending
// message (OVS's ofperr_encode_reply).  A message of an unsupported
// version gets an error in the highest version we speak that is not above
// it.
//
// Cost: linear in the message.  Thread-safety: pure functions.
#pragma once

#include <optional>

#include "flowpath/openflow/decode.hpp"
#include "flowpath/openflow/encode.hpp"

namespace flowpath::openflow {

inline constexpr size_t kErrorDataLen = 64;

/// The version to answer a message of wire version v in: the highest
/// version flowpath speaks that is not above v (1.0 below that).
inline uint8_t reply_version(uint8_t v) noexcept {
  return v >= kOfp14 ? kOfp14 : v >= kOfp13 ? kOfp13 : kOfp10;
}

/// The OFPT_ERROR answering `offending` (whole message bytes) with `e`.
inline std::vector<uint8_t> make_error_reply(OfpErrc e, std::span<const uint8_t> offending) {
  uint8_t version = kOfp13;
  uint32_t xid = 0;
  if (offending.size() >= 1) version = reply_version(offending[0]);
  if (offending.size() >= 8)
    xid = uint32_t(offending[4]) << 24 | uint32_t(offending[5]) << 16 |
          uint32_t(offending[6]) << 8 | offending[7];
  WireError we = wire_error(e, version);
  ErrorMsg m;
  m.type = we.type;
  m.code = we.code;
  m.nx = we.nx;
  m.exp = we.exp;
  size_t n = std::min(offending.size(), kErrorDataLen);
  m.data.assign(offending.begin(), offending.begin() + std::ptrdiff_t(n));
  return encode(Message{version, xid, m});
}

struct DecodeResult {
  Message message;
  std::optional<std::vector<uint8_t>> error;  // OFPT_ERROR to send back
  std::string what;                           // why, for logs
};

/// Decodes one whole message; never throws on bad input.
inline DecodeResult decode_or_error(std::span<const uint8_t> bytes, const DecodeOptions& opt = {}) {
  DecodeResult r;
  try {
    r.message = decode(bytes, opt);
  } catch (const DecodeError& e) {
    r.error = make_error_reply(e.errc, bytes);
    r.what = e.what();
  }
  return r;
}

}  // namespace flowpath::openflow
