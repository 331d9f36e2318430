// flowpath/conntrack/ct_types.hpp — the vocabulary of the connection
// tracker: ct_state bits, labels, NAT specifications, the parameters of one
// ct() execution and its per-packet result.
//
// The ct_state bit values are OVS's (CS_NEW = 0x01 ... CS_DST_NAT = 0x80), so
// a flow's `ct_state=+trk+est` mask is the same number here and in OVS.
// Cost: plain data.  Thread-safety: values, none needed.
#pragma once

#include <array>
#include <cstdint>

namespace flowpath::ct {

// ct_state bits, as OVS's CS_* (lib/packets.h) and the OpenFlow NXM field.
inline constexpr uint8_t kCsNew = 0x01;
inline constexpr uint8_t kCsEstablished = 0x02;
inline constexpr uint8_t kCsRelated = 0x04;
inline constexpr uint8_t kCsReplyDir = 0x08;
inline constexpr uint8_t kCsInvalid = 0x10;
inline constexpr uint8_t kCsTracked = 0x20;
inline constexpr uint8_t kCsSrcNat = 0x40;
inline constexpr uint8_t kCsDstNat = 0x80;

/// The 128-bit ct_label, as two host-order halves (hi holds bits 127..64).
struct CtLabel {
  uint64_t hi = 0, lo = 0;
  friend bool operator==(const CtLabel&, const CtLabel&) = default;
  bool zero() const noexcept { return (hi | lo) == 0; }
};

/// An IPv4 address (first 4 bytes, network order) or an IPv6 address.
using CtAddr = std::array<uint8_t, 16>;

/// nat(src=...)/nat(dst=...)/nat: which side to translate and to what.
/// kind == kNone with `present` set is the bare `nat` of ct(nat): existing
/// connections are translated as committed, new ones are not.
struct NatSpec {
  enum Kind : uint8_t { kNone, kSrc, kDst };
  bool present = false;
  Kind kind = kNone;
  bool has_addr = false;  // address range given (else keep the address)
  bool has_port = false;  // port range given (else keep the port, or
                          // pick from OVS's ephemeral class on a clash)
  CtAddr addr_min{}, addr_max{};
  uint16_t port_min = 0, port_max = 0;
};

/// One ct() action's parameters (the same for every packet of a batch).
struct CtParams {
  uint16_t zone = 0;
  bool commit = false;
  bool force = false;  // ct(force): a reply-direction hit ends the old conn
  bool set_mark = false;
  uint32_t mark = 0, mark_mask = 0;
  bool set_label = false;
  CtLabel label{}, label_mask{};
  NatSpec nat{};
};

/// What ct() produced for one packet (OVS's pkt->md.ct_* fields).
struct CtResult {
  uint8_t state = 0;
  uint16_t zone = 0;
  uint32_t mark = 0;
  CtLabel label{};
};

}  // namespace flowpath::ct
