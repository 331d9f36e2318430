// flowpath/switch/switch_port.hpp — one datapath port of a running switch:
// an AF_XDP port, a packet socket moving to AF_XDP (a `""`/`system` port's
// first milliseconds), a TAP device (internal port) or a memory port
// (tests), behind one non-virtual interface the PMD loop and the sink use.
//
//   SwitchPort p("vm1", 2, /*pmd=*/0, std::make_unique<AfxdpPort>(umem, cfg));
//   p.rx_burst(batch);      // counts rx
//   p.tx(pkt, owned);       // owned: the frame is given up (zero copy when
//                           // it is in this port's pool), else copied
//   p.release(pkt);         // a packet received HERE goes back to its pool
//
// Ownership and locking.  A port belongs to one PMD thread (pmd()), which
// receives from it and owns its buffer pool (the PMD's Umem for AF_XDP).
// Every call that touches the port — rx, tx, flush, release, reading the
// counters — happens with that PMD's mutex held (domain()); the PMD holds
// it around each poll, other threads take it for the few calls they make.
//
// Counters: rx (received), tx (sent, copies included), tx_dropped (the
// port could not send: ring full, no frame), rx_dropped (received here
// and dropped by the datapath: a drop action, no output, failed action).
// Dispatch is a switch on the kind, no virtual call on the data path.
// Cost per packet: the backend's (see io/afxdp_port.hpp, io/tap_port.hpp).
//
// The move (kPacket -> kMoving -> kAfxdp; port_move.hpp; docs/ovsdb.md,
// "A system port's life").
// A `""`/`system` port opens on a packet socket (io/packet_port.hpp, ~0.1
// ms) and forwards at once; start_move() binds its AF_XDP port on a thread
// of its own (~1-2 ms: XDP attached, socket bound, fill ring filled, then
// the socket entered in the steering XSKMAP — from that instant the kernel
// redirects every frame to it, none reaches the packet socket any more).
// The PMD adopts it at its next poll of the port (kMoving): it receives
// from the packet socket first, the AF_XDP socket only once the packet
// socket is empty, and sends through AF_XDP.  A frame goes either to the
// XSKMAP or past XDP to the packet socket, never both, so none is doubled;
// the packet socket is read until PortMove::kDrainNs after the adoption (a frame
// that passed XDP just before the insert is queued to it within µs, in the
// same softirq) and found empty, so none is lost.  Then the port is
// kAfxdp (same datapath number, counters kept) and the packet socket is
// closed on the mover's thread (closing it waits for an RCU grace
// period: not on the PMD).  A bind that fails leaves the port on its
// packet socket (move_info() says why; it forwards, as Open vSwitch's own
// system ports do).  Destroying the port during the move waits for the
// bind and closes what it made: nothing stays attached.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "flowpath/core/batch.hpp"
#include "flowpath/io/afxdp_port.hpp"
#include "flowpath/io/memory_port.hpp"
#include "flowpath/io/packet_port.hpp"
#include "flowpath/io/tap_port.hpp"
#include "flowpath/switch/port_move.hpp"

namespace flowpath {

enum class SwitchPortKind { kAfxdp, kTap, kMemory, kPacket, kMoving };

inline const char* to_string(SwitchPortKind k) noexcept {
  switch (k) {
    case SwitchPortKind::kAfxdp:
      return "afxdp";
    case SwitchPortKind::kTap:
      return "tap";
    case SwitchPortKind::kMemory:
      return "memory";
    case SwitchPortKind::kPacket:
      return "packet socket, afxdp binding";
    case SwitchPortKind::kMoving:
      return "afxdp, packet socket draining";
  }
  return "?";
}

struct SwitchPortStats {
  uint64_t rx = 0, tx = 0, rx_dropped = 0, tx_dropped = 0;
};

class SwitchPort {
 public:
  SwitchPort(std::string name, uint32_t dp_port, unsigned pmd, std::unique_ptr<AfxdpPort> p)
      : SwitchPort(std::move(name), p->name(), dp_port, pmd, SwitchPortKind::kAfxdp) {
    needs_prime_ = !p->owns_umem();
    afxdp_ = std::move(p);
  }
  SwitchPort(std::string name, uint32_t dp_port, unsigned pmd, std::unique_ptr<TapPort> p)
      : SwitchPort(std::move(name), p->name(), dp_port, pmd, SwitchPortKind::kTap) {
    tap_ = std::move(p);
  }
  SwitchPort(std::string name, uint32_t dp_port, unsigned pmd, std::unique_ptr<MemoryPort> p)
      : SwitchPort(std::string(name), name, dp_port, pmd, SwitchPortKind::kMemory) {
    memory_ = std::move(p);
  }
  /// A port on a packet socket; start_move() then moves it to AF_XDP.
  SwitchPort(std::string name, uint32_t dp_port, unsigned pmd, std::unique_ptr<PacketPort> p)
      : SwitchPort(std::move(name), p->name(), dp_port, pmd, SwitchPortKind::kPacket) {
    packet_ = std::move(p);
  }
  SwitchPort(const SwitchPort&) = delete;
  SwitchPort& operator=(const SwitchPort&) = delete;
  /// During a move: waits for the bind and closes what it made first.
  ~SwitchPort() { move_.reset(); }

  /// A kPacket port: binds its AF_XDP port behind it (PortMove::start:
  /// open() on a thread of its own, then wake() its PMD, which adopts it
  /// at its next poll of the port).  Control thread, once.
  template <typename Open>
  void start_move(Open open, std::function<void()> wake) {
    move_ = std::make_unique<PortMove>();
    move_->start(std::move(open), std::move(wake));
  }

  uint32_t rx_burst(Batch& b) noexcept {
    uint32_t n = 0;
    switch (kind()) {
      case SwitchPortKind::kAfxdp:
        n = afxdp_->rx_burst(b);
        break;
      case SwitchPortKind::kTap:
        n = tap_->rx_burst(b);
        break;
      case SwitchPortKind::kMemory:
        n = memory_->rx_burst(b);
        break;
      case SwitchPortKind::kPacket:
        if (AfxdpPort* a = move_ ? move_->take_ready() : nullptr) [[unlikely]] {
          adopt(a);
          n = moving_rx(b);
        } else {
          n = packet_->rx_burst(b);
        }
        break;
      case SwitchPortKind::kMoving:
        n = moving_rx(b);
        break;
    }
    rx_ += n;
    return n;
  }
  void tx(Packet& p, bool owned) noexcept {
    switch (kind()) {
      case SwitchPortKind::kAfxdp:
        afxdp_->tx(p, owned);
        break;
      case SwitchPortKind::kTap:
        tap_->tx(p, owned);
        break;
      case SwitchPortKind::kMemory:
        memory_->tx(p);
        break;  // copies; pool is per burst
      case SwitchPortKind::kPacket:
        packet_->tx(p, owned);
        break;
      case SwitchPortKind::kMoving:
        if (owned && packet_->mine(p)) {  // received here before the move
          afxdp_->tx(p, false);
          packet_->release(p);
        } else {
          afxdp_->tx(p, owned);
        }
        break;
    }
  }
  void flush() noexcept {
    if (afxdp_) afxdp_->flush();
  }
  /// Ready to receive before the first rx_burst (AF_XDP: fill rings full).
  void prime() noexcept {
    if (afxdp_) afxdp_->prime();
  }
  /// Whether prime() matters: a frame arriving before it would be lost.
  /// Not for a port with its own Umem: its fill rings were filled at open.
  bool needs_prime() const noexcept { return needs_prime_; }
  /// Returns a packet received on this port to its pool.
  void release(Packet& p) noexcept {
    switch (kind()) {
      case SwitchPortKind::kAfxdp:
        afxdp_->release(p);
        break;
      case SwitchPortKind::kTap:
        tap_->release(p);
        break;
      case SwitchPortKind::kMemory:
        break;
      case SwitchPortKind::kPacket:
        packet_->release(p);
        break;
      case SwitchPortKind::kMoving:
        if (packet_->mine(p))
          packet_->release(p);
        else
          afxdp_->release(p);
        break;
    }
  }
  /// True when tx(p, true) of a packet received on `origin` may hand the
  /// buffer over without a copy: the same UMEM (same PMD, shared Umem), or
  /// the same port.
  bool shares_pool(const SwitchPort& origin) const noexcept {
    if (&origin == this) return kind() != SwitchPortKind::kMemory;
    return kind() == SwitchPortKind::kAfxdp && origin.kind() == SwitchPortKind::kAfxdp &&
           &afxdp_->umem() == &origin.afxdp_->umem();
  }
  void count_rx_drop() noexcept { ++rx_dropped_; }

  SwitchPortStats stats() const noexcept {
    SwitchPortStats s;
    s.rx = rx_;
    s.rx_dropped = rx_dropped_;
    s.tx = carried_.tx;  // sent on the packet socket before the move
    s.tx_dropped = carried_.drops;
    if (packet_) {
      s.tx += packet_->stats().tx;
      s.tx_dropped += packet_->stats().drops;
    }
    if (afxdp_) {
      s.tx += afxdp_->stats().tx;
      s.tx_dropped += afxdp_->stats().drops;
    } else if (tap_) {
      s.tx = tap_->stats().tx;
      s.tx_dropped = tap_->stats().drops;
    } else if (memory_) {
      s.tx = memory_->counters().tx;
      s.tx_dropped = memory_->counters().drops;
    }
    return s;
  }

  const std::string& name() const noexcept { return name_; }
  /// The kernel device behind the port (the interface, the TAP), or the
  /// port name for memory ports.
  const std::string& device() const noexcept { return device_; }
  /// Frames of a closed port still to give back to its PMD's pool.
  struct FrameReclaim {
    Umem* umem = nullptr;
    std::vector<uint32_t> owners;
    /// Under the PMD's domain(), once the port is destroyed.
    void run() noexcept {
      for (uint32_t o : owners) umem->reclaim(o);
    }
  };
  /// Before a close on another thread (port_closer.hpp), under domain():
  /// frames the port still holds from its PMD's pool are given back, and
  /// what is left for after the close is returned.
  FrameReclaim detach_pool() {
    if (!afxdp_ || afxdp_->owns_umem()) return {};  // an own Umem closes with the port
    return {&afxdp_->umem(), afxdp_->detach_pool()};
  }
  /// Appends the fds that turn readable when the port receives; false for
  /// a port with none (memory ports: a PMD with one never sleeps).
  /// The PMD's thread (the kind changes there).
  bool add_rx_fds(std::vector<int>& fds) const {
    if (packet_) fds.push_back(packet_->fd());
    if (afxdp_)
      for (int fd : afxdp_->fds()) fds.push_back(fd);
    if (tap_) fds.push_back(tap_->fd());
    return !memory_;
  }
  /// Where the move stands, for dpctl/show and the docs: the kind, and
  /// the move's own (PortMove::Info); nothing for a port opened otherwise.
  struct MoveInfo : PortMove::Info {
    bool moving_port = false;  // opened on a packet socket
    SwitchPortKind kind = SwitchPortKind::kAfxdp;
  };
  MoveInfo move_info() const {
    MoveInfo m;
    if (move_) static_cast<PortMove::Info&>(m) = move_->info();
    m.moving_port = move_ != nullptr;
    m.kind = kind();
    return m;
  }
  uint32_t dp_port() const noexcept { return dp_port_; }
  unsigned pmd() const noexcept { return pmd_; }
  SwitchPortKind kind() const noexcept { return kind_.load(std::memory_order_acquire); }
  /// The owning PMD's mutex (set by the switch when it wires the PMDs).
  std::mutex& domain() const noexcept { return *domain_; }
  void set_domain(std::mutex* m) noexcept { domain_ = m; }

  /// The AF_XDP port once the port is one (nullptr before and during a move).
  AfxdpPort* afxdp() noexcept { return kind() == SwitchPortKind::kAfxdp ? afxdp_.get() : nullptr; }
  TapPort* tap() noexcept { return tap_.get(); }
  MemoryPort* memory() noexcept { return memory_.get(); }

 private:
  SwitchPort(std::string name, std::string device, uint32_t dp_port, unsigned pmd, SwitchPortKind k)
      : name_(std::move(name)),
        device_(std::move(device)),
        dp_port_(dp_port),
        pmd_(pmd),
        kind_(k) {}
  // The PMD (under domain()): the bound AF_XDP socket takes over.
  void adopt(AfxdpPort* a) noexcept {
    afxdp_.reset(a);
    kind_.store(SwitchPortKind::kMoving, std::memory_order_release);
  }
  // The packet socket first: what it holds arrived before the AF_XDP
  // socket's frames (no reordering), and must be read before it closes.
  uint32_t moving_rx(Batch& b) noexcept {
    if (uint32_t n = packet_->rx_burst(b)) return n;
    if (move_->drained(*packet_)) finish_move();
    return afxdp_->rx_burst(b);
  }
  void finish_move() {
    carried_.tx += packet_->stats().tx;
    carried_.drops += packet_->stats().drops;
    kind_.store(SwitchPortKind::kAfxdp, std::memory_order_release);
    move_->retire(std::move(packet_));  // closed on the move's thread
  }

  std::string name_, device_;
  uint32_t dp_port_;
  unsigned pmd_;
  std::atomic<SwitchPortKind> kind_;
  bool needs_prime_ = false;
  std::mutex* domain_ = nullptr;
  std::unique_ptr<AfxdpPort> afxdp_;
  std::unique_ptr<TapPort> tap_;
  std::unique_ptr<MemoryPort> memory_;
  std::unique_ptr<PacketPort> packet_;
  uint64_t rx_ = 0, rx_dropped_ = 0;
  struct {  // sent on the packet socket before the move
    uint64_t tx = 0, drops = 0;
  } carried_;
  std::unique_ptr<PortMove> move_;  // a port opened on a packet socket
};

}  // namespace flowpath
