// flowpath/io/afxdp_port.hpp — a switch port on a real interface, over
// AF_XDP sockets (libxdp's xsk API, libbpf).
//
//   Umem umem;                              // one per switch (per PMD thread)
//   AfxdpPort a(umem, {.ifname = "vm1"}), b(umem, {.ifname = "eth2"});
//   Batch batch;
//   for (;;) {
//     batch.clear();
//     a.rx_burst(batch);                    // <= 32 Packets in UMEM frames
//     for (Packet* p : batch) b.tx(*p, /*owned=*/true);   // zero copy
//     b.flush();
//   }
//
// Opening: the interface must exist (Error names it otherwise).  The port
// counts the interface's receive queues (ETHTOOL_GCHANNELS, else
// /sys/class/net/IF/queues/rx-*) and opens ONE SOCKET PER QUEUE — a port
// that served queue 0 alone would silently lose the flows the NIC hashes
// elsewhere.  An XskProgram (xsk_program.hpp) steers each queue into its
// socket; native XDP with a fallback to generic mode; zero-copy binding
// where the driver has it, else copy mode; need_wakeup always.
//
// Umem: shared or the port's own.  AfxdpPort(umem, cfg) binds to a Umem
// shared with other ports of the same thread (a frame received here can
// be sent on another of them without a copy); AfxdpPort(cfg) creates a
// Umem of its own sized by its rings (Umem::Config::for_rings: 2 x ring
// frames per queue, ring = cfg.rx_size), so that opening it costs the
// kernel a buffer pool of 512 KB (rings of 2,048) instead of 2 MB or more one sized by a large
// shared Umem (umem.hpp, "Sizing"), and its fill rings are full from the start; frames then cross
// to other ports by copy (tx(p, false)).
//
// Ports: one in, one out.  rx_burst() appends up to 32 - batch.count
// packets, visiting the queues round robin.  Each Packet lives in its UMEM
// frame (Packet::user = frame address); the caller sets in_port.  Every
// received packet must leave through tx(p, true) (zero copy when the frame
// is in this port's Umem) or release(p).  tx(p, false) copies into a free
// frame and leaves p with the caller; so does tx() of a foreign buffer.
// flush() publishes queued TX descriptors, kicks the kernel with sendto()
// when it asks, and recycles completed frames.  Transmit uses queue 0's
// socket (one PMD thread per port).
//
// Counters (stats()): rx, tx, rx_empty (polls that found nothing),
// fill_empty (refills the pool could not satisfy), tx_full (TX ring full),
// drops (packets lost here: ring full or no free frame).
//
// Cost per packet: a descriptor read, a prefetch of the frame's head (all
// of a burst's before any Packet is set up: see prefetch_frame) and a
// Packet setup on RX, a descriptor write on TX; one syscall per flush, most of the real cost
// being the kernel's transmit path (veth: the peer's receive).
// Thread-safety: a port and its Umem belong to one thread.
#pragma once

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flowpath/core/batch.hpp"
#include "flowpath/core/error.hpp"
#include "flowpath/io/umem.hpp"
#include "flowpath/io/xsk_program.hpp"
#include "flowpath/io/xsk_queue.hpp"

namespace flowpath {

struct AfxdpStats {
  uint64_t rx = 0, tx = 0, rx_empty = 0, fill_empty = 0, tx_full = 0, drops = 0;
};

/// Number of receive queues of an interface (>= 1).
inline uint32_t interface_rx_queues(const std::string& ifname) {
  uint32_t n = 0;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd >= 0) {
    ethtool_channels ch{};
    ch.cmd = ETHTOOL_GCHANNELS;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&ch);
    if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) n = ch.rx_count + ch.combined_count;
    close(fd);
  }
  if (n == 0) {
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator("/sys/class/net/" + ifname + "/queues", ec))
      if (e.path().filename().string().rfind("rx-", 0) == 0) ++n;
  }
  return n ? n : 1;
}

class AfxdpPort {
 public:
  struct Config {
    std::string ifname{};
    XdpMode mode = XdpMode::kAuto;
    bool zero_copy = true;  // try zero-copy binding first
    uint32_t queues = 0;    // 0 = every receive queue of the interface
    uint32_t rx_size = 2048;
    uint32_t tx_size = 2048;
    bool mount_bpffs = false;  // only libxdp's dispatcher needs bpffs
    /// Set: loads this port's XDP program instead of XskProgram's own,
    /// returning (program fd, XSKMAP fd) (the XDP fast path's loader).
    std::function<std::pair<int, int>(const std::string&, uint32_t)> load_program{};
    /// false: the fill rings stay empty until the first rx_burst, so the
    /// port can be opened on a thread other than the one polling its Umem.
    bool fill_on_open = true;
  };

  /// A port on a Umem shared with other ports of the same thread.
  AfxdpPort(Umem& umem, const Config& cfg) : AfxdpPort(nullptr, &umem, cfg, checked_queues(cfg)) {}
  /// A port with a Umem of its own, sized by its rings (cfg.rx_size): see
  /// the header.  cfg.tx_size must not exceed cfg.rx_size.
  explicit AfxdpPort(const Config& cfg) : AfxdpPort(own_umem(cfg, checked_queues(cfg)), cfg) {}
  /// The same with a Umem made ahead (no port has used it), at least as
  /// large as Umem::Config::for_rings(queues, cfg.rx_size).
  AfxdpPort(std::unique_ptr<Umem> umem, const Config& cfg)
      : AfxdpPort(given_umem(std::move(umem), cfg, checked_queues(cfg)), cfg) {}
  AfxdpPort(const AfxdpPort&) = delete;
  AfxdpPort& operator=(const AfxdpPort&) = delete;
  ~AfxdpPort() {
    queues_.clear();  // sockets first, then the program (then an own Umem)
    prog_.reset();
  }
  /// True when the port owns its Umem (no other port uses it).
  bool owns_umem() const noexcept { return own_umem_ != nullptr; }

  /// Appends up to kBatchSize - batch.count received packets; returns how many.
  uint32_t rx_burst(Batch& batch) noexcept {
    uint32_t got = 0;
    const uint32_t nq = uint32_t(queues_.size());
    for (uint32_t k = 0; k < nq && !batch.full(); ++k) {
      XskQueue& q = *queues_[next_q_];
      next_q_ = next_q_ + 1 == nq ? 0 : next_q_ + 1;
      uint32_t n = q.rx_peek(kBatchSize - batch.count);
      for (uint32_t i = 0; i < n; ++i) prefetch_frame(*q.rx_desc(i));
      for (uint32_t i = 0; i < n; ++i) {
        const xdp_desc* d = q.rx_desc(i);
        uint32_t len = d->len <= umem_.frame_size() ? d->len : 0;  // never trust lengths
        umem_.mark(d->addr, 0);                                    // the application's now
        batch.push(&umem_.packet_at(d->addr, len));
      }
      if (n) q.rx_done(n);
      if (!q.refill()) ++stats_.fill_empty;
      if (n == 0) q.rx_kick();
      got += n;
    }
    if (got == 0) ++stats_.rx_empty;
    stats_.rx += got;
    return got;
  }

  /// Queues p for transmit.  owned: the caller gives up p (its frame is
  /// reused or recycled); otherwise p is copied and stays the caller's.
  void tx(Packet& p, bool owned) noexcept {
    XskQueue& q = *queues_[0];
    if (owned && umem_.contains(p.buffer())) {
      uint64_t addr = umem_.addr_of(p.data());
      if (q.tx_queue(addr, p.size())) {
        ++stats_.tx;
      } else {
        ++stats_.tx_full;
        ++stats_.drops;
        umem_.free(addr);
      }
      return;
    }
    uint64_t f = umem_.alloc();
    if (f == Umem::kNoFrame) {
      q.drain_completions();
      f = umem_.alloc();
    }
    uint32_t len = p.size();
    if (f == Umem::kNoFrame || len > umem_.frame_size() - kMinHeadroom) {
      if (f != Umem::kNoFrame) umem_.free(f);
      ++stats_.drops;
    } else {
      std::memcpy(umem_.frame(f) + kMinHeadroom, p.data(), len);
      if (q.tx_queue(f + kMinHeadroom, len)) {
        ++stats_.tx;
      } else {
        ++stats_.tx_full;
        ++stats_.drops;
        umem_.free(f);
      }
    }
    if (owned) release(p);
  }
  void tx_burst(Batch& batch, bool owned = true) noexcept {
    for (Packet* p : batch) tx(*p, owned);
  }

  /// Fills every queue's fill ring now (the Umem's thread): a frame that
  /// arrives before the first rx_burst is then received, not dropped.
  void prime() noexcept {
    for (auto& q : queues_) q->refill();
  }

  /// Publishes queued frames, kicks the kernel, recycles completions.
  void flush() noexcept {
    for (auto& q : queues_) q->tx_flush();
  }

  /// The last touch of the Umem before closing (under its thread's lock):
  /// completed frames go back to the pool; the port may then be destroyed
  /// on any thread, the slow part of closing (socket, XDP detach) away
  /// from the PMD.  Returns the owner ids whose frames the caller gives
  /// back with Umem::reclaim once the port is destroyed (on the Umem's
  /// thread again).
  std::vector<uint32_t> detach_pool() {
    std::vector<uint32_t> owners;
    for (auto& q : queues_) {
      q->detach_pool();
      if (q->reclaimable()) owners.push_back(q->owner());
    }
    return owners;
  }

  /// Returns a dropped packet's frame to the pool (no-op for foreign buffers).
  void release(Packet& p) noexcept {
    if (umem_.contains(p.buffer())) umem_.free(umem_.addr_of(p.buffer()));
  }

  const AfxdpStats& stats() const noexcept { return stats_; }
  void clear_stats() noexcept { stats_ = {}; }
  const std::string& name() const noexcept { return name_; }
  int ifindex() const noexcept { return ifindex_; }
  uint32_t num_queues() const noexcept { return uint32_t(queues_.size()); }
  bool native_xdp() const noexcept { return prog_->native(); }
  bool zero_copy() const noexcept { return queues_[0]->zero_copy(); }
  Umem& umem() noexcept { return umem_; }
  /// The sockets' fds (for poll()), one per queue.
  std::vector<int> fds() const {
    std::vector<int> v;
    for (auto& q : queues_) v.push_back(q->fd());
    return v;
  }

 private:
  struct Owned {  // an own Umem and the queue count it was sized for
    std::unique_ptr<Umem> umem;
    uint32_t queues;
  };
  AfxdpPort(Owned o, const Config& cfg) : AfxdpPort(std::move(o.umem), nullptr, cfg, o.queues) {}
  AfxdpPort(std::unique_ptr<Umem> own, Umem* shared, const Config& cfg, uint32_t nq)
      : own_umem_(std::move(own)), umem_(shared ? *shared : *own_umem_), name_(cfg.ifname) {
    ifindex_ = int(if_nametoindex(cfg.ifname.c_str()));
    if (ifindex_ == 0) throw Error("afxdp port " + cfg.ifname + ": no such interface");
    if (cfg.mount_bpffs) ensure_bpffs();
    prog_ = cfg.load_program ? std::make_unique<XskProgram>(cfg.ifname, ifindex_, cfg.mode,
                                                            cfg.load_program(cfg.ifname, nq))
                             : std::make_unique<XskProgram>(cfg.ifname, ifindex_, nq, cfg.mode);
    XskQueueConfig qc;
    qc.rx_size = cfg.rx_size;
    qc.tx_size = cfg.tx_size;
    qc.xdp_flags = prog_->xdp_flags();
    qc.zero_copy = cfg.zero_copy;
    qc.fill_on_open = cfg.fill_on_open;
    qc.xskmap_base = prog_->key_base();
    for (uint32_t q = 0; q < nq; ++q)
      queues_.push_back(std::make_unique<XskQueue>(umem_, cfg.ifname, q, prog_->map_fd(), qc));
  }

  /// Validates the name; the number of queues the port will open.
  static uint32_t checked_queues(const Config& cfg) {
    if (cfg.ifname.empty() || cfg.ifname.size() >= IFNAMSIZ ||
        if_nametoindex(cfg.ifname.c_str()) == 0)
      throw Error("afxdp port " + cfg.ifname + ": no such interface");
    return cfg.queues ? cfg.queues : interface_rx_queues(cfg.ifname);
  }
  static Owned own_umem(const Config& cfg, uint32_t nq) {
    check_rings(cfg);
    return {std::make_unique<Umem>(Umem::Config::for_rings(nq, cfg.rx_size)), nq};
  }
  static Owned given_umem(std::unique_ptr<Umem> u, const Config& cfg, uint32_t nq) {
    check_rings(cfg);
    uint32_t need = Umem::Config::for_rings(nq, cfg.rx_size).num_frames;
    if (!u || u->num_frames() < need || u->config().fill_size < cfg.rx_size)
      throw Error("afxdp port " + cfg.ifname + ": the Umem given is smaller than " +
                  std::to_string(need) + " frames with rings of " + std::to_string(cfg.rx_size));
    return {std::move(u), nq};
  }
  static void check_rings(const Config& cfg) {
    if (cfg.tx_size > cfg.rx_size)
      throw Error("afxdp port " + cfg.ifname + ": tx_size " + std::to_string(cfg.tx_size) +
                  " exceeds rx_size " + std::to_string(cfg.rx_size) + " (an own Umem's ring)");
  }

  // The kernel copied a received frame into the UMEM on the sender's CPU,
  // so the parser's first read of it is a cross-core cache miss (most of
  // parse_batch's time in a profile).  Every descriptor of a burst is
  // known before any frame is used: starting all the misses here lets
  // them overlap with one another and with the rest of the burst's setup
  // instead of being paid one after another.  Write intent: the actions
  // usually write the head of the frame (a VLAN push), and a line fetched
  // shared would need a second trip to become writable.  Headers past the
  // first line (IPv6, TCP) are in the second, fetched for longer frames.
  // A bad address from the ring only makes a prefetch useless, never a fault.
  void prefetch_frame(const xdp_desc& d) noexcept {
    const uint8_t* p = umem_.frame(d.addr) + (d.addr - umem_.frame_base(d.addr));
    __builtin_prefetch(p, 1, 3);
    if (d.len > 64) __builtin_prefetch(p + 64, 1, 3);
  }

  std::unique_ptr<Umem> own_umem_;  // set: the port's own (destroyed last)
  Umem& umem_;
  std::string name_;
  int ifindex_ = 0;
  std::unique_ptr<XskProgram> prog_;
  std::vector<std::unique_ptr<XskQueue>> queues_;
  uint32_t next_q_ = 0;
  AfxdpStats stats_;
};

}  // namespace flowpath
