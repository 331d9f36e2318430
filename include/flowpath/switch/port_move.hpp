// flowpath/switch/port_move.hpp — the move of a `""`/`system` switch port
// from its packet socket to AF_XDP (switch_port.hpp, "The move"): the
// thread that binds the AF_XDP port behind the running port, hands it to
// the PMD, and closes the packet socket once the PMD is done with it.
//
//   PortMove m;
//   m.start([] { return std::make_unique<AfxdpPort>(cfg); }, wake_pmd);
//   if (AfxdpPort* a = m.take_ready()) ...     // the PMD, each poll
//   if (m.drained(packet)) m.retire(std::move(packet));
//   // ~PortMove: waits for the bind, closes what was never adopted
//
// Cost: one thread per moving port, for the bind (~1-2 ms) and the drain
// (kDrainNs); one relaxed load per poll of a port still on its packet
// socket.  Thread-safety: start/~PortMove on the control (or closer)
// thread; take_ready/drained/retire on the PMD; info from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "flowpath/io/afxdp_port.hpp"
#include "flowpath/io/packet_port.hpp"

namespace flowpath {

class PortMove {
 public:
  /// How long the PMD still reads the packet socket after adopting the
  /// AF_XDP socket: a frame that passed XDP just before the XSKMAP insert
  /// is queued to the packet socket within µs, in the same softirq.
  static constexpr int64_t kDrainNs = 20'000'000;

  struct Info {
    bool adopted = false;
    double packet_ms = 0;    // opening to the AF_XDP socket's adoption
    uint64_t packet_rx = 0;  // frames the packet socket received (once retired)
    std::string error;       // the AF_XDP bind failed: why (the port stays)
  };

  PortMove() = default;
  PortMove(const PortMove&) = delete;
  PortMove& operator=(const PortMove&) = delete;
  ~PortMove() {
    {
      std::lock_guard lock(mu_);
      abort_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    delete ready_.exchange(nullptr, std::memory_order_acquire);  // bound, never adopted
  }

  /// Runs open() (returns the bound AF_XDP port, fill rings full, or
  /// throws) on a thread of its own, then wake(); the thread then closes
  /// the packet socket retire() hands it.  Once.
  template <typename Open>
  void start(Open open, std::function<void()> wake) {
    thread_ = std::thread([this, open = std::move(open), wake = std::move(wake)]() mutable {
      std::unique_ptr<AfxdpPort> a;
      try {
        a = open();
      } catch (const std::exception& e) {
        std::lock_guard lock(mu_);
        error_ = e.what();
        return;  // the port stays on its packet socket
      }
      if (abort_.load()) return;  // deleted meanwhile: `a` closes here
      ready_.store(a.release(), std::memory_order_release);
      if (wake) wake();
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return abort_ || retired_; });
      std::unique_ptr<PacketPort> old = std::move(retired_);
      lock.unlock();
      old.reset();  // closing a packet socket waits for an RCU grace period
    });
  }
  /// The PMD: the bound AF_XDP port, once, else nullptr.
  AfxdpPort* take_ready() noexcept {
    if (!ready_.load(std::memory_order_relaxed)) return nullptr;  // a load, not an xchg, per poll
    AfxdpPort* a = ready_.exchange(nullptr, std::memory_order_acquire);
    drain_until_ = now_ns() + kDrainNs;
    adopted_ns_.store(now_ns(), std::memory_order_relaxed);
    return a;
  }
  /// The PMD: the packet socket may close (drained long enough, empty,
  /// none of its buffers in flight).
  bool drained(const PacketPort& p) const noexcept {
    return p.in_flight() == 0 && now_ns() >= drain_until_;
  }
  /// The PMD: hands the packet socket over for closing on the thread.
  void retire(std::unique_ptr<PacketPort> p) {
    packet_rx_.store(p->stats().rx, std::memory_order_relaxed);
    {
      std::lock_guard lock(mu_);
      retired_ = std::move(p);
    }
    cv_.notify_all();
  }
  Info info() const {
    Info m;
    int64_t adopted = adopted_ns_.load(std::memory_order_relaxed);
    m.adopted = adopted != 0;
    if (adopted) m.packet_ms = double(adopted - opened_ns_) / 1e6;
    m.packet_rx = packet_rx_.load(std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    m.error = error_;
    return m;
  }

 private:
  static int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  const int64_t opened_ns_ = now_ns();
  int64_t drain_until_ = 0;  // the PMD's
  std::atomic<int64_t> adopted_ns_{0};
  std::atomic<uint64_t> packet_rx_{0};
  std::atomic<AfxdpPort*> ready_{nullptr};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> abort_{false};
  std::unique_ptr<PacketPort> retired_;
  std::string error_;
  std::thread thread_;  // last: joined in the destructor before the rest goes
};

}  // namespace flowpath
