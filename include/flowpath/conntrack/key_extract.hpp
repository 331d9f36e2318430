// flowpath/conntrack/key_extract.hpp — extract_key(): a packet's ConnKey
// from its IP and L4 headers (internal; include conn_key.hpp).
//
// Every read is checked against the frame and the IP lengths first; the
// key is built in registers and written as whole words (see make_key).
// Thread-safety: pure functions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "flowpath/conntrack/conn_key.hpp"

namespace flowpath::ct {

namespace key_detail {

inline uint16_t rd16(const uint8_t* p) noexcept { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t rd32(const uint8_t* p) noexcept {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

inline uint8_t tcp_wscale(const uint8_t* opt, uint32_t len) noexcept {
  uint8_t ws = 0;
  while (len >= 3) {
    if (opt[0] == 0) return ws;  // end of options
    if (opt[0] == 1) {           // NOP
      ++opt;
      --len;
      continue;
    }
    if (opt[0] == 3) ws = uint8_t(0x80 | (opt[2] > 14 ? 14 : opt[2]));
    uint32_t ol = opt[1] < 2 ? 2 : opt[1];
    if (ol > len) return ws;
    opt += ol;
    len -= ol;
  }
  return ws;
}

// The IPv4 header checksum verifies: a 32-bit-word sum (the header is a
// whole number of words), folded; about twice as fast as a 16-bit loop.
// The usual header (20 bytes, no options) is summed as two 8-byte words
// and one 4-byte word with the carries added back (one's-complement
// addition is associative, and byte order does not matter to it): no loop,
// three loads: −17 instructions per firewalled packet (callgrind,
// fw_udp/1 of bench/datapath/neutron_fw_bench.cpp) against the loop.
[[gnu::always_inline]] inline bool ipv4_csum_ok(const uint8_t* p, uint32_t ihl) noexcept {
  uint64_t sum;
  if (ihl == 20) [[likely]] {
    uint64_t a, b;
    uint32_t c;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    std::memcpy(&c, p + 16, 4);
    sum = a + b;
    sum += sum < a;  // end-around carry
    const uint64_t t = sum + c;
    sum = t + (t < sum);
  } else {
    sum = 0;
    for (uint32_t i = 0; i < ihl; i += 4) {
      uint32_t w;
      std::memcpy(&w, p + i, 4);
      sum += w;
    }
  }
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  uint32_t s32 = uint32_t(sum);
  s32 = (s32 & 0xffff) + (s32 >> 16);
  s32 = (s32 & 0xffff) + (s32 >> 16);
  return s32 == 0xffff;
}

// The parts of a key, built in registers: writing a ConnKey field by field
// and then hashing it as 64-bit words stalls every load on the store
// buffer (a load spanning several smaller stores is not forwarded); the
// key is written once, as six words, by make_key().
struct L3Parts {
  uint64_t w[4];  // source (2 words), destination (2 words); IPv4 in w[0]/w[2]
  uint32_t l4, end;
  uint8_t proto;
  bool v6;
};
struct L4Parts {
  uint16_t sport = 0, dport = 0;
  uint8_t stype = 0, dtype = 0, code = 0;
};

inline uint32_t ld32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t ld64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// IP header at p, `avail` bytes to the end of the frame.  o.l4 = offset of
// the L4 header from p, o.end = IP payload end from p.
// `quoted`: the header inside an ICMP error, whose length fields describe
// the original packet although only its start was quoted; no checksum.
// An IPv4 header's checks (ip_header's, shared with key_is): lengths,
// checksum (not `quoted`), fragment; *ihl and *tot (the total length, cut
// to `avail` when quoted) for kOk.  p[0]'s version is the caller's.
[[gnu::always_inline]] inline Extract ipv4_checks(const uint8_t* p, uint32_t avail, bool quoted,
                                                  uint32_t* ihl_out, uint32_t* tot_out) noexcept {
  const uint32_t ihl = uint32_t(p[0] & 15) * 4;
  uint32_t tot = rd16(p + 2);
  if (quoted && tot > avail) tot = avail;
  if (ihl < 20 || ihl > avail || tot < ihl || tot > avail) return Extract::kInvalid;
  if (!quoted && !ipv4_csum_ok(p, ihl)) return Extract::kInvalid;
  if (rd16(p + 6) & 0x3fff) return Extract::kFragment;  // MF or offset
  *ihl_out = ihl;
  *tot_out = tot;
  return Extract::kOk;
}

[[gnu::always_inline]] inline Extract ip_header(const uint8_t* p, uint32_t avail, L3Parts& o,
                                                bool quoted) noexcept {
  if (avail < 20) return Extract::kInvalid;
  const uint8_t ver = p[0] >> 4;
  if (ver == 4) {
    uint32_t ihl, tot;
    if (const Extract e = ipv4_checks(p, avail, quoted, &ihl, &tot); e != Extract::kOk) return e;
    o.v6 = false;
    o.proto = p[9];
    o.w[0] = ld32(p + 12);
    o.w[2] = ld32(p + 16);
    o.w[1] = o.w[3] = 0;
    o.l4 = ihl;
    o.end = tot;
    return Extract::kOk;
  }
  if (ver != 6 || avail < 40) return Extract::kInvalid;
  uint32_t end6 = 40 + rd16(p + 4);
  if (quoted && end6 > avail) end6 = avail;
  if (end6 > avail) return Extract::kInvalid;
  uint8_t nh = p[6];
  uint32_t off = 40;
  for (int i = 0; i < 8; ++i) {  // extension headers, bounded
    if (nh == 44) return Extract::kFragment;
    if (nh != 0 && nh != 43 && nh != 60) break;
    if (off + 8 > end6) return Extract::kInvalid;
    nh = p[off];
    off += (uint32_t(p[off + 1]) + 1) * 8;
    if (off > end6) return Extract::kInvalid;
  }
  o.v6 = true;
  o.proto = nh;
  for (int i = 0; i < 4; ++i) o.w[i] = ld64(p + 8 + 8 * i);
  o.l4 = off;
  o.end = end6;
  return Extract::kOk;
}

inline bool icmp_error(bool v6, uint8_t type) noexcept {
  return v6 ? (type >= 1 && type <= 4)
            : (type == 3 || type == 4 || type == 5 || type == 11 || type == 12);
}
// Echo-style queries and their answers (v4: echo, timestamp, info; v6: echo).
inline int icmp_answer(bool v6, uint8_t type) noexcept {
  if (v6) return type == 128 ? 129 : type == 129 ? 128 : -1;
  switch (type) {
    case 8:
      return 0;
    case 0:
      return 8;
    case 13:
      return 14;
    case 14:
      return 13;
    case 15:
      return 16;
    case 16:
      return 15;
    default:
      return -1;
  }
}

// L4 part of a key from the header at p (len bytes of IP payload there).
// `inner`: a quoted header, of which only the first 8 bytes are promised.
[[gnu::always_inline]] inline bool l4_header(const uint8_t* p, uint32_t len, uint8_t proto, bool v6,
                                             L4Parts& k, TcpInfo* tcp, bool inner) noexcept {
  switch (proto) {
    case 6: {
      if (len < (inner ? 8u : 20u)) return false;
      k.sport = rd16(p);
      k.dport = rd16(p + 2);
      if (inner) return true;
      const uint32_t doff = uint32_t(p[12] >> 4) * 4;
      if (doff < 20 || doff > len) return false;
      tcp->seq = rd32(p + 4);
      tcp->ack = rd32(p + 8);
      tcp->flags = p[13] & 0x3f;
      tcp->window = rd16(p + 14);
      tcp->payload = len - doff;
      tcp->wscale = (tcp->flags & 0x02) ? tcp_wscale(p + 20, doff - 20) : 0;
      return true;
    }
    case 17:
    case 132:
      if (len < 8) return false;
      k.sport = rd16(p);
      k.dport = rd16(p + 2);
      return true;
    case 1:
    case 58: {
      if (len < 8) return false;
      const int ans = icmp_answer(v6, p[0]);
      if (ans < 0) return false;
      k.sport = k.dport = rd16(p + 4);
      k.stype = p[0];
      k.dtype = uint8_t(ans);
      k.code = p[1];
      return true;
    }
    default:
      return true;  // "other": addresses and protocol only
  }
}

// ConnKey's last two words (ports, zone, protocol, family; ICMP types and
// code), as make_key and key_is lay them out.
[[gnu::always_inline]] inline void key_tail(const L3Parts& a, const L4Parts& b, uint16_t zone,
                                            bool reversed, uint64_t* w) noexcept {
  const uint16_t sp = reversed ? b.dport : b.sport, dp = reversed ? b.sport : b.dport;
  const uint8_t st = reversed ? b.dtype : b.stype, dt = reversed ? b.stype : b.dtype;
  w[4] = uint64_t(sp) | uint64_t(dp) << 16 | uint64_t(zone) << 32 | uint64_t(a.proto) << 48 |
         uint64_t(a.v6) << 56;
  w[5] = uint64_t(st) | uint64_t(dt) << 8 | uint64_t(b.code) << 16;
}

// Writes the key as six words (the layout of ConnKey, little-endian) and
// returns its hash, computed from the words still in registers; when the
// words equal `prev`'s key, prev's hash instead (*same = true).
[[gnu::always_inline]] inline uint32_t make_key(ConnKey& k, const L3Parts& a, const L4Parts& b,
                                                uint16_t zone, bool reversed,
                                                const Extracted* prev = nullptr,
                                                bool* same = nullptr) noexcept {
  uint64_t w[6];
  const int s = reversed ? 2 : 0, d = reversed ? 0 : 2;
  uint64_t s0 = a.w[s], s1 = a.w[s + 1], d0 = a.w[d], d1 = a.w[d + 1];
  // Kept in general registers: the compiler otherwise loads the four
  // words with one 32-byte load of `a`, just written by 8-byte stores,
  // and store-to-load forwarding fails (measured: a quarter of
  // extract_key's samples on the established path).
  asm("" : "+r"(s0), "+r"(s1), "+r"(d0), "+r"(d1));
  w[0] = s0;
  w[1] = s1;
  w[2] = d0;
  w[3] = d1;
  key_tail(a, b, zone, reversed, w);
  std::memcpy(static_cast<void*>(&k), w, sizeof w);
  if (prev) {
    // The ports/zone/protocol word first: a packet of another connection
    // usually differs there, so the miss costs a compare and a branch.
    uint64_t pw[6];
    std::memcpy(&pw[4], reinterpret_cast<const char*>(&prev->key) + 32, 8);
    if (w[4] == pw[4]) [[unlikely]] {
      std::memcpy(pw, &prev->key, sizeof pw);
      if (((w[0] ^ pw[0]) | (w[1] ^ pw[1]) | (w[2] ^ pw[2]) | (w[3] ^ pw[3]) | (w[5] ^ pw[5])) ==
          0) {
        *same = true;
        return prev->hash;
      }
    }
  }
  return hash_words(w);
}
static_assert(std::endian::native == std::endian::little, "make_key lays out words little-endian");

}  // namespace key_detail

/// Extracts the key of the packet's connection in `zone`.  kInvalid for a
/// truncated or inconsistent frame (or an ICMP type that cannot start or
/// answer a connection), kFragment for IPv4/IPv6 fragments.  `prev`: an
/// earlier extraction (its key and hash are always written together), or
/// nullptr; when this packet's key (not an ICMP error's) equals prev's,
/// out.same is set and its hash is prev's (not computed again).
// Inlined into the batch loop (a call per packet showed in profiles).
[[gnu::always_inline]] inline Extract extract_key(const Packet& pkt, uint16_t zone, Extracted& out,
                                                  const Extracted* prev = nullptr) noexcept {
  using namespace key_detail;
  out.related = false;
  out.same = false;
  out.inner_l3 = out.inner_l4 = 0;
  const uint32_t l3 = pkt.meta.l3;
  if (l3 == kNoOffset || l3 >= pkt.size()) return Extract::kNotIp;
  const uint8_t* base = pkt.data() + l3;
  L3Parts a;
  Extract r = ip_header(base, pkt.size() - l3, a, false);
  if (r != Extract::kOk) return r;
  out.l3 = uint16_t(l3);
  out.l4 = uint16_t(l3 + a.l4);
  const uint8_t* h = base + a.l4;
  const uint32_t len = a.end - a.l4;
  const bool icmp = (a.proto == 1 && !a.v6) || (a.proto == 58 && a.v6);
  L4Parts b;
  if (icmp && len >= 8 && icmp_error(a.v6, h[0])) {
    // The quoted packet: its IP header, then at least 8 bytes of L4.
    L3Parts ia;
    const uint8_t* q = h + 8;
    if (ip_header(q, len - 8, ia, true) != Extract::kOk) return Extract::kInvalid;
    // The error goes back to the quoted packet's sender.
    if (ia.v6 != a.v6 || ia.w[0] != a.w[2] || ia.w[1] != a.w[3]) return Extract::kInvalid;
    if (!l4_header(q + ia.l4, ia.end - ia.l4, ia.proto, ia.v6, b, nullptr, true))
      return Extract::kInvalid;
    out.hash = make_key(out.key, ia, b, zone, true);
    out.related = true;
    out.inner_l3 = uint16_t(l3 + a.l4 + 8);
    out.inner_l4 = uint16_t(l3 + a.l4 + 8 + ia.l4);
    return Extract::kOk;
  }
  if (a.proto == 6 || a.proto == 17 || a.proto == 132 || icmp) {
    if (!l4_header(h, len, a.proto, a.v6, b, &out.tcp, false)) return Extract::kInvalid;
  } else if (a.proto == 1 || a.proto == 58) {
    return Extract::kInvalid;  // ICMPv4 in IPv6 or the reverse
  }
  out.hash = make_key(out.key, a, b, zone, false, prev, &out.same);
  return Extract::kOk;
}

namespace key_detail {

// key_is() for an IPv4 TCP/UDP key (kw: its six words) and an IPv4 header
// of at least 20 bytes at p: ip_header's and l4_header's checks, then the
// addresses as one word (w[0] | w[2] << 32, the header's bytes 12-19) and
// the ports as the low half of w[4] (its high half is k's zone, protocol
// and family, which the packet's key shares once p[9] matched); w[1],
// w[3], w[5] and w[0]/w[2]'s high halves are zero in every IPv4 key.
// (The generic compare builds all six words: ~30 instructions more.)
[[gnu::always_inline]] inline bool key_is_v4(const uint8_t* p, uint32_t avail, uint8_t proto,
                                             const uint64_t* kw, Extracted* x,
                                             uint32_t l3) noexcept {
  uint32_t ihl, tot;
  if (ipv4_checks(p, avail, false, &ihl, &tot) != Extract::kOk || p[9] != proto) return false;
  if (ld64(p + 12) != (kw[0] | kw[2] << 32) ||
      (kw[1] | kw[3] | kw[5] | kw[0] >> 32 | kw[2] >> 32) != 0)
    return false;
  L4Parts b;
  if (!l4_header(p + ihl, tot - ihl, proto, false, b, x ? &x->tcp : nullptr, false)) return false;
  if (x) {
    x->l3 = uint16_t(l3);
    x->l4 = uint16_t(l3 + ihl);
  }
  return uint32_t(kw[4]) == (uint32_t(b.sport) | uint32_t(b.dport) << 16);
}

}  // namespace key_detail

/// Whether extract_key(pkt, k.zone, x) would give kOk with x.key == k and
/// not x.related (the packet is of k's connection, in k's direction): the
/// same reads and checks, with the key compared instead of built and
/// hashed.  A TCP key matches only with `x` given: its segment's fields
/// (x->tcp) and header offsets (x->l3, x->l4) are written there, as
/// extract_key writes them, for the tracker's update.  ICMP errors never
/// match.
[[gnu::always_inline]] inline bool key_is(const Packet& pkt, const ConnKey& k,
                                          Extracted* x = nullptr) noexcept {
  using namespace key_detail;
  const uint32_t l3 = pkt.meta.l3;
  if (l3 == kNoOffset || l3 >= pkt.size() || (k.proto == 6 && !x)) return false;
  const uint8_t* base = pkt.data() + l3;
  uint64_t kw[6];
  std::memcpy(kw, &k, sizeof kw);
  if (!k.v6 && (k.proto == 6 || k.proto == 17) && (base[0] >> 4) == 4 && pkt.size() - l3 >= 20)
    return key_is_v4(base, pkt.size() - l3, k.proto, kw, x, l3);
  L3Parts a;
  if (ip_header(base, pkt.size() - l3, a, false) != Extract::kOk || a.proto != k.proto)
    return false;
  const uint8_t* h = base + a.l4;
  const uint32_t len = a.end - a.l4;
  const bool icmp = (a.proto == 1 && !a.v6) || (a.proto == 58 && a.v6);
  if (icmp && len >= 8 && icmp_error(a.v6, h[0])) return false;
  L4Parts b;
  if (a.proto == 6 || a.proto == 17 || a.proto == 132 || icmp) {
    if (!l4_header(h, len, a.proto, a.v6, b, x ? &x->tcp : nullptr, false)) return false;
  } else if (a.proto == 1 || a.proto == 58) {
    return false;
  }
  if (x) {
    x->l3 = uint16_t(l3);
    x->l4 = uint16_t(l3 + a.l4);
  }
  uint64_t w[6];
  w[0] = a.w[0], w[1] = a.w[1], w[2] = a.w[2], w[3] = a.w[3];
  key_tail(a, b, k.zone, false, w);
  return ((w[0] ^ kw[0]) | (w[1] ^ kw[1]) | (w[2] ^ kw[2]) | (w[3] ^ kw[3]) | (w[4] ^ kw[4]) |
          (w[5] ^ kw[5])) == 0;
}

}  // namespace flowpath::ct
