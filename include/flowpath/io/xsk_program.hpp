// flowpath/io/xsk_program.hpp — the XDP program attached to one
// interface to steer its frames into its AF_XDP sockets, and the cleanup
// registry.
//
// XskProgram reserves one slot per receive queue in the process-wide
// steering program's XSKMAP (xsk_steering.hpp: one program for every
// interface, so that attaching it to one more interface does not wait for
// an RCU grace period) and attaches that program to the interface:
// native (driver) mode first, generic (SKB) mode when the driver has no
// native XDP.  It does not use libxdp's multi-program dispatcher: that
// needs CAP_SYS_RESOURCE, which root lacks on the project's machines, and
// a program we attached ourselves is one we can detach by id from a signal
// handler.  Queues whose slot is empty pass frames to the kernel stack.
// The socket of queue q goes in slot key_base() + q.
//
// Cleanup registry: every attached program is recorded in a small global
// table (ifindex, program fd, mode).  xdp_cleanup_all() detaches every
// recorded program that is still the one attached (XDP_FLAGS_REPLACE, so
// a program someone else attached later is left alone); it only makes
// syscalls, so it may be called from a signal handler.
// install_xdp_cleanup_handlers() installs SIGINT/SIGTERM/SIGHUP handlers
// that call it and then re-raise the signal with its default action;
// programs with their own graceful-exit handler call xdp_cleanup_all()
// themselves (or just return from main so destructors run).
//
// Cost: nothing per packet beyond the kernel's redirect.  Thread-safety:
// construct/destroy from one thread; the registry is lock-free.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "flowpath/core/error.hpp"
#include "flowpath/io/xsk_steering.hpp"

namespace flowpath {

namespace xdp_registry {
struct Entry {
  std::atomic<int> ifindex{0};  // 0 = free slot
  std::atomic<int> prog_fd{-1};
  std::atomic<uint32_t> flags{0};
};
inline constexpr int kSlots = 1024;  // attached programs (ports)
inline std::array<Entry, kSlots> entries;

inline void add(int ifindex, int prog_fd, uint32_t flags) noexcept {
  for (auto& e : entries) {
    int expected = 0;
    if (e.ifindex.compare_exchange_strong(expected, -1)) {  // reserve
      e.prog_fd.store(prog_fd);
      e.flags.store(flags);
      e.ifindex.store(ifindex);
      return;
    }
  }
}
inline void detach_slot(Entry& e) noexcept {
  int ifindex = e.ifindex.exchange(0);
  if (ifindex <= 0) return;
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof(opts);
  opts.old_prog_fd = e.prog_fd.load();
  bpf_xdp_detach(ifindex, e.flags.load() | XDP_FLAGS_REPLACE, &opts);
}
inline void remove(int ifindex, int prog_fd) noexcept {
  for (auto& e : entries)
    if (e.ifindex.load() == ifindex && e.prog_fd.load() == prog_fd) detach_slot(e);
}
}  // namespace xdp_registry

/// Detaches every XDP program flowpath attached and has not yet removed.
inline void xdp_cleanup_all() noexcept {
  for (auto& e : xdp_registry::entries) xdp_registry::detach_slot(e);
}

inline void xdp_cleanup_signal_handler(int sig) noexcept {
  xdp_cleanup_all();
  signal(sig, SIG_DFL);
  raise(sig);
}

/// SIGINT/SIGTERM/SIGHUP detach all programs, then die as the signal says.
inline void install_xdp_cleanup_handlers() noexcept {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, xdp_cleanup_signal_handler);
}

/// Mounts bpffs on /sys/fs/bpf if nothing is mounted there (`ip netns
/// exec` hides the host's).  flowpath's own program pins nothing, so ports
/// call this only when Config::mount_bpffs asks (for libxdp users).
inline bool ensure_bpffs() noexcept {
  struct statfs st {};
  constexpr long kBpfFsMagic = 0xcafe4a11;
  if (statfs("/sys/fs/bpf", &st) == 0 && long(st.f_type) == kBpfFsMagic) return true;
  return mount("bpf", "/sys/fs/bpf", "bpf", 0, nullptr) == 0;
}

enum class XdpMode { kAuto, kNative, kGeneric };

class XskProgram {
 public:
  XskProgram(const std::string& ifname, int ifindex, uint32_t queues, XdpMode mode)
      : ifindex_(ifindex), queues_(queues) {
    XskSteering& s = XskSteering::instance();
    prog_fd_ = s.prog_fd();
    base_ = s.add(ifindex_, queues_);
    try {
      attach(ifname, mode);
    } catch (...) {
      s.remove(ifindex_, base_, queues_);
      throw;
    }
    xdp_registry::add(ifindex_, prog_fd_, flags_);
  }
  /// Attaches a program loaded elsewhere whose XSKMAP is map_fd (the XDP
  /// fast path, io/xdp_fast_path.hpp); takes ownership of both fds.
  XskProgram(const std::string& ifname, int ifindex, XdpMode mode, std::pair<int, int> prog_map)
      : ifindex_(ifindex), queues_(0), prog_fd_(prog_map.first), own_map_fd_(prog_map.second) {
    attach(ifname, mode);
    xdp_registry::add(ifindex_, prog_fd_, flags_);
  }
  XskProgram(const XskProgram&) = delete;
  XskProgram& operator=(const XskProgram&) = delete;
  ~XskProgram() {
    xdp_registry::remove(ifindex_, prog_fd_);  // detaches
    if (own_map_fd_ < 0) {
      XskSteering::instance().remove(ifindex_, base_, queues_);
      return;
    }
    close(prog_fd_);
    close(own_map_fd_);
  }

  int map_fd() const noexcept {
    return own_map_fd_ >= 0 ? own_map_fd_ : XskSteering::instance().xsks_fd();
  }
  /// The XSKMAP slot of queue 0 (queue q: key_base() + q).
  uint32_t key_base() const noexcept { return base_; }
  uint32_t xdp_flags() const noexcept { return flags_; }
  bool native() const noexcept { return flags_ & XDP_FLAGS_DRV_MODE; }

 private:
  void attach(const std::string& ifname, XdpMode mode) {
    int err = -EINVAL;
    if (mode != XdpMode::kGeneric) {
      flags_ = XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST;
      err = bpf_xdp_attach(ifindex_, prog_fd_, flags_, nullptr);
      if (err == 0 || mode == XdpMode::kNative || err == -EBUSY || err == -EEXIST || err == -EPERM)
        return check(ifname, err);
    }
    flags_ = XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST;
    check(ifname, bpf_xdp_attach(ifindex_, prog_fd_, flags_, nullptr));
  }
  void check(const std::string& ifname, int err) {
    flags_ &= ~uint32_t(XDP_FLAGS_UPDATE_IF_NOEXIST);
    if (err == -EBUSY || err == -EEXIST)
      fail(ifname, "XDP attach (another XDP program is already attached)", -err);
    if (err) fail(ifname, "XDP attach", -err);
  }
  [[noreturn]] void fail(const std::string& ifname, const char* what, int err) {
    std::string msg = "afxdp port " + ifname + ": " + what + " failed: " + std::strerror(err);
    if (err == EPERM || err == EACCES)
      msg += " (no permission: needs root / CAP_BPF, CAP_NET_ADMIN)";
    throw Error(msg);
  }

  int ifindex_;
  uint32_t queues_;
  uint32_t base_ = 0;
  int prog_fd_ = -1;     // the steering program's (not ours to close), or our own
  int own_map_fd_ = -1;  // set: a program loaded elsewhere, with its own XSKMAP
  uint32_t flags_ = 0;
};

}  // namespace flowpath
