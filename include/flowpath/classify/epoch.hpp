// flowpath/classify/epoch.hpp — epoch-based reclamation (RCU-style) for the
// classifier's lock-free readers.
//
// Model.  Readers (datapath threads) never lock and never write shared
// lines except their own per-thread record.  A reader announces the global
// epoch it observed in that record for the duration of a ReadGuard; guards
// nest (an inner guard costs one thread-local increment), so a datapath
// thread can hold one guard for a whole batch and let every lookup inside
// it run fence-free.  A writer unlinks an object, then retires it together
// with the epoch it was retired in; Reclaimer::collect() advances the global
// epoch once every active reader has caught up with it, and runs the
// retired callbacks whose epoch is at least two behind: no reader can still
// hold a pointer to them.
//
// The domain is process-wide (like Open vSwitch's ovsrcu), so one guard
// protects lookups in every classifier.  A thread's record is registered on
// its first guard and released when the thread exits.
//
// Cost: outermost ReadGuard = a TLS load, one seq_cst store and two loads, no call (~10-20 ns);
// nested guard ~1 ns.  collect() = one mutex and a scan of the records.
// Thread-safety: ReadGuard from any thread; a Reclaimer belongs to one
// writer at a time (callers serialise writers).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace flowpath::rcu {

class Domain {
 public:
  struct alignas(64) Record {
    std::atomic<uint64_t> epoch{0};  // 0: not inside a read section
    bool in_use = false;             // guarded by Domain::mu_
    uint32_t nest = 0;               // owner thread only
  };

  static Domain& global() {
    static Domain d;
    return d;
  }

  uint64_t epoch() const noexcept { return global_epoch.load(std::memory_order_seq_cst); }

  Record* acquire_record() {
    std::lock_guard lock(mu_);
    for (auto& r : records_)
      if (!r.in_use) {
        r.in_use = true;
        return &r;
      }
    records_.emplace_back().in_use = true;
    return &records_.back();
  }
  void release_record(Record* r) {
    std::lock_guard lock(mu_);
    r->epoch.store(0, std::memory_order_seq_cst);
    r->nest = 0;
    r->in_use = false;
  }

  /// Records made so far, in use or free (tests: a thread's is reused
  /// after it exits).
  size_t n_records() {
    std::lock_guard lock(mu_);
    return records_.size();
  }

  /// Advances the epoch when every active reader has observed it; returns
  /// the (possibly new) epoch.
  uint64_t try_advance() {
    std::lock_guard lock(mu_);
    uint64_t g = global_epoch.load(std::memory_order_seq_cst);
    for (const auto& r : records_) {
      uint64_t e = r.epoch.load(std::memory_order_seq_cst);
      if (e != 0 && e != g) return g;
    }
    global_epoch.compare_exchange_strong(g, g + 1, std::memory_order_seq_cst);
    return global_epoch.load(std::memory_order_seq_cst);
  }

  /// The global domain's epoch, at namespace scope and constant-initialised:
  /// a ReadGuard reads it without global()'s call and its static's
  /// initialisation check (17 of a 10K lookup's ~770 instructions).
  /// On a line of its own: the writers' mutex beside it would take the
  /// readers' line at every collect().
  alignas(64) static inline constinit std::atomic<uint64_t> global_epoch{1};

 private:
  std::mutex mu_;
  std::deque<Record> records_;  // deque: records never move
};

namespace detail {
// The thread's record, constant-initialised (a plain TLS load, where a
// thread_local with a constructor is reached through its wrapper and
// initialisation check); set on the thread's first guard.
inline constinit thread_local Domain::Record* this_thread_rec = nullptr;
struct ThreadRecord {
  Domain::Record* rec = Domain::global().acquire_record();
  ~ThreadRecord() {
    this_thread_rec = nullptr;
    Domain::global().release_record(rec);
  }
};
[[gnu::noinline]] inline Domain::Record* register_this_thread() {
  thread_local ThreadRecord tr;  // releases the record when the thread exits
  return this_thread_rec = tr.rec;
}
inline Domain::Record& this_thread_record() {
  Domain::Record* r = this_thread_rec;
  if (r == nullptr) [[unlikely]]
    r = register_this_thread();
  return *r;
}
}  // namespace detail

/// Read-side critical section: pointers loaded inside stay valid until it ends.
class ReadGuard {
 public:
  ReadGuard() noexcept : rec_(detail::this_thread_record()) {
    if (rec_.nest++ != 0) return;
    const auto& g = Domain::global_epoch;
    for (;;) {
      uint64_t e = g.load(std::memory_order_seq_cst);
      rec_.epoch.store(e, std::memory_order_seq_cst);
      if (g.load(std::memory_order_seq_cst) == e) break;
    }
  }
  ~ReadGuard() {
    if (--rec_.nest == 0) rec_.epoch.store(0, std::memory_order_release);
  }
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;

 private:
  Domain::Record& rec_;
};

/// A writer's list of deferred actions (frees, deferred unlinks).
class Reclaimer {
 public:
  Reclaimer() = default;
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;
  ~Reclaimer() { drain(); }

  void retire(std::function<void()> fn) {
    pending_.emplace_back(Domain::global().epoch(), std::move(fn));
  }
  /// Runs what no reader can observe any more.  Callbacks may retire more.
  void collect() {
    if (pending_.empty()) return;
    uint64_t g = Domain::global().try_advance();
    while (!pending_.empty() && pending_.front().first + 2 <= g) {
      auto fn = std::move(pending_.front().second);
      pending_.pop_front();
      fn();
    }
  }
  /// Runs everything now: only when no reader can be active (destruction).
  void drain() {
    while (!pending_.empty()) {
      auto fn = std::move(pending_.front().second);
      pending_.pop_front();
      fn();
    }
  }
  size_t pending() const noexcept { return pending_.size(); }

 private:
  std::deque<std::pair<uint64_t, std::function<void()>>> pending_;
};

}  // namespace flowpath::rcu
