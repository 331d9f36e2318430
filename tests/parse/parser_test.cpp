// Parser tests: every protocol's fields, truncation at every length of
// every kind of frame, broken length fields, VLAN stacking limits, IPv6
// extension-header chains, and batch == packet-by-packet.
#include "flowpath/parse/parser.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "support/packet_builder.hpp"

namespace flowpath {
namespace parser_test {

using namespace flowpath::test;

const char* kDst = "02:00:00:00:00:02";
const char* kSrc = "02:00:00:00:00:01";

struct Parsed {
  FlowKey key;
  PacketMeta meta;
  bool ok = false;
};

// Parses a copy of `frame` held in a buffer of exactly frame.size() bytes,
// so that AddressSanitizer catches any read past the end.
Parsed parse(const std::vector<uint8_t>& frame, uint32_t in_port = 0) {
  auto buf = std::make_unique<uint8_t[]>(frame.size() ? frame.size() : 1);
  if (!frame.empty()) std::memcpy(buf.get(), frame.data(), frame.size());
  Packet pkt(buf.get(), uint32_t(frame.size()), 0, uint32_t(frame.size()));
  pkt.in_port = in_port;
  pkt.meta.hash = 0xdeadbeef;
  Parsed r;
  std::memset(static_cast<void*>(&r.key), 0xab, sizeof r.key);  // parse must zero it
  r.ok = parse_packet(pkt, r.key);
  r.meta = pkt.meta;
  EXPECT_EQ(pkt.meta.hash, 0xdeadbeef) << "the parser must leave the hash alone";
  EXPECT_EQ(r.ok, !pkt.meta.malformed);
  return r;
}
Parsed parse(const Stack& s, uint32_t in_port = 0) { return parse(s.bytes(), in_port); }

Be16 be16(uint16_t v) { return Be16{v}; }

TEST(Parser, VlanIpv4Udp) {
  auto r = parse(Eth{kDst, kSrc} / Dot1Q{.vid = 1000, .pcp = 5} /
                     IPv4{.src = "192.0.2.1", .dst = "198.51.100.7", .ttl = 9, .tos = 0x2e} /
                     UDP{.sport = 1234, .dport = 53} / Payload{.n = 10},
                 7);
  ASSERT_TRUE(r.ok);
  const FlowKey& k = r.key;
  EXPECT_EQ(k.in_port, 7u);
  EXPECT_EQ(k.dl_dst, mac(kDst));
  EXPECT_EQ(k.dl_src, mac(kSrc));
  EXPECT_EQ(k.dl_type, be16(0x0800));
  EXPECT_EQ(k.vlans[0].tpid, be16(0x8100));
  EXPECT_EQ(k.vlans[0].tci, be16(5 << 13 | kVlanCfi | 1000));
  EXPECT_EQ(k.vlans[1], VlanHeader{});
  EXPECT_EQ(k.nw_src, ipv4("192.0.2.1"));
  EXPECT_EQ(k.nw_dst, ipv4("198.51.100.7"));
  EXPECT_EQ(k.nw_proto, kIpProtoUdp);
  EXPECT_EQ(k.nw_ttl, 9);
  EXPECT_EQ(k.nw_tos, 0x2e);
  EXPECT_EQ(k.nw_frag, 0);
  EXPECT_EQ(k.tp_src, be16(1234));
  EXPECT_EQ(k.tp_dst, be16(53));
  EXPECT_EQ(k.tcp_flags, be16(0));
  EXPECT_EQ(r.meta.l2, 0);
  EXPECT_EQ(r.meta.l2_5, 12);
  EXPECT_EQ(r.meta.l3, 18);
  EXPECT_EQ(r.meta.l4, 38);
  // Everything else, including padding, is zero.
  FlowKey rest = k;
  rest.in_port = 0;
  rest.dl_dst = rest.dl_src = {};
  rest.dl_type = {};
  rest.vlans[0] = {};
  rest.nw_src = rest.nw_dst = {};
  rest.nw_proto = rest.nw_ttl = rest.nw_tos = 0;
  rest.tp_src = rest.tp_dst = {};
  EXPECT_TRUE(is_zero(rest));
}

TEST(Parser, QinQ) {
  auto r = parse(Eth{kDst, kSrc} / Dot1AD{.vid = 100, .pcp = 1} / Dot1Q{.vid = 200, .dei = true} /
                 IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 1, .dport = 2});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.key.vlans[0].tpid, be16(0x88a8));
  EXPECT_EQ(r.key.vlans[0].tci, be16(1 << 13 | kVlanCfi | 100));
  EXPECT_EQ(r.key.vlans[1].tpid, be16(0x8100));
  EXPECT_EQ(r.key.vlans[1].tci, be16(kVlanCfi | 200));  // DEI on the wire: same bit
  EXPECT_EQ(r.key.dl_type, be16(0x0800));
  EXPECT_EQ(r.key.tp_dst, be16(2));
  EXPECT_EQ(r.meta.l2_5, 12);
  EXPECT_EQ(r.meta.l3, 22);
}

TEST(Parser, ThreeVlanTagsKeepTwoAndAreMalformed) {
  auto r = parse(Eth{kDst, kSrc} / Dot1AD{.vid = 1} / Dot1Q{.vid = 2} / Dot1Q{.vid = 3} /
                 IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.key.vlans[0].tci, be16(kVlanCfi | 1));
  EXPECT_EQ(r.key.vlans[1].tci, be16(kVlanCfi | 2));
  EXPECT_EQ(r.key.dl_type, be16(0x8100));  // the third tag's TPID
  EXPECT_EQ(r.key.nw_src, Be32{});
  EXPECT_EQ(r.meta.l3, kNoOffset);
}

TEST(Parser, Ipv4TcpWithOptions) {
  auto r =
      parse(Eth{kDst, kSrc} /
            IPv4{.src = "203.0.113.1", .dst = "203.0.113.2", .options = {1, 1, 1, 0, 7, 3, 4}} /
            TCP{.sport = 40000, .dport = 443, .flags = 0x1d2, .options = {2, 4, 5, 0xb4}} /
            Payload{.n = 20});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.key.nw_proto, kIpProtoTcp);
  EXPECT_EQ(r.key.tp_src, be16(40000));
  EXPECT_EQ(r.key.tp_dst, be16(443));
  EXPECT_EQ(r.key.tcp_flags, be16(0x1d2));
  EXPECT_EQ(r.meta.l3, 14);
  EXPECT_EQ(r.meta.l4, 14 + 28);
}

TEST(Parser, Ipv4Fragments) {
  auto first =
      parse(Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .frag = 0x2000} /
            UDP{.sport = 7, .dport = 8} / Payload{.n = 16});
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(first.key.nw_frag, kFragAny);
  EXPECT_EQ(first.key.tp_src, be16(7));
  auto later = parse(Eth{kDst, kSrc} /
                     IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .proto = 17, .frag = 0x0003} /
                     Payload{.n = 16});
  ASSERT_TRUE(later.ok);
  EXPECT_EQ(later.key.nw_frag, kFragAny | kFragLater);
  EXPECT_EQ(later.key.nw_proto, 17);
  EXPECT_EQ(later.key.tp_src, Be16{});
  EXPECT_EQ(later.meta.l4, kNoOffset);
  // A first fragment too short for its L4 header is not malformed.
  auto tiny = parse(Eth{kDst, kSrc} /
                    IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .proto = 6, .frag = 0x2000} /
                    Payload{.n = 8});
  EXPECT_TRUE(tiny.ok);
  EXPECT_EQ(tiny.key.tp_src, Be16{});
  // DF alone is not a fragment.
  auto df =
      parse(Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .frag = 0x4000} / UDP{});
  EXPECT_EQ(df.key.nw_frag, 0);
}

TEST(Parser, IcmpAndSctp) {
  auto icmp = parse(Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
                    ICMP{.type = 3, .code = 4} / Payload{.n = 28});
  ASSERT_TRUE(icmp.ok);
  EXPECT_EQ(icmp.key.nw_proto, kIpProtoIcmp);
  EXPECT_EQ(icmp.key.tp_src, be16(3));
  EXPECT_EQ(icmp.key.tp_dst, be16(4));
  auto sctp = parse(Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
                    SCTP{.sport = 2905, .dport = 2906});
  ASSERT_TRUE(sctp.ok);
  EXPECT_EQ(sctp.key.nw_proto, kIpProtoSctp);
  EXPECT_EQ(sctp.key.tp_src, be16(2905));
  EXPECT_EQ(sctp.key.tp_dst, be16(2906));
  // Unknown IP protocol: L3 only, valid.
  auto gre = parse(Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .proto = 47} /
                   Payload{.n = 4});
  EXPECT_TRUE(gre.ok);
  EXPECT_EQ(gre.key.nw_proto, 47);
  EXPECT_EQ(gre.meta.l4, 34);
}

TEST(Parser, Arp) {
  auto r = parse(Eth{"ff:ff:ff:ff:ff:ff", kSrc} /
                 ARP{.op = 2, .sha = kSrc, .spa = "192.0.2.1", .tha = kDst, .tpa = "192.0.2.2"} /
                 Payload{.n = 18});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.key.dl_type, be16(kEthTypeArp));
  EXPECT_EQ(r.key.nw_proto, 2);
  EXPECT_EQ(r.key.nw_src, ipv4("192.0.2.1"));
  EXPECT_EQ(r.key.nw_dst, ipv4("192.0.2.2"));
  EXPECT_EQ(r.key.arp_sha, mac(kSrc));
  EXPECT_EQ(r.key.arp_tha, mac(kDst));
  EXPECT_EQ(r.meta.l3, 14);
  EXPECT_EQ(r.meta.l4, kNoOffset);
  // RARP is decoded the same way.
  auto rarp = parse(Eth{kDst, kSrc, 0x8035} / ARP{.op = 3, .sha = kSrc, .tha = kSrc});
  EXPECT_TRUE(rarp.ok);
  EXPECT_EQ(rarp.key.nw_proto, 3);
  EXPECT_EQ(rarp.key.arp_tha, mac(kSrc));
  // Opcodes above 0xff match as 0; other hardware types give no fields.
  EXPECT_EQ(parse(Eth{kDst, kSrc} / ARP{.op = 0x101}).key.nw_proto, 0);
  auto other = parse(Eth{kDst, kSrc} / ARP{.op = 1, .spa = "192.0.2.1", .htype = 6});
  EXPECT_TRUE(other.ok);
  EXPECT_EQ(other.key.nw_src, Be32{});
}

TEST(Parser, Ipv6Udp) {
  auto r = parse(
      Eth{kDst, kSrc} / Dot1Q{.vid = 5} /
      IPv6{.src = "2001:db8::1", .dst = "2001:db8::2", .hlim = 3, .tc = 0xb8, .flow = 0xabcde} /
      UDP{.sport = 546, .dport = 547});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.key.dl_type, be16(kEthTypeIpv6));
  EXPECT_EQ(r.key.ipv6_src, ipv6("2001:db8::1"));
  EXPECT_EQ(r.key.ipv6_dst, ipv6("2001:db8::2"));
  EXPECT_EQ(r.key.ipv6_label, Be32{0xabcde});
  EXPECT_EQ(r.key.nw_tos, 0xb8);
  EXPECT_EQ(r.key.nw_ttl, 3);
  EXPECT_EQ(r.key.nw_proto, kIpProtoUdp);
  EXPECT_EQ(r.key.tp_src, be16(546));
  EXPECT_EQ(r.key.nw_src, Be32{});
  EXPECT_EQ(r.meta.l3, 18);
  EXPECT_EQ(r.meta.l4, 58);
}

TEST(Parser, Ipv6ExtensionHeaders) {
  auto r = parse(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
                 Ipv6Ext{.type = 0} / Ipv6Ext{.type = 43, .len = 2} / Ipv6Ext{.type = 60} /
                 TCP{.sport = 22, .dport = 2222, .flags = 0x018} / Payload{.n = 5});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.key.nw_proto, kIpProtoTcp);
  EXPECT_EQ(r.key.tp_dst, be16(2222));
  EXPECT_EQ(r.key.tcp_flags, be16(0x018));
  EXPECT_EQ(r.meta.l4, 14 + 40 + 8 + 24 + 8);
  EXPECT_EQ(r.key.nw_frag, 0);
}

TEST(Parser, Ipv6Fragments) {
  auto first = parse(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
                     Ipv6Frag{.more = true} / UDP{.sport = 9, .dport = 10} / Payload{.n = 8});
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(first.key.nw_frag, kFragAny);
  EXPECT_EQ(first.key.nw_proto, kIpProtoUdp);
  EXPECT_EQ(first.key.tp_dst, be16(10));
  auto later = parse(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
                     Ipv6Frag{.offset = 100, .next = 6} / Payload{.n = 16});
  ASSERT_TRUE(later.ok);
  EXPECT_EQ(later.key.nw_frag, kFragAny | kFragLater);
  EXPECT_EQ(later.key.nw_proto, 6);
  EXPECT_EQ(later.key.tp_src, Be16{});
  EXPECT_EQ(later.meta.l4, kNoOffset);
}

TEST(Parser, Icmpv6AndNeighborDiscovery) {
  auto echo = parse(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
                    ICMPv6{.type = 128, .body = {0, 1, 0, 1}});
  ASSERT_TRUE(echo.ok);
  EXPECT_EQ(echo.key.nw_proto, kIpProtoIcmpv6);
  EXPECT_EQ(echo.key.tp_src, be16(128));
  EXPECT_EQ(echo.key.tp_dst, be16(0));
  EXPECT_TRUE(echo.key.nd_target == Ipv6Addr{});

  auto ns = parse(Eth{"33:33:ff:00:00:02", kSrc} /
                  IPv6{.src = "2001:db8::1", .dst = "ff02::1:ff00:2", .hlim = 255} /
                  NdNs{.target = "2001:db8::2", .sll = mac(kSrc)});
  ASSERT_TRUE(ns.ok);
  EXPECT_EQ(ns.key.tp_src, be16(135));
  EXPECT_EQ(ns.key.nd_target, ipv6("2001:db8::2"));
  EXPECT_EQ(ns.key.arp_sha, mac(kSrc));
  EXPECT_EQ(ns.key.arp_tha, EthAddr{});

  auto na = parse(Eth{kSrc, kDst} / IPv6{.src = "2001:db8::2", .dst = "2001:db8::1"} /
                  NdNa{.target = "2001:db8::2", .tll = mac(kDst)});
  ASSERT_TRUE(na.ok);
  EXPECT_EQ(na.key.tp_src, be16(136));
  EXPECT_EQ(na.key.nd_target, ipv6("2001:db8::2"));
  EXPECT_EQ(na.key.arp_tha, mac(kDst));
  EXPECT_EQ(na.key.arp_sha, EthAddr{});

  // An option of length 0 is malformed; the target stays.
  auto bad = parse(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
                   ICMPv6{.type = 135, .body = [] {
                            std::vector<uint8_t> b(20 + 8, 0);
                            b[4 + 15] = 9;  // target ::9
                            b[20] = 1;      // SLL with length 0
                            return b;
                          }()});
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.key.nd_target.b[15], 9);
}

TEST(Parser, Ieee8023AndUnknownEthertypes) {
  auto llc = parse(Eth{kDst, kSrc, 0x0026} / Payload{.n = 38});
  EXPECT_TRUE(llc.ok);
  EXPECT_EQ(llc.key.dl_type, be16(0x05ff));
  EXPECT_EQ(llc.meta.l3, kNoOffset);
  auto other = parse(Eth{kDst, kSrc, 0x88cc} / Payload{.n = 10});
  EXPECT_TRUE(other.ok);
  EXPECT_EQ(other.key.dl_type, be16(0x88cc));
  auto vlan_llc = parse(Eth{kDst, kSrc} / Dot1Q{.vid = 3, .type = 0x0100} / Payload{.n = 8});
  EXPECT_TRUE(vlan_llc.ok);
  EXPECT_EQ(vlan_llc.key.dl_type, be16(0x05ff));
  EXPECT_EQ(vlan_llc.key.vlans[0].tci, be16(kVlanCfi | 3));
}

TEST(Parser, EthernetPaddingIsIgnored) {
  auto s = Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} / UDP{.sport = 1};
  auto plain = s.bytes();
  auto padded = plain;
  padded.resize(60, 0);
  auto a = parse(plain), b = parse(padded);
  EXPECT_TRUE(a.ok && b.ok);
  EXPECT_EQ(a.key, b.key);
}

TEST(Parser, BadIpv4Headers) {
  auto base = [](IPv4 ip) {
    ip.src = "192.0.2.1";
    ip.dst = "192.0.2.2";
    return parse(Eth{kDst, kSrc} / ip / UDP{.sport = 1, .dport = 2} / Payload{.n = 8});
  };
  for (uint8_t ihl : {0, 1, 4}) {
    auto r = base(IPv4{.ihl = ihl});
    EXPECT_FALSE(r.ok) << int(ihl);
    EXPECT_EQ(r.key.nw_src, Be32{}) << int(ihl);
    EXPECT_EQ(r.meta.l3, 14);
  }
  EXPECT_FALSE(base(IPv4{.ihl = 15}).ok);  // 60 bytes: beyond the 50-byte frame
  EXPECT_FALSE(base(IPv4{.version = 6}).ok);
  // Total length beyond the frame: L3 fields kept, nothing after them.
  auto big = base(IPv4{.tot_len = 200});
  EXPECT_FALSE(big.ok);
  EXPECT_EQ(big.key.nw_src, ipv4("192.0.2.1"));
  EXPECT_EQ(big.key.tp_src, Be16{});
  // Total length shorter than the header.
  EXPECT_FALSE(base(IPv4{.tot_len = 19}).ok);
  // Total length that cuts off the UDP header: malformed.
  auto cut = base(IPv4{.tot_len = 24});
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.key.tp_src, Be16{});
  // Bad TCP data offsets.
  for (uint8_t doff : {0, 4, 15}) {
    auto t = parse(Eth{kDst, kSrc} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
                   TCP{.sport = 1, .dport = 2, .doff = doff});
    EXPECT_FALSE(t.ok) << int(doff);
    EXPECT_EQ(t.key.tp_src, Be16{});
  }
}

TEST(Parser, BadIpv6Headers) {
  auto big = parse(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2", .plen = 100} /
                   UDP{});
  EXPECT_FALSE(big.ok);
  EXPECT_EQ(big.key.ipv6_src, ipv6("2001:db8::1"));
  EXPECT_EQ(big.key.nw_proto, 0);
  EXPECT_FALSE(
      parse(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "::2", .version = 4} / UDP{}).ok);
  // A chain that runs past the payload (hop-by-hop announcing 64 bytes).
  auto past = parse(Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
                    Ipv6Ext{.type = 0, .next = 0} / Raw{{6, 7, 0, 0, 0, 0, 0, 0}});
  EXPECT_FALSE(past.ok);
  // A chain that never ends: a destination-options header announcing
  // another, until the frame is exhausted.
  Stack endless = Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"};
  for (int i = 0; i < 20; ++i) endless = endless / Ipv6Ext{.type = 60, .next = 60};
  EXPECT_FALSE(parse(endless).ok);
  // A long but ending chain: more than kMaxIpv6ExtHeaders is malformed.
  Stack chain = Eth{kDst, kSrc} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"};
  for (uint32_t i = 0; i < kMaxIpv6ExtHeaders; ++i) chain = chain / Ipv6Ext{.type = 60};
  EXPECT_TRUE(parse(chain / UDP{.sport = 3}).ok);
  EXPECT_EQ(parse(chain / UDP{.sport = 3}).key.tp_src, be16(3));
  EXPECT_FALSE(parse(chain / Ipv6Ext{.type = 60} / UDP{.sport = 3}).ok);
}

// ---- truncation at every length ---------------------------------------

struct Case {
  const char* name;
  std::vector<uint8_t> frame;
  size_t min_valid;  // shortest cut that is still well formed
};

std::vector<Case> truncation_cases() {
  const auto ip4 = IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .ttl = 3, .tos = 4};
  const auto ip6 = IPv6{.src = "2001:db8::1", .dst = "2001:db8::2", .tc = 3, .flow = 5};
  std::vector<Case> cs;
  auto add = [&](const char* name, const Stack& s, size_t min_valid = 0) {
    auto f = s.bytes();
    cs.push_back({name, f, min_valid ? min_valid : f.size()});
  };
  add("vlan_ipv4_udp",
      Eth{kDst, kSrc} / Dot1Q{.vid = 10} / ip4 / UDP{.sport = 1, .dport = 2} / Payload{.n = 6});
  add("qinq_ipv4_tcp", Eth{kDst, kSrc} / Dot1AD{.vid = 1} / Dot1Q{.vid = 2} /
                           IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .options = {1, 1, 1, 1}} /
                           TCP{.sport = 3, .dport = 4, .flags = 0x11, .options = {1, 1, 1, 1}});
  add("ipv4_icmp", Eth{kDst, kSrc} / ip4 / ICMP{.type = 0} / Payload{.n = 4});
  add("ipv4_sctp", Eth{kDst, kSrc} / ip4 / SCTP{.sport = 5, .dport = 6});
  add("ipv4_first_frag", Eth{kDst, kSrc} /
                             IPv4{.src = "192.0.2.1", .dst = "192.0.2.2", .frag = 0x2000} /
                             UDP{.sport = 1, .dport = 2});
  add("arp",
      Eth{kDst, kSrc} / Dot1Q{.vid = 7} / ARP{.op = 1, .sha = kSrc, .spa = "192.0.2.1"} /
          Payload{.n = 10},
      18 + 28);
  add("ipv6_ext_tcp", Eth{kDst, kSrc} / ip6 / Ipv6Ext{.type = 0} / Ipv6Ext{.type = 60, .len = 1} /
                          TCP{.sport = 7, .dport = 8, .flags = 2});
  add("ipv6_frag_udp", Eth{kDst, kSrc} / ip6 / Ipv6Frag{.more = true} / UDP{.sport = 1});
  add("ipv6_ns", Eth{kDst, kSrc} / ip6 / NdNs{.target = "2001:db8::9", .sll = mac(kSrc)});
  add("ipv6_na", Eth{kDst, kSrc} / ip6 / NdNa{.target = "2001:db8::9", .tll = mac(kSrc)});
  add("other_ethertype", Eth{kDst, kSrc, 0x88cc} / Payload{.n = 20}, 14);
  return cs;
}

// Field byte ranges of FlowKey (padding included as its own ranges).
struct Range {
  size_t off, len;
};
const Range kFields[] = {{0, 4},   {4, 4},   {8, 6},   {14, 6},  {20, 2},  {22, 2},  {24, 4},
                         {28, 4},  {32, 4},  {36, 4},  {40, 16}, {56, 16}, {72, 4},  {76, 1},
                         {77, 1},  {78, 1},  {79, 1},  {80, 16}, {96, 6},  {102, 6}, {108, 4},
                         {112, 2}, {114, 2}, {116, 2}, {118, 2}};

bool bytes_equal(const FlowKey& a, const FlowKey& b, Range r) {
  return std::memcmp(reinterpret_cast<const uint8_t*>(&a) + r.off,
                     reinterpret_cast<const uint8_t*>(&b) + r.off, r.len) == 0;
}
bool bytes_zero(const FlowKey& a, Range r) {
  const auto* p = reinterpret_cast<const uint8_t*>(&a) + r.off;
  for (size_t i = 0; i < r.len; ++i)
    if (p[i]) return false;
  return true;
}

TEST(Parser, TruncationAtEveryLength) {
  for (const Case& c : truncation_cases()) {
    SCOPED_TRACE(c.name);
    const Parsed full = parse(c.frame, 3);
    ASSERT_TRUE(full.ok);
    std::vector<bool> prev_set(std::size(kFields), false);
    for (size_t len = 0; len <= c.frame.size(); ++len) {
      SCOPED_TRACE(len);
      const std::vector<uint8_t> cut(c.frame.begin(), c.frame.begin() + len);
      const Parsed r = parse(cut, 3);
      EXPECT_EQ(r.ok, len >= c.min_valid);
      EXPECT_EQ(r.key.in_port, 3u);
      for (size_t f = 0; f < std::size(kFields); ++f) {
        const Range fr = kFields[f];
        const bool same = bytes_equal(r.key, full.key, fr);
        const bool zero = bytes_zero(r.key, fr);
        if (fr.off == 20) {  // dl_type: the real one, or a TPID the cut stopped at
          const uint16_t t = r.key.dl_type.host();
          EXPECT_TRUE(same || zero || t == kEthTypeVlan || t == kEthTypeQinQ) << t;
        } else {
          EXPECT_TRUE(same || zero) << "field at byte " << fr.off;
        }
        // Once a field is complete, a longer cut keeps it.
        const bool set = same && !zero;
        if (fr.off != 20) {
          EXPECT_TRUE(set || !prev_set[f]) << "field at byte " << fr.off;
        }
        prev_set[f] = set;
      }
      for (uint16_t off : {r.meta.l2_5, r.meta.l3, r.meta.l4}) {
        if (off != kNoOffset) {
          EXPECT_LE(off, len);
        }
      }
      if (r.meta.l3 != kNoOffset) {
        EXPECT_EQ(r.meta.l3, full.meta.l3);
      }
      if (r.meta.l4 != kNoOffset) {
        EXPECT_EQ(r.meta.l4, full.meta.l4);
      }
    }
    const Parsed whole = parse(c.frame, 3);
    EXPECT_EQ(whole.key, full.key);
  }
}

TEST(Parser, TruncatedAfterCompleteIpv4HeaderKeepsL3) {
  auto f = (Eth{kDst, kSrc} / Dot1Q{.vid = 10} / IPv4{.src = "192.0.2.1", .dst = "192.0.2.2"} /
            UDP{.sport = 1, .dport = 2})
               .bytes();
  auto r = parse(std::vector<uint8_t>(f.begin(), f.begin() + 18 + 20));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.key.nw_dst, ipv4("192.0.2.2"));
  EXPECT_EQ(r.key.tp_dst, Be16{});
  auto r2 = parse(std::vector<uint8_t>(f.begin(), f.begin() + 18 + 19));
  EXPECT_EQ(r2.key.nw_dst, Be32{});
  EXPECT_EQ(r2.key.vlans[0].tci, be16(kVlanCfi | 10));
  auto r3 = parse(std::vector<uint8_t>(f.begin(), f.begin() + 15));  // inside the tag
  EXPECT_EQ(r3.key.dl_type, be16(0x8100));
  EXPECT_EQ(r3.key.vlans[0], VlanHeader{});
  EXPECT_EQ(r3.key.dl_src, mac(kSrc));
}

// ---- batches --------------------------------------------------------------

std::vector<std::vector<uint8_t>> mixed_frames() {
  std::vector<std::vector<uint8_t>> fs;
  for (const Case& c : truncation_cases()) {
    fs.push_back(c.frame);
    fs.push_back({c.frame.begin(), c.frame.begin() + c.frame.size() / 2});
  }
  fs.push_back({});
  fs.push_back((Eth{kDst, kSrc} / Dot1Q{} / Dot1Q{} / Dot1Q{} / UDP{}).bytes());
  return fs;
}

TEST(Parser, BatchEqualsPacketByPacket) {
  const auto frames = mixed_frames();
  for (uint32_t bs : {1u, 2u, 5u, 7u, 31u, 32u}) {
    SCOPED_TRACE(bs);
    ParseStats stats;
    uint64_t expect_bad = 0;
    for (size_t start = 0; start < frames.size(); start += bs) {
      std::vector<PacketBuffer> bufs;
      bufs.reserve(bs);
      Batch batch;
      for (size_t i = start; i < frames.size() && i < start + bs; ++i) {
        bufs.emplace_back(frames[i], uint32_t(i));
        batch.push(&bufs.back().packet());
      }
      for (auto& k : batch.keys) std::memset(static_cast<void*>(&k), 0x5a, sizeof k);
      parse_batch(batch, stats);
      for (uint32_t i = 0; i < batch.count; ++i) {
        const Parsed one = parse(frames[start + i], uint32_t(start + i));
        EXPECT_EQ(batch.keys[i], one.key) << "packet " << start + i;
        EXPECT_EQ(batch[i].meta.malformed, !one.ok);
        EXPECT_EQ(batch[i].meta.l3, one.meta.l3);
        EXPECT_EQ(batch[i].meta.l4, one.meta.l4);
        expect_bad += !one.ok;
      }
    }
    EXPECT_EQ(stats.packets, frames.size());
    EXPECT_EQ(stats.malformed, expect_bad);
  }
}

TEST(Parser, ComponentCountsEveryPacket) {
  const auto frames = mixed_frames();
  std::vector<PacketBuffer> bufs;
  bufs.reserve(frames.size());
  Batch batch;
  Parser parser;
  uint64_t bad = 0;
  for (const auto& f : frames) {
    bufs.emplace_back(f);
    if (!batch.push(&bufs.back().packet())) break;
  }
  parser.process(batch);
  for (uint32_t i = 0; i < batch.count; ++i) bad += batch[i].meta.malformed;
  EXPECT_EQ(parser.stats().packets, batch.count);
  EXPECT_EQ(parser.stats().malformed, bad);
  EXPECT_GT(bad, 0u);
  EXPECT_EQ(batch.count, std::min<size_t>(frames.size(), kBatchSize));  // nothing dropped
  parser.clear_stats();
  EXPECT_EQ(parser.stats().packets, 0u);
}

TEST(Parser, EmptyBatch) {
  Batch batch;
  ParseStats st;
  parse_batch(batch, st);
  EXPECT_EQ(st.packets, 0u);
}

}  // namespace parser_test
}  // namespace flowpath
