// flowpath/conntrack/conntrack_nat.hpp — Conntrack's admission (limits),
// creation, table insertion, NAT tuple choice and rewrite, removal and dump (internal; include
// conntrack.hpp).  Thread-safety: see conntrack.hpp and conn_table.hpp.
#pragma once

#include "flowpath/conntrack/conntrack.hpp"

namespace flowpath::ct {

inline uint32_t Conntrack::limit_of(uint16_t zone) const noexcept {
  const int64_t zl = zone_limit_[zone].load(std::memory_order_relaxed);
  return zl >= 0 ? uint32_t(zl) : default_limit_.load(std::memory_order_relaxed);
}

inline bool Conntrack::admit(uint16_t zone) noexcept {
  const uint32_t limit = limit_of(zone);
  // A full zone (a SYN flood's steady state) is refused on a plain load:
  // no read-modify-write on the shared counter per refused packet.  The
  // fetch_add below stays the exact check.
  if (limit && zone_count_[zone].load(std::memory_order_relaxed) >= limit) {
    counters_.zone_limit_refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (zone_count_[zone].fetch_add(1) >= limit && limit) {
    zone_count_[zone].fetch_sub(1);
    counters_.zone_limit_refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (n_conns_.fetch_add(1) >= cfg_.max_conns) {
    n_conns_.fetch_sub(1);
    zone_count_[zone].fetch_sub(1);
    counters_.table_full_refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

inline void Conntrack::release(uint16_t zone) noexcept {
  zone_count_[zone].fetch_sub(1);
  n_conns_.fetch_sub(1);
}

// held: the key's shard, locked by the caller (released here whatever
// happens); only without NAT (NAT's tuple search takes nat_mutex_ first).
inline Conn* Conntrack::create(const Extracted& x, const CtParams& p, int64_t now, Packet& pkt,
                               uint8_t* nat_out, uint32_t rev_hash, ConnTable::Shard* held) {
  if (!admit(x.key.zone)) {
    if (held) held->lock.unlock();
    return nullptr;
  }
  Conn* c;
  try {
    c = table_.make();
  } catch (const std::bad_alloc&) {
    if (held) held->lock.unlock();
    release(x.key.zone);
    counters_.table_full_refused.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const ConnKey rev = x.key.reversed();
  for (int i = 0; i < 2; ++i) {
    c->node[i].key = i ? rev : x.key;
    c->node[i].hash = !i ? x.hash : rev_hash ? rev_hash : hash_key_reversed(x.key);
    c->node[i].reply = uint8_t(i);
  }
  const Timeouts& t = cfg_.timeouts;
  if (x.key.proto == 6) {
    c->tcp = tcp_new(x.tcp);
    set_expiry(*c, t.tcp(c->tcp.timeout), now);
  } else {
    set_expiry(*c, x.key.icmp() ? t.icmp_first : t.udp_first, now);
  }
  if (p.set_mark) c->mark.store(p.mark & p.mark_mask, std::memory_order_relaxed);
  if (p.set_label) c->set_label({p.label.hi & p.label_mask.hi, p.label.lo & p.label_mask.lo});
  bool ok;
  ConnKey rev_final = rev;
  const uint8_t nat = !p.nat.present                ? 0
                      : p.nat.kind == NatSpec::kSrc ? kCsSrcNat
                      : p.nat.kind == NatSpec::kDst ? kCsDstNat
                                                    : 0;
  c->nat = nat;
  if (nat) {
    std::lock_guard g(nat_mutex_);
    ok = choose_nat(c, p.nat, now, &rev_final);
    if (!ok) counters_.nat_exhausted.fetch_add(1, std::memory_order_relaxed);
  } else {
    ok = insert(c, now, held);
  }
  if (!ok) {  // NAT space exhausted, or another thread created it first
    table_.discard(c);
    release(x.key.zone);
    return nullptr;
  }
  // From here the table owns the Conn and a concurrent flush may free it:
  // only local copies are used below.  The caller counts it as created.
  *nat_out = nat;
  if (nat) apply_nat(pkt, nat, x.key, rev_final, false, x);
  return c;
}

// Links both keys of a new Conn unless either is taken by a live entry.
// An expired entry in the way is claimed and destroyed.  held: the
// original key's shard, already locked by the caller (both locks are
// released here).  Both keys are looked up again under both locks, so what
// changed while a lock was dropped to restore the order is seen.
inline bool Conntrack::insert(Conn* c, int64_t now, ConnTable::Shard* held) {
  const uint32_t a = table_.shard_of(c->node[0].hash), b = table_.shard_of(c->node[1].hash);
  ConnTable::Shard& sa = table_.shard(a);
  ConnTable::Shard& sb = table_.shard(b);
  ConnTable::Shard& first = table_.shard(std::min(a, b));
  ConnTable::Shard& second = table_.shard(std::max(a, b));
  Conn* stale[2] = {nullptr, nullptr};
  if (!held) {
    first.lock.lock();
    if (a != b) second.lock.lock();
  } else if (b > a) {
    sb.lock.lock();
  } else if (b < a && !sb.lock.try_lock()) {  // wrong order: take both in order
    sa.lock.unlock();
    sb.lock.lock();
    sa.lock.lock();
  }
  const bool clash = ConnTable::find(sa, c->node[0].key, c->node[0].hash, now, &stale[0]) ||
                     ConnTable::find(sb, c->node[1].key, c->node[1].hash, now, &stale[1]);
  Conn* victims[2] = {nullptr, nullptr};
  if (!clash) {
    for (int i = 0; i < 2; ++i) {
      bool no = false;
      if (stale[i] && stale[i]->dead.compare_exchange_strong(no, true)) {
        victims[i] = stale[i];
        note_claim();
      }
    }
    table_.link(sa, &c->node[0]);
    table_.link(sb, &c->node[1]);
  }
  if (a != b) second.lock.unlock();
  first.lock.unlock();
  for (Conn* v : victims)
    if (v) {
      release(v->key().zone);
      counters_.expired.fetch_add(1, std::memory_order_relaxed);
      table_.destroy(v);
    }
  return !clash;
}

// Picks the translated reply tuple: addresses of the range from a hashed
// start, then ports (the given range, else the original port and then
// OVS's class of it: 1-511, 600-1023, 1024-65535), first free one wins.
inline bool Conntrack::choose_nat(Conn* c, const NatSpec& nat, int64_t now, ConnKey* rev_out) {
  const ConnKey& k = c->key();
  const bool v6 = k.v6, src = nat.kind == NatSpec::kSrc;
  const uint64_t h = hash_key_wide(k);
  const uint64_t n_addr = nat.has_addr ? ct_detail::addr_span(nat.addr_min, nat.addr_max, v6) : 1;
  uint32_t pmin, pmax;
  const uint16_t orig_port = src ? k.sport : k.dport;
  if (nat.has_port) {
    pmin = nat.port_min;
    pmax = std::max(nat.port_max, nat.port_min);
  } else if (!src || !k.has_ports()) {
    pmin = pmax = orig_port;
  } else {
    pmin = orig_port < 512 ? 1 : orig_port < 1024 ? 600 : 1024;
    pmax = orig_port < 512 ? 511 : orig_port < 1024 ? 1023 : 65535;
  }
  const uint32_t n_port = k.has_ports() ? pmax - pmin + 1 : 1;
  const uint32_t port_tries = std::min<uint32_t>(n_port, 256);
  const uint32_t addr_tries = uint32_t(std::min<uint64_t>(n_addr, 16));
  for (uint32_t ai = 0; ai < addr_tries; ++ai) {
    const uint64_t aoff = (h + ai) % n_addr;
    const CtAddr addr =
        nat.has_addr ? ct_detail::addr_add(nat.addr_min, aoff, v6) : (src ? k.src : k.dst);
    // Without a range the original port is tried first, then the class.
    const uint32_t start = uint32_t((h >> 20) % n_port);
    const uint32_t tries = !k.has_ports() ? 1 : nat.has_port ? port_tries : port_tries + 1;
    for (uint32_t pi = 0; pi < tries; ++pi) {
      const uint32_t step = nat.has_port ? pi : pi - 1;
      const uint16_t port =
          (!nat.has_port && pi == 0) ? orig_port : uint16_t(pmin + (start + step) % n_port);
      ConnKey rev = k.reversed();
      if (src) {
        rev.dst = addr;
        if (k.has_ports()) rev.dport = port;
      } else {
        rev.src = addr;
        if (k.has_ports()) rev.sport = port;
      }
      c->node[1].key = rev;
      c->node[1].hash = hash_key(rev);
      if (insert(c, now)) {
        *rev_out = rev;
        return true;
      }
    }
  }
  return false;
}

inline void Conntrack::apply_nat(Packet& pkt, uint8_t nat, const ConnKey& orig, const ConnKey& rev,
                                 bool reply, const Extracted& x) noexcept {
  uint8_t* d = pkt.data();
  const bool v6 = orig.v6;
  TupleEdit outer, inner;
  // The tuple a packet of each direction must carry after translation.
  if (!reply) {
    if (nat & kCsSrcNat) outer.src = &rev.dst, outer.sport = &rev.dport;
    if (nat & kCsDstNat) outer.dst = &rev.src, outer.dport = &rev.sport;
    if (nat & kCsSrcNat) inner.dst = &rev.dst, inner.dport = &rev.dport;
    if (nat & kCsDstNat) inner.src = &rev.src, inner.sport = &rev.sport;
  } else {
    if (nat & kCsSrcNat) outer.dst = &orig.src, outer.dport = &orig.sport;
    if (nat & kCsDstNat) outer.src = &orig.dst, outer.sport = &orig.dport;
    if (nat & kCsSrcNat) inner.src = &orig.src, inner.sport = &orig.sport;
    if (nat & kCsDstNat) inner.dst = &orig.dst, inner.dport = &orig.dport;
  }
  const uint32_t l4_len = pkt.size() - x.l4;
  if (!x.related) {
    set_tuple(d + x.l3, d + x.l4, l4_len, v6, orig.proto, outer);
    return;
  }
  outer.sport = outer.dport = nullptr;  // the outer header is ICMP
  set_tuple(d + x.l3, d + x.l4, 0, v6, 0, outer);
  set_tuple(d + x.inner_l3, d + x.inner_l4, pkt.size() - x.inner_l4, v6, orig.proto, inner);
  const uint32_t ip_end =
      v6 ? 40u + key_detail::rd16(d + x.l3 + 4) : key_detail::rd16(d + x.l3 + 2);
  icmp_recompute(d + x.l3, d + x.l4, ip_end - (x.l4 - x.l3), v6);
}

template <class Pred>
size_t Conntrack::remove_if(Pred&& pred) {
  struct Collect {  // frees what earlier removals retired, on the way out
    ConnTable& t;
    ~Collect() { t.collect(); }
  } collect{table_};
  size_t n = 0;
  std::vector<Conn*> claimed;
  for (uint32_t i = 0; i < table_.n_shards(); ++i) {
    ConnTable::Shard& s = table_.shard(i);
    claimed.clear();
    s.lock.lock();
    ConnTable::claim_if(s, pred, claimed);
    s.lock.unlock();
    if (!claimed.empty()) this->note_claim();
    for (Conn* c : claimed) {
      release(c->key().zone);
      counters_.expired.fetch_add(1, std::memory_order_relaxed);
      table_.destroy(c);
    }
    n += claimed.size();
  }
  return n;
}

inline std::vector<ConnEntry> Conntrack::dump(int64_t now, std::optional<uint16_t> zone) {
  std::vector<ConnEntry> out;
  for (uint32_t i = 0; i < table_.n_shards(); ++i) {
    ConnTable::Shard& s = table_.shard(i);
    s.lock.lock();
    const ConnTable::Buckets b = s.get(std::memory_order_relaxed);
    for (size_t bi = 0; bi <= b.mask; ++bi)
      for (KeyNode* n = b.head[bi].load(std::memory_order_relaxed); n;
           n = n->next.load(std::memory_order_relaxed)) {
        Conn& c = *n->conn();
        // Node 0 lives in its home shard, whose lock (held) guards the Conn.
        if (n->reply || !c.live(now) || (zone && c.key().zone != *zone)) continue;
        ConnEntry e;
        e.orig = c.key();
        e.reply = c.rev_key();
        e.mark = c.mark.load(std::memory_order_relaxed);
        e.label = c.label();
        e.nat = c.nat;
        e.tcp = c.tcp;
        for (int j = 0; j < 2; ++j) {
          const uint8_t ws = c.tcp.peer[j].wscale;
          e.tcp_state[j] = c.tcp.peer[j].state;
          e.tcp_wscale[j] = ws & 0x0f;
          e.tcp_flags[j] = uint8_t((ws & 0x80 ? 0x01 : 0) | (ws & 0x40 ? 0x08 : 0));
        }
        const int64_t left = c.expires_ms.load(std::memory_order_relaxed) - now;
        e.timeout_s = left > 0 ? uint32_t(left / 1000) : 0;
        out.push_back(e);
      }
    s.lock.unlock();
  }
  return out;
}

}  // namespace flowpath::ct
