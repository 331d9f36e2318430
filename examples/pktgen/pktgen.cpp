// flowpath-pktgen — 64-byte UDP load from one core.
//
//   flowpath-pktgen IFNAME --dst-mac MAC [--src-mac MAC] [--src-ip A]
//                   [--dst-ip A] [--flows N] [--seconds T] [--size B]
//                   [--cpu C]
//
// Sends Ethernet/IPv4/UDP frames of --size bytes (default 64, FCS not
// counted) as fast as one core can, for T seconds (default 10), cycling
// through N flows (default 1; flow i uses UDP source port 1024 + i).
// AF_PACKET with PACKET_QDISC_BYPASS and sendmmsg() of 256 frames per
// call: on veths this is the generator's fastest path here (the frames
// skip the qdisc; the cost left is the veth transmit itself).
// Prints "sent N packets in T s: R Mpps" (and "send errors E").
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

bool parse_mac(const char* s, uint8_t out[6]) {
  unsigned v[6];
  if (std::sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    return false;
  for (int i = 0; i < 6; ++i) out[i] = uint8_t(v[i]);
  return true;
}

std::vector<uint8_t> frame(const uint8_t dmac[6], const uint8_t smac[6], in_addr src, in_addr dst,
                           uint16_t sport, uint32_t size) {
  std::vector<uint8_t> f(size, 0);
  std::memcpy(&f[0], dmac, 6);
  std::memcpy(&f[6], smac, 6);
  f[12] = 0x08;
  uint8_t* ip = &f[14];
  uint16_t tot = uint16_t(size - 14);
  ip[0] = 0x45;
  ip[2] = uint8_t(tot >> 8);
  ip[3] = uint8_t(tot);
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, &src, 4);
  std::memcpy(ip + 16, &dst, 4);
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += uint32_t(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = uint8_t(~sum >> 8);
  ip[11] = uint8_t(~sum);
  uint8_t* udp = ip + 20;
  udp[0] = uint8_t(sport >> 8);
  udp[1] = uint8_t(sport);
  udp[2] = 0x23;  // destination port 9000
  udp[3] = 0x28;
  uint16_t ulen = uint16_t(tot - 20);
  udp[4] = uint8_t(ulen >> 8);
  udp[5] = uint8_t(ulen);
  return f;
}

int usage() {
  std::fprintf(stderr,
               "usage: flowpath-pktgen IFNAME --dst-mac MAC [--src-mac MAC] [--src-ip A] "
               "[--dst-ip A] [--flows N] [--seconds T] [--size B] [--cpu C]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const char* ifname = argv[1];
  uint8_t dmac[6] = {}, smac[6] = {0x02, 0, 0, 0, 0x01, 0x01};
  bool have_dmac = false;
  in_addr src{}, dst{};
  inet_pton(AF_INET, "192.0.2.1", &src);
  inet_pton(AF_INET, "192.0.2.100", &dst);
  uint32_t flows = 1, size = 64;
  double seconds = 10;
  int cpu = -1;
  for (int i = 2; i + 1 < argc + 1; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!v) return usage();
    ++i;
    if (a == "--dst-mac")
      have_dmac = parse_mac(v, dmac);
    else if (a == "--src-mac" && !parse_mac(v, smac))
      return usage();
    else if (a == "--src-ip" && inet_pton(AF_INET, v, &src) != 1)
      return usage();
    else if (a == "--dst-ip" && inet_pton(AF_INET, v, &dst) != 1)
      return usage();
    else if (a == "--flows")
      flows = uint32_t(std::atoi(v));
    else if (a == "--seconds")
      seconds = std::atof(v);
    else if (a == "--size")
      size = uint32_t(std::atoi(v));
    else if (a == "--cpu")
      cpu = std::atoi(v);
    else if (a != "--src-mac" && a != "--src-ip" && a != "--dst-ip")
      return usage();
  }
  if (!have_dmac || flows == 0 || flows > 60000 || size < 60 || size > 1514) return usage();
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: send only
  int ifindex = int(if_nametoindex(ifname));
  if (fd < 0 || ifindex == 0) {
    std::fprintf(stderr, "flowpath-pktgen: %s: %s\n", ifname,
                 ifindex == 0 ? "no such interface" : std::strerror(errno));
    return 1;
  }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
    std::fprintf(stderr, "flowpath-pktgen: bind %s: %s\n", ifname, std::strerror(errno));
    return 1;
  }
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 0; i < flows; ++i)
    frames.push_back(frame(dmac, smac, src, dst, uint16_t(1024 + i), size));
  constexpr unsigned kBurst = 256;
  std::vector<mmsghdr> msgs(kBurst);
  std::vector<iovec> iov(kBurst);
  uint64_t sent = 0, errors = 0;
  uint32_t next = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto deadline = t0 + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    for (unsigned k = 0; k < kBurst; ++k) {
      iov[k] = {frames[next].data(), frames[next].size()};
      msgs[k] = {};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      next = next + 1 == flows ? 0 : next + 1;
    }
    int n = sendmmsg(fd, msgs.data(), kBurst, 0);
    if (n > 0) sent += uint64_t(n);
    if (n < int(kBurst)) ++errors;
  }
  double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("sent %llu packets in %.2f s: %.3f Mpps\nsend errors %llu\n",
              (unsigned long long)sent, dt, double(sent) / dt / 1e6, (unsigned long long)errors);
  close(fd);
  return 0;
}
