// flowpath/io/packet_port.hpp — a port on a real interface over a plain
// AF_PACKET socket: what a `""`/`system` port of the switch runs on for
// its first milliseconds, while its AF_XDP socket is bound behind it
// (switch_port.hpp, "The move"), as Open vSwitch's netdev-linux does for
// its whole life.
//
//   PacketPort p({.ifname = "vm1"});     // ~0.1 ms: socket, bind
//   Batch b;
//   p.rx_burst(b);                       // frames the interface received
//   p.tx(*b[0], /*owned=*/true);         // sent out of the interface
//
// Why.  Binding an AF_XDP socket costs ~1.1-1.5 ms here (the kernel
// zeroing the socket's buffer pool, docs/benchmarks.md); a packet socket
// bound to the device costs a tenth of that, so the port forwards at once
// and the slow bind is no longer on the path of `ovs-vsctl add-port`.
//
// The socket: SOCK_RAW, created with protocol 0 (it receives nothing yet),
// PACKET_IGNORE_OUTGOING (never our own transmissions back), PACKET_AUXDATA
// (a VLAN tag the driver stripped is put back into the frame, as the wire
// had it), then bound to the interface with ETH_P_ALL; non-blocking.
// Receive is one recvmmsg() per burst into the port's own buffers (a pool
// of Config::buffers frames, touched on first use); transmit is one send()
// per frame (a copy).  Frames larger than a buffer are dropped and counted.
// Errors (flowpath::Error): no such interface, no permission (named).
// Cost per packet: a copy each way and a share of one syscall per burst on
// receive, one syscall on transmit.  Thread-safety: one thread per port
// (opening and closing from any thread).
#pragma once

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "flowpath/core/batch.hpp"
#include "flowpath/core/error.hpp"
#include "flowpath/core/packet.hpp"
#include "flowpath/io/frame_pool.hpp"

namespace flowpath {

struct PacketPortStats {
  uint64_t rx = 0, tx = 0, drops = 0, rx_empty = 0, truncated = 0;
};

class PacketPort {
 public:
  struct Config {
    std::string ifname;
    uint32_t buffers = 256;        // receive buffers (packets in flight)
    int rcvbuf = 4 * 1024 * 1024;  // socket receive buffer (root: forced)
  };

  explicit PacketPort(const Config& cfg) : cfg_(cfg) {
    if (cfg.ifname.empty() || cfg.ifname.size() >= IFNAMSIZ)
      throw Error("system port '" + cfg.ifname + "': name must be 1-15 characters");
    ifindex_ = int(if_nametoindex(cfg.ifname.c_str()));
    if (ifindex_ == 0) throw Error("system port " + cfg.ifname + ": no such interface");
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("opening a packet socket");
    int one = 1;
    if (setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0)
      fail("setting PACKET_IGNORE_OUTGOING");
    if (setsockopt(fd_, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0)
      fail("setting PACKET_AUXDATA");
    // A larger queue rides out a PMD that is slow for a moment; forced
    // when privileged, else capped by net.core.rmem_max (no error).
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &cfg.rcvbuf, sizeof cfg.rcvbuf) < 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &cfg.rcvbuf, sizeof cfg.rcvbuf);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) fail("binding to it");
    pool_ = std::make_unique<FramePool>(cfg.buffers);  // frames untouched until used
  }
  PacketPort(const PacketPort&) = delete;
  PacketPort& operator=(const PacketPort&) = delete;
  ~PacketPort() {
    if (fd_ >= 0) close(fd_);
  }

  /// Appends up to kBatchSize - batch.count frames; returns how many.
  uint32_t rx_burst(Batch& batch) noexcept {
    uint32_t want = kBatchSize - batch.count;
    if (want > pool_->available()) want = pool_->available();
    if (want == 0) return 0;
    std::array<mmsghdr, kBatchSize> msgs{};
    std::array<iovec, kBatchSize> iov{};
    std::array<uint32_t, kBatchSize> idx{};
    for (uint32_t k = 0; k < want; ++k) {
      idx[k] = pool_->take();  // unused ones go back below
      // Room ahead of the data for a VLAN tag put back (see restore_vlan).
      iov[k] = {pool_->frame(idx[k]) + PacketBuffer::kHeadroom, kDefaultFrameSize};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      msgs[k].msg_hdr.msg_control = ctrl_[k].data();
      msgs[k].msg_hdr.msg_controllen = ctrl_[k].size();
    }
    int n = recvmmsg(fd_, msgs.data(), want, MSG_DONTWAIT, nullptr);
    uint32_t got = 0;
    for (uint32_t k = 0; k < want; ++k) {
      const uint32_t i = idx[k];
      uint32_t len = msgs[k].msg_len;
      if (int(k) >= n) {
        pool_->give_back(i);
        continue;
      }
      if ((msgs[k].msg_hdr.msg_flags & MSG_TRUNC) || len < 14) {
        ++stats_.truncated;
        pool_->give_back(i);
        continue;
      }
      uint32_t head = PacketBuffer::kHeadroom;
      if (restore_vlan(msgs[k].msg_hdr, pool_->frame(i) + head)) head -= 4, len += 4;
      batch.push(&pool_->packet(i, head, len));
      ++got;
    }
    if (got == 0) ++stats_.rx_empty;
    stats_.rx += got;
    return got;
  }

  /// Sends p out of the interface.  owned: one of this port's packets goes
  /// back to its pool afterwards (others stay the caller's).
  void tx(Packet& p, bool owned) noexcept {
    if (send(fd_, p.data(), p.size(), MSG_DONTWAIT) == ssize_t(p.size()))
      ++stats_.tx;
    else
      ++stats_.drops;
    if (owned) release(p);
  }
  void flush() noexcept {}

  /// Returns one of this port's packets to its pool (others: no-op).
  void release(Packet& p) noexcept { pool_->release(p); }
  bool mine(const Packet& p) const noexcept { return pool_->mine(p); }
  /// Frames received and not yet released (0: none of ours is in flight).
  uint32_t in_flight() const noexcept { return pool_->in_flight(); }

  const PacketPortStats& stats() const noexcept { return stats_; }
  const std::string& name() const noexcept { return cfg_.ifname; }
  int ifindex() const noexcept { return ifindex_; }
  int fd() const noexcept { return fd_; }

 private:
  static constexpr size_t kCtrlBytes = CMSG_SPACE(sizeof(tpacket_auxdata));

  // The driver may have taken the VLAN tag out of the frame (offload);
  // the auxdata says so.  The tag goes back after the two MAC addresses,
  // into the headroom (the 12 address bytes move 4 to the left).
  static bool restore_vlan(msghdr& h, uint8_t* data) noexcept {
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
          c->cmsg_len < CMSG_LEN(sizeof(tpacket_auxdata)))
        continue;
      tpacket_auxdata aux;
      std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
      if (!(aux.tp_status & TP_STATUS_VLAN_VALID)) return false;
      uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
      std::memmove(data - 4, data, 12);
      uint8_t* tag = data + 8;
      tag[0] = uint8_t(tpid >> 8), tag[1] = uint8_t(tpid);
      tag[2] = uint8_t(aux.tp_vlan_tci >> 8), tag[3] = uint8_t(aux.tp_vlan_tci);
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(const char* what) {
    int err = errno;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    std::string msg = "system port " + cfg_.ifname + ": " + what + " failed: " + std::strerror(err);
    if (err == EPERM || err == EACCES) msg += " (no permission: needs CAP_NET_RAW)";
    throw Error(msg);
  }

  Config cfg_;
  int fd_ = -1;
  int ifindex_ = 0;
  std::unique_ptr<FramePool> pool_;  // made once the socket is bound
  std::array<std::array<uint8_t, kCtrlBytes>, kBatchSize> ctrl_{};
  PacketPortStats stats_;
};

}  // namespace flowpath
