// tests/action/test_frames.hpp — minimal frame construction and
// from-scratch checksum verification for the action tests.
//
// Deliberately independent of flowpath's own checksum code: the reference
// sums here are the 10-line textbook versions, so the incremental updates
// in action/ are checked against something they do not share code with.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "flowpath/core/packet.hpp"

namespace flowpath::test {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

inline uint32_t ref_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i < n; i += 2) sum += uint32_t(p[i] << 8) | (i + 1 < n ? p[i + 1] : 0);
  return sum;
}
inline uint16_t ref_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

inline uint32_t ref_crc32c(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffff;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78 & (0u - (c & 1)));
  }
  return ~c;
}

struct FrameSpec {
  std::vector<std::pair<uint16_t, uint16_t>> vlans;  // (tpid, tci), outer first
  uint8_t proto = 17;                                // 6 TCP, 17 UDP, 132 SCTP, 1 ICMP
  uint32_t src = 0xc0000201, dst = 0xc6336402;       // 192.0.2.1 -> 198.51.100.2
  uint16_t sport = 1234, dport = 80;
  uint8_t tos = 0x01, ttl = 64;
  uint16_t frag = 0;    // flags|offset word
  size_t payload = 19;  // odd on purpose
  bool udp_zero_csum = false;
  uint16_t ethertype = 0x0800;
  bool ipv6 = false;  // 2001:db8::<src> -> 2001:db8::<dst>, tos = traffic class, ttl = hop limit
  bool ipv6_hbh = false;  // an 8-byte hop-by-hop options header before L4
};

/// The IPv4 or IPv6 header of `s` (length fields for `l4len` L4 bytes).
inline void put_ip(Bytes& f, const FrameSpec& s, size_t l4len) {
  if (s.ipv6) {
    put32(f, 0x60000000u | uint32_t(s.tos) << 20 | 0x12345);
    put16(f, uint16_t(l4len + (s.ipv6_hbh ? 8 : 0)));
    f.insert(f.end(), {uint8_t(s.ipv6_hbh ? 0 : s.proto), s.ttl});
    for (uint32_t a : {s.src, s.dst}) {
      put32(f, 0x20010db8);
      put32(f, 0);
      put32(f, 0);
      put32(f, a);
    }
    if (s.ipv6_hbh) f.insert(f.end(), {s.proto, 0, 1, 4, 0, 0, 0, 0});  // PadN
    return;
  }
  size_t ip = f.size();
  f.insert(f.end(), {0x45, s.tos});
  put16(f, uint16_t(20 + l4len));
  put16(f, 0x1234);
  put16(f, s.frag);
  f.insert(f.end(), {s.ttl, s.proto, 0, 0});
  put32(f, s.src);
  put32(f, s.dst);
  uint16_t ipc = ref_finish(ref_sum(&f[ip], 20));
  f[ip + 10] = uint8_t(ipc >> 8);
  f[ip + 11] = uint8_t(ipc);
}

/// The pseudo-header sum of the IP header at `ip` (IPv4: addresses at 12,
/// IPv6: at 8; RFC 768 / RFC 8200 8.1).
inline uint32_t pseudo_sum(const uint8_t* ip, bool v6, uint8_t proto, size_t l4len) {
  return ref_sum(ip + (v6 ? 8 : 12), v6 ? 32 : 8) + proto + uint32_t(l4len);
}

/// Ethernet / [tags] / IPv4 or IPv6 / L4 with correct checksums.
inline Bytes make_frame(const FrameSpec& s) {
  Bytes f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  for (auto [tpid, tci] : s.vlans) {
    put16(f, tpid);
    put16(f, tci);
  }
  put16(f, s.ipv6 ? uint16_t(0x86dd) : s.ethertype);
  size_t ip = f.size();
  size_t l4len = (s.proto == 6 ? 20 : s.proto == 132 ? 12 : 8) + s.payload;
  put_ip(f, s, l4len);
  size_t l4 = f.size();
  put16(f, s.sport);
  put16(f, s.dport);
  if (s.proto == 6) {
    put32(f, 1);
    put32(f, 0);
    f.insert(f.end(), {0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0});
  } else if (s.proto == 132) {
    put32(f, 0xdeadbeef);
    put32(f, 0);
  } else {
    put16(f, uint16_t(l4len));
    put16(f, 0);
  }
  for (size_t i = 0; i < s.payload; ++i) f.push_back(uint8_t(i * 7 + 3));
  if (!s.ipv6 && (s.frag & 0x1fff) != 0) return f;  // later fragment: L4 bytes are just payload
  if (s.proto == 6 || (s.proto == 17 && !s.udp_zero_csum)) {
    uint16_t c = ref_finish(ref_sum(&f[l4], l4len, pseudo_sum(&f[ip], s.ipv6, s.proto, l4len)));
    if (s.proto == 17 && c == 0) c = 0xffff;
    size_t at = l4 + (s.proto == 6 ? 16 : 6);
    f[at] = uint8_t(c >> 8);
    f[at + 1] = uint8_t(c);
  } else if (s.proto == 132) {
    uint32_t c = ref_crc32c(&f[l4], l4len);
    for (int i = 0; i < 4; ++i) f[l4 + 8 + i] = uint8_t(c >> (8 * i));
  }
  return f;
}

/// Verifies the L4 checksum of an L4 segment from scratch.
inline ::testing::AssertionResult l4_ok(const uint8_t* ip, bool v6, uint8_t proto,
                                        const uint8_t* l4, size_t l4len) {
  if (proto == 6 || proto == 17) {
    uint16_t stored = get16(l4 + (proto == 6 ? 16 : 6));
    if (proto == 17 && stored == 0) return ::testing::AssertionSuccess();
    Bytes copy(l4, l4 + l4len);
    copy[proto == 6 ? 16 : 6] = copy[proto == 6 ? 17 : 7] = 0;
    uint16_t want = ref_finish(ref_sum(copy.data(), copy.size(), pseudo_sum(ip, v6, proto, l4len)));
    if (proto == 17 && want == 0) want = 0xffff;
    if (stored != want)
      return ::testing::AssertionFailure()
             << "L4 checksum " << std::hex << stored << " != recomputed " << want;
  } else if (proto == 132) {
    Bytes copy(l4, l4 + l4len);
    uint32_t stored = copy[8] | copy[9] << 8 | copy[10] << 16 | uint32_t(copy[11]) << 24;
    copy[8] = copy[9] = copy[10] = copy[11] = 0;
    if (ref_crc32c(copy.data(), copy.size()) != stored)
      return ::testing::AssertionFailure() << "bad SCTP CRC32c";
  }
  return ::testing::AssertionSuccess();
}

/// Verifies every checksum of an Ethernet/[tags]/IPv4 or IPv6 frame from
/// scratch (IPv6: hop-by-hop and destination options headers skipped).
inline ::testing::AssertionResult checksums_ok(const Packet& p) {
  const uint8_t* d = p.data();
  size_t off = 12;
  while (off + 2 <= p.size() && (get16(d + off) == 0x8100 || get16(d + off) == 0x88a8)) off += 4;
  if (off + 2 > p.size()) return ::testing::AssertionSuccess();
  const uint8_t* ip = d + off + 2;
  if (get16(d + off) == 0x86dd) {
    size_t l4len = get16(ip + 4);
    const uint8_t* l4 = ip + 40;
    uint8_t nh = ip[6];
    while (nh == 0 || nh == 60) nh = l4[0], l4len -= (l4[1] + 1u) * 8, l4 += (l4[1] + 1u) * 8;
    return l4_ok(ip, true, nh, l4, l4len);
  }
  if (get16(d + off) != 0x0800) return ::testing::AssertionSuccess();
  size_t hl = (ip[0] & 15) * 4u, total = get16(ip + 2);
  if (ref_finish(ref_sum(ip, hl)) != 0)
    return ::testing::AssertionFailure() << "bad IPv4 header checksum";
  if ((get16(ip + 6) & 0x1fff) != 0) return ::testing::AssertionSuccess();
  return l4_ok(ip, false, ip[9], ip + hl, total - hl);
}

inline Bytes bytes_of(const Packet& p) { return Bytes(p.data(), p.data() + p.size()); }

}  // namespace flowpath::test
