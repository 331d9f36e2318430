// Test helpers for the connection tracker: parsed packets from the
// packet builder, and shorthands for ct_state checks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "flowpath/action/checksum.hpp"
#include "flowpath/conntrack/conntrack.hpp"
#include "flowpath/parse/parser.hpp"
#include "support/packet_builder.hpp"

namespace flowpath::cttest {

using namespace flowpath::test;
using namespace flowpath::ct;

inline PacketBuffer parsed(const Stack& s) {
  PacketBuffer b = s.packet();
  FlowKey key;
  parse_packet(b.packet(), key);
  return b;
}

inline Stack tcp4(const char* src, const char* dst, uint16_t sp, uint16_t dp, uint16_t flags,
                  uint32_t seq, uint32_t ack, size_t payload = 0) {
  return Eth{} / IPv4{.src = src, .dst = dst} /
         TCP{.sport = sp, .dport = dp, .flags = flags, .seq = seq, .ack = ack} /
         Payload{.n = payload};
}
inline Stack udp4(const char* src, const char* dst, uint16_t sp, uint16_t dp) {
  return Eth{} / IPv4{.src = src, .dst = dst} / UDP{.sport = sp, .dport = dp} / Payload{.n = 8};
}

/// Connection i of the datapath A/B tests: UDP 192.0.2.(1+i):1000+i ->
/// 198.51.100.1:53, or (reply) the same reversed.
inline std::vector<uint8_t> udp_conn(int i, bool reply = false) {
  const std::string host = "192.0.2." + std::to_string(1 + i);
  return reply ? udp4("198.51.100.1", host.c_str(), 53, uint16_t(1000 + i)).bytes()
               : udp4(host.c_str(), "198.51.100.1", uint16_t(1000 + i), 53).bytes();
}
inline constexpr uint16_t kSyn = 0x02, kAck = 0x10, kFin = 0x01, kRst = 0x04, kPsh = 0x08;

/// ct_state as OVS prints it: "+trk+new" etc., to make failures readable.
inline std::string st(uint8_t s) {
  static const char* names[] = {"new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"};
  std::string out;
  for (int i = 0; i < 8; ++i)
    if (s & (1 << i)) out += std::string("+") + names[i];
  return out.empty() ? "-" : out;
}

/// Checks every checksum of an IPv4/IPv6 TCP/UDP/ICMP frame from scratch.
inline bool checksums_ok(const Packet& p) {
  const uint8_t* d = p.data();
  const uint32_t l3 = p.meta.l3;
  if ((d[l3] >> 4) == 4) {
    const uint32_t ihl = uint32_t(d[l3] & 15) * 4;
    if (csum_fold(csum_add_bytes(0, d + l3, ihl)) != 0xffff) return false;
    const uint32_t tot = uint32_t(d[l3 + 2] << 8 | d[l3 + 3]);
    const uint8_t proto = d[l3 + 9];
    const uint8_t* l4 = d + l3 + ihl;
    const uint32_t len = tot - ihl;
    uint32_t sum = csum_add_bytes(0, l4, len);
    if (proto == 6 || proto == 17) {
      if (proto == 17 && l4[6] == 0 && l4[7] == 0) return true;
      sum = csum_add_bytes(sum, d + l3 + 12, 8);
      sum += proto + len;
    }
    return csum_fold(sum) == 0xffff;
  }
  const uint32_t plen = uint32_t(d[l3 + 4] << 8 | d[l3 + 5]);
  uint32_t sum = csum_add_bytes(0, d + l3 + 40, plen);
  sum = csum_add_bytes(sum, d + l3 + 8, 32);
  sum += d[l3 + 6] + plen;
  return csum_fold(sum) == 0xffff;
}

/// Two trackers of an A/B (a datapath shortcut on and off) hold the same
/// connections: original tuples, marks, TCP states and windows, and
/// (with_timeouts) the seconds left, compared in tuple order.
inline void expect_same_connections(Conntrack& a, Conntrack& b, bool with_timeouts) {
  auto ca = a.dump(1000);
  auto cb = b.dump(1000);
  ASSERT_EQ(ca.size(), cb.size());
  auto order = [](const ConnEntry& x, const ConnEntry& y) {
    return std::memcmp(&x.orig, &y.orig, sizeof x.orig) < 0;
  };
  std::sort(ca.begin(), ca.end(), order);
  std::sort(cb.begin(), cb.end(), order);
  for (size_t i = 0; i < ca.size(); ++i) {
    EXPECT_TRUE(ca[i].orig == cb[i].orig) << "connection " << i;
    EXPECT_EQ(ca[i].mark, cb[i].mark) << "connection " << i;
    for (int j = 0; j < 2; ++j) {  // TCP: each peer's state and window
      const TcpPeer &pa = ca[i].tcp.peer[j], &pb = cb[i].tcp.peer[j];
      EXPECT_EQ(uint32_t(pa.state), uint32_t(pb.state)) << "connection " << i << " peer " << j;
      EXPECT_EQ(uint32_t(pa.seqlo), uint32_t(pb.seqlo)) << "connection " << i << " peer " << j;
      EXPECT_EQ(uint32_t(pa.seqhi), uint32_t(pb.seqhi)) << "connection " << i << " peer " << j;
      EXPECT_EQ(uint32_t(pa.max_win), uint32_t(pb.max_win)) << "connection " << i << " peer " << j;
      EXPECT_EQ(uint32_t(pa.wscale), uint32_t(pb.wscale)) << "connection " << i << " peer " << j;
    }
    EXPECT_EQ(int(ca[i].tcp.timeout), int(cb[i].tcp.timeout)) << "connection " << i;
    if (with_timeouts) {
      EXPECT_EQ(ca[i].timeout_s, cb[i].timeout_s) << "connection " << i;
    }
  }
}

}  // namespace flowpath::cttest
