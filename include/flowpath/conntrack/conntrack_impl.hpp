// flowpath/conntrack/conntrack_impl.hpp — Conntrack's member functions
// (internal; include conntrack.hpp).  Thread-safety: see conntrack.hpp.
#pragma once

#include <cstddef>

#include "flowpath/conntrack/conntrack.hpp"
#include "flowpath/core/scratch_array.hpp"

namespace flowpath::ct {

namespace ct_detail {

inline bool valid_new(const Extracted& x) noexcept {
  if (x.key.proto == 6) return tcp_valid_new(x.tcp);
  if (x.key.icmp()) {  // only a query may open an ICMP "connection"
    const uint8_t t = x.key.stype;
    return x.key.v6 ? t == 128 : (t == 8 || t == 13 || t == 15);
  }
  return true;
}

// base + off, as an address: IPv4 in 32 bits, IPv6 in its low 64 bits.
inline CtAddr addr_add(CtAddr a, uint64_t off, bool v6) noexcept {
  const int lo = v6 ? 15 : 3, hi = v6 ? 0 : 0;
  for (int i = lo; i >= hi && off; --i) {
    const uint64_t s = uint64_t(a[i]) + (off & 0xff);
    a[i] = uint8_t(s);
    off = (off >> 8) + (s >> 8);
  }
  return a;
}
inline uint64_t addr_span(const CtAddr& lo, const CtAddr& hi, bool v6) noexcept {
  uint64_t a = 0, b = 0;
  const int first = v6 ? 8 : 0, last = v6 ? 16 : 4;
  for (int i = first; i < last; ++i) {
    a = a << 8 | lo[i];
    b = b << 8 | hi[i];
  }
  return b >= a ? std::min<uint64_t>(b - a, 0xffffffffull) + 1 : 1;
}

}  // namespace ct_detail

inline CtResult Conntrack::execute(Packet& pkt, const CtParams& p, int64_t now) noexcept {
  rcu::ReadGuard guard;
  Extracted x;
  const Extract e = extract_key(pkt, p.zone, x);
  CtResult r;
  uint32_t created = 0;
  process(pkt, x, e, p, now, r, created);
  if (created) counters_.created.fetch_add(created, std::memory_order_relaxed);
  return r;
}

inline void Conntrack::execute(std::span<Packet* const> pkts, const CtParams& p, int64_t now,
                               CtResult* out) noexcept {
  // A prefetch pipeline per 32 packets, so the table's cache misses
  // overlap instead of queueing: (1) extract, hash, prefetch the chain-head
  // slot; (2) load the head, prefetch its node and, beside it, its Conn's
  // state line (its expiry, read by every hit); (3) with commit, for a key
  // whose chain head is empty or of another hash (likely a new connection;
  // an established one is found at the head when its chain is short), hash
  // the reply key and prefetch its slot;
  // (4) prefetch the reply chain's head node; then process in order.
  // Stages 3-4 are skipped while the zone is full (a flood is refused).
  // Stages 2-4 only read, so results do not change.
  constexpr size_t kStep = 32;
  // xs[0]: a key no packet has (its ports/zone/protocol word is all ones,
  // which the v6 flag byte never is), so packet i compares with xs[i]
  // without a test for the first.  Each chunk constructs the entries it
  // uses (core/scratch_array.hpp: all 33 cost ~330 instructions a call).
  ScratchArray<Extracted, kStep + 1> xs;
  std::memset(static_cast<void*>(&xs.construct(0, 1)->key), 0xff, sizeof(ConnKey));
  Extracted* const x = xs.data() + 1;
  Extract e[kStep];
  uint32_t rev[kStep];  // hash_key(x[i].key.reversed()), or 0: not computed
  const KeyNode* head[kStep];
  const std::atomic<KeyNode*>* slot[kStep];  // chain-head slots (stage 1, then stage 3)
  uint32_t created = 0;
  const bool can_cache = cacheable(p);
  rcu::ReadGuard guard;
  for (size_t base = 0; base < pkts.size(); base += kStep) {
    const size_t n = std::min(kStep, pkts.size() - base);
    xs.construct(1, n);
    // A packet whose key equals the previous packet's (x[i].same: a burst
    // of one connection) reuses its hash, and below starts from the
    // connection the previous packet found.
    for (size_t i = 0; i < n; ++i) {
      e[i] = extract_key(*pkts[base + i], p.zone, x[i], &xs[i]);
      rev[i] = 0;
      if (e[i] == Extract::kOk) {
        slot[i] = table_.prefetch_slot(x[i].hash);
      } else {
        // Its key and hash were not written, and the next packet must not
        // match them (a fresh slot's all-zero key is a real one: IPv4
        // protocol 0 from 0.0.0.0 to 0.0.0.0 in zone 0): the sentinel's
        // ports/zone/protocol word, which no key has, goes there.
        static_assert(offsetof(ConnKey, v6) + 1 - offsetof(ConnKey, sport) == 8);
        std::memset(reinterpret_cast<char*>(&x[i].key) + offsetof(ConnKey, sport), 0xff, 8);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      head[i] = e[i] == Extract::kOk ? ConnTable::prefetch_head(slot[i]) : nullptr;
      if (head[i]) ConnTable::prefetch_state(head[i]);
    }
    const uint32_t limit = limit_of(p.zone);
    if (p.commit && !(limit && zone_count_[p.zone].load(std::memory_order_relaxed) >= limit)) {
      bool any_new = false;
      for (size_t i = 0; i < n; ++i) {
        if (e[i] != Extract::kOk || (head[i] && head[i]->hash == x[i].hash)) continue;
        rev[i] = hash_key_reversed(x[i].key);
        any_new = true;
        slot[i] = table_.prefetch_slot(rev[i]);
      }
      if (any_new)
        for (size_t i = 0; i < n; ++i)
          if (rev[i]) ConnTable::prefetch_head(slot[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      Packet& pk = *pkts[base + i];
      // The previous packet, of the same key, found its connection lock-free
      // (meta.ct_node): the lookup would find that node again, so start from
      // it (try_cached: the same checks and result as try_fast's; it refuses
      // where the full path must run, e.g. the connection died since).
      if (x[i].same && can_cache) {  // (same: only set with kOk)
        if (const void* node = pkts[base + i - 1]->meta.ct_node) {
          pk.meta.ct_node = node;
          if (try_cached_for(pk, p, now, out[base + i])) continue;
        }
      }
      process(pk, x[i], e[i], p, now, out[base + i], created, rev[i], &head[i]);
    }
  }
  // One shared read-modify-write per batch, not one per new connection.
  if (created) counters_.created.fetch_add(created, std::memory_order_relaxed);
}

// One packet, extracted, inside the caller's epoch read section.  Writes
// its result in place (returning it by value made the caller copy it with
// wide loads over narrow stores: a store-forwarding stall per packet).
// rev_hash: hash_key(x.key.reversed()) if the batch computed it, else 0.
inline void Conntrack::process(Packet& pkt, const Extracted& x, Extract e, const CtParams& p,
                               int64_t now, CtResult& r, uint32_t& n_created, uint32_t rev_hash,
                               const KeyNode* const* head) noexcept {
  const uint32_t h = x.hash;
  // try_fast writes r whole, at its end: a byte store to r.state earlier
  // would make the compiler reload everything after it (a char store may
  // alias anything).
  if (e == Extract::kOk && try_fast(pkt, x, h, p, now, r, head)) return;
  pkt.meta.ct_node = nullptr;  // set again only for a connection found (finish_locked)
  r = CtResult{};
  r.zone = p.zone;
  r.state = kCsTracked;
  if (e != Extract::kOk) {
    r.state |= kCsInvalid;
    (e == Extract::kFragment ? counters_.fragments : counters_.invalid)
        .fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ConnTable::Shard* home = nullptr;
  KeyNode* n = lock_for(x.key, h, now, &home);
  ConnTable::Shard& s = table_.shard(table_.shard_of(h));
  if (!n && p.commit && p.nat.kind == NatSpec::kNone && !x.related && ct_detail::valid_new(x)) {
    // A new connection without NAT: the insert keeps the lock taken for
    // the lookup (one lock round trip fewer per new connection).
    r.state |= kCsNew;
    commit(pkt, x, p, now, r, n_created, rev_hash, &s);
    return;
  }
  finish_locked(pkt, n, x, p, now, r, n_created, rev_hash, s, home);
}

// The locked path once the packet's node n (or nullptr: none) is known and
// its shard s (and the Conn's home shard, when another) is locked, as
// lock_for leaves them: the update, the unlock, then, when nothing was
// found or the packet reopens the connection, +inv or +new and the commit.
// A TCP connection found (no NAT) is left in meta.ct_node: a hint for its
// flow's next packets (try_hint), never a lock-free answer (try_cached).
// Inlined into both callers (process(), itself inlined into the batch
// loop, had this code inline before; try_hint_tcp is out of line): the
// call cost fw_tcp 9 instructions a packet.
[[gnu::always_inline]] inline void Conntrack::finish_locked(
    Packet& pkt, KeyNode* n, const Extracted& x, const CtParams& p, int64_t now, CtResult& r,
    uint32_t& n_created, uint32_t rev_hash, ConnTable::Shard& s, ConnTable::Shard* home) noexcept {
  Conn* victim = nullptr;
  const bool found = n && update_found(pkt, *n, x, p, now, r, &victim);
  if (home && home != &s) home->lock.unlock();
  s.lock.unlock();
  if (victim) {
    release(victim->key().zone);
    table_.destroy(victim);
  }
  if (found) {
    if (x.key.proto == 6 && !n->conn()->nat) pkt.meta.ct_node = n;
    return;
  }
  if (x.related || !ct_detail::valid_new(x)) {
    r.state |= kCsInvalid;
    counters_.invalid.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  r.state |= kCsNew;
  if (p.commit) commit(pkt, x, p, now, r, n_created, rev_hash, nullptr);
}

// The packet's live connection, found under its lock(s): runs its state
// machine, writes mark/label, translates.  Returns false when the packet
// reopens it (ct(force), a SYN on a closed one): *victim is then the Conn
// this thread claimed, to destroy after unlocking (nullptr if another did).
inline bool Conntrack::update_found(Packet& pkt, KeyNode& n, const Extracted& x, const CtParams& p,
                                    int64_t now, CtResult& r, Conn** victim) noexcept {
  Conn& c = *n.conn();
  bool reopen = p.force && n.reply && !x.related;
  const uint8_t st = reopen ? 0 : update_existing(c, n.reply, x, now, &reopen);
  if (reopen) {
    bool no = false;
    if (c.dead.compare_exchange_strong(no, true)) {
      *victim = &c;
      note_claim();
    }
    return false;
  }
  r.state |= st;
  if (p.set_mark)
    c.mark.store((c.mark.load(std::memory_order_relaxed) & ~p.mark_mask) | (p.mark & p.mark_mask),
                 std::memory_order_relaxed);
  if (p.set_label) {
    const CtLabel l = c.label();
    c.set_label({(l.hi & ~p.label_mask.hi) | (p.label.hi & p.label_mask.hi),
                 (l.lo & ~p.label_mask.lo) | (p.label.lo & p.label_mask.lo)});
  }
  r.mark = c.mark.load(std::memory_order_relaxed);
  r.label = c.label();
  if (p.nat.present && c.nat && !(st & kCsInvalid)) {
    apply_nat(pkt, c.nat, c.key(), c.rev_key(), n.reply, x);
    r.state |= c.nat;
  }
  return true;
}

// Commits a new connection for the packet (r already says +new); held as
// in create().
inline void Conntrack::commit(Packet& pkt, const Extracted& x, const CtParams& p, int64_t now,
                              CtResult& r, uint32_t& n_created, uint32_t rev_hash,
                              ConnTable::Shard* held) noexcept {
  uint8_t nat = 0;
  if (!create(x, p, now, pkt, &nat, rev_hash, held)) return;
  ++n_created;
  if (p.set_mark) r.mark = p.mark & p.mark_mask;
  if (p.set_label) r.label = {p.label.hi & p.label_mask.hi, p.label.lo & p.label_mask.lo};
  r.state |= nat;
}

// Locks the key's shard and, when the hit is a reply-direction node of a
// Conn homed elsewhere, the home shard too (*home; else *home = the key's
// shard).  Returns the live node or nullptr (the key's shard stays locked).
inline KeyNode* Conntrack::lock_for(const ConnKey& key, uint32_t h, int64_t now,
                                    ConnTable::Shard** home) noexcept {
  const uint32_t b = table_.shard_of(h);
  ConnTable::Shard& s = table_.shard(b);
  for (;;) {
    s.lock.lock();
    *home = &s;
    KeyNode* n = ConnTable::find(s, key, h, now);
    if (!n || !n->reply) return n;
    const uint32_t a = table_.shard_of(n->conn()->node[0].hash);
    if (a == b) return n;
    ConnTable::Shard& sa = table_.shard(a);
    *home = &sa;
    if (a > b || sa.lock.try_lock()) {
      if (a > b) sa.lock.lock();
      return n;
    }
    // Wrong order: drop ours, take both in order, and look again.
    s.lock.unlock();
    sa.lock.lock();
    s.lock.lock();
    n = ConnTable::find(s, key, h, now);
    if (n && n->reply && table_.shard_of(n->conn()->node[0].hash) == a) return n;
    sa.lock.unlock();
    s.lock.unlock();
  }
}

inline uint8_t Conntrack::update_existing(Conn& c, bool reply, const Extracted& x, int64_t now,
                                          bool* reopen) {
  const uint8_t rpl = reply ? kCsReplyDir : 0;
  if (x.related) return kCsRelated | rpl;
  const Timeouts& t = cfg_.timeouts;
  if (x.key.proto == 6) {
    switch (tcp_update(c.tcp, x.tcp, reply, cfg_.tcp_seq_check)) {
      case TcpVerdict::kValid:
        set_expiry(c, t.tcp(c.tcp.timeout), now);
        return kCsEstablished | rpl;
      case TcpVerdict::kValidNew:
        set_expiry(c, t.tcp(c.tcp.timeout), now);
        return kCsNew;
      case TcpVerdict::kPass:
        return kCsEstablished | rpl;
      case TcpVerdict::kInvalid:
        counters_.invalid.fetch_add(1, std::memory_order_relaxed);
        return kCsInvalid;
      case TcpVerdict::kReopen:
        *reopen = true;
        return 0;
    }
  }
  if (x.key.icmp()) {  // ICMP: first -> reply
    if (reply) c.other.store(OtherState::kBidir, std::memory_order_relaxed);
    return touch_other(c, reply, x.key.icmp(), now);
  }
  const OtherState o = c.other.load(std::memory_order_relaxed);
  if (reply)
    c.other.store(OtherState::kBidir, std::memory_order_relaxed);
  else if (o == OtherState::kFirst)
    c.other.store(OtherState::kMultiple, std::memory_order_relaxed);
  return touch_other(c, reply, x.key.icmp(), now);
}

// The verdict and timeout of a UDP/other/ICMP connection in its current
// state (no transition): shared by the locked and the lock-free paths.
inline uint8_t Conntrack::touch_other(Conn& c, bool reply, bool icmp, int64_t now) noexcept {
  const Timeouts& t = cfg_.timeouts;
  const OtherState o = c.other.load(std::memory_order_relaxed);
  const uint8_t rpl = reply ? kCsReplyDir : 0;
  if (icmp) {
    set_expiry(c, o == OtherState::kBidir ? t.icmp_reply : t.icmp_first, now);
    return o == OtherState::kBidir ? kCsEstablished | rpl : kCsNew;
  }
  set_expiry(c,
             o == OtherState::kBidir      ? t.udp_multiple
             : o == OtherState::kMultiple ? t.udp_single
                                          : t.udp_first,
             now);
  return o == OtherState::kBidir ? kCsEstablished | rpl : kCsNew;
}

// The lock-free path (inside the caller's epoch read section): an existing UDP/other/ICMP
// connection whose state this packet does not change, with no mark/label to write.  Returns false
// when the locked path must run.
// `head`: the chain head the batch loaded for this key (walked instead of
// looking the bucket up again; a node linked since is missed, and a miss
// takes the exact locked path), or nullptr.
inline bool Conntrack::try_fast(Packet& pkt, const Extracted& x, uint32_t h, const CtParams& p,
                                int64_t now, CtResult& r, const KeyNode* const* head) noexcept {
  if (x.key.proto == 6 || x.related || p.force || p.set_mark || p.set_label) return false;
  KeyNode* n = head ? ConnTable::find_from(*head, x.key, h, now) : table_.find_rcu(x.key, h, now);
  if (!n) return false;
  Conn& c = *n->conn();
  const OtherState o = c.other.load(std::memory_order_relaxed);
  const bool steady = x.key.icmp() ? (!n->reply || o == OtherState::kBidir)
                                   : (n->reply ? o == OtherState::kBidir : o != OtherState::kFirst);
  if (!steady) return false;
  uint8_t st = kCsTracked | touch_other(c, n->reply, x.key.icmp(), now);
  const uint32_t mark = c.mark.load(std::memory_order_relaxed);
  const CtLabel label = c.label();
  if (p.nat.present && c.nat) {
    apply_nat(pkt, c.nat, c.key(), c.rev_key(), n->reply, x);
    st |= c.nat;
  }
  pkt.meta.ct_node = c.nat ? nullptr : n;  // try_cached() may start from it next time
  r.zone = p.zone;
  r.mark = mark;
  r.label = label;
  r.state = st;
  return true;
}

}  // namespace flowpath::ct

#include "flowpath/conntrack/conntrack_hint.hpp"
#include "flowpath/conntrack/conntrack_nat.hpp"
