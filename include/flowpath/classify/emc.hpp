// flowpath/classify/emc.hpp — the exact-match cache (EMC).
//
// Design.  In front of the megaflow cache sits a small per-thread table
// keyed by the whole flow key: a hit costs one hash (already computed for
// the batch), one cache line of metadata and one 120-byte compare, with no
// subtable walk.  Each key hashes to two candidate slots (the low bits and
// the next bits of the hash, as OVS's EMC); lookup checks both.
//
// Entries point at megaflow entries and remember the entry's serial.  A
// megaflow that was removed (revalidation, limits, flush) has dead set and
// a new serial, so its EMC entries stop matching immediately: the EMC can
// never serve a dead megaflow, and it needs no cleanup pass of its own.
//
// Insertion is probabilistic (default 1 in 100, as Open vSwitch): a flow
// that sends many packets soon gets an entry, while a burst of short flows
// does not evict the long-lived ones.  The random source is a xorshift32
// with a fixed seed, so tests are deterministic.  insert_inv_prob = 1
// inserts always, 0 never.  Victim choice: an empty or dead slot, else the
// second candidate.
//
// Cost: lookup ~2 cache lines + a 120-byte compare; 8,192 entries take
// 1.1 MiB.  Thread-safety: none — one EMC per datapath thread.
#pragma once

#include <cstdint>
#include <memory>

#include "flowpath/classify/megaflow_entry.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath {

struct EmcConfig {
  uint32_t entries = 8'192;        // rounded up to a power of two
  uint32_t insert_inv_prob = 100;  // insert 1 in N; 1 = always, 0 = never
  uint32_t seed = 0x9e3779b9u;
};

class Emc {
 public:
  explicit Emc(EmcConfig cfg = {}) : cfg_(cfg) {
    uint32_t n = 2;
    while (n < cfg_.entries) n <<= 1;
    mask_ = n - 1;
    slots_ = std::make_unique<Slot[]>(n);
    rng_ = cfg_.seed ? cfg_.seed : 1;
  }

  /// The live megaflow cached for key (hash = its flow hash), or nullptr.
  MegaflowEntry* lookup(const FlowKey& key, uint32_t hash) const noexcept {
    const Slot& a = slots_[hash & mask_];
    if (a.hash == hash && a.flow && a.flow->alive(a.serial) && a.key == key) return a.flow;
    const Slot& b = slots_[second(hash)];
    if (b.hash == hash && b.flow && b.flow->alive(b.serial) && b.key == key) return b.flow;
    return nullptr;
  }

  /// Prefetches the first candidate slot (call a few packets ahead).
  void prefetch(uint32_t hash) const noexcept { __builtin_prefetch(&slots_[hash & mask_]); }

  /// Offers key -> flow; inserted with probability 1/insert_inv_prob.
  void maybe_insert(const FlowKey& key, uint32_t hash, MegaflowEntry* flow) noexcept {
    if (cfg_.insert_inv_prob == 0) return;
    if (cfg_.insert_inv_prob > 1 && next_random() % cfg_.insert_inv_prob != 0) return;
    insert(key, hash, flow);
  }

  /// Inserts unconditionally.
  void insert(const FlowKey& key, uint32_t hash, MegaflowEntry* flow) noexcept {
    Slot* a = &slots_[hash & mask_];
    Slot* b = &slots_[second(hash)];
    Slot* victim = b;
    if (a->hash == hash && a->key == key)
      victim = a;
    else if (b->hash == hash && b->key == key)
      victim = b;
    else if (!live(*a))
      victim = a;
    else if (!live(*b))
      victim = b;
    victim->key = key;
    victim->hash = hash;
    victim->flow = flow;
    victim->serial = flow->serial;
    ++inserts_;
  }

  void clear() noexcept {
    for (uint32_t i = 0; i <= mask_; ++i) slots_[i] = Slot{};
  }

  uint32_t capacity() const noexcept { return mask_ + 1; }
  uint64_t inserts() const noexcept { return inserts_; }
  /// Live entries (a scan: for tests and show commands).
  uint32_t size() const noexcept {
    uint32_t n = 0;
    for (uint32_t i = 0; i <= mask_; ++i) n += live(slots_[i]);
    return n;
  }
  const EmcConfig& config() const noexcept { return cfg_; }

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t serial = 0;
    MegaflowEntry* flow = nullptr;
    FlowKey key;
  };

  static bool live(const Slot& s) noexcept { return s.flow && s.flow->alive(s.serial); }
  uint32_t second(uint32_t hash) const noexcept { return (hash >> 13 ^ hash >> 26) & mask_; }
  uint32_t next_random() noexcept {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 17;
    rng_ ^= rng_ << 5;
    return rng_;
  }

  EmcConfig cfg_;
  uint32_t mask_ = 0;
  std::unique_ptr<Slot[]> slots_;
  uint32_t rng_ = 1;
  uint64_t inserts_ = 0;
};

}  // namespace flowpath
