// key_is (the connection hint's check, conntrack/key_extract.hpp) against
// its definition: key_is(pkt, k, x) is true exactly when extract_key(pkt,
// k.zone) gives kOk, not related, and a key equal to k word for word, and
// then x's segment fields and offsets are extract_key's.  Frames of every
// kind a hint can meet (IPv4 TCP/UDP, which take key_is's IPv4 path, and
// ICMP, SCTP, other, IPv6, which take the generic one), each byte from the
// IP header on changed in several ways (with the IPv4 checksum made right
// again, so the later checks are reached too), against the frame's own
// key, its reverse, another frame's, and its key with any one byte changed
// (the words the IPv4 path assumes zero included).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "../conntrack/ct_support.hpp"

namespace flowpath {
namespace key_is_test {

using namespace cttest;

// The definition: extract_key's verdict and key.
bool reference(const Packet& p, const ConnKey& k, Extracted& x) {
  return extract_key(p, k.zone, x) == Extract::kOk && !x.related &&
         std::memcmp(&x.key, &k, sizeof k) == 0;
}

void fix_ipv4_csum(uint8_t* ip, size_t avail) {
  const uint32_t ihl = uint32_t(ip[0] & 15) * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20 || ihl > avail) return;
  ip[10] = ip[11] = 0;
  const uint16_t c = uint16_t(~csum_fold(csum_add_bytes(0, ip, ihl)));
  ip[10] = uint8_t(c >> 8);
  ip[11] = uint8_t(c);
}

std::vector<Stack> frames() {
  return {
      tcp4("192.0.2.1", "198.51.100.7", 2000, 80, kAck | kPsh, 1000, 2000, 12),
      tcp4("192.0.2.1", "198.51.100.7", 2000, 80, kSyn, 1000, 0),
      Eth{} / IPv4{.src = "192.0.2.1", .dst = "198.51.100.7", .options = {1, 1, 1, 1}} /
          TCP{.sport = 1, .dport = 2, .flags = kAck, .seq = 5, .ack = 6, .options = {1, 1, 1, 0}},
      udp4("192.0.2.1", "198.51.100.7", 1000, 53),
      Eth{} / IPv4{.src = "192.0.2.1", .dst = "198.51.100.7"} / ICMP{.type = 8, .id = 7},
      Eth{} / IPv4{.src = "192.0.2.1", .dst = "198.51.100.7"} / SCTP{.sport = 5, .dport = 6},
      Eth{} / IPv4{.src = "192.0.2.1", .dst = "198.51.100.7", .proto = 47} / Payload{.n = 16},
      Eth{} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} / UDP{.sport = 9, .dport = 10} /
          Payload{.n = 8},
      Eth{} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
          TCP{.sport = 9, .dport = 10, .flags = kAck, .seq = 1, .ack = 2},
  };
}

// key_is with and without x against the reference, for one packet and key.
void check(const Packet& p, const ConnKey& k, const char* what, size_t at, int change) {
  Extracted want;
  const bool ref = reference(p, k, want);
  Extracted got;
  ASSERT_EQ(key_is(p, k, &got), ref) << what << " byte " << at << " change " << change;
  // Without x a TCP key never matches (its tracker needs the segment).
  ASSERT_EQ(key_is(p, k), ref && k.proto != 6) << what << " byte " << at << " change " << change;
  if (!ref) return;
  ASSERT_EQ(got.l3, want.l3);
  ASSERT_EQ(got.l4, want.l4);
  if (k.proto != 6) return;
  EXPECT_EQ(got.tcp.seq, want.tcp.seq);
  EXPECT_EQ(got.tcp.ack, want.tcp.ack);
  EXPECT_EQ(got.tcp.flags, want.tcp.flags);
  EXPECT_EQ(got.tcp.window, want.tcp.window);
  EXPECT_EQ(got.tcp.payload, want.tcp.payload);
  EXPECT_EQ(got.tcp.wscale, want.tcp.wscale);
}

TEST(KeyIs, AsExtractKeyForEveryChangedByte) {
  const std::vector<Stack> fs = frames();
  std::vector<ConnKey> keys;
  for (const Stack& s : fs) {
    PacketBuffer b = parsed(s);
    Extracted x;
    ASSERT_EQ(extract_key(b.packet(), 1, x), Extract::kOk);
    keys.push_back(x.key);
  }
  size_t matched = 0;
  for (size_t f = 0; f < fs.size(); ++f) {
    SCOPED_TRACE(f);
    const ConnKey& own = keys[f];
    std::vector<ConnKey> ks{own, own.reversed(), keys[(f + 1) % keys.size()]};
    for (size_t i = 0; i < sizeof(ConnKey); ++i) {
      if (i == offsetof(ConnKey, zone) || i == offsetof(ConnKey, zone) + 1) continue;  // k.zone
      ConnKey k = own;
      reinterpret_cast<uint8_t*>(&k)[i] ^= 0x40;
      ks.push_back(k);
    }
    PacketBuffer clean = parsed(fs[f]);
    for (const ConnKey& k : ks) check(clean.packet(), k, "unchanged", 0, 0);
    matched += key_is(clean.packet(), own, nullptr) || own.proto == 6;
    const uint32_t l3 = clean.packet().meta.l3;
    for (size_t at = l3; at < clean.packet().size(); ++at)
      for (int change : {0x01, 0x10, 0x80, 0xff})
        for (bool fix : {false, true}) {
          PacketBuffer b = parsed(fs[f]);
          Packet& p = b.packet();
          p.data()[at] ^= uint8_t(change);
          if (fix) fix_ipv4_csum(p.data() + l3, p.size() - l3);
          for (const ConnKey& k : ks)
            check(p, k, fix ? "changed, checksum fixed" : "changed", at, change);
        }
  }
  EXPECT_EQ(matched, fs.size());  // every frame matches its own key
}

}  // namespace key_is_test
}  // namespace flowpath
