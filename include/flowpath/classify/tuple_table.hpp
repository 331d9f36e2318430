// flowpath/classify/tuple_table.hpp — one table of the priority classifier:
// a hash table keyed by the key bits under one fixed mask (a "tuple").
//
// Every rule in the table fixes at least the bits of the table's mask (its
// own mask may be longer, or its port range narrower); rules whose bits
// under the table mask are equal share one node, a collision list sorted by
// rank (highest first).  Only the mask's non-zero words are stored and
// hashed (ClassBench 5-tuples: 4 of the 15 words).
//
// Concurrency (see epoch.hpp).  Readers probe without locks.  Nodes are
// immutable: the writer builds a new node and swaps the slot pointer
// (release); the old node is retired.  A removed node leaves a tombstone;
// growth rebuilds the slot array and publishes it atomically.  Open
// addressing with linear probing, load factor <= 1/2; each slot keeps the
// node's hash beside its pointer so collisions cost no node dereference.
//
// Each slot array carries a one-hash Bloom filter of its nodes' hashes (a
// byte per slot: 16-32 bits per node, ~3-6% false positives) that a probe
// reads before the slots.  Most probes miss (a key matches a few of the
// tens of tables it probes), and the filter, a sixteenth of the slots'
// size, stays in cache where the slots do not.  Bits are set before the
// node is published and never cleared (a tombstone keeps its bit until
// growth rebuilds the filter from the live nodes), so a node a reader may
// see always has its bit: no false negatives.
//
// Cost: lookup = mask+hash of n words, a filter byte, and for a hit usually
// one slot probe and one node compare.  Writer ops O(1) amortised plus one
// node, from a per-size free list when one was freed before.
// Thread-safety: any number of readers, one writer (serialised by caller).
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "flowpath/classify/epoch.hpp"
#include "flowpath/flow/flow_key.hpp"

namespace flowpath::classify_detail {

/// 64-bit hash of n words (writer and reader use the same).
inline uint64_t hash_words64(const uint64_t* w, size_t n) noexcept {
  uint64_t h = 0x9E3779B97F4A7C15ull + n;
  for (size_t i = 0; i < n; ++i) {
    h = (h ^ w[i]) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  h ^= h >> 29;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 32);
}

template <class Rule>
class TupleTable {
 public:
  struct Node {
    uint64_t hash;
    uint32_t n_rules;
    uint32_t n_words;
    const uint64_t* kw() const noexcept { return reinterpret_cast<const uint64_t*>(this + 1); }
    uint64_t* kw() noexcept { return reinterpret_cast<uint64_t*>(this + 1); }
    Rule* const* rules() const noexcept { return reinterpret_cast<Rule* const*>(kw() + n_words); }
    Rule** rules() noexcept { return reinterpret_cast<Rule**>(kw() + n_words); }
  };

  explicit TupleTable(const FlowMask& mask) : mask_(mask) {
    for (uint8_t i = 0; i < FlowKey::kWords; ++i)
      if (mask.word(i)) {
        mwords_[n_words_] = mask.word(i);
        words_[n_words_++] = i;
      }
    slots_.store(make_slots(8), std::memory_order_relaxed);
  }
  ~TupleTable() {
    Slots* s = slots_.load(std::memory_order_relaxed);
    for (size_t i = 0; i <= s->mask; ++i) {
      Node* n = s->at(i).load(std::memory_order_relaxed);
      if (live(n)) ::operator delete(n);
    }
    free_slots(s);
    for (auto& v : pool_)
      for (void* p : v) ::operator delete(p);
  }
  TupleTable(const TupleTable&) = delete;
  TupleTable& operator=(const TupleTable&) = delete;

  const FlowMask& mask() const noexcept { return mask_; }
  size_t n_words() const noexcept { return n_words_; }
  const uint8_t* words() const noexcept { return words_; }
  /// mask().word(words()[i]) for i < n_words(), packed.
  const uint64_t* mask_words() const noexcept { return mwords_; }

  /// Gathers key & mask into kw[n_words()] and returns its hash.
  uint64_t extract(const FlowKey& key, uint64_t* kw) const noexcept {
    for (size_t i = 0; i < n_words_; ++i) kw[i] = key.word(words_[i]) & mwords_[i];
    return hash_words64(kw, n_words_);
  }
  /// Address of the first slot for h (for prefetching in batches).
  const void* slot_address(uint64_t h) const noexcept {
    const Slots* s = slots_.load(std::memory_order_acquire);
    return &s->at(h & s->mask);
  }
  /// Node whose words equal kw, or nullptr.  Reader-safe.
  const Node* find(uint64_t h, const uint64_t* kw) const noexcept {
    const Slots* s = slots_.load(std::memory_order_acquire);
    if (!s->maybe_has(h)) return nullptr;
    for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
      const Node* n = s->at(i).load(std::memory_order_acquire);
      if (!n) return nullptr;
      // The tag spares a node dereference per collision in the chain.
      if (s->tag(i).load(std::memory_order_relaxed) == h && n != tomb() && same_words(n->kw(), kw))
        return n;
    }
  }

  // ---- writer side ---------------------------------------------------------
  Node* make_node(uint64_t h, const uint64_t* kw, Rule* const* rules, uint32_t n_rules) {
    size_t bytes = sizeof(Node) + 8 * n_words_ + sizeof(Rule*) * n_rules;
    size_t cls = n_words_ + n_rules;
    void* p;
    if (cls < kPoolClasses && !pool_[cls].empty()) {
      p = pool_[cls].back();
      pool_[cls].pop_back();
    } else {
      p = ::operator new(bytes);
    }
    auto* n = static_cast<Node*>(p);
    n->hash = h;
    n->n_rules = n_rules;
    n->n_words = static_cast<uint32_t>(n_words_);
    std::memcpy(n->kw(), kw, 8 * n_words_);
    if (n_rules) std::memcpy(static_cast<void*>(n->rules()), rules, sizeof(Rule*) * n_rules);
    bytes_ += bytes;
    return n;
  }
  void free_node(Node* n) noexcept {
    bytes_ -= sizeof(Node) + 8 * n->n_words + sizeof(Rule*) * n->n_rules;
    size_t cls = n->n_words + n->n_rules;
    if (cls < kPoolClasses && pool_[cls].size() < kPoolKeep) {
      try {
        pool_[cls].push_back(n);
        return;
      } catch (...) {  // no room to keep it: give it back
      }
    }
    ::operator delete(n);
  }
  /// Replaces `old` (found by find) with `nw`, or with a tombstone when nw
  /// is nullptr; inserts nw when old is nullptr.  Retires old.
  void put(uint64_t h, const Node* old, Node* nw, rcu::Reclaimer& rec) {
    if (Node* dead = swap_in(h, old, nw, rec)) rec.retire([this, dead] { free_node(dead); });
  }
  /// put() without the retire: returns old, which the caller must pass to
  /// free_node() a grace period later (a delta batches them: a callback per
  /// node was 6-7% of an update's instructions).
  Node* swap_in(uint64_t h, const Node* old, Node* nw, rcu::Reclaimer& rec) {
    if (!old) {
      maybe_grow(rec);
      Slots* s = slots_.load(std::memory_order_relaxed);
      size_t i = h & s->mask;
      for (;; i = (i + 1) & s->mask) {
        Node* cur = s->at(i).load(std::memory_order_relaxed);
        if (!cur || cur == tomb()) break;
      }
      if (s->at(i).load(std::memory_order_relaxed) == tomb()) --n_tombs_;
      s->add_to_filter(h);                            // both published by the
      s->tag(i).store(h, std::memory_order_relaxed);  // release below
      s->at(i).store(nw, std::memory_order_release);
      ++n_nodes_;
      return nullptr;
    }
    Slots* s = slots_.load(std::memory_order_relaxed);
    size_t i = h & s->mask;
    while (s->at(i).load(std::memory_order_relaxed) != old) i = (i + 1) & s->mask;
    s->at(i).store(nw ? nw : tomb(), std::memory_order_release);
    if (!nw) --n_nodes_, ++n_tombs_;
    return const_cast<Node*>(old);
  }

  /// Every rule of every node (writer side: dropping a table or a delta
  /// generation whole).
  template <class F>
  void for_each_rule(F&& f) const {
    for_each_node([&](const Node* n) {
      for (uint32_t i = 0; i < n->n_rules; ++i) f(n->rules()[i]);
    });
  }
  template <class F>
  void for_each_node(F&& f) const {
    const Slots* s = slots_.load(std::memory_order_acquire);
    for (size_t i = 0; i <= s->mask; ++i) {
      const Node* n = s->at(i).load(std::memory_order_acquire);
      if (live(n)) f(n);
    }
  }
  size_t n_nodes() const noexcept { return n_nodes_; }
  size_t memory_bytes() const noexcept { return bytes_ + sizeof(*this); }

 protected:
  /// Hash of r's determined bits under this table's mask and the node
  /// holding them (nullptr when none); the words are left in kw_ for the
  /// make_node() that follows.  Writer only (Rule needs determined()).
  std::pair<uint64_t, const Node*> locate(const Rule& r) {
    FlowMask dm;
    FlowKey dv;
    r.determined(dm, dv);
    uint64_t h = extract(dv, kw_);
    return {h, find(h, kw_)};
  }
  /// locate() for a caller that has r's determined bits dv already.
  std::pair<uint64_t, const Node*> locate_key(const FlowKey& dv) {
    uint64_t h = extract(dv, kw_);
    return {h, find(h, kw_)};
  }
  /// The node holding r, whose bucket's hash is h, or nullptr: by the tags
  /// and r's address, without r's key bits (a delta's sweep keeps h in the
  /// rule; locate() rebuilt the determined key and hashed it).  Writer only.
  const Node* find_holding(uint64_t h, const Rule* r) const noexcept {
    const Slots* s = slots_.load(std::memory_order_relaxed);
    for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
      const Node* n = s->at(i).load(std::memory_order_relaxed);
      if (!n) return nullptr;
      if (n == tomb() || s->tag(i).load(std::memory_order_relaxed) != h) continue;
      for (uint32_t j = 0; j < n->n_rules; ++j)
        if (n->rules()[j] == r) return n;
    }
  }

 private:
  struct Slots {
    size_t mask;
    // Slot i = {node pointer, hash tag}, adjacent so a probe reads one line.
    std::atomic<Node*>& at(size_t i) noexcept {
      return reinterpret_cast<std::atomic<Node*>*>(this + 1)[2 * i];
    }
    const std::atomic<Node*>& at(size_t i) const noexcept {
      return reinterpret_cast<const std::atomic<Node*>*>(this + 1)[2 * i];
    }
    std::atomic<uint64_t>& tag(size_t i) noexcept {
      return reinterpret_cast<std::atomic<uint64_t>*>(this + 1)[2 * i + 1];
    }
    const std::atomic<uint64_t>& tag(size_t i) const noexcept {
      return reinterpret_cast<const std::atomic<uint64_t>*>(this + 1)[2 * i + 1];
    }
    // The filter: mask + 1 bytes after the slots.  Its bits come from the
    // hash's high half, independent of the slot index (the low bits).
    std::atomic<uint8_t>& filter_byte(uint64_t h) const noexcept {
      auto* f = reinterpret_cast<const std::atomic<uint64_t>*>(this + 1) + 2 * (mask + 1);
      return const_cast<std::atomic<uint8_t>*>(
          reinterpret_cast<const std::atomic<uint8_t>*>(f))[(h >> 32) & mask];
    }
    static uint8_t filter_bit(uint64_t h) noexcept { return uint8_t(1u << ((h >> 61) & 7)); }
    bool maybe_has(uint64_t h) const noexcept {
      return filter_byte(h).load(std::memory_order_relaxed) & filter_bit(h);
    }
    void add_to_filter(uint64_t h) noexcept {  // one writer: no locked RMW
      auto& b = filter_byte(h);
      b.store(b.load(std::memory_order_relaxed) | filter_bit(h), std::memory_order_relaxed);
    }
  };
  static constexpr size_t kSlotBytes = 17;  // node pointer, tag, filter byte
  static Node* tomb() noexcept { return reinterpret_cast<Node*>(uintptr_t{1}); }
  static bool live(const Node* n) noexcept { return n && n != tomb(); }

  bool same_words(const uint64_t* a, const uint64_t* b) const noexcept {
    uint64_t d = 0;
    for (size_t i = 0; i < n_words_; ++i) d |= a[i] ^ b[i];
    return d == 0;
  }
  Slots* make_slots(size_t n) {
    size_t bytes = sizeof(Slots) + n * kSlotBytes;
    auto* s = static_cast<Slots*>(::operator new(bytes));
    s->mask = n - 1;
    for (size_t i = 0; i < n; ++i) {
      new (&s->at(i)) std::atomic<Node*>(nullptr);
      new (&s->tag(i)) std::atomic<uint64_t>(0);
    }
    auto* f = reinterpret_cast<std::atomic<uint64_t>*>(s + 1) + 2 * n;
    for (size_t i = 0; i < n; ++i)
      new (reinterpret_cast<std::atomic<uint8_t>*>(f) + i) std::atomic<uint8_t>(0);
    bytes_ += bytes;
    return s;
  }
  void free_slots(Slots* s) noexcept {
    bytes_ -= sizeof(Slots) + (s->mask + 1) * kSlotBytes;
    ::operator delete(s);
  }
  void maybe_grow(rcu::Reclaimer& rec) {
    Slots* s = slots_.load(std::memory_order_relaxed);
    size_t cap = s->mask + 1;
    if ((n_nodes_ + n_tombs_ + 1) * 2 <= cap) return;  // load factor <= 1/2
    size_t want = std::bit_ceil((n_nodes_ + 1) * 4);
    if (want < 8) want = 8;
    Slots* ns = make_slots(want);
    for (size_t i = 0; i < cap; ++i) {
      Node* n = s->at(i).load(std::memory_order_relaxed);
      if (!live(n)) continue;
      size_t j = n->hash & ns->mask;
      while (ns->at(j).load(std::memory_order_relaxed)) j = (j + 1) & ns->mask;
      ns->add_to_filter(n->hash);
      ns->tag(j).store(n->hash, std::memory_order_relaxed);
      ns->at(j).store(n, std::memory_order_relaxed);
    }
    slots_.store(ns, std::memory_order_release);
    n_tombs_ = 0;
    rec.retire([this, s] { free_slots(s); });
  }

  // Read by every probe, and never written after construction but for
  // slots_ (on growth).  A probe of a 5-tuple table (4-5 mask words) reads
  // only the table's first cache line (the class is 64-aligned): the
  // extract used to read mask_'s words, two lines more per table probed.
  std::atomic<Slots*> slots_{nullptr};
  size_t n_words_ = 0;
  uint8_t words_[FlowKey::kWords] = {};
  uint64_t mwords_[FlowKey::kWords] = {};  // mask_.word(words_[i])
  FlowMask mask_;
  // Written by every update: on their own cache line, so an insert does
  // not invalidate the line each reader's probe loads (false sharing cost
  // the reader under churn a miss per probed table, and the writer one).
  alignas(64) size_t n_nodes_ = 0;
  size_t n_tombs_ = 0;
  size_t bytes_ = 0;
  // Freed nodes by size (words + rules), reused by make_node: every insert
  // copies a bucket node, and glibc malloc/free of them (freed in batches
  // a grace period later) was a third of the delta writer's time.
  static constexpr size_t kPoolClasses = 40, kPoolKeep = 256;
  std::vector<void*> pool_[kPoolClasses];

 protected:
  uint64_t kw_[FlowKey::kWords] = {};  // writer scratch (locate, make_node)
};

}  // namespace flowpath::classify_detail
