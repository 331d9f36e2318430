// Golden-byte tests for the test packet builder.  Every golden frame below
// was written out as pcap and checked with tshark (all IPv4 header, TCP,
// UDP, ICMP, ICMPv6 and SCTP CRC32c checksums reported "correct").
#include "support/packet_builder.hpp"

#include <gtest/gtest.h>

namespace flowpath::test {
namespace packet_builder_test {

const char* kDst = "02:00:00:00:00:02";
const char* kSrc = "02:00:00:00:00:01";

void expect_golden(const Stack& s, const char* golden) {
  EXPECT_EQ(hex(s.bytes()), hex(unhex(golden)));
}

TEST(PacketBuilder, Literals) {
  EXPECT_EQ(mac("aa:bb:cc:dd:ee:ff").b,
            (std::array<uint8_t, 6>{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}));
  EXPECT_EQ(ipv4("192.0.2.1"), Be32{0xc0000201});
  Ipv6Addr a = ipv6("2001:db8::1");
  EXPECT_EQ(a.b[0], 0x20);
  EXPECT_EQ(a.b[1], 0x01);
  EXPECT_EQ(a.b[15], 0x01);
  EXPECT_THROW(mac("aa:bb:cc"), std::invalid_argument);
  EXPECT_THROW(mac("aa:bb:cc:dd:ee:fff"), std::invalid_argument);
  EXPECT_THROW(ipv4("192.0.2"), std::invalid_argument);
  EXPECT_THROW(ipv6("2001:db8:::1"), std::invalid_argument);
  EXPECT_THROW(unhex("abc"), std::invalid_argument);
}

TEST(PacketBuilder, VlanIpv4Udp) {
  expect_golden(Eth{kDst, kSrc} / Dot1Q{.vid = 1000, .pcp = 3} /
                    IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .id = 1} /
                    UDP{.sport = 1234, .dport = 53} / Payload{.n = 4},
                "02 00 00 00 00 02 02 00 00 00 00 01 81 00 63 e8 08 00 45 00 00 20 00 01 00 00"
                "40 11 f6 c8 c0 00 02 01 c0 00 02 02 04 d2 00 35 00 0c 74 c7 00 01 02 03");
}

TEST(PacketBuilder, Ipv4Tcp) {
  expect_golden(Eth{kDst, kSrc} /
                    IPv4{.src = "198.51.100.1", .dst = "203.0.113.9", .ttl = 17, .tos = 0xb9} /
                    TCP{.sport = 40000, .dport = 80, .flags = 0x012, .seq = 1, .ack = 2},
                "02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 b9 00 28 00 00 00 00 11 06 42 d9"
                "c6 33 64 01 cb 00 71 09 9c 40 00 50 00 00 00 01 00 00 00 02 50 12 ff ff ad 00"
                "00 00");
}

TEST(PacketBuilder, Arp) {
  expect_golden(Eth{"ff:ff:ff:ff:ff:ff", kSrc} /
                    ARP{.op = 1, .sha = kSrc, .spa = "192.0.2.1", .tpa = "192.0.2.2"},
                "ff ff ff ff ff ff 02 00 00 00 00 01 08 06 00 01 08 00 06 04 00 01 02 00 00 00"
                "00 01 c0 00 02 01 00 00 00 00 00 00 c0 00 02 02");
}

TEST(PacketBuilder, Icmp) {
  expect_golden(Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
                    ICMP{.type = 8, .id = 7, .seq = 1} / Payload{.n = 8},
                "02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 24 00 00 00 00 40 01 f6 d5"
                "c0 00 02 01 c0 00 02 02 08 00 eb e7 00 07 00 01 00 01 02 03 04 05 06 07");
}

TEST(PacketBuilder, NeighborSolicitation) {
  expect_golden(Eth{"33:33:ff:00:00:02", kSrc} /
                    IPv6{.src = "2001:db8::1", .dst = "ff02::1:ff00:2", .hlim = 255} /
                    NdNs{.target = "2001:db8::2", .sll = mac(kSrc)},
                "33 33 ff 00 00 02 02 00 00 00 00 01 86 dd 60 00 00 00 00 20 3a ff 20 01 0d b8"
                "00 00 00 00 00 00 00 00 00 00 00 01 ff 02 00 00 00 00 00 00 00 00 00 01 ff 00"
                "00 02 87 00 1c 27 00 00 00 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
                "01 01 02 00 00 00 00 01");
}

TEST(PacketBuilder, Ipv6HopByHopTcp) {
  expect_golden(Eth{kDst, kSrc} /
                    IPv6{.src = "2001:db8::1", .dst = "2001:db8::2", .tc = 0x28, .flow = 0x12345} /
                    Ipv6Ext{.type = 0} / TCP{.sport = 1, .dport = 443, .flags = 0x010},
                "02 00 00 00 00 02 02 00 00 00 00 01 86 dd 62 81 23 45 00 1c 00 40 20 01 0d b8"
                "00 00 00 00 00 00 00 00 00 00 00 01 20 01 0d b8 00 00 00 00 00 00 00 00 00 00"
                "00 02 06 00 01 04 00 00 00 00 00 01 01 bb 00 00 00 00 00 00 00 00 50 10 ff ff"
                "52 a4 00 00");
}

TEST(PacketBuilder, Ipv6Udp) {
  expect_golden(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
                    UDP{.sport = 5, .dport = 6} / Payload{.n = 3},
                "02 00 00 00 00 02 02 00 00 00 00 01 86 dd 60 00 00 00 00 0b 11 40 20 01 0d b8"
                "00 00 00 00 00 00 00 00 00 00 00 01 20 01 0d b8 00 00 00 00 00 00 00 00 00 00"
                "00 02 00 05 00 06 00 0b a2 57 00 01 02");
}

TEST(PacketBuilder, Sctp) {
  EXPECT_EQ(crc32c(reinterpret_cast<const uint8_t*>("123456789"), 9), 0xe3069283u);
  expect_golden(Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
                    SCTP{.sport = 1, .dport = 2, .vtag = 0x11223344},
                "02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 20 00 00 00 00 40 84 f6 56"
                "c0 00 02 01 c0 00 02 02 00 01 00 02 11 22 33 44 34 0f c7 d7");
}

TEST(PacketBuilder, QinQAndOverrides) {
  auto v = (Eth{kDst, kSrc} / Dot1AD{.vid = 10} / Dot1Q{.vid = 20, .pcp = 7} /
            IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .ihl = 4, .tot_len = 999} /
            UDP{.sport = 1, .dport = 2})
               .bytes();
  ASSERT_EQ(v.size(), 14u + 8 + 20 + 8);
  EXPECT_EQ(hex({v.begin() + 12, v.begin() + 22}), "88 a8 00 0a 81 00 e0 14 08 00");
  EXPECT_EQ(v[22], 0x44);              // IHL override
  EXPECT_EQ(v[24] << 8 | v[25], 999);  // total length override
  // Fragment header and explicit next headers.
  auto f = (Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
            Ipv6Frag{.offset = 3, .more = true, .id = 9} / UDP{})
               .bytes();
  EXPECT_EQ(f[20], 44);  // IPv6 next header: fragment
  EXPECT_EQ(hex({f.begin() + 54, f.begin() + 62}), "11 00 00 19 00 00 00 09");
  // A frame without a known next layer gets the local experimental type.
  EXPECT_EQ(bytes_of(Eth{kDst, kSrc}).size(), 14u);
  EXPECT_EQ(bytes_of(Eth{kDst, kSrc})[12], 0x88);
}

}  // namespace packet_builder_test
}  // namespace flowpath::test
