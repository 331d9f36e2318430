// flowpath/conntrack/tcp_tracker.hpp — TCP state and sequence-window
// tracking for one connection (a sans-I/O state machine: segment in,
// verdict and timeout class out).
//
// Design: the algorithm of Guido van Rooij's "Real Stateful TCP Packet
// Filtering in IP Filter", as pf and OVS's userspace conntrack use it.  Each
// peer keeps the lowest sequence number it may send next (seqlo), the highest
// the other side's window allows (seqhi), its largest window and its window
// scale.  A segment is valid when its last byte fits the receiver's window,
// it is not more than one window old, and its ACK is within a window of
// what the other side sent; RSTs must hit seqlo exactly (or ±1).  A segment
// outside the window but plausible for a connection not yet synchronised or
// already closing is let through without refreshing the timeout (floods
// cannot keep an entry alive); anything else is invalid.
//
// Connections are picked up mid-stream (a first segment without SYN) with
// unknown window scales and permissive ACK checking until both sides have
// been seen, as OVS does; a SYN-ACK may not create a connection.
// Cost: a few dozen integer operations.  Thread-safety: the caller holds the
// connection's lock.
#pragma once

#include <algorithm>
#include <cstdint>

#include "flowpath/conntrack/conn_key.hpp"

namespace flowpath::ct {

// Peer states, numbered as OVS's CT_DPIF_TCPS_* (their names print in
// dpctl/dump-conntrack).
enum TcpState : uint8_t {
  kTcpClosed,
  kTcpListen,
  kTcpSynSent,
  kTcpSynRecv,
  kTcpEstablished,
  kTcpCloseWait,
  kTcpFinWait1,
  kTcpClosing,
  kTcpLastAck,
  kTcpFinWait2,
  kTcpTimeWait,
};

// Timeout classes of a TCP connection (OVS's CT_TM_TCP_*).
enum class TcpTimeout : uint8_t {
  kFirstPacket,
  kOpening,
  kEstablished,
  kClosing,
  kFinWait,
  kClosed
};

enum class TcpVerdict : uint8_t {
  kValid,     // +est (refresh the timeout with `timeout`)
  kValidNew,  // still +new (a SYN retransmission), refresh
  kPass,      // valid, but not refreshing the timeout (loose window)
  kInvalid,   // +inv
  kReopen,    // a SYN on a closed connection: replace it with a new one
};

// Packed to 14 bytes (2-aligned) so that a Conn fits three cache lines.
struct [[gnu::packed, gnu::aligned(2)]] TcpPeer {
  uint32_t seqlo = 0, seqhi = 0;
  uint32_t max_win = 0;
  uint8_t state = kTcpClosed;
  uint8_t wscale = 0;  // 0x80 | shift (option seen), 0x40 unknown (pickup)
};

struct TcpConn {
  TcpPeer peer[2];  // [0] originator, [1] responder
  TcpTimeout timeout = TcpTimeout::kFirstPacket;
};

namespace tcp_detail {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                         kUrg = 0x20;
inline constexpr uint8_t kWsFlag = 0x80, kWsUnknown = 0x40, kWsMask = 0x0f;
inline constexpr int32_t kMaxAckWindow = 0xffff + 1500;

inline bool seq_geq(uint32_t a, uint32_t b) noexcept { return int32_t(a - b) >= 0; }
inline bool seq_gt(uint32_t a, uint32_t b) noexcept { return int32_t(a - b) > 0; }

inline bool invalid_flags(uint8_t f) noexcept {
  if (f & kSyn) {
    if (f & (kRst | kFin)) return true;
  } else if (!(f & (kAck | kRst))) {
    return true;  // no SYN, no ACK, no RST
  }
  return !(f & kAck) && (f & (kFin | kPsh | kUrg));
}

inline TcpTimeout timeout_for(const TcpPeer& s, const TcpPeer& d) noexcept {
  if (s.state >= kTcpFinWait2 && d.state >= kTcpFinWait2) return TcpTimeout::kClosed;
  if (s.state >= kTcpClosing && d.state >= kTcpClosing) return TcpTimeout::kFinWait;
  if (s.state < kTcpEstablished || d.state < kTcpEstablished) return TcpTimeout::kOpening;
  if (s.state >= kTcpClosing || d.state >= kTcpClosing) return TcpTimeout::kClosing;
  return TcpTimeout::kEstablished;
}
}  // namespace tcp_detail

/// May this segment create a connection?  (Any valid flag combination but
/// SYN-ACK: a new SYN or a mid-stream pickup.)
inline bool tcp_valid_new(const TcpInfo& t) noexcept {
  using namespace tcp_detail;
  return !invalid_flags(t.flags) && (t.flags & (kSyn | kAck)) != (kSyn | kAck);
}

/// Initial state from the first segment (already checked by tcp_valid_new).
inline TcpConn tcp_new(const TcpInfo& t) noexcept {
  using namespace tcp_detail;
  TcpConn c;
  TcpPeer& s = c.peer[0];
  TcpPeer& d = c.peer[1];
  s.seqlo = t.seq;
  s.seqhi = t.seq + t.payload + 1;
  if (t.flags & kSyn) {
    ++s.seqhi;
    s.wscale = t.wscale;
  } else {
    s.wscale = d.wscale = kWsUnknown;
  }
  s.max_win = std::max<uint32_t>(t.window, 1);
  if (s.wscale & kWsMask) {
    const uint32_t sh = s.wscale & kWsMask;
    s.max_win = (s.max_win + (1u << sh) - 1) >> sh;
  }
  if (t.flags & kFin) ++s.seqhi;
  d.seqhi = 1;
  d.max_win = 1;
  s.state = kTcpSynSent;
  d.state = kTcpClosed;
  c.timeout = TcpTimeout::kFirstPacket;
  return c;
}

/// Applies one segment sent by the originator (reply == false) or the
/// responder.  `seq_check` false trusts every segment (OVS's
/// tcp-seq-chk=false).
inline TcpVerdict tcp_update(TcpConn& c, const TcpInfo& t, bool reply,
                             bool seq_check = true) noexcept;

}  // namespace flowpath::ct

#include "flowpath/conntrack/tcp_tracker_update.hpp"
