// flowpath/io/tap_port.hpp — an internal port (`type=internal`): a TAP
// device named after the port, as Open vSwitch's internal ports are (the
// LOCAL port of bridge br-int is the interface `br-int`), so the host can
// put an address on it and talk through the switch.
//
//   TapPort local({.name = "br-int"});   // creates the device, brings it up
//   Batch b;
//   local.rx_burst(b);                   // frames the host sent
//   local.tx(p, /*owned=*/false);        // a frame the host will receive
//
// Ports: one in, one out, like AfxdpPort.  The device is opened with
// IFF_TAP | IFF_NO_PI, non-blocking, and disappears when the port closes.
// rx_burst() reads up to kBatchSize - batch.count frames into the port's
// own buffers (a fixed pool of Config::buffers frames); every
// received packet must leave through tx(p, true) on some port that
// returns it here, or release(p).  tx() writes the frame (one write()
// per frame: a copy, as for every TAP).  tx(p, true) of a packet that is
// not this port's hands it to Config::release_foreign (e.g. back to its
// UMEM) after the write.
//
// Opening is on the path of `ovs-vsctl add-port ... type=internal` (the
// change is in effect only once the device exists), so it does only what
// the device needs: TUNSETIFF, the flags read and set on a socket kept
// for the process, and a pool whose frame memory is reserved but not touched (a
// 256-frame pool is ~560 KB: constructing it faulted in ~140 pages, about
// as long as TUNSETIFF itself); the kernel faults a frame in on its first
// read(), on the PMD, once.
// Errors (flowpath::Error): no /dev/net/tun, no permission, bad name.
// Cost per packet: one read()/write() syscall.  Thread-safety: one thread
// per port (opening from any thread).
#pragma once

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

struct TapStats {
  uint64_t rx = 0, tx = 0, drops = 0, rx_empty = 0;
};

class TapPort {
 public:
  struct Config {
    std::string name;
    uint32_t buffers = 256;  // receive buffers (packets in flight)
    /// Called for owned packets of other pools after tx (may be null).
    void (*release_foreign)(void* ctx, Packet& p) = nullptr;
    void* release_ctx = nullptr;
  };

  explicit TapPort(const Config& cfg) : cfg_(cfg) {
    if (cfg.name.empty() || cfg.name.size() >= IFNAMSIZ)
      throw Error("internal port '" + cfg.name + "': name must be 1-15 characters");
    fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) fail("opening /dev/net/tun");
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, cfg.name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd_, TUNSETIFF, &ifr) < 0) fail("creating the TAP device (TUNSETIFF)");
    set_up();
    pool_ = std::make_unique<FramePool>(cfg.buffers);  // frames untouched until used
  }
  TapPort(const TapPort&) = delete;
  TapPort& operator=(const TapPort&) = delete;
  ~TapPort() {
    if (fd_ >= 0) close(fd_);
  }

  /// Appends up to kBatchSize - batch.count frames; returns how many.
  uint32_t rx_burst(Batch& batch) noexcept {
    uint32_t got = 0;
    while (!batch.full() && pool_->available()) {
      uint32_t i = pool_->top();
      ssize_t n = read(fd_, pool_->frame(i) + PacketBuffer::kHeadroom, kDefaultFrameSize);
      if (n <= 0) break;
      batch.push(&pool_->packet(pool_->take(), PacketBuffer::kHeadroom, uint32_t(n)));
      ++got;
    }
    if (got == 0) ++stats_.rx_empty;
    stats_.rx += got;
    return got;
  }

  /// Writes p to the device (the host receives it).
  void tx(Packet& p, bool owned) noexcept {
    if (write(fd_, p.data(), p.size()) == ssize_t(p.size()))
      ++stats_.tx;
    else
      ++stats_.drops;
    if (!owned) return;
    if (pool_->mine(p))
      pool_->release(p);
    else if (cfg_.release_foreign)
      cfg_.release_foreign(cfg_.release_ctx, p);
  }
  void flush() noexcept {}

  /// Returns one of this port's packets to its pool.
  void release(Packet& p) noexcept { pool_->release(p); }

  const TapStats& stats() const noexcept { return stats_; }
  const std::string& name() const noexcept { return cfg_.name; }
  int fd() const noexcept { return fd_; }

 private:
  // A socket for interface ioctls, opened once per process (the control
  // thread opens ports; the kernel serialises the ioctls themselves).  It
  // lives in the network namespace of the first open: a process that
  // later moves to another namespace gets "bringing the device up
  // failed" (ENODEV) for its TAPs there, never a silent mistake.
  static int ioctl_socket() noexcept {
    static const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return s;
  }
  void set_up() {
    int s = ioctl_socket();
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, cfg_.name.c_str(), IFNAMSIZ - 1);
    bool ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP;
    ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    if (!ok) fail("bringing the device up");
  }
  [[noreturn]] void fail(const char* what) {
    int err = errno;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    std::string msg = "internal port " + cfg_.name + ": " + what + " failed: " + std::strerror(err);
    if (err == EPERM || err == EACCES) msg += " (no permission: needs CAP_NET_ADMIN)";
    throw Error(msg);
  }

  Config cfg_;
  int fd_ = -1;
  std::unique_ptr<FramePool> pool_;  // made once the device exists
  TapStats stats_;
};

}  // namespace flowpath
