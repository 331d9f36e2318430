// tests/support/packet_builder.hpp — build frames in tests as
//
//   auto frame = (Eth{"02:00:00:00:00:02", "02:00:00:00:00:01"} / Dot1Q{.vid = 1000} /
//                 IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 53, .dport = 53} /
//                 Payload{.n = 10}).bytes();
//
// Layers are aggregates (designated initializers work); `/` stacks them.
// bytes() writes every header, then fixes what depends on what follows:
// EtherTypes, IP protocol / next header, IPv4 total length and header
// checksum, IPv6 payload length, UDP length, and the TCP/UDP/ICMP/ICMPv6
// checksums (with the IPv4/IPv6 pseudo-header) and the SCTP CRC32c.  Fields
// left at their "auto" value (std::nullopt) are derived; set them to build
// broken frames (bad IHL, lengths beyond the frame ...).
//
// Literals: mac("aa:bb:cc:dd:ee:ff"), ipv4("192.0.2.1"), ipv6("2001:db8::1")
// throw std::invalid_argument naming the bad text.
//
// Layers: Eth, Dot1Q, Dot1AD, ARP, IPv4, IPv6, Ipv6Ext (hop-by-hop,
// routing, destination options), Ipv6Frag, TCP, UDP, SCTP, ICMP, ICMPv6,
// NdNs, NdNa, Payload, Raw.  Test-only code: it allocates and may throw.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "flowpath/core/packet.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath::test {

inline EthAddr mac(std::string_view text) {
  EthAddr a;
  unsigned v[6];
  char tail;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &tail) != 6)
    throw std::invalid_argument("bad MAC address literal '" + s + "'");
  for (int i = 0; i < 6; ++i) {
    if (v[i] > 0xff) throw std::invalid_argument("bad MAC address literal '" + s + "'");
    a.b[i] = uint8_t(v[i]);
  }
  return a;
}
inline Be32 ipv4(std::string_view text) {
  const std::string s(text);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1)
    throw std::invalid_argument("bad IPv4 address literal '" + s + "'");
  return Be32::from_raw(a.s_addr);
}
inline Ipv6Addr ipv6(std::string_view text) {
  const std::string s(text);
  Ipv6Addr a;
  if (inet_pton(AF_INET6, s.c_str(), a.b.data()) != 1)
    throw std::invalid_argument("bad IPv6 address literal '" + s + "'");
  return a;
}

// Address holders that accept either a literal or a value.
struct Mac {
  EthAddr a;
  Mac() = default;
  Mac(const char* s) : a(mac(s)) {}
  Mac(EthAddr v) : a(v) {}
};
struct Ip4 {
  Be32 a;
  Ip4() = default;
  Ip4(const char* s) : a(ipv4(s)) {}
  Ip4(Be32 v) : a(v) {}
};
struct Ip6 {
  Ipv6Addr a;
  Ip6() = default;
  Ip6(const char* s) : a(ipv6(s)) {}
  Ip6(Ipv6Addr v) : a(v) {}
};

struct Eth {
  Mac dst{}, src{};
  std::optional<uint16_t> type{};  // auto: from the next layer (0x88b5 if none)
};
struct Dot1Q {
  uint16_t vid = 0;
  uint8_t pcp = 0;
  bool dei = false;
  std::optional<uint16_t> type{};
};
struct Dot1AD {  // 802.1ad service tag (TPID 0x88a8), same fields as Dot1Q
  uint16_t vid = 0;
  uint8_t pcp = 0;
  bool dei = false;
  std::optional<uint16_t> type{};
};
struct ARP {
  uint16_t op = 1;
  Mac sha{};
  Ip4 spa{};
  Mac tha{};
  Ip4 tpa{};
  uint16_t htype = 1, ptype = 0x0800;
  uint8_t hlen = 6, plen = 4;
};
struct IPv4 {
  Ip4 src{}, dst{};
  std::optional<uint8_t> proto{};
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t id = 0;
  uint16_t frag = 0;               // flags | offset (host order): 0x2000 = MF
  std::vector<uint8_t> options{};  // padded with zeros to 4 bytes
  std::optional<uint8_t> ihl{};    // in 4-byte words
  std::optional<uint16_t> tot_len{};
  uint8_t version = 4;
};
struct IPv6 {
  Ip6 src{}, dst{};
  std::optional<uint8_t> next{};
  uint8_t hlim = 64;
  uint8_t tc = 0;
  uint32_t flow = 0;
  std::optional<uint16_t> plen{};
  uint8_t version = 6;
};
struct Ipv6Ext {  // hop-by-hop (0), routing (43), destination options (60)
  uint8_t type = 0;
  uint8_t len = 0;  // extra 8-byte units (header is (len + 1) * 8 bytes)
  std::optional<uint8_t> next{};
};
struct Ipv6Frag {
  uint16_t offset = 0;  // in 8-byte units
  bool more = false;
  uint32_t id = 0;
  std::optional<uint8_t> next{};
};
struct TCP {
  uint16_t sport = 0, dport = 0;
  uint16_t flags = 0x002;  // SYN
  uint32_t seq = 0, ack = 0;
  uint16_t window = 65535;
  std::vector<uint8_t> options{};  // padded with zeros to 4 bytes
  std::optional<uint8_t> doff{};   // in 4-byte words
};
struct UDP {
  uint16_t sport = 0, dport = 0;
};
struct SCTP {
  uint16_t sport = 0, dport = 0;
  uint32_t vtag = 0;
};
struct ICMP {
  uint8_t type = 8, code = 0;
  uint16_t id = 0, seq = 0;
};
struct ICMPv6 {
  uint8_t type = 128, code = 0;
  std::vector<uint8_t> body{};
};
struct NdNs {
  Ip6 target{};
  std::optional<EthAddr> sll{};
};
struct NdNa {
  Ip6 target{};
  std::optional<EthAddr> tll{};
  uint32_t flags = 0x60000000;  // solicited | override
};
struct Payload {
  size_t n = 0;
  uint8_t fill = 0;  // 0: bytes count up 0, 1, 2, ...
};
struct Raw {
  std::vector<uint8_t> data{};
};

using Layer = std::variant<Eth, Dot1Q, Dot1AD, ARP, IPv4, IPv6, Ipv6Ext, Ipv6Frag, TCP, UDP, SCTP,
                           ICMP, ICMPv6, NdNs, NdNa, Payload, Raw>;
template <class T>
concept LayerType = requires(T t) {
  Layer{t};
}
&&!std::is_same_v<std::decay_t<T>, Layer>;

class Stack;
namespace builder_detail {
inline std::vector<uint8_t> serialize(const std::vector<Layer>& layers);
}

class Stack {
 public:
  std::vector<Layer> layers;

  std::vector<uint8_t> bytes() const { return builder_detail::serialize(layers); }
  /// The frame in a self-owning packet buffer.
  PacketBuffer packet(uint32_t in_port = 0) const { return PacketBuffer(bytes(), in_port); }

  template <LayerType L>
  friend Stack operator/(Stack s, L l) {
    s.layers.emplace_back(std::move(l));
    return s;
  }
};
template <LayerType A, LayerType B>
Stack operator/(A a, B b) {
  Stack s;
  s.layers.emplace_back(std::move(a));
  s.layers.emplace_back(std::move(b));
  return s;
}
template <LayerType A>
std::vector<uint8_t> bytes_of(A a) {
  return Stack{{Layer{std::move(a)}}}.bytes();
}

/// One's-complement sum of bytes (16-bit big-endian words), not folded.
inline uint32_t ones_sum(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t(p[i]) << 8 | p[i + 1];
  if (n & 1) acc += uint32_t(p[n - 1]) << 8;
  return acc;
}
inline uint16_t fold_csum(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(~acc);
}
/// CRC32c (Castagnoli), as SCTP uses it.
inline uint32_t crc32c(const uint8_t* p, size_t n) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
  }
  return ~crc;
}

namespace builder_detail {

inline void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(uint8_t(x >> 8));
  v.push_back(uint8_t(x));
}
inline void put32(std::vector<uint8_t>& v, uint32_t x) {
  put16(v, uint16_t(x >> 16));
  put16(v, uint16_t(x));
}
inline void put(std::vector<uint8_t>& v, const uint8_t* p, size_t n) {
  v.insert(v.end(), p, p + n);
}
inline void set16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = uint8_t(x >> 8);
  v[at + 1] = uint8_t(x);
}
inline void pad4(std::vector<uint8_t>& v, std::vector<uint8_t> opts) {
  while (opts.size() % 4) opts.push_back(0);
  put(v, opts.data(), opts.size());
}

// EtherType or IP protocol number announcing layer l (0 when none).
inline uint16_t ethertype_of(const Layer* l) {
  if (!l) return 0x88b5;  // IEEE local experimental
  if (std::holds_alternative<Dot1AD>(*l)) return 0x88a8;
  if (std::holds_alternative<Dot1Q>(*l)) return 0x8100;
  if (std::holds_alternative<IPv4>(*l)) return 0x0800;
  if (std::holds_alternative<IPv6>(*l)) return 0x86dd;
  if (std::holds_alternative<ARP>(*l)) return 0x0806;
  return 0x88b5;
}
inline uint8_t ipproto_of(const Layer* l) {
  if (!l) return 59;  // no next header
  if (auto* e = std::get_if<Ipv6Ext>(l)) return e->type;
  if (std::holds_alternative<Ipv6Frag>(*l)) return 44;
  if (std::holds_alternative<TCP>(*l)) return 6;
  if (std::holds_alternative<UDP>(*l)) return 17;
  if (std::holds_alternative<SCTP>(*l)) return 132;
  if (std::holds_alternative<ICMP>(*l)) return 1;
  if (std::holds_alternative<ICMPv6>(*l) || std::holds_alternative<NdNs>(*l) ||
      std::holds_alternative<NdNa>(*l))
    return 58;
  if (std::holds_alternative<IPv4>(*l)) return 4;
  if (std::holds_alternative<IPv6>(*l)) return 41;
  return 59;
}

// Writes one layer's header with lengths/checksums zero; `next` is the
// following layer (or null).
struct Writer {
  std::vector<uint8_t>& v;
  const Layer* next;

  void operator()(const Eth& e) {
    put(v, e.dst.a.b.data(), 6);
    put(v, e.src.a.b.data(), 6);
    put16(v, e.type.value_or(ethertype_of(next)));
  }
  template <class Q>
  void tag(const Q& q) {
    put16(v, uint16_t(q.pcp << 13 | (q.dei ? 0x1000 : 0) | (q.vid & 0xfff)));
    put16(v, q.type.value_or(ethertype_of(next)));
  }
  void operator()(const Dot1Q& q) { tag(q); }
  void operator()(const Dot1AD& q) { tag(q); }
  void operator()(const ARP& a) {
    put16(v, a.htype);
    put16(v, a.ptype);
    v.push_back(a.hlen);
    v.push_back(a.plen);
    put16(v, a.op);
    put(v, a.sha.a.b.data(), 6);
    put(v, reinterpret_cast<const uint8_t*>(&a.spa.a.raw), 4);
    put(v, a.tha.a.b.data(), 6);
    put(v, reinterpret_cast<const uint8_t*>(&a.tpa.a.raw), 4);
  }
  void operator()(const IPv4& ip) {
    const size_t optlen = (ip.options.size() + 3) / 4 * 4;
    v.push_back(uint8_t(ip.version << 4 | (ip.ihl ? *ip.ihl : 5 + optlen / 4)));
    v.push_back(ip.tos);
    put16(v, 0);  // total length: fixed later
    put16(v, ip.id);
    put16(v, ip.frag);
    v.push_back(ip.ttl);
    v.push_back(ip.proto.value_or(ipproto_of(next)));
    put16(v, 0);
    put(v, reinterpret_cast<const uint8_t*>(&ip.src.a.raw), 4);
    put(v, reinterpret_cast<const uint8_t*>(&ip.dst.a.raw), 4);
    pad4(v, ip.options);
  }
  void operator()(const IPv6& ip) {
    put32(v, uint32_t(ip.version) << 28 | uint32_t(ip.tc) << 20 | (ip.flow & 0xfffff));
    put16(v, 0);
    v.push_back(ip.next.value_or(ipproto_of(next)));
    v.push_back(ip.hlim);
    put(v, ip.src.a.b.data(), 16);
    put(v, ip.dst.a.b.data(), 16);
  }
  void operator()(const Ipv6Ext& e) {
    v.push_back(e.next.value_or(ipproto_of(next)));
    v.push_back(e.len);
    // PadN option filling the rest: type 1, length (8*(len+1) - 4).
    v.push_back(1);
    v.push_back(uint8_t(8 * (e.len + 1) - 4));
    v.insert(v.end(), 8 * (e.len + 1) - 4, 0);
  }
  void operator()(const Ipv6Frag& f) {
    v.push_back(f.next.value_or(ipproto_of(next)));
    v.push_back(0);
    put16(v, uint16_t(f.offset << 3 | (f.more ? 1 : 0)));
    put32(v, f.id);
  }
  void operator()(const TCP& t) {
    const size_t optlen = (t.options.size() + 3) / 4 * 4;
    put16(v, t.sport);
    put16(v, t.dport);
    put32(v, t.seq);
    put32(v, t.ack);
    const uint16_t doff = t.doff ? *t.doff : uint16_t(5 + optlen / 4);
    put16(v, uint16_t(doff << 12 | (t.flags & 0x0fff)));
    put16(v, t.window);
    put32(v, 0);  // checksum, urgent pointer
    pad4(v, t.options);
  }
  void operator()(const UDP& u) {
    put16(v, u.sport);
    put16(v, u.dport);
    put32(v, 0);
  }
  void operator()(const SCTP& s) {
    put16(v, s.sport);
    put16(v, s.dport);
    put32(v, s.vtag);
    put32(v, 0);
  }
  void operator()(const ICMP& i) {
    v.push_back(i.type);
    v.push_back(i.code);
    put16(v, 0);
    put16(v, i.id);
    put16(v, i.seq);
  }
  void operator()(const ICMPv6& i) {
    v.push_back(i.type);
    v.push_back(i.code);
    put16(v, 0);
    put(v, i.body.data(), i.body.size());
  }
  void nd(uint8_t type, uint32_t flags, const Ip6& target, const std::optional<EthAddr>& ll,
          uint8_t opt) {
    v.push_back(type);
    v.push_back(0);
    put16(v, 0);
    put32(v, flags);
    put(v, target.a.b.data(), 16);
    if (ll) {
      v.push_back(opt);
      v.push_back(1);
      put(v, ll->b.data(), 6);
    }
  }
  void operator()(const NdNs& n) { nd(135, 0, n.target, n.sll, 1); }
  void operator()(const NdNa& n) { nd(136, n.flags, n.target, n.tll, 2); }
  void operator()(const Payload& p) {
    for (size_t i = 0; i < p.n; ++i) v.push_back(p.fill ? p.fill : uint8_t(i));
  }
  void operator()(const Raw& r) { put(v, r.data.data(), r.data.size()); }
};

// The IP layer (v4 or v6) enclosing layer i: its pseudo-header sum.
inline uint32_t pseudo_sum(const std::vector<Layer>& ls, size_t i, uint8_t proto, size_t len) {
  for (size_t j = i; j-- > 0;) {
    if (auto* ip = std::get_if<IPv4>(&ls[j])) {
      uint32_t acc = ones_sum(reinterpret_cast<const uint8_t*>(&ip->src.a.raw), 4);
      acc = ones_sum(reinterpret_cast<const uint8_t*>(&ip->dst.a.raw), 4, acc);
      return acc + proto + uint32_t(len);
    }
    if (auto* ip6 = std::get_if<IPv6>(&ls[j])) {
      uint32_t acc = ones_sum(ip6->src.a.b.data(), 16);
      acc = ones_sum(ip6->dst.a.b.data(), 16, acc);
      return acc + proto + uint32_t(len >> 16) + uint32_t(len & 0xffff);
    }
  }
  return 0;
}

// Fixes lengths and checksums of layer i at offset `at` (v is complete).
inline void finish(const std::vector<Layer>& ls, size_t i, size_t at, std::vector<uint8_t>& v) {
  const size_t len = v.size() - at;
  uint8_t* h = v.data() + at;
  auto l4_csum = [&](size_t csum_at, uint8_t proto, bool pseudo) {
    const uint32_t acc = ones_sum(h, len, pseudo ? pseudo_sum(ls, i, proto, len) : 0);
    uint16_t c = fold_csum(acc);
    if (c == 0 && proto == 17) c = 0xffff;
    set16(v, at + csum_at, c);
  };
  const Layer& l = ls[i];
  if (auto* ip = std::get_if<IPv4>(&l)) {
    set16(v, at + 2, ip->tot_len.value_or(uint16_t(len)));
    const size_t hl = 20 + (ip->options.size() + 3) / 4 * 4;
    set16(v, at + 10, fold_csum(ones_sum(h, std::min(hl, len))));
  } else if (auto* ip6 = std::get_if<IPv6>(&l)) {
    set16(v, at + 4, ip6->plen.value_or(uint16_t(len - 40)));
  } else if (std::holds_alternative<UDP>(l)) {
    set16(v, at + 4, uint16_t(len));
    l4_csum(6, 17, true);
  } else if (std::holds_alternative<TCP>(l)) {
    l4_csum(16, 6, true);
  } else if (std::holds_alternative<ICMP>(l)) {
    l4_csum(2, 1, false);
  } else if (std::holds_alternative<ICMPv6>(l) || std::holds_alternative<NdNs>(l) ||
             std::holds_alternative<NdNa>(l)) {
    l4_csum(2, 58, true);
  } else if (std::holds_alternative<SCTP>(l)) {
    const uint32_t c = crc32c(h, len);  // stored least significant byte first
    for (int k = 0; k < 4; ++k) v[at + 8 + k] = uint8_t(c >> (8 * k));
  }
}

inline std::vector<uint8_t> serialize(const std::vector<Layer>& layers) {
  std::vector<uint8_t> v{};
  std::vector<size_t> offs;
  for (size_t i = 0; i < layers.size(); ++i) {
    offs.push_back(v.size());
    const Layer* next = i + 1 < layers.size() ? &layers[i + 1] : nullptr;
    std::visit(Writer{v, next}, layers[i]);
  }
  for (size_t i = layers.size(); i-- > 0;) finish(layers, i, offs[i], v);
  return v;
}

}  // namespace builder_detail

/// Hex dump "aa bb cc ..." (for failure messages and golden tests).
inline std::string hex(const std::vector<uint8_t>& v) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ' ';
    s += d[v[i] >> 4];
    s += d[v[i] & 15];
  }
  return s;
}
/// Parses "aa bb cc" / "aabbcc" (whitespace ignored) into bytes.
inline std::vector<uint8_t> unhex(std::string_view text) {
  std::vector<uint8_t> v{};
  int hi = -1;
  for (char c : text) {
    int x;
    if (c >= '0' && c <= '9')
      x = c - '0';
    else if (c >= 'a' && c <= 'f')
      x = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      x = c - 'A' + 10;
    else if (c == ' ' || c == '\n' || c == '\t')
      continue;
    else
      throw std::invalid_argument("bad hex digit in '" + std::string(text) + "'");
    if (hi < 0) {
      hi = x;
    } else {
      v.push_back(uint8_t(hi << 4 | x));
      hi = -1;
    }
  }
  if (hi >= 0)
    throw std::invalid_argument("odd number of hex digits in '" + std::string(text) + "'");
  return v;
}

}  // namespace flowpath::test
