// tests/support/private_netns.hpp — run a test inside its own network
// namespace, with helpers for veth pairs and raw frames.
//
// enter_private_netns() moves the whole test process (and the `ip`
// commands it runs) into a fresh network namespace, so nothing the test
// creates is visible on the host, and everything (veths, XDP programs) is
// destroyed with the namespace when the process exits, even on a crash.
// skip_reason() says why such a test cannot run here (not root, no netns,
// no AF_XDP), or is empty.
#pragma once

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace flowpath::test {

inline std::string enter_private_netns_once() {
  if (geteuid() != 0) return "needs root (creates network namespaces and veths)";
  if (unshare(CLONE_NEWNET) != 0)
    return std::string("unshare(CLONE_NEWNET) failed: ") + std::strerror(errno);
  std::system("ip link set lo up");
  return "";
}

/// Empty when the process now runs in its own network namespace.
inline const std::string& private_netns() {
  static const std::string reason = enter_private_netns_once();
  return reason;
}

inline bool af_xdp_available() {
  int fd = socket(AF_XDP, SOCK_RAW, 0);
  if (fd < 0) return false;
  close(fd);
  return true;
}

/// Runs a shell command; returns its exit status.
inline int sh(const std::string& cmd) {
  return std::system(("{ " + cmd + "; } >/dev/null 2>&1").c_str());
}
inline std::string sh_out(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    pclose(f);
  }
  return out;
}

/// A raw AF_PACKET socket bound to one interface.
class RawSocket {
 public:
  explicit RawSocket(const std::string& ifname) {
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = int(if_nametoindex(ifname.c_str()));
    ifindex_ = sll.sll_ifindex;
    if (fd_ >= 0) bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll);
  }
  ~RawSocket() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0 && ifindex_ > 0; }
  bool send(const std::vector<uint8_t>& f) {
    return ::send(fd_, f.data(), f.size(), 0) == ssize_t(f.size());
  }
  /// Next frame received (outgoing copies skipped), or empty after timeout.
  std::vector<uint8_t> recv(int timeout_ms) {
    std::vector<uint8_t> buf(4096);
    pollfd p{fd_, POLLIN, 0};
    while (poll(&p, 1, timeout_ms) > 0) {
      sockaddr_ll from{};
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n < 0) break;
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      buf.resize(size_t(n));
      return buf;
    }
    return {};
  }

 private:
  int fd_ = -1;
  int ifindex_ = 0;
};

/// A 64-byte Ethernet/IPv4/UDP frame from 192.0.2.1 to 192.0.2.2 with the
/// given UDP source port and a tag byte in the payload.
inline std::vector<uint8_t> udp_frame(uint16_t sport, uint8_t tag, uint32_t size = 64) {
  std::vector<uint8_t> f(size, 0);
  const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 2}, src[6] = {0x02, 0, 0, 0, 0, 1};
  std::memcpy(&f[0], dst, 6);
  std::memcpy(&f[6], src, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  uint16_t tot = uint16_t(size - 14);
  ip[2] = uint8_t(tot >> 8);
  ip[3] = uint8_t(tot);
  ip[8] = 64;
  ip[9] = 17;
  const uint8_t sa[4] = {192, 0, 2, 1}, da[4] = {192, 0, 2, 2};
  std::memcpy(ip + 12, sa, 4);
  std::memcpy(ip + 16, da, 4);
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += uint32_t(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = uint8_t(~sum >> 8);
  ip[11] = uint8_t(~sum);
  uint8_t* udp = ip + 20;
  udp[0] = uint8_t(sport >> 8);
  udp[1] = uint8_t(sport);
  udp[2] = 0x30;
  udp[3] = 0x39;
  uint16_t ulen = uint16_t(tot - 20);
  udp[4] = uint8_t(ulen >> 8);
  udp[5] = uint8_t(ulen);
  udp[8] = tag;
  return f;
}

}  // namespace flowpath::test
