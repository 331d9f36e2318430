// flowpath/conntrack/conn_table.hpp — the connection entries and the
// sharded hash table that holds them (internal to Conntrack).
//
// Design: every connection is one heap object holding two key nodes, its
// original-direction key and its reply-direction key (after NAT), each
// chained into the shard its hash selects; a lookup of either direction
// finds the same Conn.  Shards (a power of two, 1024 by default) have a
// small test-and-test-and-set lock each, so PMD threads contend only when
// they hit the same shard.
//
// A Conn's mutable state is guarded by its home shard's lock (the shard of
// its original-direction key): a packet in the original direction takes
// one lock; a reply whose key hashes elsewhere takes both, in index order
// (or try-locks the lower one and retries), like the removal below.
//
// Lifetime, without epochs: a Conn is only used while the lock of a shard
// that holds one of its nodes is held.  Removal first *claims* the Conn
// (an atomic dead flag set once, under a shard lock that holds it), then
// takes both of its shards' locks in index order, unlinks both nodes and
// frees it.  Only the claimer frees, and nobody can reach the Conn after
// both unlinks, so no reader ever sees freed memory.  Claimed or expired
// entries are invisible to lookups.
// Cost: lookup ~ one lock + a short chain walk.  Thread-safety: as above.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "flowpath/conntrack/conn_key.hpp"
#include "flowpath/conntrack/conn_pool.hpp"
#include "flowpath/conntrack/spin_lock.hpp"
#include "flowpath/conntrack/tcp_tracker.hpp"

namespace flowpath::ct {

struct Conn;
struct KeyNode {
  ConnKey key;
  uint64_t hash = 0;
  KeyNode* next = nullptr;
  Conn* conn = nullptr;
  bool reply = false;
};

// Per-protocol state for UDP/"other" and ICMP (OVS's other/icmp machines).
enum class OtherState : uint8_t { kFirst, kMultiple, kBidir };

struct Conn {
  KeyNode node[2];  // [0] original direction, [1] reply direction
  std::atomic<int64_t> expires_ms{0};
  std::atomic<bool> dead{false};
  // Everything below is guarded by the lock of the shard holding node[0]
  // (the "home" shard): one lock per packet in the original direction.
  uint32_t mark = 0;
  CtLabel label{};
  uint8_t nat = 0;  // kCsSrcNat / kCsDstNat applied to this connection
  OtherState other = OtherState::kFirst;
  TcpConn tcp{};

  const ConnKey& key() const noexcept { return node[0].key; }
  const ConnKey& rev_key() const noexcept { return node[1].key; }
  bool live(int64_t now) const noexcept {
    return !dead.load(std::memory_order_acquire) &&
           expires_ms.load(std::memory_order_relaxed) > now;
  }
};

class ConnTable {
 public:
  struct Shard {
    alignas(64) SpinLock lock;
    std::vector<KeyNode*> buckets = std::vector<KeyNode*>(8);
    size_t count = 0;
  };

  explicit ConnTable(uint32_t shard_bits = 10)
      : bits_(shard_bits), shards_(std::make_unique<Shard[]>(size_t(1) << shard_bits)) {}

  /// A new, unlinked Conn from the pool (throws std::bad_alloc).
  Conn* make() { return new (pool_.alloc()) Conn(); }
  /// Returns a never-linked Conn to the pool.
  void discard(Conn* c) noexcept {
    c->~Conn();
    pool_.free(c);
  }

  uint32_t shard_of(uint64_t hash) const noexcept { return uint32_t(hash >> (64 - bits_)); }
  Shard& shard(uint32_t i) noexcept { return shards_[i]; }
  uint32_t n_shards() const noexcept { return 1u << bits_; }

  /// The live node for key in its (locked) shard, or nullptr.  Sets
  /// *stale to an expired, unclaimed Conn with this key, if any.
  static KeyNode* find(Shard& s, const ConnKey& key, uint64_t hash, int64_t now,
                       Conn** stale = nullptr) noexcept {
    for (KeyNode* n = s.buckets[hash & (s.buckets.size() - 1)]; n; n = n->next) {
      if (n->hash != hash || !(n->key == key)) continue;
      if (n->conn->live(now)) return n;
      if (stale && !n->conn->dead.load(std::memory_order_acquire)) *stale = n->conn;
    }
    return nullptr;
  }

  static void link(Shard& s, KeyNode* n) {
    if (s.count >= s.buckets.size()) grow(s);
    KeyNode*& head = s.buckets[n->hash & (s.buckets.size() - 1)];
    n->next = head;
    head = n;
    ++s.count;
  }
  static void unlink(Shard& s, KeyNode* n) noexcept {
    for (KeyNode** p = &s.buckets[n->hash & (s.buckets.size() - 1)]; *p; p = &(*p)->next) {
      if (*p == n) {
        *p = n->next;
        --s.count;
        return;
      }
    }
  }

  /// Unlinks and frees a Conn this thread has claimed (dead flag won).
  void destroy(Conn* c) noexcept {
    uint32_t a = shard_of(c->node[0].hash), b = shard_of(c->node[1].hash);
    if (a > b) std::swap(a, b);
    shards_[a].lock.lock();
    if (b != a) shards_[b].lock.lock();
    unlink(shards_[shard_of(c->node[0].hash)], &c->node[0]);
    unlink(shards_[shard_of(c->node[1].hash)], &c->node[1]);
    if (b != a) shards_[b].lock.unlock();
    shards_[a].lock.unlock();
    discard(c);
  }

  /// Claims (under s's lock) the Conns of shard s matching pred; the caller
  /// destroys them after releasing the lock.
  template <class Pred>
  static void claim_if(Shard& s, Pred&& pred, std::vector<Conn*>& out) {
    for (KeyNode* head : s.buckets)
      for (KeyNode* n = head; n; n = n->next) {
        Conn* c = n->conn;
        if (c->dead.load(std::memory_order_acquire) || !pred(*c)) continue;
        bool expected = false;
        if (c->dead.compare_exchange_strong(expected, true)) out.push_back(c);
      }
  }

 private:
  static void grow(Shard& s) {
    std::vector<KeyNode*> nb(s.buckets.size() * 2, nullptr);
    for (KeyNode* head : s.buckets)
      for (KeyNode* n = head; n;) {
        KeyNode* next = n->next;
        KeyNode*& h = nb[n->hash & (nb.size() - 1)];
        n->next = h;
        h = n;
        n = next;
      }
    s.buckets.swap(nb);
  }

  uint32_t bits_;
  std::unique_ptr<Shard[]> shards_;
  ObjectPool pool_{sizeof(Conn)};
};

}  // namespace flowpath::ct
