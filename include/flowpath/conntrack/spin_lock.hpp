// flowpath/conntrack/spin_lock.hpp — a small test-and-test-and-set lock for
// the tracker's short critical sections.
// Thread-safety: it is the synchronisation.
#pragma once

#include <atomic>
#include <thread>

namespace flowpath::ct {

/// A test-and-test-and-set spin lock (critical sections here are tens of
/// nanoseconds; a futex mutex would cost more than the work).
class SpinLock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      for (int i = 0; locked_.load(std::memory_order_relaxed); ++i)
        if (i > 64) std::this_thread::yield();
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace flowpath::ct
