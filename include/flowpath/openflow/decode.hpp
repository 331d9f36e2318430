// flowpath/openflow/decode.hpp — bytes of one whole OpenFlow message to a
// typed Message (openflow/messages.hpp).  Throws DecodeError carrying the
// OpenFlow error to answer with; openflow/codec.hpp wraps this into
// decode_or_error(), which builds that OFPT_ERROR.
//
// Checks, in order: header length field == the bytes given, 8 <= length
// <= the cap (65535, or lower by DecodeOptions), version 1.0, 1.3 or 1.4 (a
// hello of any version is accepted, for negotiation), a known type, then
// every length inside the body before it is read.
//
// Cost: linear in the message.  Thread-safety: pure functions.
#pragma once

#include "flowpath/openflow/decode_body.hpp"

namespace flowpath::openflow {

struct DecodeOptions {
  size_t max_message_len = kMaxMessageLen;  // a lower per-connection cap
};

struct Header {
  uint8_t version = 0, type = 0;
  uint16_t length = 0;
  uint32_t xid = 0;
};

inline Header peek_header(std::span<const uint8_t> b) {
  Reader r(b, OfpErrc::kBadLen, "OpenFlow header");
  Header h;
  h.version = r.u8();
  h.type = r.u8();
  h.length = r.u16();
  h.xid = r.u32();
  return h;
}

inline Message decode(std::span<const uint8_t> bytes, const DecodeOptions& opt = {}) {
  Header h = peek_header(bytes);
  if (h.length < kHeaderLen || h.length != bytes.size())
    throw DecodeError(OfpErrc::kBadLen, "OpenFlow message: length field " +
                                            std::to_string(h.length) + " but " +
                                            std::to_string(bytes.size()) + " bytes");
  if (h.length > opt.max_message_len)
    throw DecodeError(OfpErrc::kBadLen, "OpenFlow message: " + std::to_string(h.length) +
                                            " bytes exceeds the cap of " +
                                            std::to_string(opt.max_message_len));
  Message m;
  m.version = h.version;
  m.xid = h.xid;
  Reader body(bytes.subspan(kHeaderLen));
  if (h.type == 0) {
    m.body = dec::hello(body);
    return m;
  }
  if (h.version != kOfp10 && h.version != kOfp13 && h.version != kOfp14)
    throw DecodeError(OfpErrc::kBadVersion, "OpenFlow version " + std::to_string(h.version));
  m.body = dec::body(h.version, h.type, body, h.xid);
  return m;
}

}  // namespace flowpath::openflow
