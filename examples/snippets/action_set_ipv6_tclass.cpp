// Rewrites the traffic class (DSCP only, ECN kept) and the hop limit of an
// IPv6 UDP frame, as mod_nw_tos:184 and set_field:7->nw_ttl do in Open
// vSwitch; the UDP checksum does not cover either, so it stays as it was.
#include <cstdio>
#include <flowpath/action/set_field.hpp>
#include <vector>

using namespace flowpath;

int main() {
  std::vector<uint8_t> f = {2,    0,    0,    0,    0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd,  // Ethernet
                            0x60, 0x10, 0x00, 0x09,  // version 6, traffic class 0x01, flow label 9
                            0,    10,   17,   64};   // payload length, UDP, hop limit 64
  for (uint8_t last : {1, 2})                        // 2001:db8::1 -> 2001:db8::2
    f.insert(f.end(), {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last});
  f.insert(f.end(), {0x04, 0xd2, 0x00, 0x35, 0, 10, 0x12, 0x34, 'h', 'i'});  // UDP 1234 -> 53

  PacketBuffer pb(f);
  if (set_ipv6_tclass(pb.packet(), 0xb8, 0xfc) != ActionStatus::kOk) return 1;  // DSCP 46 (EF)
  if (set_ipv6_hlimit(pb.packet(), 7) != ActionStatus::kOk) return 1;

  const uint8_t* d = pb->data();
  const unsigned tc = unsigned(load_be16(d + 14) >> 4) & 0xff;
  const unsigned label = unsigned(load_be16(d + 16)) | unsigned(d[15] & 0x0f) << 16;
  std::printf("traffic class 0x%02x, flow label %u, hop limit %u, udp checksum 0x%04x\n", tc, label,
              d[21], unsigned(load_be16(d + 60)));
  return tc == 0xb9 && label == 9 && d[21] == 7 && load_be16(d + 60) == 0x1234 ? 0 : 1;
}
