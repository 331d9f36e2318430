// flowpath/core/stats.hpp — counters shared between the fast path and
// the control side.
//
// RuleStats belongs to one OpenFlow rule.  The slow path hands shared
// pointers to the RuleStats of every rule a translation went through to
// the megaflow it installs; the fast path credits them once per flow group
// per batch (relaxed atomics: one writer thread per datapath, readers on
// the control side only need eventually consistent values).
#pragma once

#include <atomic>
#include <cstdint>

namespace flowpath {

struct RuleStats {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> used_ms{0};  // last hit (Clock::now_ms), 0 = never

  void add(uint64_t n_packets, uint64_t n_bytes, int64_t now_ms) noexcept {
    packets.fetch_add(n_packets, std::memory_order_relaxed);
    bytes.fetch_add(n_bytes, std::memory_order_relaxed);
    used_ms.store(now_ms, std::memory_order_relaxed);
  }
};

}  // namespace flowpath
