// flowpath/switch/switch_port.hpp — one datapath port of a running switch:
// an AF_XDP port, a TAP device (internal port) or a memory port (tests),
// behind one non-virtual interface the PMD loop and the sink use.
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
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "flowpath/core/batch.hpp"
#include "flowpath/io/afxdp_port.hpp"
#include "flowpath/io/memory_port.hpp"
#include "flowpath/io/tap_port.hpp"

namespace flowpath {

enum class SwitchPortKind { kAfxdp, kTap, kMemory };

inline const char* to_string(SwitchPortKind k) noexcept {
  return k == SwitchPortKind::kAfxdp ? "afxdp" : k == SwitchPortKind::kTap ? "tap" : "memory";
}

struct SwitchPortStats {
  uint64_t rx = 0, tx = 0, rx_dropped = 0, tx_dropped = 0;
};

class SwitchPort {
 public:
  SwitchPort(std::string name, uint32_t dp_port, unsigned pmd, std::unique_ptr<AfxdpPort> p)
      : SwitchPort(std::move(name), dp_port, pmd, SwitchPortKind::kAfxdp) {
    afxdp_ = std::move(p);
  }
  SwitchPort(std::string name, uint32_t dp_port, unsigned pmd, std::unique_ptr<TapPort> p)
      : SwitchPort(std::move(name), dp_port, pmd, SwitchPortKind::kTap) {
    tap_ = std::move(p);
  }
  SwitchPort(std::string name, uint32_t dp_port, unsigned pmd, std::unique_ptr<MemoryPort> p)
      : SwitchPort(std::move(name), dp_port, pmd, SwitchPortKind::kMemory) {
    memory_ = std::move(p);
  }

  uint32_t rx_burst(Batch& b) noexcept {
    uint32_t n = 0;
    switch (kind_) {
      case SwitchPortKind::kAfxdp:
        n = afxdp_->rx_burst(b);
        break;
      case SwitchPortKind::kTap:
        n = tap_->rx_burst(b);
        break;
      case SwitchPortKind::kMemory:
        n = memory_->rx_burst(b);
        break;
    }
    rx_ += n;
    return n;
  }
  void tx(Packet& p, bool owned) noexcept {
    switch (kind_) {
      case SwitchPortKind::kAfxdp:
        afxdp_->tx(p, owned);
        break;
      case SwitchPortKind::kTap:
        tap_->tx(p, owned);
        break;
      case SwitchPortKind::kMemory:
        memory_->tx(p);
        break;  // copies; pool is per burst
    }
  }
  void flush() noexcept {
    if (kind_ == SwitchPortKind::kAfxdp) afxdp_->flush();
  }
  /// Ready to receive before the first rx_burst (AF_XDP: fill rings full).
  void prime() noexcept {
    if (kind_ == SwitchPortKind::kAfxdp) afxdp_->prime();
  }
  /// Whether prime() matters: a frame arriving before it would be lost.
  /// Not for a port with its own Umem: its fill rings were filled at open.
  bool needs_prime() const noexcept { return afxdp_ && !afxdp_->owns_umem(); }
  /// Returns a packet received on this port to its pool.
  void release(Packet& p) noexcept {
    if (kind_ == SwitchPortKind::kAfxdp)
      afxdp_->release(p);
    else if (kind_ == SwitchPortKind::kTap)
      tap_->release(p);
  }
  /// True when tx(p, true) of a packet received on `origin` may hand the
  /// buffer over without a copy: the same UMEM (same PMD, shared Umem), or
  /// the same port.
  bool shares_pool(const SwitchPort& origin) const noexcept {
    if (&origin == this) return kind_ != SwitchPortKind::kMemory;
    return kind_ == SwitchPortKind::kAfxdp && origin.kind_ == SwitchPortKind::kAfxdp &&
           &afxdp_->umem() == &origin.afxdp_->umem();
  }
  void count_rx_drop() noexcept { ++rx_dropped_; }

  SwitchPortStats stats() const noexcept {
    SwitchPortStats s;
    s.rx = rx_;
    s.rx_dropped = rx_dropped_;
    switch (kind_) {
      case SwitchPortKind::kAfxdp:
        s.tx = afxdp_->stats().tx;
        s.tx_dropped = afxdp_->stats().drops;
        break;
      case SwitchPortKind::kTap:
        s.tx = tap_->stats().tx;
        s.tx_dropped = tap_->stats().drops;
        break;
      case SwitchPortKind::kMemory:
        s.tx = memory_->counters().tx;
        s.tx_dropped = memory_->counters().drops;
        break;
    }
    return s;
  }

  const std::string& name() const noexcept { return name_; }
  /// The kernel device behind the port (the interface, the TAP), or the
  /// port name for memory ports.
  const std::string& device() const noexcept {
    return afxdp_ ? afxdp_->name() : tap_ ? tap_->name() : name_;
  }
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
  bool add_rx_fds(std::vector<int>& fds) const {
    if (afxdp_)
      for (int fd : afxdp_->fds()) fds.push_back(fd);
    else if (tap_)
      fds.push_back(tap_->fd());
    return afxdp_ || tap_;
  }
  uint32_t dp_port() const noexcept { return dp_port_; }
  unsigned pmd() const noexcept { return pmd_; }
  SwitchPortKind kind() const noexcept { return kind_; }
  /// The owning PMD's mutex (set by the switch when it wires the PMDs).
  std::mutex& domain() const noexcept { return *domain_; }
  void set_domain(std::mutex* m) noexcept { domain_ = m; }

  AfxdpPort* afxdp() noexcept { return afxdp_.get(); }
  TapPort* tap() noexcept { return tap_.get(); }
  MemoryPort* memory() noexcept { return memory_.get(); }

 private:
  SwitchPort(std::string name, uint32_t dp_port, unsigned pmd, SwitchPortKind k)
      : name_(std::move(name)), dp_port_(dp_port), pmd_(pmd), kind_(k) {}

  std::string name_;
  uint32_t dp_port_;
  unsigned pmd_;
  SwitchPortKind kind_;
  std::mutex* domain_ = nullptr;
  std::unique_ptr<AfxdpPort> afxdp_;
  std::unique_ptr<TapPort> tap_;
  std::unique_ptr<MemoryPort> memory_;
  uint64_t rx_ = 0, rx_dropped_ = 0;
};

}  // namespace flowpath
