// flowpath/conntrack/conn_table.hpp — the connection entries and the
// sharded hash table that holds them (internal to Conntrack).
//
// Design: every connection is one pooled object holding two key nodes, its
// original-direction key and its reply-direction key (after NAT), each
// chained into the shard its hash selects; a lookup of either direction
// finds the same Conn.  Shards (a power of two, 1024 by default) have a
// small spin lock each, so writers contend only on the same shard.  A key
// node is one cache line (key, 32-bit hash, link) and a Conn three: a chain
// walk or a regrow reads one line per node, and a new connection writes
// 192 bytes.
//
// Readers come in two kinds.  The fast path walks a chain without any lock
// inside an epoch read section (classify/epoch.hpp): chain links, bucket
// arrays and the fields it reads are atomics, and nothing it can reach is
// freed before every reader has left its section.  It may miss an entry
// while a bucket array is being regrown; a miss always falls back to the
// locked path, which is exact.  The locked path guards a Conn's mutable
// state with its home shard's lock (the shard of its original-direction
// key): one lock per original-direction packet, both (in index order) for a
// reply whose key hashes elsewhere.
//
// Removal first *claims* the Conn (its dead flag, set once, under a lock of
// a shard that holds it), then takes both of its shards' locks in index
// order, unlinks both nodes and retires the memory to the epoch reclaimer.
// Only the claimer removes; claimed or expired entries are invisible.
// Cost: lookup = a chain walk (+ one lock on the slow path).
// Thread-safety: as above.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

#include "flowpath/classify/epoch.hpp"
#include "flowpath/conntrack/conn_key.hpp"
#include "flowpath/conntrack/conn_pool.hpp"
#include "flowpath/conntrack/spin_lock.hpp"
#include "flowpath/conntrack/tcp_tracker.hpp"

namespace flowpath::ct {

struct Conn;
// One direction's key in its chain: exactly one cache line, so a chain
// walk and a shard's regrow read one line per node.  The Conn is found from
// the node's place in it (node[0] is the Conn's first member), not from a
// stored pointer.
struct alignas(64) KeyNode {
  ConnKey key;
  uint32_t hash = 0;  // hash_key(key): shard from the top bits, bucket from the low
  uint8_t reply = 0;  // 1 for node[1], the reply direction
  std::atomic<KeyNode*> next{nullptr};

  Conn* conn() const noexcept;
};
static_assert(sizeof(KeyNode) == 64);

// Per-protocol state for UDP/"other" and ICMP (OVS's other/icmp machines).
enum class OtherState : uint8_t { kFirst, kMultiple, kBidir };

// Three cache lines: the two key nodes, then the state (a fresh tracker
// zeroes and writes 192 bytes per connection).
struct Conn {
  KeyNode node[2];  // [0] original direction, [1] reply direction
  std::atomic<int64_t> expires_ms{0};
  std::atomic<uint64_t> label_hi{0}, label_lo{0};
  std::atomic<uint32_t> mark{0};
  std::atomic<bool> dead{false};
  uint8_t nat = 0;  // kCsSrcNat / kCsDstNat; immutable once linked
  // Written under the home shard's lock; read lock-free by the fast path.
  std::atomic<OtherState> other{OtherState::kFirst};
  // Guarded by the home shard's lock only.
  TcpConn tcp{};

  const ConnKey& key() const noexcept { return node[0].key; }
  const ConnKey& rev_key() const noexcept { return node[1].key; }
  [[gnu::always_inline]] bool live(int64_t now) const noexcept {
    return !dead.load(std::memory_order_acquire) &&
           expires_ms.load(std::memory_order_relaxed) > now;
  }
  // Always inline: GCC called it out of line in the datapath's ct() once
  // try_hint had two call sites there (session 22).
  [[gnu::always_inline]] CtLabel label() const noexcept {
    return {label_hi.load(std::memory_order_relaxed), label_lo.load(std::memory_order_relaxed)};
  }
  void set_label(CtLabel l) noexcept {
    label_hi.store(l.hi, std::memory_order_relaxed);
    label_lo.store(l.lo, std::memory_order_relaxed);
  }
};
static_assert(std::is_standard_layout_v<Conn> && offsetof(Conn, node) == 0);
static_assert(sizeof(Conn) == 192);

inline Conn* KeyNode::conn() const noexcept {
  // node[reply] -> node[0], which is pointer-interconvertible with its Conn.
  return reinterpret_cast<Conn*>(const_cast<KeyNode*>(this) - reply);
}

class ConnTable {
 public:
  // A shard's bucket array: chain heads, 64-byte aligned, published as one
  // word (address | log2(size)) so a reader gets both from a single load
  // (one dependent load fewer on the fast path than a header object).
  struct Buckets {
    std::atomic<KeyNode*>* head;
    size_t mask;
    static uintptr_t make(unsigned log2) {
      const size_t n = size_t(1) << log2;
      auto* h = static_cast<std::atomic<KeyNode*>*>(std::aligned_alloc(64, n * sizeof(void*)));
      if (!h) throw std::bad_alloc();
      for (size_t i = 0; i < n; ++i) new (&h[i]) std::atomic<KeyNode*>(nullptr);
      return reinterpret_cast<uintptr_t>(h) | log2;
    }
    static Buckets of(uintptr_t w) noexcept {
      return {reinterpret_cast<std::atomic<KeyNode*>*>(w & ~uintptr_t(63)),
              (size_t(1) << (w & 63)) - 1};
    }
    static void free(uintptr_t w) noexcept { std::free(of(w).head); }
  };
  struct Shard {
    alignas(64) SpinLock lock;
    std::atomic<uintptr_t> buckets{Buckets::make(6)};
    size_t count = 0;
    ~Shard() { Buckets::free(buckets.load()); }
    Buckets get(std::memory_order o) const noexcept { return Buckets::of(buckets.load(o)); }
  };

  explicit ConnTable(uint32_t shard_bits = 10)
      : bits_(shard_bits),
        shards_(std::make_unique<Shard[]>(size_t(1) << shard_bits)),
        words_(std::make_unique<std::atomic<uintptr_t>[]>(size_t(1) << shard_bits)) {
    for (size_t i = 0; i < n_shards(); ++i)
      words_[i].store(shards_[i].buckets.load(std::memory_order_relaxed),
                      std::memory_order_relaxed);
  }
  ~ConnTable() {
    std::lock_guard g(rcu_mu_);
    reclaimer_.drain();
  }

  uint32_t shard_of(uint32_t hash) const noexcept {
    return uint32_t(uint64_t(hash) >> (32 - bits_));
  }
  Shard& shard(uint32_t i) noexcept { return shards_[i]; }
  uint32_t n_shards() const noexcept { return 1u << bits_; }

  /// A new, unlinked Conn from the pool (throws std::bad_alloc).
  Conn* make() { return new (pool_.alloc()) Conn(); }
  /// The pool's bytes and its chunk granularity (see conn_pool.hpp).
  const ObjectPool& pool() const noexcept { return pool_; }
  /// Returns a never-linked Conn to the pool.
  void discard(Conn* c) noexcept {
    c->~Conn();
    pool_.free(c);
  }

  /// Lock-free lookup (inside an rcu::ReadGuard): the live node or nullptr
  /// (possibly a false miss during a regrow; never a wrong hit).
  KeyNode* find_rcu(const ConnKey& key, uint32_t hash, int64_t now) noexcept {
    const Buckets b = Buckets::of(words_[shard_of(hash)].load(std::memory_order_acquire));
    for (KeyNode* n = b.head[hash & b.mask].load(std::memory_order_acquire); n;
         n = n->next.load(std::memory_order_acquire))
      if (n->hash == hash && n->key == key && n->conn()->live(now)) return n;
    return nullptr;
  }

  /// find_rcu from a chain head loaded earlier in the same read section.
  static KeyNode* find_from(const KeyNode* n, const ConnKey& key, uint32_t hash,
                            int64_t now) noexcept {
    for (; n; n = n->next.load(std::memory_order_acquire))
      if (n->hash == hash && n->key == key && n->conn()->live(now)) return const_cast<KeyNode*>(n);
    return nullptr;
  }
  /// Starts loading hash's chain-head slot and returns it, without waiting
  /// (the first stage of a batch's prefetch pipeline; at a million
  /// connections the bucket arrays are far beyond the caches).  Inside a
  /// read section: the slot stays readable, though its array may be
  /// replaced by a regrow (then the head read from it is a stale hint).
  const std::atomic<KeyNode*>* prefetch_slot(uint32_t hash) const noexcept {
    const Buckets b = Buckets::of(words_[shard_of(hash)].load(std::memory_order_acquire));
    const std::atomic<KeyNode*>* slot = &b.head[hash & b.mask];
    __builtin_prefetch(slot);
    return slot;
  }
  /// The second stage: loads the (prefetched) slot, starts loading its
  /// first node and returns it (a hint: the chain may change before use).
  static const KeyNode* prefetch_head(const std::atomic<KeyNode*>* slot) noexcept {
    const KeyNode* n = slot->load(std::memory_order_acquire);
    __builtin_prefetch(n);
    return n;
  }
  /// With the second stage, for a head node n that a hit would be: starts
  /// loading its Conn's state line (expiry, dead flag, protocol state,
  /// mark, label: what a live check and the fast path read next) without
  /// waiting for n.  The line is 128 bytes past an original-direction node
  /// and 64 past a reply one, and which n is lies in n, so both are
  /// fetched (one line wasted: the other direction's node, or the next
  /// pooled Conn's first line).  Reading n's `reply` byte first made the
  /// state line a fourth dependent miss in a row (word, slot, node,
  /// state); see docs/conntrack.md, "The state line beside the node,
  /// session 17".
  static void prefetch_state(const KeyNode* n) noexcept {
    static_assert(offsetof(Conn, expires_ms) == 2 * sizeof(KeyNode));
    __builtin_prefetch(reinterpret_cast<const char*>(n) + sizeof(KeyNode));
    __builtin_prefetch(reinterpret_cast<const char*>(n) + 2 * sizeof(KeyNode));
  }
  /// The live node for key in its (locked) shard, or nullptr.  Sets
  /// *stale to an expired, unclaimed Conn with this key, if any.
  static KeyNode* find(Shard& s, const ConnKey& key, uint32_t hash, int64_t now,
                       Conn** stale = nullptr) noexcept {
    const Buckets b = s.get(std::memory_order_relaxed);
    for (KeyNode* n = b.head[hash & b.mask].load(std::memory_order_relaxed); n;
         n = n->next.load(std::memory_order_relaxed)) {
      if (n->hash != hash || !(n->key == key)) continue;
      if (n->conn()->live(now)) return n;
      if (stale && !n->conn()->dead.load(std::memory_order_acquire)) *stale = n->conn();
    }
    return nullptr;
  }

  /// Links n into its (locked) shard, publishing it to lock-free readers.
  void link(Shard& s, KeyNode* n) {
    if (s.count > s.get(std::memory_order_relaxed).mask) grow(s);
    const Buckets b = s.get(std::memory_order_relaxed);
    std::atomic<KeyNode*>& head = b.head[n->hash & b.mask];
    n->next.store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    head.store(n, std::memory_order_release);
    ++s.count;
  }
  /// Unlinks n from its (locked) shard; n->next stays intact for readers
  /// still standing on n.
  static void unlink(Shard& s, KeyNode* n) noexcept {
    const Buckets b = s.get(std::memory_order_relaxed);
    for (std::atomic<KeyNode*>* p = &b.head[n->hash & b.mask];;) {
      KeyNode* cur = p->load(std::memory_order_relaxed);
      if (!cur) return;
      if (cur == n) {
        p->store(n->next.load(std::memory_order_relaxed), std::memory_order_release);
        --s.count;
        return;
      }
      p = &cur->next;
    }
  }

  /// Unlinks a Conn this thread has claimed (dead flag won) and retires it.
  void destroy(Conn* c) {
    uint32_t a = shard_of(c->node[0].hash), b = shard_of(c->node[1].hash);
    if (a > b) std::swap(a, b);
    shards_[a].lock.lock();
    if (b != a) shards_[b].lock.lock();
    unlink(shards_[shard_of(c->node[0].hash)], &c->node[0]);
    unlink(shards_[shard_of(c->node[1].hash)], &c->node[1]);
    if (b != a) shards_[b].lock.unlock();
    shards_[a].lock.unlock();
    retire([this, c] { discard(c); });
  }

  /// Claims (under s's lock) the Conns of shard s matching pred; the caller
  /// destroys them after releasing the lock.
  template <class Pred>
  static void claim_if(Shard& s, Pred&& pred, std::vector<Conn*>& out) {
    const Buckets b = s.get(std::memory_order_relaxed);
    for (size_t i = 0; i <= b.mask; ++i)
      for (KeyNode* n = b.head[i].load(std::memory_order_relaxed); n;
           n = n->next.load(std::memory_order_relaxed)) {
        Conn* c = n->conn();
        if (c->dead.load(std::memory_order_acquire) || !pred(*c)) continue;
        bool expected = false;
        if (c->dead.compare_exchange_strong(expected, true)) out.push_back(c);
      }
  }

  /// Frees what no reader can see any more (also done every 256 retires).
  /// An entry needs two epoch advances after its retirement: up to three
  /// tries here, so a flush with no reader inside frees everything it
  /// removed (and the pool, empty again, carves in address order).
  void collect() {
    std::lock_guard g(rcu_mu_);
    for (int i = 0; i < 3; ++i) reclaimer_.collect();
  }

 private:
  template <class Fn>
  void retire(Fn&& fn) {
    std::lock_guard g(rcu_mu_);
    reclaimer_.retire(std::forward<Fn>(fn));
    if (++retired_ % 256 == 0) reclaimer_.collect();
  }

  // Grows a (locked) shard's bucket array eightfold.  Each regrow walks
  // every node of the shard, cache-cold at scale: by 8, a fill to 1M
  // connections walks 0.28 nodes per node against 0.66 by 4 (measured: a
  // fresh 1M fill 15% faster), for a load factor between 1/8 and 1 (the
  // array costs 8-64 bytes per node).  Nodes are relinked into the
  // new array before it is published, so a reader on the old one may be
  // carried into a new chain and miss: it then takes the locked path.
  void grow(Shard& s) {
    const uintptr_t old_word = s.buckets.load(std::memory_order_relaxed);
    const Buckets old = Buckets::of(old_word);
    const uintptr_t nw = Buckets::make(unsigned(old_word & 63) + 3);
    const Buckets nb = Buckets::of(nw);
    // The nodes are cache-cold: prefetch the chain heads far enough ahead
    // that ~kAhead misses are in flight (a shard grows at ~1 node per
    // chain; 8 ahead left the walk latency-bound), and halfway there the
    // second node of chains whose head has arrived by then.
    constexpr size_t kAhead = 24;
    for (size_t i = 0; i <= old.mask && i < kAhead; ++i)
      __builtin_prefetch(old.head[i].load(std::memory_order_relaxed));
    for (size_t i = 0; i <= old.mask; ++i) {
      if (i + kAhead <= old.mask)
        __builtin_prefetch(old.head[i + kAhead].load(std::memory_order_relaxed));
      if (i + kAhead / 2 <= old.mask)
        if (const KeyNode* h = old.head[i + kAhead / 2].load(std::memory_order_relaxed))
          __builtin_prefetch(h->next.load(std::memory_order_relaxed));
      for (KeyNode* n = old.head[i].load(std::memory_order_relaxed); n;) {
        KeyNode* next = n->next.load(std::memory_order_relaxed);
        std::atomic<KeyNode*>& h = nb.head[n->hash & nb.mask];
        n->next.store(h.load(std::memory_order_relaxed), std::memory_order_release);
        h.store(n, std::memory_order_relaxed);
        n = next;
      }
    }
    s.buckets.store(nw, std::memory_order_release);
    words_[size_t(&s - shards_.get())].store(nw, std::memory_order_release);
    retire([old_word] { Buckets::free(old_word); });
  }

  uint32_t bits_;
  std::unique_ptr<Shard[]> shards_;
  // The shards' bucket words again, dense (eight to a cache line), for the
  // lock-free readers: one read per packet, which in the Shards (a line
  // each) spread a batch over up to 32 lines of 64 KB.  Written with
  // Shard::buckets under its lock; the Shard's copy serves the writers.
  std::unique_ptr<std::atomic<uintptr_t>[]> words_;
  ObjectPool pool_{sizeof(Conn)};
  std::mutex rcu_mu_;
  rcu::Reclaimer reclaimer_;  // guarded by rcu_mu_
  uint64_t retired_ = 0;      // guarded by rcu_mu_
};

}  // namespace flowpath::ct
