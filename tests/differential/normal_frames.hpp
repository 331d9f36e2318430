// tests/differential/normal_frames.hpp — the frames of the NORMAL
// differential test (normal_ovs_test.cpp): a small description of an
// Ethernet frame (addresses, a stack of tags, what follows) and its bytes.
//
// The description is what a mismatch report prints, so it is readable:
//   02:00:00:00:00:01>ff:ff:ff:ff:ff:ff 8100:vid=10,pcp=3 ipv4/udp
// Frames are built exactly as described: no padding (a frame "0x8100 with
// nothing after it" is 14 bytes; padding would make zeros a tag).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "flowpath/flow/flow_key.hpp"

namespace flowpath::difftest {

struct Tag {
  uint16_t tpid = 0x8100;
  uint16_t vid = 0;
  uint8_t pcp = 0;
};

enum class Payload {
  kArp,
  kIpv4Tcp,
  kIpv4Udp,
  kIpv4Icmp,
  kIpv6Tcp,
  kIpv6Udp,
  kIcmpv6Echo,
  kNdSolicit,
  kNdAdvert,
  kLldp,      // 0x88cc
  kOddType,   // 0x1234
  kLlc,       // 802.3 length + LLC (an STP BPDU's shape)
  kBareTpid,  // the ethertype 0x8100 or 0x88a8 and nothing after it
};
inline constexpr int kPayloadCount = 13;

inline const char* payload_name(Payload p) {
  static const char* const names[] = {
      "arp",   "ipv4/tcp", "ipv4/udp", "ipv4/icmp",   "ipv6/tcp", "ipv6/udp", "icmpv6/echo",
      "nd/ns", "nd/na",    "lldp",     "type=0x1234", "llc",      "bare-tpid"};
  return names[int(p)];
}

struct Frame {
  EthAddr dst, src;
  std::vector<Tag> tags;  // outermost first
  Payload payload = Payload::kArp;
  uint16_t bare_tpid = 0x8100;  // kBareTpid only
  uint8_t host = 1;             // varies L3 addresses

  std::vector<uint8_t> bytes() const;
  std::string describe() const;
  /// The header fields a datapath action may rewrite, as the frame has
  /// them ("eth.src" -> "02:00:...", "ipv4.tos" -> "0", ...).
  std::map<std::string, std::string> fields() const;
};

namespace frame_detail {
inline void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(uint8_t(x >> 8));
  v.push_back(uint8_t(x));
}
inline void put_mac(std::vector<uint8_t>& v, const EthAddr& a) {
  v.insert(v.end(), a.b.begin(), a.b.end());
}
inline uint16_t csum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += uint32_t(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}
inline std::string mac_text(const EthAddr& a) {
  char b[20];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", a.b[0], a.b[1], a.b[2], a.b[3],
                a.b[4], a.b[5]);
  return b;
}
// L4 bytes (no checksum: neither switch verifies them).
inline std::vector<uint8_t> l4(uint8_t proto, uint8_t host, bool v6) {
  std::vector<uint8_t> v;
  if (proto == 6) {
    put16(v, uint16_t(40000 + host));
    put16(v, 80);
    for (int i = 0; i < 8; ++i) v.push_back(0);
    v.push_back(0x50);
    v.push_back(0x02);  // SYN
    put16(v, 8192);
    put16(v, 0);
    put16(v, 0);
  } else if (proto == 17) {
    put16(v, uint16_t(50000 + host));
    put16(v, 53);
    put16(v, 12);
    put16(v, 0);
    for (int i = 0; i < 4; ++i) v.push_back(uint8_t(i));
  } else {
    v.push_back(v6 ? 128 : 8);  // echo request
    v.push_back(0);
    put16(v, 0);
    put16(v, 1);
    put16(v, host);
  }
  return v;
}
inline std::vector<uint8_t> ipv4(uint8_t proto, uint8_t host) {
  std::vector<uint8_t> body = l4(proto, host, false), v;
  v = {0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0, 192, 0, 2, host, 192, 0, 2, 200};
  v[2] = uint8_t((20 + body.size()) >> 8);
  v[3] = uint8_t(20 + body.size());
  uint16_t c = csum(v.data(), v.size());
  v[10] = uint8_t(c >> 8);
  v[11] = uint8_t(c);
  v.insert(v.end(), body.begin(), body.end());
  return v;
}
inline std::vector<uint8_t> ipv6(uint8_t next, uint8_t host, const std::vector<uint8_t>& body,
                                 bool to_solicited = false) {
  std::vector<uint8_t> v = {0x60, 0, 0, 0};
  put16(v, uint16_t(body.size()));
  v.push_back(next);
  v.push_back(255);
  const uint8_t pre[] = {0x20, 0x01, 0x0d, 0xb8};
  for (int side = 0; side < 2; ++side) {
    if (side == 1 && to_solicited) {
      const uint8_t sol[] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 200};
      v.insert(v.end(), sol, sol + 16);
      continue;
    }
    v.insert(v.end(), pre, pre + 4);
    for (int i = 0; i < 11; ++i) v.push_back(0);
    v.push_back(side == 0 ? host : 200);
  }
  v.insert(v.end(), body.begin(), body.end());
  return v;
}
inline std::vector<uint8_t> nd(bool solicit, uint8_t host, const EthAddr& lla) {
  std::vector<uint8_t> v = {uint8_t(solicit ? 135 : 136), 0, 0, 0};
  v.push_back(solicit ? 0 : 0x60);
  v.push_back(0);
  put16(v, 0);
  const uint8_t pre[] = {0x20, 0x01, 0x0d, 0xb8};
  v.insert(v.end(), pre, pre + 4);
  for (int i = 0; i < 11; ++i) v.push_back(0);
  v.push_back(solicit ? 200 : host);
  v.push_back(solicit ? 1 : 2);  // source / target link-layer address option
  v.push_back(1);
  put_mac(v, lla);
  return v;
}
}  // namespace frame_detail

inline std::vector<uint8_t> Frame::bytes() const {
  using namespace frame_detail;
  std::vector<uint8_t> v;
  put_mac(v, dst);
  put_mac(v, src);
  for (const Tag& t : tags) {
    put16(v, t.tpid);
    put16(v, uint16_t(t.pcp << 13 | t.vid));
  }
  std::vector<uint8_t> body;
  uint16_t type = 0;
  switch (payload) {
    case Payload::kArp:
      type = 0x0806;
      body = {0, 1, 8, 0, 6, 4, 0, 1};
      put_mac(body, src);
      body.insert(body.end(), {192, 0, 2, host});
      for (int i = 0; i < 6; ++i) body.push_back(0);
      body.insert(body.end(), {192, 0, 2, 200});
      break;
    case Payload::kIpv4Tcp:
      type = 0x0800, body = ipv4(6, host);
      break;
    case Payload::kIpv4Udp:
      type = 0x0800, body = ipv4(17, host);
      break;
    case Payload::kIpv4Icmp:
      type = 0x0800, body = ipv4(1, host);
      break;
    case Payload::kIpv6Tcp:
      type = 0x86dd, body = ipv6(6, host, l4(6, host, true));
      break;
    case Payload::kIpv6Udp:
      type = 0x86dd, body = ipv6(17, host, l4(17, host, true));
      break;
    case Payload::kIcmpv6Echo:
      type = 0x86dd, body = ipv6(58, host, l4(58, host, true));
      break;
    case Payload::kNdSolicit:
      type = 0x86dd, body = ipv6(58, host, nd(true, host, src), true);
      break;
    case Payload::kNdAdvert:
      type = 0x86dd, body = ipv6(58, host, nd(false, host, src));
      break;
    case Payload::kLldp:
      type = 0x88cc;
      body = {0x02, 0x07, 0x04};
      put_mac(body, src);
      body.insert(body.end(), {0x04, 0x02, 0x07, 0x31, 0x06, 0x02, 0x00, 0x78, 0, 0});
      break;
    case Payload::kOddType:
      type = 0x1234;
      body.assign(32, host);
      break;
    case Payload::kLlc:
      body = {0x42, 0x42, 0x03, 0, 0, 0, 0, 0};
      body.resize(38, 0);
      type = uint16_t(body.size());
      break;
    case Payload::kBareTpid:
      put16(v, bare_tpid);
      return v;
  }
  put16(v, type);
  v.insert(v.end(), body.begin(), body.end());
  return v;
}

inline std::map<std::string, std::string> Frame::fields() const {
  using frame_detail::mac_text;
  std::map<std::string, std::string> f{{"eth.src", mac_text(src)}, {"eth.dst", mac_text(dst)}};
  if (payload == Payload::kIpv4Tcp || payload == Payload::kIpv4Udp ||
      payload == Payload::kIpv4Icmp) {
    f["ipv4.tos"] = "0";
    f["ipv4.ttl"] = "64";
  }
  return f;
}

inline std::string Frame::describe() const {
  using frame_detail::mac_text;
  std::string s = mac_text(src) + ">" + mac_text(dst);
  char b[48];
  for (const Tag& t : tags) {
    std::snprintf(b, sizeof b, " %04x:vid=%u,pcp=%u", t.tpid, t.vid, t.pcp);
    s += b;
  }
  s += ' ';
  if (payload == Payload::kBareTpid) {
    std::snprintf(b, sizeof b, "%04x and nothing after", bare_tpid);
    return s + b;
  }
  return s + payload_name(payload);
}

inline std::string hex(const std::vector<uint8_t>& v) {
  static const char d[] = "0123456789abcdef";
  std::string s;
  for (uint8_t c : v) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

}  // namespace flowpath::difftest
