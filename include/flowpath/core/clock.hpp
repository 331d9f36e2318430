// flowpath/core/clock.hpp — an injectable millisecond clock.
//
// Tables with timeouts (OpenFlow idle/hard timeouts, MAC aging, datapath
// flow "used" times) take a `const Clock*`.  Clock::system() follows
// std::chrono::steady_clock; a ManualClock is set and advanced by tests.
//
// Thread-safety: reading is safe from any thread; a ManualClock is advanced
// by one thread (the test).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace flowpath {

class Clock {
 public:
  /// Milliseconds since an arbitrary epoch (monotonic).
  int64_t now_ms() const noexcept {
    if (manual_) return manual_ms_.load(std::memory_order_relaxed);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static const Clock* system() noexcept {
    static const Clock clock;
    return &clock;
  }

 protected:
  explicit Clock(bool manual = false) noexcept : manual_(manual) {}
  bool manual_;
  std::atomic<int64_t> manual_ms_{0};
};

/// A clock that moves only when told to (tests).
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'000'000) noexcept : Clock(true) {
    manual_ms_ = start_ms;
  }
  void set_ms(int64_t ms) noexcept { manual_ms_ = ms; }
  void advance_ms(int64_t ms) noexcept { manual_ms_ += ms; }
  void advance_s(int64_t s) noexcept { manual_ms_ += s * 1000; }
};

}  // namespace flowpath
