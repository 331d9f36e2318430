// NAT in the connection tracker: SNAT and DNAT with address and port ranges,
// the reply direction un-NATed, checksums kept valid, related ICMP errors
// translated inside and out, port-range exhaustion refused and counted.
#include <gtest/gtest.h>

#include <cstring>

#include "conntrack/ct_support.hpp"

namespace flowpath::cttest {
namespace nat_test {

const char* A = "192.0.2.1";
const char* B = "198.51.100.2";
const char* N = "203.0.113.10";

struct Tracker {
  Conntrack ct;
  int64_t now = 5'000;
  CtParams p{.zone = 0, .commit = true};
};

NatSpec snat(const char* lo, const char* hi, uint16_t plo = 0, uint16_t phi = 0) {
  NatSpec n{.present = true, .kind = NatSpec::kSrc, .has_addr = true, .has_port = plo != 0};
  Be32 a = ipv4(lo), b = ipv4(hi);
  std::memcpy(n.addr_min.data(), &a, 4);
  std::memcpy(n.addr_max.data(), &b, 4);
  n.port_min = plo;
  n.port_max = phi;
  return n;
}

std::string ip_src(const Packet& p) {
  const uint8_t* d = p.data() + p.meta.l3 + 12;
  return std::to_string(d[0]) + "." + std::to_string(d[1]) + "." + std::to_string(d[2]) + "." +
         std::to_string(d[3]);
}
std::string ip_dst(const Packet& p) {
  const uint8_t* d = p.data() + p.meta.l3 + 16;
  return std::to_string(d[0]) + "." + std::to_string(d[1]) + "." + std::to_string(d[2]) + "." +
         std::to_string(d[3]);
}
uint16_t sport(const Packet& p) {
  return uint16_t(p.data()[p.meta.l4] << 8 | p.data()[p.meta.l4 + 1]);
}
uint16_t dport(const Packet& p) {
  return uint16_t(p.data()[p.meta.l4 + 2] << 8 | p.data()[p.meta.l4 + 3]);
}

TEST(ConntrackNat, SnatWithPortRangeBothDirections) {
  Tracker t;
  t.p.nat = snat(N, N, 10000, 10001);
  PacketBuffer o = parsed(tcp4(A, B, 4444, 80, kSyn, 1, 0));
  CtResult r = t.ct.execute(o.packet(), t.p, t.now);
  EXPECT_EQ(st(r.state), st(kCsTracked | kCsNew | kCsSrcNat));
  EXPECT_EQ(ip_src(o.packet()), N);
  const uint16_t nat_port = sport(o.packet());
  EXPECT_TRUE(nat_port == 10000 || nat_port == 10001) << nat_port;
  EXPECT_TRUE(checksums_ok(o.packet()));
  // The reply comes to the NAT address and is un-NATed back to A:4444.
  CtParams rp{.zone = 0, .nat = {.present = true}};
  PacketBuffer rep = parsed(tcp4(B, N, 80, nat_port, kSyn | kAck, 100, 2));
  r = t.ct.execute(rep.packet(), rp, t.now);
  EXPECT_EQ(st(r.state), st(kCsTracked | kCsEstablished | kCsReplyDir | kCsSrcNat));
  EXPECT_EQ(ip_dst(rep.packet()), A);
  EXPECT_EQ(dport(rep.packet()), 4444);
  EXPECT_TRUE(checksums_ok(rep.packet()));
  auto d = t.ct.dump(t.now);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reply.dport, nat_port);
}

TEST(ConntrackNat, PortRangeExhaustionIsRefusedAndCounted) {
  Tracker t;
  t.p.nat = snat(N, N, 20000, 20001);
  for (uint16_t sp = 1; sp <= 2; ++sp) {
    PacketBuffer b = parsed(udp4(A, B, uint16_t(3000 + sp), 53));
    EXPECT_EQ(t.ct.execute(b.packet(), t.p, t.now).state, kCsTracked | kCsNew | kCsSrcNat);
  }
  PacketBuffer b = parsed(udp4(A, B, 3003, 53));
  CtResult r = t.ct.execute(b.packet(), t.p, t.now);
  EXPECT_EQ(r.state, kCsTracked | kCsNew);  // not committed, not translated
  EXPECT_EQ(ip_src(b.packet()), A);
  EXPECT_EQ(t.ct.counters().nat_exhausted.load(), 1u);
  EXPECT_EQ(t.ct.n_conns(), 2u);
  // An address range widens the space.
  t.p.nat = snat(N, "203.0.113.11", 20000, 20001);
  EXPECT_EQ(t.ct.execute(b.packet(), t.p, t.now).state, kCsTracked | kCsNew | kCsSrcNat);
}

TEST(ConntrackNat, DnatToAnAddressAndPort) {
  Tracker t;
  NatSpec n = snat(N, N, 8080, 8080);
  n.kind = NatSpec::kDst;
  t.p.nat = n;
  PacketBuffer o = parsed(udp4(A, B, 5555, 80));
  EXPECT_EQ(t.ct.execute(o.packet(), t.p, t.now).state, kCsTracked | kCsNew | kCsDstNat);
  EXPECT_EQ(ip_dst(o.packet()), N);
  EXPECT_EQ(dport(o.packet()), 8080);
  EXPECT_TRUE(checksums_ok(o.packet()));
  PacketBuffer rep = parsed(udp4(N, A, 8080, 5555));
  CtParams rp{.zone = 0, .nat = {.present = true}};
  CtResult r = t.ct.execute(rep.packet(), rp, t.now);
  EXPECT_EQ(st(r.state), st(kCsTracked | kCsEstablished | kCsReplyDir | kCsDstNat));
  EXPECT_EQ(ip_src(rep.packet()), B);
  EXPECT_EQ(sport(rep.packet()), 80);
  EXPECT_TRUE(checksums_ok(rep.packet()));
  // Without nat in the ct() action the packet is tracked but not rewritten.
  PacketBuffer rep2 = parsed(udp4(N, A, 8080, 5555));
  r = t.ct.execute(rep2.packet(), CtParams{}, t.now);
  EXPECT_EQ(r.state, kCsTracked | kCsEstablished | kCsReplyDir);
  EXPECT_EQ(ip_src(rep2.packet()), N);
}

TEST(ConntrackNat, RelatedIcmpErrorIsTranslatedInsideAndOut) {
  Tracker t;
  t.p.nat = snat(N, N, 30000, 30000);
  PacketBuffer o = parsed(udp4(A, B, 6000, 7));
  t.ct.execute(o.packet(), t.p, t.now);
  // B answers the translated packet (N:30000 -> B:7) with port unreachable.
  auto quoted = IPv4{.src = N, .dst = B} / UDP{.sport = 30000, .dport = 7} / Payload{.n = 8};
  PacketBuffer e =
      parsed(Eth{} / IPv4{.src = B, .dst = N} / ICMP{.type = 3, .code = 3} / Raw{quoted.bytes()});
  CtResult r = t.ct.execute(e.packet(), CtParams{.nat = {.present = true}}, t.now);
  EXPECT_EQ(st(r.state), st(kCsTracked | kCsRelated | kCsReplyDir | kCsSrcNat));
  EXPECT_EQ(ip_dst(e.packet()), A);
  const uint8_t* inner = e.packet().data() + e.packet().meta.l4 + 8;
  EXPECT_EQ(std::to_string(inner[12]) + "." + std::to_string(inner[15]), "192.1");
  EXPECT_EQ(inner[20] << 8 | inner[21], 6000);
  EXPECT_TRUE(checksums_ok(e.packet()));
  EXPECT_EQ(csum_fold(csum_add_bytes(0, inner, 20)), 0xffff);  // inner IPv4 header
}

TEST(ConntrackNat, Ipv6Snat) {
  Tracker t;
  NatSpec n{.present = true, .kind = NatSpec::kSrc, .has_addr = true};
  Ipv6Addr a = ipv6("2001:db8::100");
  std::memcpy(n.addr_min.data(), a.b.data(), 16);
  n.addr_max = n.addr_min;
  t.p.nat = n;
  PacketBuffer o = parsed(Eth{} / IPv6{.src = "2001:db8::1", .dst = "2001:db8::2"} /
                          UDP{.sport = 1234, .dport = 53} / Payload{.n = 4});
  EXPECT_EQ(t.ct.execute(o.packet(), t.p, t.now).state, kCsTracked | kCsNew | kCsSrcNat);
  EXPECT_EQ(std::memcmp(o.packet().data() + o.packet().meta.l3 + 8, a.b.data(), 16), 0);
  EXPECT_TRUE(checksums_ok(o.packet()));
}

}  // namespace nat_test
}  // namespace flowpath::cttest
