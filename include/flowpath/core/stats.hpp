// flowpath/core/stats.hpp — counters shared between the fast path and
// the control side.
//
// RuleStats belongs to one OpenFlow rule.  The slow path hands shared
// pointers to the RuleStats of every rule a translation went through to
// the megaflow it installs; the fast path credits them once per flow group
// per batch, and the control side reads them (dump-flows, OpenFlow flow
// stats, idle timeouts through used_ms()).
//
// Why an owner.  Several datapaths (one per PMD thread) may credit the
// same rule, so a shared counter needs a locked read-modify-write; the
// firewall credits ~5 rules per megaflow, twice per packet group with its
// recirculation, and each `lock xadd` costs cycles and orders the pipeline
// although it is one instruction.  A rule is almost always hit by one PMD
// thread, so the first writer to credit a rule claims it (one CAS in the
// rule's life) and from then on adds with a plain load and store on its
// own counters; any other writer (a second PMD thread on the same rule,
// the XDP offload's collector, a test) takes the locked shared counters.
// Readers sum both and take the later of the two `used` times: exact
// either way, with no flush and no lost update.  A writer's id is unique
// for the life of the process (StatsWriter::unique()), so a rule owned by
// a datapath that was since destroyed just sends every writer to the
// shared counters; 56 bytes per rule (24 before), one cache line.
//
// Thread-safety: add(StatsWriter) from any number of threads, each with its
// own writer; readers from any thread (relaxed: eventually consistent).
#pragma once

#include <atomic>
#include <cstdint>

namespace flowpath {

/// Who credits counters: a datapath takes a unique() writer and credits
/// from one thread at a time; shared() never owns anything.
struct StatsWriter {
  static constexpr uint64_t kShared = ~uint64_t(0);
  uint64_t id = kShared;

  static StatsWriter shared() noexcept { return {}; }
  static StatsWriter unique() noexcept {
    static std::atomic<uint64_t> next{1};
    return {next.fetch_add(1, std::memory_order_relaxed)};
  }
};

class RuleStats {
 public:
  /// Credits `n_packets` hits of `n_bytes` at `now_ms` (Clock::now_ms).
  /// Returns true when `w` owns the rule (it may then use add_as_owner).
  bool add(StatsWriter w, uint64_t n_packets, uint64_t n_bytes, int64_t now_ms) noexcept {
    uint64_t o = owner_.load(std::memory_order_relaxed);
    if (o != w.id && !claim(w, o)) [[unlikely]] {
      shared_.packets.fetch_add(n_packets, std::memory_order_relaxed);
      shared_.bytes.fetch_add(n_bytes, std::memory_order_relaxed);
      shared_.used_ms.store(now_ms, std::memory_order_relaxed);
      return false;
    }
    add_as_owner(n_packets, n_bytes, now_ms);
    return true;
  }
  /// add() without the owner test, for a writer that add() answered true
  /// (ownership never changes), from that writer's thread.
  void add_as_owner(uint64_t n_packets, uint64_t n_bytes, int64_t now_ms) noexcept {
    // The owner is these counters' only writer: no lock prefix needed.
    own_.packets.store(own_.packets.load(std::memory_order_relaxed) + n_packets,
                       std::memory_order_relaxed);
    own_.bytes.store(own_.bytes.load(std::memory_order_relaxed) + n_bytes,
                     std::memory_order_relaxed);
    own_.used_ms.store(now_ms, std::memory_order_relaxed);
  }
  /// The same through the shared counters (writers without an id).
  void add(uint64_t n_packets, uint64_t n_bytes, int64_t now_ms) noexcept {
    add(StatsWriter::shared(), n_packets, n_bytes, now_ms);
  }

  uint64_t packets() const noexcept { return sum(&Counts::packets); }
  uint64_t bytes() const noexcept { return sum(&Counts::bytes); }
  /// Last hit (Clock::now_ms), 0 = never.
  int64_t used_ms() const noexcept {
    int64_t a = own_.used_ms.load(std::memory_order_relaxed);
    int64_t b = shared_.used_ms.load(std::memory_order_relaxed);
    return a > b ? a : b;
  }
  /// The id of the writer whose adds take no lock (0: none yet).
  uint64_t owner() const noexcept { return owner_.load(std::memory_order_relaxed); }

 private:
  struct Counts {
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<int64_t> used_ms{0};
  };

  // The first writer with an id owns the rule; false: `w` is not the owner.
  bool claim(StatsWriter w, uint64_t seen) noexcept {
    return w.id != StatsWriter::kShared && seen == 0 &&
           owner_.compare_exchange_strong(seen, w.id, std::memory_order_relaxed);
  }
  uint64_t sum(std::atomic<uint64_t> Counts::*c) const noexcept {
    return (own_.*c).load(std::memory_order_relaxed) + (shared_.*c).load(std::memory_order_relaxed);
  }

  std::atomic<uint64_t> owner_{0};
  Counts own_;
  Counts shared_;
};

}  // namespace flowpath
