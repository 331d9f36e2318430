// flowpath/io/xsk_queue.hpp — one AF_XDP socket: one receive queue of one
// interface, bound to the shared Umem, with its own RX/TX rings and its
// own fill/completion rings.
//
// AfxdpPort owns one XskQueue per receive queue of its interface; see
// afxdp_port.hpp for the port-level contract.  This type holds the ring
// mechanics: keep the fill ring full from the Umem pool, peek up to a
// batch of RX descriptors, queue TX descriptors, kick the kernel when it
// asks (need_wakeup), and recycle completed TX frames to the pool.
//
// Cost per packet: a few ring loads/stores; sendto() once per flush when
// the kernel wants a wakeup.  Thread-safety: one thread.
#pragma once

#include <bpf/bpf.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "flowpath/core/error.hpp"
#include "flowpath/io/umem.hpp"

namespace flowpath {

struct XskQueueConfig {
  uint32_t rx_size = 2048;
  uint32_t tx_size = 2048;
  uint32_t xdp_flags = 0;
  bool zero_copy = true;  // try XDP_ZEROCOPY first, then XDP_COPY
  /// false: leave the fill ring empty until the first refill(), so a
  /// socket opened on another thread than the Umem's never touches its pool.
  bool fill_on_open = true;
  uint32_t xskmap_base = 0;  // this socket's XSKMAP slot: xskmap_base + queue_id
};

class XskQueue {
 public:
  XskQueue(Umem& umem, const std::string& ifname, uint32_t queue_id, int map_fd,
           const XskQueueConfig& cfg)
      : umem_(umem), queue_id_(queue_id), owner_(umem.new_owner()) {
    if (!umem.take_initial_rings(&fq_, &cq_)) {
      fq_ = &own_fq_;
      cq_ = &own_cq_;
      own_rings_ = true;
    }
    create(ifname, cfg);
    fd_ = xsk_socket__fd(xsk_);
    // Fill first: once the slot is in the XSKMAP the kernel redirects
    // frames here, and a socket with an empty fill ring drops them (a
    // port moving from its packet socket must lose none: switch_port.hpp).
    if (cfg.fill_on_open) refill();
    uint32_t slot = cfg.xskmap_base + queue_id;
    int err = bpf_map_update_elem(map_fd, &slot, &fd_, BPF_ANY);
    if (err) {
      xsk_socket__delete(xsk_);
      if (reclaimable()) umem_.reclaim(owner_);  // the fill ring's frames
      throw Error("afxdp port " + ifname + ": registering queue " + std::to_string(queue_id) +
                  " in the XSKMAP failed: " + std::strerror(-err));
    }
  }
  XskQueue(const XskQueue&) = delete;
  XskQueue& operator=(const XskQueue&) = delete;
  ~XskQueue() {
    // Completed TX frames go back to the pool, and once the socket is
    // gone, the frames its fill/RX/TX rings held (umem.hpp, "Recovery").
    if (!pool_detached_) drain_completions();
    xsk_socket__delete(xsk_);
    if (!pool_detached_ && reclaimable()) umem_.reclaim(owner_);
  }
  /// Recycles completed frames one last time, then never touches the Umem
  /// again: the socket may then be deleted on another thread, and the
  /// caller reclaims owner() afterwards, on the Umem's thread.
  void detach_pool() noexcept {
    drain_completions();
    pool_detached_ = true;
  }
  /// The id marking the frames in this socket's rings (Umem::mark).
  uint32_t owner() const noexcept { return owner_; }
  /// Whether closing the socket really releases its rings.  The first
  /// socket of a Umem is bound on the Umem's own fd, which libxdp keeps
  /// open (and bound) until the Umem goes: its frames stay the kernel's.
  bool reclaimable() const noexcept { return own_rings_; }

  /// Keeps the fill ring full; false when the pool ran dry.
  bool refill() noexcept {
    uint32_t want = xsk_prod_nb_free(fq_, umem_.config().fill_size);
    if (want > umem_.available()) want = umem_.available();
    if (want == 0) return xsk_prod_nb_free(fq_, 1) == 0;
    uint32_t idx = 0;
    uint32_t got = xsk_ring_prod__reserve(fq_, want, &idx);
    for (uint32_t i = 0; i < got; ++i) {
      uint64_t a = umem_.alloc();
      umem_.mark(a, owner_);
      *xsk_ring_prod__fill_addr(fq_, idx + i) = a;
    }
    xsk_ring_prod__submit(fq_, got);
    return true;
  }

  /// Peeks up to max RX descriptors; call rx_desc(i) for each, then rx_done(n).
  uint32_t rx_peek(uint32_t max) noexcept { return xsk_ring_cons__peek(&rx_, max, &rx_idx_); }
  const xdp_desc* rx_desc(uint32_t i) const noexcept {
    return xsk_ring_cons__rx_desc(&rx_, rx_idx_ + i);
  }
  void rx_done(uint32_t n) noexcept { xsk_ring_cons__release(&rx_, n); }
  /// Wakes the kernel's RX side when it asks (idle driver, generic mode).
  void rx_kick() noexcept {
    if (xsk_ring_prod__needs_wakeup(fq_)) recvfrom(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  }

  /// Queues one frame for transmit; false when the TX ring is full.
  bool tx_queue(uint64_t addr, uint32_t len) noexcept {
    uint32_t idx = 0;
    if (xsk_ring_prod__reserve(&tx_, 1, &idx) != 1) return false;
    xdp_desc* d = xsk_ring_prod__tx_desc(&tx_, idx);
    d->addr = addr;
    d->len = len;
    d->options = 0;
    umem_.mark(addr, owner_);
    ++tx_pending_;
    return true;
  }
  /// Publishes queued frames and kicks the kernel if it needs it.
  void tx_flush() noexcept {
    if (tx_pending_) {
      xsk_ring_prod__submit(&tx_, tx_pending_);
      tx_pending_ = 0;
    }
    // Kick while the kernel has not consumed every queued descriptor.
    if (xsk_prod_nb_free(&tx_, tx_size_) < tx_size_ && xsk_ring_prod__needs_wakeup(&tx_)) {
      if (sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN &&
          errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
        ++kick_errors_;
    }
    drain_completions();
  }
  /// Recycles transmitted frames to the pool; returns how many.
  uint32_t drain_completions() noexcept {
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(cq_, umem_.config().comp_size, &idx);
    for (uint32_t i = 0; i < n; ++i) umem_.free(*xsk_ring_cons__comp_addr(cq_, idx + i));
    if (n) xsk_ring_cons__release(cq_, n);
    return n;
  }

  uint32_t queue_id() const noexcept { return queue_id_; }
  int fd() const noexcept { return fd_; }
  bool zero_copy() const noexcept { return zero_copy_; }
  uint64_t kick_errors() const noexcept { return kick_errors_; }

 private:
  void create(const std::string& ifname, const XskQueueConfig& cfg) {
    xsk_socket_config sc{};
    sc.rx_size = cfg.rx_size;
    sc.tx_size = cfg.tx_size;
    sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    sc.xdp_flags = cfg.xdp_flags;
    tx_size_ = cfg.tx_size;
    int err = 0;
    // A socket closed a moment ago on the same queue can still hold it
    // (EBUSY): retry briefly before reporting.
    for (int attempt = 0; attempt < 20; ++attempt) {
      for (bool zc : {true, false}) {
        if (zc && !cfg.zero_copy) continue;
        sc.bind_flags = XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY);
        err = xsk_socket__create_shared(&xsk_, ifname.c_str(), queue_id_, umem_.handle(), &rx_,
                                        &tx_, fq_, cq_, &sc);
        if (err == 0) {
          // A socket sharing the UMEM inherits its mode; ask the kernel.
          xdp_options opts{};
          socklen_t ol = sizeof opts;
          zero_copy_ = getsockopt(xsk_socket__fd(xsk_), SOL_XDP, XDP_OPTIONS, &opts, &ol) == 0 &&
                       (opts.flags & XDP_OPTIONS_ZEROCOPY);
          return;
        }
      }
      if (err != -EBUSY && err != -EAGAIN) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string msg = "afxdp port " + ifname + ": creating the AF_XDP socket on queue " +
                      std::to_string(queue_id_) + " failed: " + std::strerror(-err);
    if (err == -EPERM || err == -EACCES) msg += " (no permission: needs root / CAP_NET_RAW)";
    throw Error(msg);
  }

  Umem& umem_;
  uint32_t queue_id_;
  uint32_t owner_;
  bool own_rings_ = false;
  xsk_socket* xsk_ = nullptr;
  int fd_ = -1;
  xsk_ring_cons rx_{};
  xsk_ring_prod tx_{};
  xsk_ring_prod own_fq_{};
  xsk_ring_cons own_cq_{};
  xsk_ring_prod* fq_ = nullptr;
  xsk_ring_cons* cq_ = nullptr;
  uint32_t rx_idx_ = 0;
  uint32_t tx_pending_ = 0;
  uint32_t tx_size_ = 0;
  bool zero_copy_ = false;
  bool pool_detached_ = false;
  uint64_t kick_errors_ = 0;
};

}  // namespace flowpath
