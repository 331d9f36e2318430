// A UDP exchange through the connection tracker with source NAT: the
// request leaves as 203.0.113.10, the reply is un-NATed back to the
// client, and the dump prints as `ovs-appctl dpctl/dump-conntrack` would.
#include <cstdio>
#include <flowpath/conntrack/dpctl.hpp>
#include <flowpath/parse/parser.hpp>
#include <vector>

using namespace flowpath;

// A 42-byte Ethernet/IPv4/UDP frame (UDP checksum 0: none).
static PacketBuffer udp_frame(const uint8_t src[4], const uint8_t dst[4], uint16_t sp,
                              uint16_t dp) {
  std::vector<uint8_t> f(42, 0);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45, ip[3] = 28, ip[8] = 64, ip[9] = 17;
  std::copy(src, src + 4, ip + 12);
  std::copy(dst, dst + 4, ip + 16);
  const uint16_t c = inet_checksum(ip, 20);
  ip[10] = uint8_t(c >> 8), ip[11] = uint8_t(c);
  uint8_t* udp = ip + 20;
  udp[0] = uint8_t(sp >> 8), udp[1] = uint8_t(sp), udp[2] = uint8_t(dp >> 8), udp[3] = uint8_t(dp);
  udp[5] = 8;
  PacketBuffer b(f);
  FlowKey key;
  parse_packet(b.packet(), key);
  return b;
}

int main() {
  const uint8_t client[4] = {192, 0, 2, 1}, server[4] = {198, 51, 100, 2},
                public_ip[4] = {203, 0, 113, 10};
  ct::Conntrack tracker;
  const int64_t now_ms = 1000;

  // ct(commit,zone=1,nat(src=203.0.113.10:20000-20099))
  ct::CtParams out{.zone = 1, .commit = true};
  out.nat = {.present = true,
             .kind = ct::NatSpec::kSrc,
             .has_addr = true,
             .has_port = true,
             .port_min = 20000,
             .port_max = 20099};
  std::copy(public_ip, public_ip + 4, out.nat.addr_min.begin());
  out.nat.addr_max = out.nat.addr_min;
  PacketBuffer req = udp_frame(client, server, 5353, 53);
  ct::CtResult r = tracker.execute(req.packet(), out, now_ms);
  const uint8_t* ip = req->data() + 14;
  const uint16_t nat_port = uint16_t(ip[20] << 8 | ip[21]);
  std::printf("request: ct_state=0x%02x, now from %u.%u.%u.%u:%u\n", r.state, ip[12], ip[13],
              ip[14], ip[15], nat_port);

  // ct(zone=1,nat) on the way back: the reply is found and un-NATed.
  ct::CtParams back{.zone = 1, .nat = {.present = true}};
  PacketBuffer rep = udp_frame(server, public_ip, 53, nat_port);
  r = tracker.execute(rep.packet(), back, now_ms);
  ip = rep->data() + 14;
  std::printf("reply:   ct_state=0x%02x, now to %u.%u.%u.%u:%u\n", r.state, ip[16], ip[17], ip[18],
              ip[19], uint16_t(ip[22] << 8 | ip[23]));
  std::printf("%s", ct::dpctl_dump_conntrack(tracker, now_ms, {}).c_str());

  const bool ok = (r.state & ct::kCsEstablished) && (r.state & ct::kCsReplyDir) && ip[16] == 192 &&
                  ip[19] == 1 && tracker.n_conns() == 1;
  return ok ? 0 : 1;
}
