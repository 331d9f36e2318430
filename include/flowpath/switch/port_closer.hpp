// flowpath/switch/port_closer.hpp — closes removed switch ports on a
// thread of its own, after the change that removed them is in effect.
//
//   PortCloser closer;
//   closer.close_later(std::move(port));   // after the fence: no PMD uses it
//   closer.wait_closed("vm3");             // before opening vm3 again
//   closer.close_all();                    // stop: nothing left attached
//
// Why.  Closing a device is kernel work that takes a while and that no
// packet waits for: deleting an AF_XDP socket and detaching its XDP
// program (~25 ms on a veth here), or unregistering a TAP device (~10-20
// ms: RCU grace periods).  Done on the control thread it delays the
// database write-back (cur_cfg) and so every `ovs-vsctl del-port`, and the
// next change behind it.  The port is already out of the datapath (its
// slot empty, off its PMD's rx list, every PMD past the fence), so the
// switch behaves the same whether the device goes now or a few
// milliseconds later; only the kernel still shows it meanwhile.
//
// Each port first gives its completed UMEM frames back under its PMD's
// mutex (SwitchPort::detach_pool), then is destroyed unlocked, then the
// frames its rings held go back to the pool, under the mutex again
// (io/umem.hpp, "Recovery").  A port opened on a device that is still closing
// waits for that close first (wait_closed), so the same interface or TAP
// name is never opened twice at once.
// Cost: one thread, started on first use, asleep when idle.
// Thread-safety: every member from any thread.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "flowpath/switch/switch_port.hpp"

namespace flowpath {

class PortCloser {
 public:
  PortCloser() = default;
  PortCloser(const PortCloser&) = delete;
  PortCloser& operator=(const PortCloser&) = delete;
  ~PortCloser() { close_all(); }

  /// Queues p for closing; returns at once.
  void close_later(std::unique_ptr<SwitchPort> p) {
    std::lock_guard lock(mu_);
    devices_.push_back(p->device());
    queue_.push_back(std::move(p));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    cv_.notify_all();
  }
  /// Blocks until no queued or closing port uses `device`.
  void wait_closed(std::string_view device) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return std::ranges::find(devices_, device) == devices_.end(); });
  }
  /// Closes everything queued and stops the thread (it restarts on use).
  void close_all() {
    {
      std::unique_lock lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  /// Ports queued or being closed now.
  size_t pending() const {
    std::lock_guard lock(mu_);
    return devices_.size();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      std::unique_ptr<SwitchPort> p = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      std::mutex& domain = p->domain();
      SwitchPort::FrameReclaim frames;
      {
        std::lock_guard pool(domain);
        frames = p->detach_pool();
      }
      std::string device = p->device();
      p.reset();  // the slow part: socket deleted, XDP detached, TAP unregistered
      if (frames.umem) {
        std::lock_guard pool(domain);  // the rings are gone: their frames are free
        frames.run();
      }
      lock.lock();
      devices_.erase(std::ranges::find(devices_, device));
      cv_.notify_all();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<SwitchPort>> queue_;
  std::vector<std::string> devices_;  // one entry per queued or closing port
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace flowpath
