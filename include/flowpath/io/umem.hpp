// flowpath/io/umem.hpp — one AF_XDP UMEM and its frame pool.
//
// A Umem is a block of memory registered with the kernel, cut into
// equal frames (2048 or 4096 bytes, a power of two: "aligned mode").
// Every AF_XDP socket of a switch binds to the SAME Umem (the second and
// later ones with xsk_socket__create_shared), so a frame received on one
// port can be queued for transmit on another port without a copy — the
// frame address simply moves from one socket's RX ring to another's TX
// ring.  Open vSwitch copies on every transmit; this is where flowpath
// saves that copy.
//
// The pool is a LIFO free list of frame addresses (recently used frames are
// warm in cache).  A frame is, at any moment, in exactly one place: the
// free list, a fill ring, the kernel, an RX ring / the application (as a
// Packet), a TX ring, or a completion ring.  Each frame has one Packet
// object here (packet_at()), so a Packet* handed out by a port stays valid
// until its frame is transmitted or released.
//
// Headroom: the kernel places received data XDP_PACKET_HEADROOM (256)
// bytes after the frame start (plus `headroom` below), far more than
// kMinHeadroom, so VLAN pushes happen in place.
//
// Recovery.  A socket's fill ring and TX ring hold frames the kernel owns;
// when the socket closes they vanish with its rings, and a Umem shared by
// ports that come and go would drain (100 idle ports, or a VM booted and
// deleted eight times, is 16,384 frames).  So every frame carries the id
// of the socket whose rings hold it (mark(): set when it enters a fill or
// TX ring, cleared when it comes back through RX or completion, or is
// freed), and once a socket is gone, reclaim(id) returns its frames: the
// kernel no longer touches them.  Two stores per packet; a reclaim scans
// the frames once (16,384: microseconds).
//
// Sizing.  The kernel gives every socket bound to a Umem its own buffer
// pool with one ~128-byte entry per frame of the WHOLE Umem, allocated and
// zeroed in bind(): 16,384 frames cost 2 MB per socket, a high-order
// allocation that on a VM with free page reporting (virtio-balloon reports
// free blocks of order >= 5 to the host) lands on memory the host must
// fault in again, 0.2-0.4 GB/s: 5-20 ms per port, growing as ports are
// added (docs/benchmarks.md, "Reconfiguration through OVSDB").
// Config::for_rings sizes a Umem for ONE port by what its rings need
// (a full fill ring and a full TX ring per queue): 4,096 frames for rings
// of 2,048, a 512 KB pool per socket (the switch's default; smaller rings
// cost less to bind but lost 40-70% more under load in bench/e2e).  The
// rest of a Umem's cost, its memory and registration, is paid when it is
// created, which Switch::prepare_spare does ahead of an add.
//
// Cost: alloc/free are one array access.  Thread-safety: none — all ports
// sharing a Umem must be polled by one thread (one PMD thread per Umem);
// new_owner() is the exception (atomic: a port may open on another thread).
#pragma once

#include <sys/mman.h>
#include <xdp/xsk.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "flowpath/core/error.hpp"
#include "flowpath/core/packet.hpp"

namespace flowpath {

class Umem {
 public:
  static constexpr uint64_t kNoFrame = ~uint64_t{0};

  struct Config {
    uint32_t num_frames = 16384;
    uint32_t frame_size = kDefaultFrameSize;  // 2048 or 4096
    uint32_t headroom = 0;                    // extra, beyond the kernel's 256
    uint32_t fill_size = 2048;                // per socket fill ring
    uint32_t comp_size = 2048;                // per socket completion ring

    /// A Umem for one port of `queues` sockets whose four rings have
    /// `ring` entries: a full fill ring (the frames then move to RX and
    /// back) and a full TX ring (then completion) per queue, 2 x ring, so
    /// its fill rings are never starved by another port's.  ring: a power
    /// of two, 64-4096.
    static Config for_rings(uint32_t queues, uint32_t ring) {
      if (ring < 64 || ring > 4096 || !std::has_single_bit(ring))
        throw Error("umem: ring size " + std::to_string(ring) +
                    " is not a power of two in 64-4096");
      if (queues == 0 || queues > 256)
        throw Error("umem: " + std::to_string(queues) + " queues (1-256)");
      Config c;
      c.num_frames = 2 * ring * queues;
      c.fill_size = c.comp_size = ring;
      return c;
    }
  };

  Umem() : Umem(Config{}) {}
  explicit Umem(const Config& cfg) : cfg_(cfg) {
    if (cfg.frame_size != 2048 && cfg.frame_size != 4096)
      throw Error("umem: frame_size " + std::to_string(cfg.frame_size) + " is not 2048 or 4096");
    if (cfg.num_frames == 0) throw Error("umem: num_frames is 0");
    size_ = uint64_t(cfg.num_frames) * cfg.frame_size;
    void* mem = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED)
      throw Error("umem: mmap of " + std::to_string(size_) +
                  " bytes failed: " + std::strerror(errno));
    area_ = static_cast<uint8_t*>(mem);
    xsk_umem_config uc{};
    uc.fill_size = cfg.fill_size;
    uc.comp_size = cfg.comp_size;
    uc.frame_size = cfg.frame_size;
    uc.frame_headroom = cfg.headroom;
    int err = xsk_umem__create(&umem_, area_, size_, &fq0_, &cq0_, &uc);
    if (err) {
      munmap(area_, size_);
      throw Error("umem: registering " + std::to_string(size_) +
                  " bytes with AF_XDP failed: " + std::strerror(-err) +
                  (err == -EPERM ? " (needs root / CAP_NET_RAW, CAP_IPC_LOCK)" : ""));
    }
    shift_ = uint32_t(std::countr_zero(cfg.frame_size));
    owner_ = std::make_unique<uint32_t[]>(cfg.num_frames);
    free_.reserve(cfg.num_frames);
    for (uint32_t i = cfg.num_frames; i-- > 0;) free_.push_back(uint64_t(i) * cfg.frame_size);
    packets_ = std::make_unique<Packet[]>(cfg.num_frames);
  }
  Umem(const Umem&) = delete;
  Umem& operator=(const Umem&) = delete;
  ~Umem() {
    if (umem_) xsk_umem__delete(umem_);
    if (area_) munmap(area_, size_);
  }

  // ---- frame pool -----------------------------------------------------
  /// A free frame's address (offset into the area), or kNoFrame.
  uint64_t alloc() noexcept {
    if (free_.empty()) return kNoFrame;
    uint64_t a = free_.back();
    free_.pop_back();
    return a;
  }
  /// Returns a frame (any address inside it) to the pool.
  void free(uint64_t addr) noexcept {
    owner_[addr >> shift_] = 0;
    free_.push_back(frame_base(addr));
  }
  uint32_t available() const noexcept { return uint32_t(free_.size()); }

  // ---- recovery (see the header) ---------------------------------------
  /// A fresh owner id for one socket's rings (never 0, never reused).
  uint32_t new_owner() noexcept { return next_owner_.fetch_add(1, std::memory_order_relaxed); }
  /// The frame at addr now sits in the rings of `owner` (0: the application).
  void mark(uint64_t addr, uint32_t owner) noexcept { owner_[addr >> shift_] = owner; }
  /// Returns to the pool every frame still marked with `owner`; call only
  /// once that socket is closed.  Returns how many.
  uint32_t reclaim(uint32_t owner) noexcept {
    uint32_t n = 0;
    for (uint32_t i = 0; i < cfg_.num_frames; ++i)
      if (owner_[i] == owner) {
        owner_[i] = 0;
        free_.push_back(uint64_t(i) << shift_);
        ++n;
      }
    return n;
  }

  // ---- addresses ------------------------------------------------------
  uint64_t frame_base(uint64_t addr) const noexcept {
    return addr & ~uint64_t(cfg_.frame_size - 1);
  }
  uint8_t* frame(uint64_t addr) noexcept { return area_ + frame_base(addr); }
  bool contains(const void* p) const noexcept {
    auto* b = static_cast<const uint8_t*>(p);
    return b >= area_ && b < area_ + size_;
  }
  uint64_t addr_of(const void* p) const noexcept {
    return uint64_t(static_cast<const uint8_t*>(p) - area_);
  }
  /// The Packet object belonging to the frame at addr, pointed at the
  /// frame's data [addr, addr + len).
  Packet& packet_at(uint64_t addr, uint32_t len) noexcept {
    uint64_t base = frame_base(addr);
    Packet& p = packets_[base / cfg_.frame_size];
    p = Packet(area_ + base, cfg_.frame_size, uint32_t(addr - base), len);
    p.user = base;
    return p;
  }

  uint32_t frame_size() const noexcept { return cfg_.frame_size; }
  uint32_t num_frames() const noexcept { return cfg_.num_frames; }
  const Config& config() const noexcept { return cfg_; }
  xsk_umem* handle() noexcept { return umem_; }

  /// The fill/completion rings created with the UMEM belong to the first
  /// socket bound to it; later sockets bring their own.  Returns true (and
  /// the rings) exactly once.
  bool take_initial_rings(xsk_ring_prod** fq, xsk_ring_cons** cq) noexcept {
    if (initial_taken_) return false;
    initial_taken_ = true;
    *fq = &fq0_;
    *cq = &cq0_;
    return true;
  }

 private:
  Config cfg_;
  uint8_t* area_ = nullptr;
  uint64_t size_ = 0;
  xsk_umem* umem_ = nullptr;
  xsk_ring_prod fq0_{};
  xsk_ring_cons cq0_{};
  bool initial_taken_ = false;
  uint32_t shift_ = 0;                 // log2(frame_size)
  std::unique_ptr<uint32_t[]> owner_;  // per frame: the socket whose rings hold it
  std::atomic<uint32_t> next_owner_{1};
  std::vector<uint64_t> free_;
  std::unique_ptr<Packet[]> packets_;
};

}  // namespace flowpath
