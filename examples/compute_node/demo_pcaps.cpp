// flowpath-demo-pcaps DIR — writes the inputs of the compute-node demo's
// replay mode (scripts/demo.sh without root): what the VMs and the
// provider network would send, as pcap files for `flowpath replay`.
//
//   DIR/vm1.pcap   vm1 (192.0.2.1): ARP for 192.0.2.100, ping to it, and
//                  an ARP for 198.51.100.100 (another tenant's network:
//                  must leave on VLAN 1000 only and never reach vm3)
//   DIR/vm3.pcap   vm3 (198.51.100.3): ARP for 198.51.100.100
//   DIR/eth2.pcap  the remote host's answers, tagged with the provider
//                  VLANs: ARP reply and echo reply on VLAN 1000, ARP reply
//                  on VLAN 1001
// Timestamps interleave them as a conversation (request, then answer).
// MACs and addresses are the ones of scripts/netns/topology.sh.
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "flowpath/io/pcap_writer.hpp"

namespace {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip = std::array<uint8_t, 4>;

constexpr Mac kVm1{2, 0, 0, 0, 1, 1}, kVm3{2, 0, 0, 0, 3, 1};
constexpr Mac kRem1000{2, 0, 0, 0, 0x10, 0}, kRem1001{2, 0, 0, 0, 0x10, 1};
constexpr Mac kBcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kZero{};
constexpr Ip kVm1Ip{192, 0, 2, 1}, kRemIp{192, 0, 2, 100};
constexpr Ip kVm3Ip{198, 51, 100, 3}, kRem2Ip{198, 51, 100, 100};

void put(Bytes& b, std::initializer_list<uint8_t> v) { b.insert(b.end(), v); }
template <size_t N>
void put(Bytes& b, const std::array<uint8_t, N>& v) {
  b.insert(b.end(), v.begin(), v.end());
}
void put16(Bytes& b, uint16_t v) { put(b, {uint8_t(v >> 8), uint8_t(v)}); }

Bytes eth(const Mac& dst, const Mac& src, int vlan, uint16_t type) {
  Bytes b;
  put(b, dst);
  put(b, src);
  if (vlan >= 0) {
    put16(b, 0x8100);
    put16(b, uint16_t(vlan));
  }
  put16(b, type);
  return b;
}

Bytes arp(const Mac& dst, const Mac& src, int vlan, uint16_t op, const Mac& tha, const Ip& spa,
          const Ip& tpa) {
  Bytes b = eth(dst, src, vlan, 0x0806);
  put(b, {0, 1, 8, 0, 6, 4});
  put16(b, op);
  put(b, src);
  put(b, spa);
  put(b, tha);
  put(b, tpa);
  return b;
}

uint16_t checksum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) s += uint32_t(p[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(~s);
}

Bytes ping(const Mac& dst, const Mac& src, int vlan, const Ip& sip, const Ip& dip, bool reply) {
  Bytes b = eth(dst, src, vlan, 0x0800);
  size_t ip = b.size();
  put(b, {0x45, 0, 0, 28 + 32, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0});
  put(b, sip);
  put(b, dip);
  uint16_t c = checksum(&b[ip], 20);
  b[ip + 10] = uint8_t(c >> 8), b[ip + 11] = uint8_t(c);
  size_t icmp = b.size();
  put(b, {uint8_t(reply ? 0 : 8), 0, 0, 0, 0x0f, 0x0f, 0, 1});
  for (int i = 0; i < 32; ++i) b.push_back(uint8_t('a' + i % 26));
  c = checksum(&b[icmp], b.size() - icmp);
  b[icmp + 2] = uint8_t(c >> 8), b[icmp + 3] = uint8_t(c);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: flowpath-demo-pcaps DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  try {
    constexpr uint64_t ms = 1000000;
    flowpath::PcapWriter vm1(dir + "/vm1.pcap"), vm3(dir + "/vm3.pcap"), eth2(dir + "/eth2.pcap");
    vm1.write(arp(kBcast, kVm1, -1, 1, kZero, kVm1Ip, kRemIp), 1 * ms);
    eth2.write(arp(kVm1, kRem1000, 1000, 2, kVm1, kRemIp, kVm1Ip), 2 * ms);
    vm1.write(ping(kRem1000, kVm1, -1, kVm1Ip, kRemIp, false), 3 * ms);
    eth2.write(ping(kVm1, kRem1000, 1000, kRemIp, kVm1Ip, true), 4 * ms);
    vm3.write(arp(kBcast, kVm3, -1, 1, kZero, kVm3Ip, kRem2Ip), 5 * ms);
    eth2.write(arp(kVm3, kRem1001, 1001, 2, kVm3, kRem2Ip, kVm3Ip), 6 * ms);
    vm1.write(arp(kBcast, kVm1, -1, 1, kZero, kVm1Ip, kRem2Ip), 7 * ms);
    vm1.close();
    vm3.close();
    eth2.close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowpath-demo-pcaps: %s\n", e.what());
    return 1;
  }
  std::printf("wrote %s/vm1.pcap %s/vm3.pcap %s/eth2.pcap\n", dir.c_str(), dir.c_str(),
              dir.c_str());
  return 0;
}
