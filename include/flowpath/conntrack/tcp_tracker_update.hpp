// flowpath/conntrack/tcp_tracker_update.hpp — tcp_update(), the window
// check of tcp_tracker.hpp (internal; include that header).
// Thread-safety: the caller holds the connection's lock.
#pragma once

#include "flowpath/conntrack/tcp_tracker.hpp"

namespace flowpath::ct {

namespace tcp_detail {

// First segment from this side (the responder's SYN-ACK, or its first
// segment of a picked-up stream): set up its half.  Returns whether ACK
// skew is to be checked.
inline bool first_from_peer(TcpPeer& src, TcpPeer& dst, const TcpInfo& t, uint32_t& win,
                            uint8_t& sws, uint8_t& dws, uint32_t end) noexcept {
  if (t.flags & kSyn) {
    if (dst.wscale & kWsFlag) {
      src.wscale = t.wscale;
      if (src.wscale & kWsFlag) {
        sws = src.wscale & kWsMask;
        win = (win + (1u << sws) - 1) >> sws;
        dws = dst.wscale & kWsMask;
      } else {
        dst.max_win <<= dst.wscale & kWsMask;
        dst.wscale = 0;
      }
    }
  }
  src.seqlo = t.seq;
  src.state = kTcpSynSent;
  bool check_ackskew = true;
  const uint32_t span = std::max<uint32_t>(1, dst.max_win << dws);
  if (src.seqhi == 1 || seq_geq(end + span, src.seqhi)) {
    src.seqhi = end + span;
    check_ackskew = false;  // a new or picked-up connection: be permissive
  }
  if (win > src.max_win) src.max_win = win;  // no std::max: a packed field (TcpPeer)
  return check_ackskew;
}

inline void slide(TcpPeer& src, TcpPeer& dst, uint32_t win, uint32_t ack, uint32_t end,
                  uint8_t sws) noexcept {
  if (win > src.max_win) src.max_win = win;  // no std::max: a packed field (TcpPeer)
  if (seq_gt(end, src.seqlo)) src.seqlo = end;
  if (seq_geq(ack + (win << sws), dst.seqhi)) dst.seqhi = ack + std::max<uint32_t>(win << sws, 1);
}

}  // namespace tcp_detail

inline TcpVerdict tcp_update(TcpConn& c, const TcpInfo& t, bool reply, bool seq_check) noexcept {
  using namespace tcp_detail;
  TcpPeer& src = c.peer[reply ? 1 : 0];
  TcpPeer& dst = c.peer[reply ? 0 : 1];
  const uint8_t f = t.flags;
  if (invalid_flags(f)) return TcpVerdict::kInvalid;
  if ((f & (kSyn | kAck)) == kSyn) {
    if (dst.state >= kTcpFinWait2 && src.state >= kTcpFinWait2) {
      src.state = dst.state = kTcpClosed;
      return TcpVerdict::kReopen;
    }
    if (src.state <= kTcpSynSent) {
      src.state = kTcpSynSent;
      c.timeout = TcpTimeout::kFirstPacket;
      return TcpVerdict::kValidNew;
    }
  }
  uint8_t sws = 0, dws = 0;
  if ((src.wscale & kWsFlag) && (dst.wscale & kWsFlag) && !(f & kSyn)) {
    sws = src.wscale & kWsMask;
    dws = dst.wscale & kWsMask;
  } else if ((src.wscale & kWsUnknown) && (dst.wscale & kWsUnknown) && !(f & kSyn)) {
    sws = dws = 14;
  }
  uint32_t win = t.window;
  uint32_t seq = t.seq, ack = t.ack;
  uint32_t end = seq + t.payload + ((f & kSyn) ? 1 : 0) + ((f & kFin) ? 1 : 0);
  bool check_ackskew = true;
  if (src.state < kTcpSynSent) check_ackskew = first_from_peer(src, dst, t, win, sws, dws, end);
  if (!(f & kAck) || (ack == 0 && (f & (kAck | kRst)) == (kAck | kRst))) ack = dst.seqlo;
  if (seq == end) seq = end = src.seqlo;  // no data: ease the checks
  const int32_t ackskew = check_ackskew ? int32_t(dst.seqlo - ack) : 0;
  const bool in_window =
      seq_geq(src.seqhi, end) && seq_geq(seq, src.seqlo - (dst.max_win << dws)) &&
      ackskew >= -kMaxAckWindow && int64_t(ackskew) <= (int64_t(kMaxAckWindow) << sws) &&
      (!(f & kRst) || t.seq == src.seqlo || t.seq == src.seqlo + 1 || t.seq + 1 == src.seqlo);
  if (in_window || !seq_check) {
    slide(src, dst, win, ack, end, sws);
    if ((f & kSyn) && src.state < kTcpSynSent) src.state = kTcpSynSent;
    if ((f & kFin) && src.state < kTcpClosing) src.state = kTcpClosing;
    if (f & kAck) {
      if (dst.state == kTcpSynSent)
        dst.state = kTcpEstablished;
      else if (dst.state == kTcpClosing)
        dst.state = kTcpFinWait2;
    }
    if (f & kRst) src.state = dst.state = kTcpTimeWait;
    c.timeout = timeout_for(src, dst);
    return TcpVerdict::kValid;
  }
  const bool loose =
      dst.state < kTcpSynSent || dst.state >= kTcpFinWait2 || src.state >= kTcpFinWait2;
  if (loose && seq_geq(src.seqhi + kMaxAckWindow, end) && seq_geq(seq, src.seqlo - kMaxAckWindow)) {
    slide(src, dst, win, ack, end, sws);
    if ((f & kFin) && src.state < kTcpClosing) src.state = kTcpClosing;
    if (f & kRst) src.state = dst.state = kTcpTimeWait;
    return TcpVerdict::kPass;
  }
  return TcpVerdict::kInvalid;
}

}  // namespace flowpath::ct
