// flowpath/conntrack/conn_key.hpp — a connection's 5-tuple plus zone, and
// its extraction from a frame.
//
// ConnKey is a fixed 48-byte POD so that equality is a memcmp and hashing
// reads six words.  TCP/UDP/SCTP keep their ports; ICMP/ICMPv6 keep the
// echo id in both port slots and the type in `stype`, with `dtype` the
// type its answer carries (echo request 8 -> reply 0), so that the key of a
// reply is exactly the reverse of the key of its request, as in OVS.
//
// extract_key() (key_extract.hpp) reads the frame at the offsets the parser left in
// Packet::meta (l3, l4) and never trusts a length field: every read is
// checked against the frame and against the IP total/payload length.
// ICMP errors (v4 types 3, 4, 5, 11, 12; v6 types 1-4) yield the key of the
// connection quoted inside them, reversed (the error travels back towards
// the sender of the quoted packet), with `related` set.
// Cost: ~20-40 ns.  Thread-safety: pure functions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "flowpath/action/checksum.hpp"
#include "flowpath/conntrack/ct_types.hpp"
#include "flowpath/core/packet.hpp"

namespace flowpath::ct {

struct ConnKey {
  CtAddr src{}, dst{};
  uint16_t sport = 0, dport = 0;  // host order; ICMP: the echo id
  uint16_t zone = 0;
  uint8_t proto = 0;
  uint8_t v6 = 0;
  uint8_t stype = 0, dtype = 0;  // ICMP type of this side / of the answer
  uint8_t code = 0;
  uint8_t pad_[5] = {};

  friend bool operator==(const ConnKey& a, const ConnKey& b) noexcept {
    return std::memcmp(&a, &b, sizeof a) == 0;
  }
  ConnKey reversed() const noexcept {
    ConnKey r = *this;
    r.src = dst;
    r.dst = src;
    r.sport = dport;
    r.dport = sport;
    r.stype = dtype;
    r.dtype = stype;
    return r;
  }
  bool icmp() const noexcept { return proto == 1 || proto == 58; }
  bool has_ports() const noexcept { return proto == 6 || proto == 17 || proto == 132; }
};
static_assert(sizeof(ConnKey) == 48);

/// A 64-bit mix of the key's six words in two independent lanes (half the
/// dependency chain of one), folded to 32 bits at the end (a key node keeps
/// 32: see conn_table.hpp); the shard takes the top bits, the bucket the
/// low ones.
[[gnu::always_inline]] inline uint64_t hash_words_wide(const uint64_t* w) noexcept {
  uint64_t a = 0x9e3779b97f4a7c15ull, b = 0xc2b2ae3d27d4eb4full;
  for (int i = 0; i < 6; i += 2) {
    a = (a ^ w[i]) * 0xbf58476d1ce4e5b9ull;
    b = (b ^ w[i + 1]) * 0x94d049bb133111ebull;
    a ^= a >> 29;
    b ^= b >> 31;
  }
  uint64_t h = (a ^ (b >> 17) ^ (b << 47)) * 0xff51afd7ed558ccdull;
  return h ^ (h >> 32);
}
[[gnu::always_inline]] inline uint32_t hash_words(const uint64_t* w) noexcept {
  return uint32_t(hash_words_wide(w));
}
/// All 64 bits (NAT's tuple choice draws its starting points from them).
inline uint64_t hash_key_wide(const ConnKey& k) noexcept {
  uint64_t w[6];
  std::memcpy(w, &k, sizeof w);
  return hash_words_wide(w);
}
inline uint32_t hash_key(const ConnKey& k) noexcept { return uint32_t(hash_key_wide(k)); }
/// hash_key(k.reversed()), from k's words (building the reversed key field
/// by field and reading it back as words stalls on store forwarding).
inline uint32_t hash_key_reversed(const ConnKey& k) noexcept {
  uint64_t w[6], r[6];
  std::memcpy(w, &k, sizeof w);
  r[0] = w[2];
  r[1] = w[3];
  r[2] = w[0];
  r[3] = w[1];
  // sport | dport << 16 | zone, proto, v6 above; stype | dtype << 8 | code, pad.
  r[4] = (w[4] & ~uint64_t(0xffffffff)) | (w[4] & 0xffff) << 16 | (w[4] >> 16 & 0xffff);
  r[5] = (w[5] & ~uint64_t(0xffff)) | (w[5] & 0xff) << 8 | (w[5] >> 8 & 0xff);
  return hash_words(r);
}

/// TCP fields the state machine needs (host order).
struct TcpInfo {
  uint32_t seq = 0, ack = 0, payload = 0;
  uint16_t window = 0;
  uint8_t flags = 0;   // FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20
  uint8_t wscale = 0;  // 0x80 | shift when the option is present (SYNs)
};

enum class Extract : uint8_t { kOk, kInvalid, kFragment, kNotIp };

struct Extracted {
  ConnKey key;
  uint32_t hash = 0;  // hash_key(key), computed from registers while building it
  TcpInfo tcp;
  bool related = false;     // an ICMP error quoting `key`'s connection
  bool same = false;        // key (and hash) equal to the `prev` given to extract_key
  uint16_t l3 = 0, l4 = 0;  // offsets in the frame (outer headers)
  uint16_t inner_l3 = 0, inner_l4 = 0;
};

}  // namespace flowpath::ct

#include "flowpath/conntrack/key_extract.hpp"
