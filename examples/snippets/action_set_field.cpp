// Rewrites the IPv4 source address of a UDP frame; the IPv4 and UDP
// checksums are updated incrementally and still verify from scratch.
#include <cstdio>
#include <flowpath/action/set_field.hpp>
#include <vector>

using namespace flowpath;

int main() {
  std::vector<uint8_t> f = {2,    0,    0,    0,    0,   2,  2,   0, 0,   0,  0, 1,
                            0x08, 0x00,                                              // Ethernet
                            0x45, 0,    0,    30,   0,   0,  0,   0, 64,  17, 0, 0,  // IPv4 ...
                            192,  0,    2,    1,    198, 51, 100, 2,  // 192.0.2.1 -> 198.51.100.2
                            0x04, 0xd2, 0x00, 0x35, 0,   10, 0,   0, 'h', 'i'};  // UDP 1234 -> 53
  store_be16(&f[24], inet_checksum(&f[14], 20));
  uint8_t pseudo[12] = {192, 0, 2, 1, 198, 51, 100, 2, 0, 17, 0, 10};
  uint32_t sum = csum_add_bytes(csum_add_bytes(0, pseudo, 12), &f[34], 10);
  store_be16(&f[40], uint16_t(~csum_fold(sum)));

  PacketBuffer pb(f);
  if (set_ipv4_src(pb.packet(), 0xcb007107) != ActionStatus::kOk) return 1;  // 203.0.113.7

  const uint8_t* d = pb->data();
  bool ip_ok = inet_checksum(d + 14, 20) == 0;  // a valid header sums to 0xffff
  uint8_t pseudo2[12] = {203, 0, 113, 7, 198, 51, 100, 2, 0, 17, 0, 10};
  bool udp_ok = csum_fold(csum_add_bytes(csum_add_bytes(0, pseudo2, 12), d + 34, 10)) == 0xffff;
  std::printf("ip checksum %s, udp checksum %s\n", ip_ok ? "ok" : "BAD", udp_ok ? "ok" : "BAD");
  return ip_ok && udp_ok ? 0 : 1;
}
