// flowpath/conntrack/timeouts.hpp — expiry times of connections, OVS's
// default timeout policy for the userspace datapath (lib/conntrack-tp.c,
// `ovs-appctl dpctl/ct-get-timeout`-style attribute names), in seconds.
// Thread-safety: a value; Conntrack copies it under its own lock.
#pragma once

#include <cstdint>

#include "flowpath/conntrack/tcp_tracker.hpp"

namespace flowpath::ct {

struct Timeouts {
  uint32_t tcp_syn_sent = 30;
  uint32_t tcp_syn_recv = 30;
  uint32_t tcp_established = 24 * 60 * 60;
  uint32_t tcp_fin_wait = 15 * 60;
  uint32_t tcp_time_wait = 45;
  uint32_t tcp_close = 30;
  uint32_t udp_first = 60;
  uint32_t udp_single = 60;
  uint32_t udp_multiple = 30;
  uint32_t icmp_first = 60;
  uint32_t icmp_reply = 30;

  /// Seconds for a TCP timeout class (OVS's CT_TM_TCP_* -> attribute map).
  uint32_t tcp(TcpTimeout t) const noexcept {
    switch (t) {
      case TcpTimeout::kFirstPacket:
        return tcp_syn_sent;
      case TcpTimeout::kOpening:
        return tcp_syn_recv;
      case TcpTimeout::kEstablished:
        return tcp_established;
      case TcpTimeout::kClosing:
        return tcp_fin_wait;
      case TcpTimeout::kFinWait:
        return tcp_time_wait;
      case TcpTimeout::kClosed:
        return tcp_close;
    }
    return tcp_close;
  }
};

}  // namespace flowpath::ct
